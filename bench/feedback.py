"""Benchmark of feedback for language models: preference and ranking aggregation, agreement, spans.

Run with ``make bench-feedback`` (or ``python bench/feedback.py``). Prints tables and, as its last
line, one JSON object (also written to bench/results/feedback.json):

1. ``pairwise_crowd``, the issue's simulated crowd: 200 items with utilities drawn from N(0, 1.5^2),
   2,000 random pairs (20 comparisons per item), 50 annotators of whom 20% are bad (half always flip:
   they draw an answer by the Bradley-Terry law and report the other side; half answer at random),
   the others answer by the Bradley-Terry law, no ties; Kendall's tau between the aggregated scores
   and the true utilities, mean of 5 seeds: ``bt_kendall_tau`` (the default aggregator, Crowd-BT),
   ``bt_kendall_tau_counts`` (plain win rates), ``bt_kendall_tau_plain`` (Bradley-Terry without
   reliabilities). Then the same for every share of bad annotators (0, 10, 20, 40%) and number of
   comparisons per item (5, 10, 20), and Crowd-BT's sensitivity to each of its settings;
2. ``pandalm``, real preferences on LLM responses (../shared/data/media/pairwise/pandalm_testset,
   999 pairs, three annotators): Fleiss' kappa, Cohen's kappa per pair of annotators, each
   annotator's agreement with the aggregate (with and without their own answers), the share of
   prompts won with confidence >= 0.9, and the leaderboard of the five generating models with 95%
   bootstrap intervals (whole prompts resampled; reliabilities learned on the item-level comparisons,
   with what Crowd-BT on the battles themselves would say for contrast);
3. ``ranking_crowd``: weighted Plackett-Luce with learned annotator weights against equal weights and
   Borda on a simulated crowd of rankings, by share of random rankers, and its sensitivity;
4. ``span_quality``: span aggregation on CoNLL MTurk, from bench/spans.py (skipped with a note while
   that file does not exist).

Each measurement is one function returning a dict of figures; ``MEASUREMENTS`` lists them.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

ROOT = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("LABELLOOP_MEDIA_DATA", ROOT.parent / "shared" / "data" / "media"))
RESULTS = ROOT / "bench" / "results" / "feedback.json"
SEEDS = range(5)
CROWD = {"n_items": 200, "n_comparisons": 2000, "n_workers": 50, "bad_share": 0.2, "utility_scale": 1.5}
BAD_SHARES = [0.0, 0.1, 0.2, 0.4]
PER_ITEM = [5, 10, 20]
CROWD_BT_SETTINGS: dict[str, list[Any]] = {
    "prior_scale": [1.0, 2.0, 4.0, 8.0],
    "reliability_prior": [(1.0, 1.0), (2.0, 1.0), (4.0, 2.0), (11.0, 1.0)],
}
RANKING_CROWD = {"n_tasks": 100, "items_per_task": 5, "n_workers": 30, "per_task": 5}
RANKING_SETTINGS: dict[str, list[Any]] = {
    "temperature_prior_scale": [0.25, 0.5, 1.0, 2.0],
    "prior_strength": [0.5, 1.0, 4.0],
}

sys.path.insert(0, str(ROOT / "src"))
from common import run_measurements  # noqa: E402
from labelloop.quality import (  # noqa: E402
    BradleyTerry,
    CrowdBT,
    PlackettLuce,
    WeightedBorda,
    WinRate,
    default_pairwise_aggregator,
    default_ranking_aggregator,
    model_leaderboard,
    preference_annotator_agreement,
    preference_fleiss_kappa,
    preference_kappa_matrix,
    task_winners,
)
from labelloop.quality.pairwise import (  # noqa: E402
    model_battles,
    preference_annotator_agreement_loo,
    simulate_pairwise_crowd,
)
from labelloop.quality.rankings import simulate_ranking_crowd  # noqa: E402


def tau(scores: pd.Series, truth: pd.Series) -> float:
    """Kendall's tau-b against the truth over the items that have a score (with 5 comparisons per item,
    about one item in 150 is never compared and has none)."""
    return float(
        kendalltau(scores.reindex(truth.index).to_numpy(), truth.to_numpy(), nan_policy="omit").statistic
    )


def crowd_taus(models: dict[str, Callable[[], Any]], **crowd: Any) -> dict[str, float]:
    """Mean Kendall tau over the seeds of each model on the simulated pairwise crowd."""
    taus: dict[str, list[float]] = {name: [] for name in models}
    for seed in SEEDS:
        comparisons, truth, _ = simulate_pairwise_crowd(**{**CROWD, **crowd}, seed=seed)
        for name, make in models.items():
            taus[name].append(tau(make().fit_predict(comparisons), truth))
    return {name: float(np.mean(values)) for name, values in taus.items()}


def pairwise_crowd() -> dict[str, Any]:
    """Crowd-BT, plain Bradley-Terry and win rates on the issue's simulated crowd; sensitivity tables."""
    models: dict[str, Callable[[], Any]] = {
        "crowd_bt": default_pairwise_aggregator, "bradley_terry": BradleyTerry, "win_rate": WinRate,
    }  # fmt: skip
    start = time.perf_counter()
    main = crowd_taus(models)
    seconds = time.perf_counter() - start
    comparisons, _, _ = simulate_pairwise_crowd(**CROWD, seed=0)
    fit_start = time.perf_counter()
    fitted = default_pairwise_aggregator().fit(comparisons)
    fit_s = time.perf_counter() - fit_start
    print("\nPairwise crowd: 200 items, 2,000 pairs, 50 annotators (20% bad), Kendall tau vs truth, 5 seeds")
    print(f"{'method':<16}{'tau':>8}")
    for name, value in main.items():
        print(f"{name:<16}{value:>8.3f}")
    gain = main["crowd_bt"] - main["win_rate"]
    print(
        f"Crowd-BT - win rates = {gain:+.3f} (target >= +0.07); one fit {fit_s:.2f} s, "
        f"{fitted.n_iter_} EM iterations; all {seconds:.1f} s; load average {os.getloadavg()[0]:.1f}"
    )
    grid: dict[str, dict[str, float]] = {}
    print("\nBy share of bad annotators and comparisons per item (Crowd-BT | Bradley-Terry | win rate)")
    print(f"{'bad':>5}{'per item':>10}{'crowd_bt':>10}{'bt':>8}{'win':>8}")
    for bad in BAD_SHARES:
        for per_item in PER_ITEM:
            cell = crowd_taus(models, bad_share=bad, n_comparisons=CROWD["n_items"] * per_item // 2)
            grid[f"bad={bad:.0%},per_item={per_item}"] = cell
            row = (cell["crowd_bt"], cell["bradley_terry"], cell["win_rate"])
            print(f"{bad:>5.0%}{per_item:>10}{row[0]:>10.3f}{row[1]:>8.3f}{row[2]:>8.3f}")
    settings: dict[str, float] = {}
    print("\nCrowd-BT settings, one at a time (default crowd)")
    for name, values in CROWD_BT_SETTINGS.items():
        for value in values:
            label = f"{name}={value}"
            settings[label] = crowd_taus({"m": lambda name=name, value=value: CrowdBT(**{name: value})})["m"]
            print(f"{label:<36}{settings[label]:>8.3f}")
    ties = crowd_taus(models, tie=1.0)
    print(
        f"\nWith ties (Davidson nu = 1, about a third of answers): Crowd-BT {ties['crowd_bt']:.3f}, "
        f"Bradley-Terry {ties['bradley_terry']:.3f}, win rate {ties['win_rate']:.3f}"
    )
    return {
        "bt_kendall_tau": main["crowd_bt"],
        "bt_kendall_tau_counts": main["win_rate"],
        "bt_kendall_tau_plain": main["bradley_terry"],
        "bt_fit_s": fit_s,
        "pairwise_grid": grid,
        "pairwise_settings": settings,
        "pairwise_with_ties": ties,
    }


def load_pandalm() -> tuple[pd.DataFrame, dict[str, str]]:
    raw = pd.DataFrame(json.loads((MEDIA / "pairwise" / "pandalm_testset" / "testset-v1.json").read_text()))
    first, second = raw["idx"].astype(str) + "/1", raw["idx"].astype(str) + "/2"
    pair = raw["cmp_key"].str.split("_", n=1)
    rows = [
        pd.DataFrame({
            "task": raw["idx"], "worker": name, "left": first, "right": second,
            "label": np.select([raw[name] == 1, raw[name] == 2], [first, second], "tie"),
        })
        for name in ("annotator1", "annotator2", "annotator3")
    ]  # fmt: skip
    models = dict(zip(first, pair.str[0], strict=True)) | dict(zip(second, pair.str[1], strict=True))
    return pd.concat(rows, ignore_index=True), models


def pandalm() -> dict[str, Any]:
    """Agreement, annotators against the aggregate, confident winners and the leaderboard on PandaLM."""
    if not (MEDIA / "pairwise" / "pandalm_testset").is_dir():
        print(f"\nPandaLM: skipped, {MEDIA / 'pairwise' / 'pandalm_testset'} not found")
        return {}
    comparisons, models = load_pandalm()
    start = time.perf_counter()
    model = default_pairwise_aggregator().fit(comparisons)
    fit_s = time.perf_counter() - start
    fleiss = preference_fleiss_kappa(comparisons)
    cohen = preference_kappa_matrix(comparisons)
    with_self = preference_annotator_agreement(comparisons, model.scores_, tie_margin=model.tie_margin_)
    without = preference_annotator_agreement_loo(comparisons)
    winners = task_winners(comparisons)
    board = model_leaderboard(comparisons, models, n_resamples=200, unit="task")
    pairs = {
        f"{a}-{b}": float(cohen.loc[a, b]) for i, a in enumerate(cohen.index) for b in cohen.index[i + 1 :]
    }
    print(f"\nPandaLM test set: 999 pairs x 3 annotators; Fleiss' kappa {fleiss:.3f}; fit {fit_s:.2f} s")
    print("Cohen's kappa:", ", ".join(f"{name} {value:.3f}" for name, value in pairs.items()))
    heads = ("ties", "side agr.", "agr.", "kappa", "side (LOO)", "kappa (LOO)", "reliab.")
    print(f"{'annotator':<12}" + "".join(f"{h:>12}" for h in heads))
    for name in without.index:
        a, b = with_self.loc[name], without.loc[name]
        values = (a["side_agreement"], a["agreement"], a["kappa"], b["side_agreement"], b["kappa"])
        line = f"{name:<12}{int(a['n_ties']):>12}" + "".join(f"{v:>12.3f}" for v in values)
        print(line + f"{model.reliability_[name]:>12.3f}")
    confident = float((winners["p_best"] >= 0.9).mean())
    print(f"Prompts whose winner has P(best) >= 0.9: {confident:.1%}; Davidson nu {model.tie_:.3f}")
    print("\nLeaderboard of the generating models (Bradley-Terry log-odds, 95% bootstrap over prompts)")
    print(board.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    on_battles = CrowdBT().fit(model_battles(comparisons, models))
    stretch = on_battles.scores_.abs().mean() / board["score"].abs().mean()
    print(
        "(Crowd-BT fitted to the battles instead: reliabilities "
        + ", ".join(f"{v:.2f}" for v in on_battles.reliability_)
        + f", scores x{stretch:.2f}: prompt-to-prompt variation mistaken for annotator noise)"
    )
    return {
        "pandalm_fleiss_kappa": fleiss,
        "pandalm_cohen_kappa": pairs,
        "pandalm_side_agreement_loo": without["side_agreement"].to_dict(),
        "pandalm_kappa_with_aggregate_loo": without["kappa"].to_dict(),
        "pandalm_confident_winner_share": confident,
        "pandalm_leaderboard": board.to_dict(orient="records"),
        "pandalm_battle_level_reliability": on_battles.reliability_.to_dict(),
        "pandalm_fit_s": fit_s,
    }


def within_task_tau(scores: pd.Series, truth: pd.Series) -> float:
    task = truth.index.str.split("/").str[0]
    return float(np.mean([tau(scores, group) for _, group in truth.groupby(task)]))


def ranking_taus(models: dict[str, Callable[[], Any]], **crowd: Any) -> dict[str, float]:
    taus: dict[str, list[float]] = {name: [] for name in models}
    for seed in SEEDS:
        rankings, truth, _ = simulate_ranking_crowd(**{**RANKING_CROWD, **crowd}, seed=seed)
        for name, make in models.items():
            taus[name].append(within_task_tau(make().fit_predict(rankings), truth))
    return {name: float(np.mean(values)) for name, values in taus.items()}


def ranking_crowd() -> dict[str, Any]:
    """Plackett-Luce (learned weights / equal) and Borda on simulated rankings: mean within-task tau."""
    models: dict[str, Callable[[], Any]] = {
        "pl_learned": default_ranking_aggregator,
        "pl_equal": lambda: PlackettLuce(weights=None),
        "borda": WeightedBorda,
    }
    print("\nRankings: 100 prompts x 5 responses, 5 rankers each (of 30); within-prompt Kendall tau, 5 seeds")
    print(f"{'random rankers':>15}{'PL learned':>12}{'PL equal':>10}{'Borda':>8}")
    grid = {}
    for bad in BAD_SHARES:
        cell = ranking_taus(models, bad_share=bad)
        grid[f"bad={bad:.0%}"] = cell
        print(f"{bad:>15.0%}{cell['pl_learned']:>12.3f}{cell['pl_equal']:>10.3f}{cell['borda']:>8.3f}")
    top_models: dict[str, Callable[[], Any]] = {
        "top": lambda: PlackettLuce(partial="top"),
        "subset": default_ranking_aggregator,
        "borda_top": lambda: WeightedBorda(partial="top"),
    }
    top = ranking_taus(top_models, bad_share=0.2, top_k=2)
    print(
        f"Top-2 answers only (20% random): PL partial='top' {top['top']:.3f}, partial='subset' "
        f"{top['subset']:.3f}, Borda partial='top' {top['borda_top']:.3f}"
    )
    settings = {}
    print("\nPlackett-Luce settings, one at a time (20% random rankers)")
    for name, values in RANKING_SETTINGS.items():
        for value in values:
            label = f"{name}={value}"
            make = {"m": lambda name=name, value=value: PlackettLuce(**{name: value})}
            settings[label] = ranking_taus(make, bad_share=0.2)["m"]
            print(f"{label:<36}{settings[label]:>8.3f}")
    return {
        "rank_kendall_tau": grid["bad=20%"]["pl_learned"],
        "rank_kendall_tau_equal": grid["bad=20%"]["pl_equal"],
        "rank_kendall_tau_borda": grid["bad=20%"]["borda"],
        "ranking_grid": grid,
        "ranking_top2": top,
        "ranking_settings": settings,
    }


def span_quality() -> dict[str, Any]:
    """Span aggregation on CoNLL MTurk, measured by bench/spans.py (its owner's), when it exists."""
    if not (ROOT / "bench" / "spans.py").is_file():
        print("\nSpans: skipped, bench/spans.py does not exist yet")
        return {}
    sys.path.insert(0, str(ROOT / "bench"))
    from spans import span_quality as measure_spans

    result: dict[str, Any] = measure_spans()
    return result


def generation() -> dict[str, Any]:
    """Items given candidates per second against a local stub answering in 50 ms (bench/generation.py)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from generation import generation_throughput

    result: dict[str, Any] = generation_throughput()
    return result


MEASUREMENTS: list[Callable[[], dict[str, Any]]] = [
    pairwise_crowd, pandalm, ranking_crowd, span_quality, generation,
]


def main() -> None:
    run_measurements(MEASUREMENTS, RESULTS)


if __name__ == "__main__":
    main()
