"""Rank aggregation and agreement: Plackett-Luce against choix (full, weighted and top-k rankings),
Borda by hand, learned annotator weights on a simulated crowd, Kendall's tau against scipy, input
rules, and invariants (hypothesis)."""

from __future__ import annotations

import choix
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import kendalltau

from labelloop.quality import (
    PlackettLuce,
    WeightedBorda,
    default_ranking_aggregator,
    kendall_tau_pairs,
    mean_kendall_tau,
    ranking_annotator_agreement,
)
from labelloop.quality.rankings import simulate_ranking_crowd
from labelloop.quality.rankings._input import encode_rankings

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def table(rows: list[tuple[object, object, object]]) -> pd.DataFrame:
    return pd.DataFrame(
        {"task": [r[0] for r in rows], "worker": [r[1] for r in rows], "ranking": [r[2] for r in rows]}
    )


def random_rankings(seed: int, n_items: int = 8, n: int = 40) -> tuple[pd.DataFrame, list[list[int]]]:
    rng = np.random.default_rng(seed)
    strength = rng.normal(0, 1, n_items)
    rows, plain = [], []
    for r in range(n):
        size = int(rng.integers(2, n_items + 1))
        shown = rng.choice(n_items, size, replace=False)
        order = shown[np.argsort(-(strength[shown] + rng.gumbel(size=size)))]
        plain.append([int(i) for i in order])
        rows.append((r, f"w{r % 5}", [f"i{i}" for i in order]))
    return table(rows), plain


def as_choix(scores: pd.Series, n_items: int) -> np.ndarray:
    return scores.reindex([f"i{i}" for i in range(n_items)]).to_numpy()


# --- Plackett-Luce against choix -----------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_plackett_luce_matches_choix_mm(seed: int) -> None:
    rankings, plain = random_rankings(seed)
    ours = PlackettLuce(weights=None, prior_strength=1.0, tol=1e-12, n_iter=100_000).fit_predict(rankings)
    # choix's MM with alpha adds alpha to wins and to the denominator: our Gamma(1 + c, c) prior, c = alpha
    theirs = choix.mm_rankings(8, plain, alpha=1.0, tol=1e-12, max_iter=100_000)
    np.testing.assert_allclose(as_choix(ours, 8), theirs - theirs.mean(), atol=1e-6)


def test_integer_weights_equal_repeated_rankings() -> None:
    rankings, plain = random_rankings(4)
    weights = {f"w{k}": float(k % 3) for k in range(5)}
    ours = PlackettLuce(weights=weights, tol=1e-12, n_iter=100_000).fit_predict(rankings)
    repeated = [r for k, r in enumerate(plain) for _ in range(int(weights[f"w{k % 5}"]))]
    theirs = choix.mm_rankings(8, repeated, alpha=1.0, tol=1e-12, max_iter=100_000)
    shown = sorted({i for r in repeated for i in r})
    np.testing.assert_allclose(
        as_choix(ours, 8)[shown] - as_choix(ours, 8)[shown].mean(),
        (theirs - theirs.mean())[shown] - (theirs - theirs.mean())[shown].mean(),
        atol=1e-6,
    )


def test_top_k_rankings_match_choix_top1_stages() -> None:
    # two annotators list their top two of a task of four candidates; a third ranks all four
    rankings = table([(0, "u", ["i2", "i0"]), (0, "v", ["i1", "i2"]), (0, "x", ["i3", "i2", "i1", "i0"])])
    ours = PlackettLuce(weights=None, partial="top", tol=1e-12, n_iter=100_000).fit_predict(rankings)
    stages = [(2, [0, 1, 3]), (0, [1, 3]), (1, [0, 2, 3]), (2, [0, 3]), (3, [0, 1, 2]), (2, [0, 1]), (1, [0])]
    theirs = choix.mm_top1(4, stages, alpha=1.0, tol=1e-12, max_iter=100_000)
    np.testing.assert_allclose(as_choix(ours, 4), theirs - theirs.mean(), atol=1e-6)


def test_subset_rankings_say_nothing_about_unlisted_items() -> None:
    rankings = table([(0, "u", ["a", "b"]), (0, "v", ["c", "a", "b"])])
    top = encode_rankings(rankings, partial="top")
    subset = encode_rankings(rankings, partial="subset")
    assert subset.n_stages == 1 + 2 and top.n_stages == 2 + 2
    assert set(top.items[top.member_item[top.member_stage == 0]]) == {"a", "b", "c"}


# --- Borda by hand -------------------------------------------------------------------------------


def test_borda_points_by_hand() -> None:
    rankings = table([(0, "u", ["a", "b", "c"]), (0, "v", ["b", "a"]), (1, "u", ["d"])])
    scores = WeightedBorda().fit_predict(rankings)
    assert scores.to_dict() == pytest.approx({"a": (1 + 0) / 2, "b": (0.5 + 1) / 2, "c": 0.0, "d": 0.5})
    weighted = WeightedBorda(weights={"u": 3.0, "v": 1.0}).fit_predict(rankings)
    assert weighted["a"] == pytest.approx((3 * 1 + 0) / 4)


def test_borda_top_k_shares_the_remaining_points() -> None:
    rankings = table([(0, "u", ["a"]), (0, "v", ["b", "c", "a"])])
    scores = WeightedBorda(partial="top").fit_predict(rankings)
    # u: a first of {a, b, c}; b and c share positions 1 and 2: (0.5 + 0) / 2 points each
    assert scores.to_dict() == pytest.approx({"a": (1 + 0) / 2, "b": (0.25 + 1) / 2, "c": (0.25 + 0.5) / 2})


# --- learned weights on a simulated crowd --------------------------------------------------------


def within_task_tau(scores: pd.Series, truth: pd.Series) -> float:
    task = truth.index.str.split("/").str[0]
    return float(np.mean([kendalltau(scores.reindex(g.index), g).statistic for _, g in truth.groupby(task)]))


def test_learned_weights_silence_random_rankers_and_help() -> None:
    learned, equal, borda = [], [], []
    for seed in range(3):
        rankings, truth, kinds = simulate_ranking_crowd(n_tasks=100, per_task=5, bad_share=0.3, seed=seed)
        model = default_ranking_aggregator().fit(rankings)
        weights = model.weights_.groupby(kinds.reindex(model.weights_.index)).mean()
        assert weights["random"] < 0.5 * weights["careful"]  # measured 0.07-0.40 against 1.2-1.4
        learned.append(within_task_tau(model.scores_, truth))
        equal.append(within_task_tau(PlackettLuce(weights=None).fit_predict(rankings), truth))
        borda.append(within_task_tau(WeightedBorda().fit_predict(rankings), truth))
    assert np.mean(learned) > np.mean(equal) + 0.03  # measured ~0.06
    assert np.mean(learned) > np.mean(borda) + 0.03


def test_learned_weights_cost_little_when_everyone_is_careful() -> None:
    learned, equal = [], []
    for seed in range(3):
        rankings, truth, _ = simulate_ranking_crowd(n_tasks=100, per_task=5, bad_share=0.0, seed=seed)
        learned.append(within_task_tau(PlackettLuce().fit_predict(rankings), truth))
        equal.append(within_task_tau(PlackettLuce(weights=None).fit_predict(rankings), truth))
    assert np.mean(learned) > np.mean(equal) - 0.02


# --- Kendall's tau -------------------------------------------------------------------------------


def test_kendall_tau_between_annotators_matches_scipy() -> None:
    rankings = table(
        [(0, "u", ["a", "b", "c", "d"]), (0, "v", ["b", "a", "d", "e", "c"]), (0, "x", ["d", "c"]),
         (1, "u", ["p", "q", "r"]), (1, "v", ["r", "q", "p"]), (2, "u", ["z"])]
    )  # fmt: skip
    pairs = kendall_tau_pairs(rankings).set_index(["task", "worker", "other"])
    common = ["a", "b", "c", "d"]  # u and v share these in task 0
    pos_u = [["a", "b", "c", "d"].index(i) for i in common]
    pos_v = [["b", "a", "d", "e", "c"].index(i) for i in common]
    assert pairs.loc[(0, "u", "v"), "tau"] == pytest.approx(kendalltau(pos_u, pos_v).statistic)
    assert pairs.loc[(0, "u", "v"), "n_items"] == 4
    assert pairs.loc[(0, "u", "x"), "tau"] == pytest.approx(-1.0)
    assert pairs.loc[(1, "u", "v"), "tau"] == pytest.approx(-1.0)
    assert len(pairs) == 4  # v-x share c, d; task 2 has one annotator
    assert mean_kendall_tau(rankings) == pytest.approx(pairs["tau"].mean())


def test_annotators_against_the_aggregate_match_scipy_tau_b() -> None:
    rankings = table([(0, "u", ["a", "b", "c", "d"]), (0, "v", ["d", "a", "c"]), (1, "u", ["e", "f"])])
    scores = pd.Series({"a": 3.0, "b": 1.0, "c": 1.0, "d": 0.0, "e": 0.5})  # b and c tie; f has no score
    table_ = ranking_annotator_agreement(rankings, scores)
    u = kendalltau([0, 1, 2, 3], [-3.0, -1.0, -1.0, 0.0]).statistic  # positions vs minus scores, tau-b
    v = kendalltau([0, 1, 2], [0.0, -3.0, -1.0]).statistic
    assert table_.loc["u", "kendall_tau"] == pytest.approx(u)  # task 1 has one scored item: left out
    assert table_.loc["u", "n_rankings"] == 1
    assert table_.loc["v", "kendall_tau"] == pytest.approx(v)


# --- input rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(0, "u", ["a", "b"]), (0, "v", "ab")], r"row 1 \(task 0, worker 'v'\): ranking must be a list"),
        ([(0, "u", ["a", "b", "a"])], r"row 0 .*names an item twice"),
        ([(0, "u", ["a", None])], r"row 0 .*missing item"),
        ([(0, None, ["a", "b"])], r"missing worker"),
        ([(None, "u", ["a", "b"])], r"missing task"),
        ([(0, "u", None)], r"empty"),
    ],
)
def test_bad_rankings_are_named(rows: list[tuple[object, object, object]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PlackettLuce().fit(table(rows))


def test_a_missing_ranking_is_no_answer_and_the_last_answer_wins() -> None:
    rankings = table([(0, "u", ["b", "a"]), (0, "u", ["a", "b"]), (0, "v", None), (0, "v", ["a", "b"])])
    scores = PlackettLuce(weights=None).fit_predict(rankings)
    assert scores["a"] > scores["b"]
    assert WeightedBorda().fit_predict(rankings).to_dict() == {"a": 1.0, "b": 0.0}


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError):
        PlackettLuce(weights="equal")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        PlackettLuce(partial="bottom")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no weight given"):
        PlackettLuce(weights={"u": 1.0}).fit(table([(0, "u", ["a", "b"]), (0, "v", ["b", "a"])]))
    with pytest.raises(ValueError, match=">= 0"):
        WeightedBorda(weights={"u": -1.0}).fit(table([(0, "u", ["a", "b"])]))


# --- invariants ----------------------------------------------------------------------------------


@st.composite
def ranking_tables(draw: st.DrawFn) -> pd.DataFrame:
    rows = []
    for t in range(draw(st.integers(1, 4))):
        items = [f"t{t}i{k}" for k in range(draw(st.integers(2, 5)))]
        for w in sorted(draw(st.sets(st.integers(0, 3), min_size=1, max_size=4))):
            ranking = draw(st.permutations(items))[: draw(st.integers(1, len(items)))]
            rows.append((t, f"w{w}", list(ranking)))
    return table(rows)


@SETTINGS
@given(ranking_tables())
def test_scores_ignore_row_order_and_worker_names(rankings: pd.DataFrame) -> None:
    for make in (PlackettLuce, WeightedBorda):
        for partial in ("subset", "top"):
            base = make(partial=partial).fit_predict(rankings)
            for variant in (rankings.iloc[::-1], rankings.assign(worker="x" + rankings["worker"])):
                other = make(partial=partial).fit_predict(variant)
                np.testing.assert_allclose(other.reindex(base.index).to_numpy(), base.to_numpy(), atol=1e-5)


@SETTINGS
@given(ranking_tables())
def test_reversing_every_full_ranking_mirrors_borda_and_taus_stay_in_range(rankings: pd.DataFrame) -> None:
    reversed_ = rankings.assign(ranking=rankings["ranking"].map(lambda r: list(r)[::-1]))
    forward, backward = WeightedBorda().fit_predict(rankings), WeightedBorda().fit_predict(reversed_)
    np.testing.assert_allclose(backward.reindex(forward.index).to_numpy(), 1 - forward.to_numpy(), atol=1e-12)
    taus = kendall_tau_pairs(rankings)["tau"]
    assert ((taus >= -1 - 1e-12) & (taus <= 1 + 1e-12)).all()
    model = PlackettLuce().fit(rankings)
    assert abs(model.scores_.mean()) < 1e-9
    assert (model.weights_ >= 0).all()
