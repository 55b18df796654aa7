"""Entity F1 (exact and overlap) and agreement between annotators: hand-made cases, seqeval as the oracle
for the CoNLL scorer's F1, and invariants."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics import f1_score

from labelloop.quality import (
    annotator_span_scores,
    bio_to_spans,
    pairwise_span_agreement,
    pairwise_span_f1,
    span_f1,
    span_scores,
)

GOLD = pd.Series({"d1": [[0, 10, "PER"], [20, 25, "LOC"]], "d2": [[3, 8, "ORG"]], "d3": []})


def test_exact_match_needs_span_and_type() -> None:
    pred = {"d1": [[0, 10, "PER"], [20, 25, "ORG"]], "d2": [[3, 9, "ORG"]], "d3": []}
    scores = span_scores(pred, GOLD)
    assert scores["tp_pred"] == 1 and scores["n_pred"] == 3 and scores["n_ref"] == 3
    assert scores["precision"] == pytest.approx(1 / 3) and scores["recall"] == pytest.approx(1 / 3)
    assert span_f1(pred, GOLD) == pytest.approx(1 / 3)
    # Overlap: the boundary error matches, the type error does not.
    assert span_f1(pred, GOLD, match="overlap") == pytest.approx(2 / 3)
    assert span_f1(GOLD, GOLD) == 1.0


def test_overlap_counts_each_side_separately() -> None:
    gold = {"d": [[0, 4, "PER"], [5, 10, "PER"]]}
    pred = {"d": [[0, 10, "PER"]]}  # one long span over two names
    scores = span_scores(pred, gold, match="overlap")
    assert scores["precision"] == 1.0 and scores["recall"] == 1.0
    assert span_scores(pred, gold)["f1"] == 0.0


def test_missing_and_extra_tasks_and_empty_sets() -> None:
    assert span_f1({}, GOLD) == 0.0  # predicting nothing where there is something
    assert span_f1({"x": [[0, 1, "PER"]]}, {"x": []}) == 0.0
    assert span_f1({"x": []}, {"x": []}) == 1.0  # nothing on either side: agreement
    assert span_f1({**GOLD.to_dict(), "extra": [[0, 1, "PER"]]}, GOLD) == 1.0  # only the reference's tasks
    with pytest.raises(ValueError, match="match must be 'exact' or 'overlap'"):
        span_f1(GOLD, GOLD, match="loose")  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=r"reference task 'd1': spans\[0\] = \[4, 2, 'PER'\] needs start < end"
    ):
        span_f1(GOLD, {"d1": [[4, 2, "PER"]]})


SEQ = st.lists(
    st.lists(st.sampled_from(["O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC"]), min_size=1, max_size=12),
    min_size=1,
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(SEQ, st.data())
def test_exact_f1_matches_seqeval(gold_tags: list[list[str]], data: st.DataObject) -> None:
    pred_tags = [
        data.draw(
            st.lists(
                st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]), min_size=len(g), max_size=len(g)
            )
        )
        for g in gold_tags
    ]

    def to_spans(seqs: list[list[str]]) -> dict[int, list[list[int | str]]]:
        return {
            i: bio_to_spans(s, [2 * j for j in range(len(s))], [2 * j + 1 for j in range(len(s))])
            for i, s in enumerate(seqs)
        }

    gold, pred = to_spans(gold_tags), to_spans(pred_tags)
    n_gold, n_pred = sum(map(len, gold.values())), sum(map(len, pred.values()))
    if n_gold == 0 or n_pred == 0:
        return  # seqeval answers 0 with a warning where there is nothing to score
    assert span_f1(pred, gold) == pytest.approx(f1_score(gold_tags, pred_tags))


ANSWERS = pd.DataFrame(
    {
        "task": ["d1", "d1", "d1", "d2", "d2"],
        "worker": ["ann", "bob", "cid", "ann", "bob"],
        "spans": [
            [[0, 10, "PER"], [20, 25, "LOC"]],
            [[0, 10, "PER"]],
            [[0, 4, "PER"], [20, 25, "LOC"]],
            [[3, 8, "ORG"]],
            [],
        ],
    }
)


def test_pairwise_f1_by_hand() -> None:
    table = pairwise_span_f1(ANSWERS).set_index(["worker_a", "worker_b"])
    # ann-bob: d1 2 vs 1 span, 1 common; d2 1 vs 0. Micro: P = 1/3, R = 1/1 -> F1 = 0.5.
    assert table.loc[("ann", "bob"), "f1"] == pytest.approx(0.5)
    assert table.loc[("ann", "bob"), "n_tasks"] == 2
    assert table.loc[("ann", "cid"), "f1"] == pytest.approx(0.5)  # LOC only: 1 of 2 each way
    assert table.loc[("bob", "cid"), "f1"] == 0.0
    overlap = pairwise_span_f1(ANSWERS, match="overlap").set_index(["worker_a", "worker_b"])
    assert overlap.loc[("ann", "cid"), "f1"] == 1.0  # "John" overlaps "John Smith"
    expected = (0.5 * 2 + 0.5 * 1 + 0.0 * 1) / 4
    assert pairwise_span_agreement(ANSWERS) == pytest.approx(expected)
    assert math.isnan(pairwise_span_agreement(ANSWERS[ANSWERS["worker"] == "ann"]))


def test_annotator_scores_against_a_reference() -> None:
    table = annotator_span_scores(ANSWERS, GOLD)
    assert list(table.index) == ["ann", "bob", "cid"]
    assert table.loc["ann"].to_dict() == {
        "n_tasks": 2, "n_spans": 3, "n_ref": 3, "precision": 1.0, "recall": 1.0, "f1": 1.0,
    }  # fmt: skip
    assert table.loc["bob", "precision"] == 1.0 and table.loc["bob", "recall"] == pytest.approx(1 / 3)
    assert table.loc["cid", "f1"] == pytest.approx(0.5)
    assert annotator_span_scores(ANSWERS, GOLD, match="overlap").loc["cid", "f1"] == 1.0
    only_d2 = annotator_span_scores(ANSWERS, GOLD[["d2"]])
    assert list(only_d2.index) == ["ann", "bob"] and only_d2.loc["bob", "f1"] == 0.0


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000))
def test_agreement_is_symmetric_and_in_range(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(4):
        for w in rng.choice(5, size=rng.integers(1, 5), replace=False):
            n = int(rng.integers(0, 4))
            starts = rng.integers(0, 30, n)
            spans = [[int(s), int(s + rng.integers(1, 6)), str(rng.choice(["A", "B"]))] for s in starts]
            rows.append((t, f"w{w}", spans))
    answers = pd.DataFrame(rows, columns=["task", "worker", "spans"])
    flipped = answers.iloc[::-1].reset_index(drop=True)
    for match in ("exact", "overlap"):
        a = pairwise_span_f1(answers, match=match)  # type: ignore[arg-type]
        b = pairwise_span_f1(flipped, match=match)  # type: ignore[arg-type]
        key = lambda f: {frozenset((r.worker_a, r.worker_b)): round(r.f1, 12) for r in f.itertuples()}  # noqa: E731
        assert key(a) == key(b)
        assert a["f1"].between(0, 1).all()
