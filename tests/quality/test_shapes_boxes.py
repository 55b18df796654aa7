"""Box aggregation: hand-made crowds with known answers, input rules, and invariants (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.quality import (
    BoxAggregator,
    NaiveBoxConsensus,
    RandomWorkerBoxes,
    box_f1,
    default_box_aggregator,
)
from labelloop.quality.shapes.matching import greedy_pairs
from labelloop.quality.shapes.simulate import simulate_box_crowd


def frame(rows: list[tuple[object, object, list[list[float]]]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["task", "worker", "boxes"])


def test_two_workers_same_box_slightly_shifted_fuse_into_one() -> None:
    answers = frame([("img", "a", [[10, 10, 50, 90]]), ("img", "b", [[12, 11, 52, 91]])])
    out = default_box_aggregator().fit_predict(answers)
    assert list(out.index) == ["img"]
    (box,) = out["img"]
    assert box == pytest.approx([11, 10.5, 51, 90.5])


def test_identical_answers_return_themselves() -> None:
    boxes = [[0.0, 0.0, 10.0, 20.0], [30.0, 5.0, 60.0, 70.0]]
    answers = frame([("t", w, boxes) for w in "abc"])
    assert default_box_aggregator().fit_predict(answers)["t"] == boxes


def crowd_with_a_spammer(n_tasks: int = 40) -> pd.DataFrame:
    """Three careful workers agree on each task's one object; worker 'z' adds one box where nothing is."""
    rng = np.random.default_rng(0)
    rows = []
    for t in range(n_tasks):
        x, y = rng.uniform(0, 500, 2)
        truth = [x, y, x + 40, y + 100]
        for w in "abc":
            rows.append((t, w, [list(np.add(truth, rng.normal(0, 1.5, 4)))]))
        junk = [x + 200, y + 50, x + 240, y + 150]
        rows.append((t, "z", [list(np.add(truth, rng.normal(0, 1.5, 4))), junk]))
    return frame(rows)


def test_a_box_only_a_low_precision_worker_drew_is_dropped() -> None:
    answers = crowd_with_a_spammer()
    model = default_box_aggregator().fit(answers)
    assert all(len(boxes) == 1 for boxes in model.boxes_)
    assert model.precision_["z"] < model.precision_["a"]
    assert model.false_positive_rate_["z"] > model.false_positive_rate_["a"]
    # The textbook two-class model (one difficulty level) is sure of it; with two levels a worker who
    # always adds a box nobody else sees could also be the only one seeing hard objects (docs/quality.md).
    two_class = BoxAggregator(difficulty_levels=1).fit(answers)
    assert (two_class.clusters_.query("n_boxes == 1")["p_real"] < 0.01).all()
    assert all(len(boxes) == 1 for boxes in two_class.boxes_)


def test_nothing_here_answers() -> None:
    answers = frame(
        [("empty", w, []) for w in "abc"]
        + [("lonely", "a", [[0, 0, 5, 5]]), ("lonely", "b", []), ("lonely", "c", []), ("lonely", "d", [])]
        + [("solo", "a", [[1, 1, 9, 9]])]
    )
    # enough other tasks for the crowd's rates to be learned: a, b, c, d agree on one box each
    answers = pd.concat(
        [answers, frame([(f"t{i}", w, [[10 * i, 0, 10 * i + 8, 20]]) for i in range(30) for w in "abcd"])]
    )
    out = default_box_aggregator().fit_predict(answers)
    assert out["empty"] == []
    assert out["lonely"] == []  # one of four drew it: a false box
    assert out["solo"] == [[1.0, 1.0, 9.0, 9.0]]  # the only answer is all there is
    assert all(out[f"t{i}"] == [[10.0 * i, 0.0, 10.0 * i + 8, 20.0]] for i in range(30))


def test_a_worker_never_contributes_two_boxes_to_one_cluster() -> None:
    # worker a draws two overlapping boxes; b and c one: two clusters, not one cluster with a twice
    answers = frame(
        [
            ("t", "a", [[0, 0, 10, 10], [1, 0, 11, 10]]),
            ("t", "b", [[0, 0, 10, 10]]),
            ("t", "c", [[0, 0, 10, 10]]),
        ]
    )
    model = default_box_aggregator().fit(answers)
    assert len(model.clusters_) == 2
    assert sorted(model.clusters_["n_boxes"]) == [1, 3]


def test_learns_on_a_simulated_crowd_and_beats_the_baselines() -> None:
    answers, truth = simulate_box_crowd(n_tasks=600, n_workers=25, seed=4)
    ours = box_f1(default_box_aggregator().fit_predict(answers), truth)
    naive = box_f1(NaiveBoxConsensus().fit_predict(answers), truth)
    one = box_f1(RandomWorkerBoxes(seed=1).fit_predict(answers), truth)
    assert ours > naive > one
    assert ours > 0.95


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [("t", "a", [[0, 0, 10]])],
            r"row 0 \(task 't', worker 'a'\): boxes\[0\] must be \[x1, y1, x2, y2\]",
        ),
        ([("t", "a", [[0, 0, 10, 10], [5, 0, 1, 10]])], r"boxes\[1\] needs x1 <= x2"),
        ([("t", "a", [[0, 0, float("nan"), 10]])], r"boxes\[0\] has a non-finite coordinate"),
        ([("t", "a", "0 0 10 10")], r"boxes\[0\] must be"),
        ([("t", "a", 5)], r"boxes must be a list"),
        ([("t", "a", None)], r"empty"),
        ([(None, "a", [])], r"missing ids"),
    ],
)
def test_bad_input_is_named(rows: list[tuple[object, object, object]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        default_box_aggregator().fit_predict(pd.DataFrame(rows, columns=["task", "worker", "boxes"]))


def test_input_rules_missing_answer_dropped_last_duplicate_wins() -> None:
    answers = frame([("t", "a", [[0, 0, 4, 4]]), ("t", "a", [[0, 0, 10, 10]]), ("t", "b", [[0, 0, 10, 10]])])
    answers.loc[3] = ["t", "c", None]
    model = default_box_aggregator().fit(answers)
    assert model.boxes_["t"] == [[0.0, 0.0, 10.0, 10.0]]
    assert set(model.recall_.index) == {"a", "b"}
    with pytest.raises(ValueError, match="lack column"):
        default_box_aggregator().fit_predict(pd.DataFrame({"task": [1], "worker": [1]}))


def test_options_are_checked() -> None:
    for bad in (
        {"match_iou": 0},
        {"difficulty_levels": 0},
        {"threshold": 2},
        {"fusion": "mode"},
        {"n_passes": 0},
    ):
        with pytest.raises(ValueError):
            BoxAggregator(**bad)  # type: ignore[arg-type]


def test_greedy_pairs_take_the_best_first_one_to_one() -> None:
    left = np.array([0, 0, 1, 1])
    right = np.array([0, 1, 0, 1])
    score = np.array([0.9, 0.8, 0.85, 0.1])
    got_l, got_r = greedy_pairs(left, right, score)
    assert sorted(zip(got_l.tolist(), got_r.tolist(), strict=True)) == [(0, 0), (1, 1)]


boxes_strategy = st.lists(
    st.tuples(st.integers(0, 80), st.integers(0, 80), st.integers(5, 40), st.integers(5, 40)).map(
        lambda b: [float(b[0]), float(b[1]), float(b[0] + b[2]), float(b[1] + b[3])]
    ),
    max_size=3,
)
crowd = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4), boxes_strategy), min_size=1, max_size=25)


@settings(max_examples=40, deadline=None)
@given(crowd, st.randoms(use_true_random=False))
def test_row_order_and_names_do_not_matter(
    rows: list[tuple[int, int, list[list[float]]]], rnd: object
) -> None:
    answers = frame([(f"t{t}", f"w{w}", b) for t, w, b in rows]).drop_duplicates(
        ["task", "worker"], keep="last"
    )
    shuffled = answers.sample(frac=1.0, random_state=rnd.randint(0, 10**6))  # type: ignore[attr-defined]
    a = default_box_aggregator().fit_predict(answers)
    b = default_box_aggregator().fit_predict(shuffled)
    assert _close(a, b)


def _close(a: pd.Series, b: pd.Series) -> bool:
    a, b = a.sort_index(), b.sort_index()
    if list(a.index) != list(b.index):
        return False
    return all(
        np.allclose(np.array(x).reshape(-1, 4), np.array(y).reshape(-1, 4)) for x, y in zip(a, b, strict=True)
    )


@settings(max_examples=40, deadline=None)
@given(boxes_strategy, st.integers(1, 6))
def test_identical_answers_property(boxes: list[list[float]], n: int) -> None:
    answers = frame([("t", f"w{i}", boxes) for i in range(n)])
    out = default_box_aggregator().fit_predict(answers)["t"]
    assert _close(pd.Series([out]), pd.Series([sorted(boxes)]))


def test_a_level_of_difficulty_cannot_become_the_boxes_only_a_spammer_draws() -> None:
    """Three careful annotators and two who scatter boxes at random; on ten images only one careful
    annotator answered. With a free recall per annotator and level, EM run to convergence let a
    'real' level fit the spammers' strays and dropped half of the lone careful annotator's people;
    with a difficulty shared by everyone it keeps them all."""
    rng = np.random.default_rng(7)
    truth = {i: [[10.0 + 100 * (c % 6), 10.0 + 110 * (c // 6), 70.0 + 100 * (c % 6), 90.0 + 110 * (c // 6)]
                 for c in rng.choice(24, 2, replace=False)] for i in range(40)}
    hard = range(30, 40)

    def spam(i: int, who: int) -> list[list[float]]:
        r = np.random.default_rng(1000 * who + i)
        return [[x, y, x + 60, y + 80] for x, y in (r.integers(0, (570, 390)).astype(float) for _ in range(2))]

    rows = [(f"p{i}", w, truth[i]) for i in range(40) for w in ("g1", "g2") if i not in hard]
    rows += [(f"p{i}", "g3", truth[i]) for i in range(40)]
    rows += [(f"p{i}", f"s{k}", spam(i, k)) for i in range(40) for k in (1, 2)]
    model = default_box_aggregator().fit(frame(rows))
    lone = {f"p{i}": truth[i] for i in hard}
    assert box_f1(model.boxes_[list(lone)], pd.Series(lone)) == 1.0
    assert model.recall_[["g1", "g2", "g3"]].min() > 0.9 > 0.2 > model.recall_[["s1", "s2"]].max()
