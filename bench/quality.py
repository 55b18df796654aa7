"""Benchmark of labelloop.quality against crowd-kit on eight real crowds and a million answers.

Run with ``make bench-quality`` (or ``python bench/quality.py --oracle-python .venv-oracle/bin/python``).
It prints tables and, as its last line, one JSON object (also written to bench/results/quality.json):

1. accuracy against expert gold (on the gold tasks with at least one answer) and fit time, per dataset
   and method: ours (MV, WMV, DS, OneCoinDS, GLAD, MACE, default) and crowd-kit's, the latter run in a
   separate virtual environment (``.venv-oracle``, crowd-kit 1.4.2) by a subprocess on the same files;
2. Dawid-Skene on one million synthetic answers (100,000 tasks x 10, 200 workers, 5 classes, string
   ids), 50 EM iterations with tol=0, input preparation included, ours and crowd-kit's; Krippendorff's
   alpha (nominal) on the same million;
3. adaptive overlap replay: on datasets with >= 5 answers per item, each item's answers are revealed
   one at a time in a random order (several seeds); after each round the default aggregator is refitted
   and items stop asking once ``needs_more_answers`` says so. Reported: the share of answers used and
   the accuracy lost against using all answers;
4. leave-one-dataset-out (``loo_default_mean``): for each data set, the rule with the best mean on
   the other seven (of 63: seven aggregators and the posterior averages of every pair and triple)
   is scored on it, beside the default's in-sample mean; also two per-project rules without labels
   (the most-agreeing member, the average of all) and selection by 10/30/100 gold items; and the
   default's time on the million against ``DawidSkene()``'s.

This file is also the oracle's entry point (``--oracle-run SPEC OUT``): in that mode it imports only
numpy, pandas and crowdkit, never labelloop.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CROWD = Path(os.environ.get("LABELLOOP_CROWD_DATA", ROOT.parent / "shared" / "data" / "crowd"))
RESULTS = ROOT / "bench" / "results" / "quality.json"
DATASETS = [
    "zheng_d_product", "zheng_d_possent", "zheng_s_rel", "zheng_s_adult",
    "snow_rte", "snow_temp", "snow_wsd", "zhang_web",
]  # fmt: skip
SHORT = {
    "zheng_d_product": "D_Product", "zheng_d_possent": "D_PosSent", "zheng_s_rel": "S_Rel",
    "zheng_s_adult": "S_Adult", "snow_rte": "RTE", "snow_temp": "TEMP", "snow_wsd": "WSD", "zhang_web": "Web",
}  # fmt: skip
# Ustalov et al., "Learning from Crowds with Crowd-Kit", JOSS 9(96):6227, 2024 (Dawid-Skene row).
JOSS_DS = {"zheng_d_product": 0.940, "zheng_d_possent": 0.960, "zheng_s_rel": 0.615, "zheng_s_adult": 0.748}
# crowd-kit 1.4.2 categorical aggregators that run unsupervised on any number of classes. Not run:
# KOS (binary only), MMSR (raises on D_Product after ~6 minutes), GoldMajorityVote (needs gold).
CROWDKIT_METHODS = [
    "MajorityVote",
    "Wawa",
    "ZeroBasedSkill",
    "DawidSkene",
    "OneCoinDawidSkene",
    "GLAD",
    "MACE",
]
CK_SHORT = {
    "MajorityVote": "MV",
    "ZeroBasedSkill": "ZBS",
    "DawidSkene": "DS",
    "OneCoinDawidSkene": "OneCoinDS",
}
MILLION = {"tasks": 100_000, "per_task": 10, "workers": 200, "classes": 5, "seed": 0}
ADAPTIVE_SEEDS = (0, 1, 2)
ADAPTIVE_TARGETS = (0.99, 0.995, 0.999)
ADAPTIVE_HEADLINE = 0.995
ADAPTIVE_MIN_ANSWERS = 2


# ---------------------------------------------------------------- shared by both interpreters


def load(name: str) -> tuple[pd.DataFrame, pd.Series]:
    """labels.csv as strings, and gold restricted to the tasks that have at least one answer."""
    folder = CROWD / name
    answers = pd.read_csv(folder / "labels.csv", dtype=str, keep_default_na=False)
    gold = pd.read_csv(folder / "gold.csv", dtype=str, keep_default_na=False).set_index("task")["label"]
    return answers, gold[gold.index.isin(answers["task"])]


def accuracy(predicted: pd.Series, gold: pd.Series) -> float:
    """Share of gold tasks whose predicted label equals gold (a task without prediction is wrong)."""
    return float((predicted.reindex(gold.index).astype(object).astype(str) == gold.astype(str)).mean())


def million_answers() -> tuple[pd.DataFrame, np.ndarray]:
    """The synthetic million: distinct workers per task, Dawid-Skene workers with random confusions."""
    n_t, per, n_w, k = MILLION["tasks"], MILLION["per_task"], MILLION["workers"], MILLION["classes"]
    rng = np.random.default_rng(MILLION["seed"])
    skill = rng.uniform(0.45, 0.95, size=(n_w, k))
    off = rng.dirichlet(np.ones(k - 1), size=(n_w, k)) * (1 - skill)[..., None]
    conf = np.zeros((n_w, k, k))
    for true in range(k):
        others = [j for j in range(k) if j != true]
        conf[:, true, others] = off[:, true]
        conf[:, true, true] = skill[:, true]
    truth = rng.choice(k, size=n_t, p=rng.dirichlet(np.full(k, 5.0)))
    workers = np.argpartition(rng.random((n_t, n_w)), per, axis=1)[:, :per].ravel()
    tasks = np.repeat(np.arange(n_t), per)
    cum = conf[workers, truth[tasks]].cumsum(axis=1)
    labels = (rng.random(tasks.size)[:, None] > cum).sum(axis=1).clip(max=k - 1)
    frame = pd.DataFrame(
        {
            "task": np.char.add("task-", np.char.zfill(tasks.astype(str), 6)),
            "worker": np.char.add("worker-", np.char.zfill(workers.astype(str), 3)),
            "label": np.char.add("class-", labels.astype(str)),
        }
    )
    return frame, truth


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


# ---------------------------------------------------------------- the oracle (crowd-kit venv)


def oracle_run(spec_path: str, out_path: str) -> None:
    """Run crowd-kit's methods as described in the spec; write a JSON result."""
    warnings.filterwarnings("ignore")
    from importlib.metadata import version

    from crowdkit import aggregation  # only the oracle's interpreter has crowd-kit

    spec = json.loads(Path(spec_path).read_text())
    result: dict[str, Any] = {"versions": {"crowd-kit": version("crowd-kit")}}
    result["versions"] |= {
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "python": platform.python_version(),
    }
    result["versions"]["scikit-learn"] = version("scikit-learn")
    acc: dict[str, dict[str, float]] = {}
    secs: dict[str, dict[str, float]] = {}
    for name in spec["datasets"]:
        answers, gold = load(name)
        acc[name], secs[name] = {}, {}
        for method in spec["methods"]:
            labels, seconds = timed(lambda m=method, a=answers: getattr(aggregation, m)().fit_predict(a))
            acc[name][method], secs[name][method] = accuracy(labels, gold), seconds
            print(
                f"  crowd-kit {method:<18} {SHORT[name]:<10} {acc[name][method]:.4f} {seconds:7.2f}s",
                flush=True,
            )
    result["accuracy"], result["seconds"] = acc, secs
    if spec.get("million"):
        frame = pd.read_parquet(spec["million"])
        truth = np.load(spec["truth"])
        model = aggregation.DawidSkene(n_iter=50, tol=0.0)
        labels, seconds = timed(lambda: model.fit_predict(frame))
        order = np.asarray([int(t.split("-")[1]) for t in labels.index])
        result["ds_1m_s"] = seconds
        result["ds_1m_accuracy"] = float(
            (labels.to_numpy() == np.char.add("class-", truth[order].astype(str))).mean()
        )
        print(f"  crowd-kit DawidSkene on 1M answers: {seconds:.2f}s", flush=True)
    Path(out_path).write_text(json.dumps(result))


# ---------------------------------------------------------------- ours


def our_methods() -> dict[str, Callable[[], Any]]:
    import labelloop.quality as q

    return {
        "MV": q.MajorityVote,
        "WMV": q.WeightedMajorityVote,
        "DS": q.DawidSkene,
        "OneCoinDS": q.OneCoinDawidSkene,
        "GLAD": q.GLAD,
        "MACE": q.MACE,
        "BayesDS": q.BayesianDawidSkene,
        "EBCC": q.EBCC,
        "default": q.default_aggregator,
    }


def run_ours() -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    acc: dict[str, dict[str, float]] = {}
    secs: dict[str, dict[str, float]] = {}
    for name in DATASETS:
        answers, gold = load(name)
        acc[name], secs[name] = {}, {}
        for method, make in our_methods().items():
            labels, seconds = timed(lambda m=make, a=answers: m().fit_predict(a))
            acc[name][method], secs[name][method] = accuracy(labels, gold), seconds
    return acc, secs


# Leave-one-dataset-out (LOO). The pool of posteriors that rules may combine; every rule below is
# either fixed in advance (it scores the same in and out of sample) or chosen on seven data sets and
# scored on the eighth.
LOO_POOL = ["WMV", "DS", "OneCoinDS", "GLAD", "MACE", "BayesDS", "EBCC"]
LOO_GOLD_SIZES = (10, 30, 100)
LOO_GOLD_SEEDS = 20


def _labels_of(probas: pd.DataFrame) -> pd.Series:
    return pd.Series(probas.columns.take(probas.to_numpy().argmax(axis=1)), index=probas.index)


def _family(posteriors: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every rule the default could have been chosen from: each pool member and the posterior
    average of every pair and triple (today's default, DS+MACE, is one of them)."""
    from itertools import combinations

    out: dict[str, pd.DataFrame] = {}
    for size in (1, 2, 3):
        for members in combinations(LOO_POOL, size):
            out["+".join(members)] = sum(posteriors[m] for m in members) / size  # type: ignore[assignment]
    return out


def _medoid(posteriors: dict[str, pd.DataFrame]) -> str:
    """Per-project rule without labels: the pool member whose labels agree most with the others'."""
    labels = {m: _labels_of(posteriors[m]).to_numpy() for m in LOO_POOL}
    agree = {m: np.mean([np.mean(labels[m] == labels[o]) for o in LOO_POOL if o != m]) for m in LOO_POOL}
    return max(LOO_POOL, key=lambda m: agree[m])


def _gold_selection(
    hits: dict[str, pd.Series], first: str, *, size: int, seed: int, prior_strength: float = 2.0
) -> tuple[float, float]:
    """GoldSelectedAggregator's rule on *size* random gold tasks: (accuracy of the chosen rule, of
    *first*) on the other gold tasks. Uses the fits without gold for choosing and scoring alike."""
    names = [first, *[m for m in LOO_POOL if m != first]]
    n = len(hits[first])
    pick = np.zeros(n, dtype=bool)
    pick[np.random.default_rng(seed).choice(n, min(size, n // 2), replace=False)] = True
    scores = np.asarray([hits[m].to_numpy()[pick].sum() for m in names], dtype=np.float64)
    scores[0] += prior_strength
    chosen = names[int(scores.argmax())]
    return float(hits[chosen].to_numpy()[~pick].mean()), float(hits[first].to_numpy()[~pick].mean())


def run_loo() -> dict[str, Any]:
    """Leave-one-dataset-out: today's default vs the rules it could have been chosen from."""
    import labelloop.quality as q

    makers = {"WMV": q.WeightedMajorityVote, "DS": q.DawidSkene, "OneCoinDS": q.OneCoinDawidSkene,
              "GLAD": q.GLAD, "MACE": q.MACE, "BayesDS": q.BayesianDawidSkene, "EBCC": q.EBCC}  # fmt: skip
    acc: dict[str, dict[str, float]] = {}
    hits: dict[str, dict[str, pd.Series]] = {}
    medoid: dict[str, tuple[str, float]] = {}
    average_all: dict[str, float] = {}
    for name in DATASETS:
        answers, gold = load(name)
        posteriors = {m: makers[m]().fit_predict_proba(answers) for m in LOO_POOL}
        family = _family(posteriors)
        hits[name] = {r: _labels_of(p).reindex(gold.index) == gold for r, p in family.items()}
        acc[name] = {r: float(h.mean()) for r, h in hits[name].items()}
        pick = _medoid(posteriors)
        medoid[name] = (pick, acc[name][pick])
        average = sum(posteriors.values()) / len(posteriors)
        average_all[name] = float((_labels_of(average).reindex(gold.index) == gold).mean())  # type: ignore[arg-type]
    rules = list(acc[DATASETS[0]])
    in_sample = {r: float(np.mean([acc[d][r] for d in DATASETS])) for r in rules}
    per: dict[str, dict[str, Any]] = {}
    for held in DATASETS:
        train = [d for d in DATASETS if d != held]
        # The procedure that produced today's default: the best mean on the data at hand.
        chosen = max(rules, key=lambda r: float(np.mean([acc[d][r] for d in train])))
        gold_gain = {}
        for size in LOO_GOLD_SIZES:
            runs = [_gold_selection(hits[held], chosen, size=size, seed=s) for s in range(LOO_GOLD_SEEDS)]
            gold_gain[str(size)] = float(np.mean([a - b for a, b in runs]))
        per[held] = {
            "chosen_on_other_seven": chosen,
            "held_out_accuracy": acc[held][chosen],
            "default_accuracy": acc[held]["DS+MACE"],
            "medoid": medoid[held][0],
            "medoid_accuracy": medoid[held][1],
            "average_all_accuracy": average_all[held],
            "gold_selection_gain": gold_gain,
        }
    return {
        "pool": LOO_POOL,
        "n_rules": len(rules),
        "per_dataset": per,
        "loo_default_mean": float(np.mean([v["held_out_accuracy"] for v in per.values()])),
        "default_in_sample_mean": in_sample["DS+MACE"],
        "best_in_sample_rule": max(rules, key=lambda r: in_sample[r]),
        "best_in_sample_mean": max(in_sample.values()),
        "fixed_rules": {  # no choosing across data sets: in-sample = out-of-sample
            r: in_sample[r] for r in ("DS", "MACE", "BayesDS", "EBCC", "WMV")
        }
        | {
            "medoid": float(np.mean([v[1] for v in medoid.values()])),
            "average_all": float(np.mean(list(average_all.values()))),
        },
        "gold_selection_gain": {
            str(size): float(np.mean([v["gold_selection_gain"][str(size)] for v in per.values()]))
            for size in LOO_GOLD_SIZES
        },
    }


def replay(answers: pd.DataFrame, gold: pd.Series, *, target: float, seed: int) -> tuple[float, float]:
    """Adaptive overlap on recorded answers: (share of answers used, accuracy at the end)."""
    from labelloop.quality import default_aggregator, needs_more_answers

    rows = answers.drop_duplicates(["task", "worker"], keep="last").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(rows)), rows["task"].to_numpy()))
    rows = rows.iloc[order].reset_index(drop=True)
    rank = rows.groupby("task", sort=False).cumcount().to_numpy()
    task_codes, tasks = pd.factorize(rows["task"])
    revealed = rank < ADAPTIVE_MIN_ANSWERS
    for step in range(ADAPTIVE_MIN_ANSWERS, int(rank.max()) + 1):
        shown = rows[revealed]
        model = default_aggregator().fit(shown)
        counts = shown.groupby("task", sort=False).size()
        more = needs_more_answers(model, counts, target_confidence=target, min_answers=ADAPTIVE_MIN_ANSWERS)
        asking = np.zeros(len(tasks), dtype=bool)
        asking[tasks.get_indexer(more.index[more.to_numpy()])] = True
        if not asking.any():
            break
        revealed |= (rank == step) & asking[task_codes]
    final = default_aggregator().fit_predict(rows[revealed])
    return float(revealed.mean()), accuracy(final, gold)


def run_adaptive() -> dict[str, Any]:
    from labelloop.quality import default_aggregator

    out: dict[str, Any] = {"targets": {}, "datasets": []}
    for name in DATASETS:
        answers, _ = load(name)
        per_item = answers.drop_duplicates(["task", "worker"]).groupby("task").size().mean()
        if per_item >= 5:
            out["datasets"].append(name)
    for target in ADAPTIVE_TARGETS:
        per: dict[str, dict[str, float]] = {}
        for name in out["datasets"]:
            answers, gold = load(name)
            full = accuracy(default_aggregator().fit_predict(answers), gold)
            runs = [replay(answers, gold, target=target, seed=s) for s in ADAPTIVE_SEEDS]
            fraction = float(np.mean([r[0] for r in runs]))
            adaptive = float(np.mean([r[1] for r in runs]))
            per[name] = {"answer_fraction": fraction, "accuracy_full": full, "accuracy_adaptive": adaptive}
            per[name]["accuracy_drop"] = full - adaptive
        out["targets"][str(target)] = {
            "per_dataset": per,
            "answer_fraction": float(np.mean([v["answer_fraction"] for v in per.values()])),
            "accuracy_drop": float(np.mean([v["accuracy_drop"] for v in per.values()])),
        }
    return out


def run_million(frame: pd.DataFrame, truth: np.ndarray, repeats: int = 5) -> dict[str, Any]:
    """Best of *repeats* (as ``timeit`` reports): the machine is shared, so one run can be slowed."""
    from labelloop.quality import DawidSkene, default_aggregator, krippendorff_alpha

    load = list(os.getloadavg())  # 1, 5, 15-minute load when the timing starts
    ds_times, alpha_times, plain_times, default_times = [], [], [], []
    labels = pd.Series(dtype=object)
    alpha = float("nan")
    for _ in range(repeats):
        fresh = frame.copy()  # nothing cached between runs: encoding is timed every time
        labels, seconds = timed(lambda f=fresh: DawidSkene(n_iter=50, tol=0.0).fit_predict(f))
        ds_times.append(seconds)
        alpha, seconds = timed(lambda f=fresh: krippendorff_alpha(f, level="nominal"))
        alpha_times.append(seconds)
        # The default against Dawid-Skene with its own default settings (tol=1e-5), alternating so
        # that a burst of load on the shared machine hits both.
        plain_times.append(timed(lambda f=frame.copy(): DawidSkene().fit_predict(f))[1])
        default_times.append(timed(lambda f=frame.copy(): default_aggregator().fit_predict(f))[1])
    order = np.asarray([int(t.split("-")[1]) for t in labels.index])
    expected = np.char.add("class-", truth[order].astype(str))
    return {
        "ds_1m_s": min(ds_times),
        "ds_1m_s_median": statistics.median(ds_times),
        "ds_1m_s_runs": ds_times,
        "ds_1m_accuracy": float((labels.to_numpy().astype(str) == expected).mean()),
        "alpha_1m_s": min(alpha_times),
        "alpha_1m_s_median": statistics.median(alpha_times),
        "alpha_1m_s_runs": alpha_times,
        "alpha_1m": alpha,
        "load_average": load,
        "ds_default_settings_1m_s": min(plain_times),
        "default_1m_s": min(default_times),
        "default_1m_s_runs": default_times,
        "default_over_ds_1m": min(default_times) / min(plain_times),
    }


def call_oracle(python: str, million_path: str | None, truth_path: str | None, tmp: str) -> dict[str, Any]:
    spec = {"datasets": DATASETS, "methods": CROWDKIT_METHODS, "million": million_path, "truth": truth_path}
    spec_path, out_path = os.path.join(tmp, "spec.json"), os.path.join(tmp, "oracle.json")
    Path(spec_path).write_text(json.dumps(spec))
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    subprocess.run([python, __file__, "--oracle-run", spec_path, out_path], check=True, env=env)
    return dict(json.loads(Path(out_path).read_text()))


# ---------------------------------------------------------------- report


def render(tables: list[tuple[str, list[str], list[list[str]]]]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        for title, header, rows in tables:
            print(f"\n{title}\n" + " | ".join(header))
            for row in rows:
                print(" | ".join(row))
        return
    console = Console(width=200)
    for title, header, rows in tables:
        table = Table(title=title, title_justify="left")
        for i, col in enumerate(header):
            table.add_column(col, justify="left" if i == 0 else "right")
        for row in rows:
            table.add_row(*row)
        console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--oracle-python", default=str(ROOT / ".venv-oracle" / "bin" / "python"))
    parser.add_argument("--no-oracle", action="store_true", help="skip crowd-kit (fast run)")
    parser.add_argument("--oracle-run", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.oracle_run:
        oracle_run(*args.oracle_run)
        return
    sys.path.insert(0, str(ROOT / "src"))
    print("ours: eight datasets ...", flush=True)
    acc, secs = run_ours()
    frame, truth = million_answers()
    print("ours: one million answers ...", flush=True)
    million = run_million(frame, truth)
    print("ours: leave-one-dataset-out ...", flush=True)
    loo = run_loo()
    print("ours: adaptive replay ...", flush=True)
    adaptive = run_adaptive()
    oracle: dict[str, Any] = {}
    if not args.no_oracle:
        print(f"crowd-kit ({args.oracle_python}) ...", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            path, truth_path = os.path.join(tmp, "million.parquet"), os.path.join(tmp, "truth.npy")
            frame.to_parquet(path)
            np.save(truth_path, truth)
            oracle = call_oracle(args.oracle_python, path, truth_path, tmp)
    for name in DATASETS:
        for method in oracle.get("accuracy", {}).get(name, {}):
            label = "crowdkit." + CK_SHORT.get(method, method)
            acc[name][label] = oracle["accuracy"][name][method]
            secs[name][label] = oracle["seconds"][name][method]
    methods = list(acc[DATASETS[0]])
    means = {m: float(np.mean([acc[d][m] for d in DATASETS])) for m in methods}
    rows = [[SHORT[d]] + [f"{acc[d][m]:.4f} ({secs[d][m]:.2f}s)" for m in methods] for d in DATASETS]
    rows.append(["mean"] + [f"{means[m]:.4f}" for m in methods])
    ck_means = {m: v for m, v in means.items() if m.startswith("crowdkit.")}
    headline = adaptive["targets"][str(ADAPTIVE_HEADLINE)]
    result: dict[str, Any] = {
        "accuracy": acc,
        "seconds": secs,
        "mean_accuracy": means,
        "ds_1m_s": million["ds_1m_s"],
        "crowdkit_ds_1m_s": oracle.get("ds_1m_s"),
        "alpha_1m_s": million["alpha_1m_s"],
        "alpha_1m": million["alpha_1m"],
        "ds_1m_accuracy": million["ds_1m_accuracy"],
        "crowdkit_ds_1m_accuracy": oracle.get("ds_1m_accuracy"),
        "ds_1m_s_median": million["ds_1m_s_median"],
        "ds_1m_s_runs": million["ds_1m_s_runs"],
        "alpha_1m_s_median": million["alpha_1m_s_median"],
        "alpha_1m_s_runs": million["alpha_1m_s_runs"],
        "load_average_at_1m": million["load_average"],
        "default_1m_s": million["default_1m_s"],
        "ds_default_settings_1m_s": million["ds_default_settings_1m_s"],
        "default_over_ds_1m": million["default_over_ds_1m"],
        "loo_default_mean": loo["loo_default_mean"],
        "default_in_sample_mean": loo["default_in_sample_mean"],
        "loo": loo,
        "adaptive_answer_fraction": headline["answer_fraction"],
        "adaptive_accuracy_drop": headline["accuracy_drop"],
        "adaptive": {"target_confidence": ADAPTIVE_HEADLINE, "min_answers": ADAPTIVE_MIN_ANSWERS, **adaptive},
        "versions": {
            "ours": {"numpy": np.__version__, "pandas": pd.__version__, "python": platform.python_version()},
            "oracle": oracle.get("versions"),
        },
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    ck_ds = oracle.get("ds_1m_s")
    result["targets"] = {
        "ds_matches_joss": all(acc[d]["DS"] >= JOSS_DS[d] - 0.005 for d in JOSS_DS),
        "default_beats_every_crowdkit_mean": bool(ck_means)
        and all(means["default"] > v for v in ck_means.values()),
        "ds_1m_under_3s": million["ds_1m_s"] < 3.0,
        "ds_1m_10x_faster_than_crowdkit": ck_ds is not None and ck_ds >= 10 * million["ds_1m_s"],
        "alpha_1m_under_2s": million["alpha_1m_s"] < 2.0,
        "default_1m_within_3x_of_ds": million["default_over_ds_1m"] <= 3.0,
        "adaptive_within_half_point_at_60pct": headline["accuracy_drop"] <= 0.005
        and headline["answer_fraction"] <= 0.6,
    }
    shown = [m.replace("crowdkit.", "ck.") for m in methods]
    tables = [("Accuracy against gold (fit seconds); ck. = crowd-kit 1.4.2", ["dataset", *shown], rows)]
    ck_text = "not run" if ck_ds is None else f"{ck_ds:.2f}s (accuracy {oracle['ds_1m_accuracy']:.4f})"
    tables.append(
        (
            "One million answers (100k tasks x 10, 200 workers, 5 classes, string ids)",
            ["measure", "value"],
            [
                [
                    "ours DawidSkene(n_iter=50, tol=0), best (median) of 5",
                    f"{million['ds_1m_s']:.2f}s ({million['ds_1m_s_median']:.2f}s)",
                ],
                ["ours DS accuracy vs simulated truth", f"{million['ds_1m_accuracy']:.4f}"],
                ["crowd-kit DawidSkene(n_iter=50, tol=0), one run", ck_text],
                [
                    "ours krippendorff_alpha nominal, best (median) of 5",
                    f"{million['alpha_1m_s']:.2f}s ({million['alpha_1m_s_median']:.2f}s)",
                ],
                ["alpha", f"{million['alpha_1m']:.4f}"],
            ],
        )
    )
    tables[-1][2].append(
        [
            "default_aggregator() vs DawidSkene() (default settings), best of 5",
            f"{million['default_1m_s']:.2f}s vs {million['ds_default_settings_1m_s']:.2f}s "
            f"({million['default_over_ds_1m']:.2f}x)",
        ]
    )
    loo_rows = [
        [SHORT[d], v["chosen_on_other_seven"], f"{v['held_out_accuracy']:.4f}",
         f"{v['default_accuracy']:.4f}", f"{v['medoid']} {v['medoid_accuracy']:.4f}",
         f"{v['average_all_accuracy']:.4f}",
         " ".join(f"{100 * g:+.2f}" for g in v["gold_selection_gain"].values())]
        for d, v in loo["per_dataset"].items()
    ]  # fmt: skip
    fixed = loo["fixed_rules"]
    loo_rows.append(
        ["mean", "", f"{loo['loo_default_mean']:.4f}", f"{loo['default_in_sample_mean']:.4f}",
         f"{fixed['medoid']:.4f}", f"{fixed['average_all']:.4f}",
         " ".join(f"{100 * g:+.2f}" for g in loo["gold_selection_gain"].values())]
    )  # fmt: skip
    tables.append(
        (
            f"Leave-one-dataset-out over {loo['n_rules']} rules (pool {'/'.join(loo['pool'])}, pairs and "
            "triples averaged); held out = the rule with the best mean on the other seven",
            ["held out", "chosen on 7", "held-out acc.", "default (in-sample)", "medoid", "average all",
             f"gold selection gain, points, {'/'.join(map(str, LOO_GOLD_SIZES))} gold"],
            loo_rows,
        )
    )  # fmt: skip
    adaptive_rows = []
    for target, block in adaptive["targets"].items():
        for name, v in block["per_dataset"].items():
            adaptive_rows.append(
                [f"{target}", SHORT[name], f"{v['answer_fraction']:.3f}", f"{v['accuracy_full']:.4f}",
                 f"{v['accuracy_adaptive']:.4f}", f"{100 * v['accuracy_drop']:+.2f}"]
            )  # fmt: skip
        adaptive_rows.append(
            [
                f"{target}",
                "mean",
                f"{block['answer_fraction']:.3f}",
                "",
                "",
                f"{100 * block['accuracy_drop']:+.2f}",
            ]
        )
    tables.append(
        (
            f"Adaptive overlap replay (default aggregator, min {ADAPTIVE_MIN_ANSWERS} answers, "
            f"seeds {ADAPTIVE_SEEDS})",
            ["target", "dataset", "answers used", "acc. all", "acc. adaptive", "drop (points)"],
            adaptive_rows,
        )
    )
    tables.append(("Targets", ["target", "met"], [[k, str(v)] for k, v in result["targets"].items()]))
    render(tables)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
