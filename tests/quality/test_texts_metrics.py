"""Word error rates, alignments and agreement: known answers, a brute-force DP and jiwer as oracles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.quality import (
    annotator_wer,
    corpus_wer,
    mean_pairwise_wer,
    pairwise_wer,
    transcript_gold_scores,
    wer,
)
from labelloop.quality.texts import best_single_wer
from labelloop.quality.texts.alignment import align, edit_distances


def slow_levenshtein(a: list[int], b: list[int]) -> int:
    d = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, y in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (x != y))
    return d[-1]


def pad(seqs: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    width = max([1, *map(len, seqs)])
    out = np.full((len(seqs), width), -1, dtype=np.int64)
    for k, s in enumerate(seqs):
        out[k, : len(s)] = s
    return out, np.array([len(s) for s in seqs], dtype=np.intp)


def test_wer_known_answers() -> None:
    assert wer("Hello, World!", "hello world") == 0.0
    assert wer("a b c", "a x c d") == pytest.approx(2 / 4)  # one substitution, one deletion
    assert wer("a b c d e", "a c") == pytest.approx(3 / 2)  # insertions can push WER past 1
    assert wer("", "") == 0.0
    assert wer("x", "") == float("inf")


seqs = st.lists(st.integers(0, 4), max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(seqs, seqs), min_size=1, max_size=20))
def test_batched_distances_and_alignments_match_the_textbook_dp(
    pairs: list[tuple[list[int], list[int]]],
) -> None:
    a, la = pad([p[0] for p in pairs])
    b, lb = pad([p[1] for p in pairs])
    expected = [slow_levenshtein(x, y) for x, y in pairs]
    assert edit_distances(a, la, b, lb).tolist() == expected
    al = align(a, la, b, lb)
    assert al.distance.tolist() == expected
    for k, (x, y) in enumerate(pairs):
        to_b = al.a_to_b[k, : len(x)]
        matched = to_b[to_b >= 0]
        # an alignment: matched positions strictly increase, every b word is matched or deleted once
        assert np.all(np.diff(matched) > 0)
        deleted = al.b_deleted[k, : len(y)]
        assert sorted(matched.tolist() + np.flatnonzero(deleted).tolist()) == list(range(len(y)))
        # and its cost is the distance: substitutions + insertions + deletions
        subs = sum(x[i] != y[j] for i, j in enumerate(to_b) if j >= 0)
        assert subs + int((to_b < 0).sum()) + int(deleted.sum()) == expected[k]
        # inserted words sit in the gap between their neighbours' partners
        gaps = al.a_gap[k, : len(x)]
        assert np.all(gaps[to_b < 0] >= 0)


words = st.lists(st.sampled_from(["a", "b", "the", "cat", "Sat.", "don't"]), max_size=10).map(" ".join)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(words, words), min_size=1, max_size=10))
def test_corpus_wer_matches_jiwer(pairs: list[tuple[str, str]]) -> None:
    jiwer = pytest.importorskip("jiwer")
    pairs = [(h, r) for h, r in pairs if r.strip()]
    if not pairs:
        return
    tr = jiwer.Compose(
        [jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(), jiwer.Strip(),
         jiwer.ReduceToListOfListOfWords()]
    )  # fmt: skip
    hyp = pd.Series([h for h, _ in pairs])
    ref = pd.Series([r for _, r in pairs])
    expected = jiwer.wer(list(ref), list(hyp), reference_transform=tr, hypothesis_transform=tr)
    assert corpus_wer(hyp, ref) == pytest.approx(expected)


def test_corpus_wer_counts_missing_predictions_as_empty() -> None:
    ref = pd.Series({"a": "one two", "b": "three"})
    assert corpus_wer(pd.Series({"a": "one two"}), ref) == pytest.approx(1 / 3)
    assert corpus_wer({"a": "one two", "b": "three", "zzz": "extra"}, ref) == 0.0


def crowd() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("c1", "good", "the cat sat on the mat"),
            ("c1", "ok", "the cat sat on a mat"),
            ("c1", "bad", "a bat"),
            ("c2", "good", "hello world"),
            ("c2", "ok", "hello world"),
            ("c2", "bad", "goodbye"),
        ],
        columns=["task", "worker", "text"],
    )


def test_annotator_wer_against_reference_and_gold() -> None:
    gold = pd.Series({"c1": "the cat sat on the mat", "c2": "hello world"})
    scores = annotator_wer(crowd(), gold)
    assert scores.loc["good", "wer"] == 0.0
    assert scores.loc["ok", "wer"] == pytest.approx(1 / 8)
    assert scores.loc["bad", "errors"] == 6 + 2  # c1: 4 deletions + 2 substitutions; c2: 2 edits
    assert scores.loc["bad", "wer"] == pytest.approx(8 / 8)
    assert list(scores.index) == ["good", "ok", "bad"]
    # gold on part of the clips: only those count
    part = transcript_gold_scores(crowd(), {"c2": "hello world"})
    assert part["n_tasks"].to_dict() == {"good": 1, "ok": 1, "bad": 1}


def test_pairwise_wer_is_symmetric_and_pooled() -> None:
    table = pairwise_wer(crowd())
    assert len(table) == 3
    row = table[(table.worker_a == "good") & (table.worker_b == "ok")].iloc[0]
    assert row["n_tasks"] == 2
    assert row["errors"] == 1
    assert row["words"] == pytest.approx(6 + 2)
    flipped = crowd().assign(worker=crowd()["worker"].map({"good": "ok", "ok": "good", "bad": "bad"}))
    assert pairwise_wer(flipped)["wer"].sort_values().tolist() == pytest.approx(
        table["wer"].sort_values().tolist()
    )
    assert 0 < mean_pairwise_wer(crowd()) < 1
    same = crowd().assign(text="same words")
    assert mean_pairwise_wer(same) == 0.0


def test_best_single_wer_is_the_oracle() -> None:
    gold = pd.Series({"c1": "the cat sat on the mat", "c2": "hello world"})
    assert best_single_wer(crowd(), gold) == 0.0
    assert best_single_wer(crowd()[crowd().worker != "good"], gold) == pytest.approx(1 / 8)
