"""Spans to token BIO tags and back: the tokeniser, snapping to words, overlaps, and the CoNLL rule
(checked against seqeval, the CoNLL scorer's Python port)."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics.sequence_labeling import get_entities

from labelloop.quality import TokenMajorityVote, bio_to_spans
from labelloop.quality.spans import tokenize


def one_answer(text: str, spans: list[list[object]]) -> list[list[object]]:
    """What the token majority vote makes of a single annotator's answer."""
    answers = pd.DataFrame({"task": ["t"], "worker": ["w"], "spans": [spans], "text": [text]})
    return list(TokenMajorityVote().fit_predict(answers)["t"])


def test_tokeniser_splits_words_and_punctuation_never_whitespace() -> None:
    text = "Iraqi-born U.S. envoy, 1996-08-23\n  said"
    start, end = tokenize(text)
    assert [text[s:e] for s, e in zip(start, end, strict=True)] == [
        "Iraqi", "-", "born", "U", ".", "S", ".", "envoy", ",", "1996", "-", "08", "-", "23", "said",
    ]  # fmt: skip
    assert len(tokenize("  \n ")[0]) == 0


def test_a_span_inside_a_word_takes_the_whole_word_and_whitespace_spans_vanish() -> None:
    text = "The Iraqi envoy met U.S. officials ."
    assert one_answer(text, [[4, 8, "MISC"]]) == [[4, 9, "MISC"]]  # "Iraq" of "Iraqi"
    assert one_answer(text, [[19, 24, "LOC"]]) == [[20, 24, "LOC"]]  # " U.S." -> "U.S."
    assert one_answer(text, [[9, 10, "MISC"]]) == []  # a space only
    assert one_answer(text, []) == []


def test_adjacent_spans_stay_apart_and_overlaps_go_to_the_outer_span() -> None:
    text = "Bank of America Paris office"
    assert one_answer(text, [[0, 4, "ORG"], [5, 15, "ORG"]]) == [[0, 4, "ORG"], [5, 15, "ORG"]]
    # Nested: the outer span wins its tokens; crossing: the later span keeps what is left, from a B.
    assert one_answer(text, [[0, 15, "ORG"], [8, 15, "LOC"]]) == [[0, 15, "ORG"]]
    assert one_answer(text, [[0, 7, "ORG"], [5, 21, "LOC"]]) == [[0, 7, "ORG"], [8, 21, "LOC"]]


def test_decoding_follows_conll_rule() -> None:
    offsets = list(range(0, 70, 10))
    ends = [o + 5 for o in offsets]
    tags = ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "B-ORG", "I-LOC"]
    assert bio_to_spans(tags, offsets, ends) == [
        [0, 15, "PER"], [20, 25, "PER"], [40, 45, "LOC"], [50, 55, "ORG"], [60, 65, "LOC"],
    ]  # fmt: skip
    with pytest.raises(ValueError, match="tag 1 must be O, B-<label> or I-<label>, got 'PER'"):
        bio_to_spans(["O", "PER"], [0, 1], [1, 2])
    with pytest.raises(ValueError, match="same length"):
        bio_to_spans(["O"], [0, 1], [1, 2])


TAG = st.sampled_from(["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-MISC-X", "I-MISC-X"])


@settings(max_examples=300, deadline=None)
@given(st.lists(TAG, max_size=30))
def test_bio_decoding_matches_seqeval(tags: list[str]) -> None:
    starts = [3 * i for i in range(len(tags))]
    ends = [s + 2 for s in starts]
    ours = bio_to_spans(tags, starts, ends)
    theirs = [[starts[a], ends[b], name] for name, a, b in get_entities(tags)]
    assert sorted(ours, key=str) == sorted(theirs, key=str)


WORDS = st.lists(st.from_regex(r"[A-Za-z]{1,6}|[.,;]", fullmatch=True), min_size=1, max_size=25)


@settings(max_examples=100, deadline=None)
@given(WORDS, st.data())
def test_one_answer_of_whole_word_spans_comes_back_unchanged(words: list[str], data: st.DataObject) -> None:
    text = " ".join(words)
    starts, ends = [], []
    at = 0
    for w in words:
        starts.append(at)
        ends.append(at + len(w))
        at += len(w) + 1
    # Non-overlapping spans over whole words: cut the word list into runs.
    cuts = sorted(data.draw(st.sets(st.integers(0, len(words)), max_size=8)) | {0, len(words)})
    spans = []
    for a, b in itertools.pairwise(cuts):
        if b > a and data.draw(st.booleans()):
            spans.append([starts[a], ends[b - 1], data.draw(st.sampled_from(["PER", "LOC"]))])
    assert one_answer(text, spans) == sorted(spans, key=lambda s: (s[0], s[1], s[2]))
