"""Span answers are checked once at the boundary, with errors that name the task, worker and span."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from labelloop.quality import TokenMajorityVote, default_span_aggregator

TEXT = "John Smith flew to Paris ."


def frame(*rows: tuple[object, object, object], text: object = TEXT) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "task": [r[0] for r in rows],
            "worker": [r[1] for r in rows],
            "spans": [r[2] for r in rows],
            "text": text,
        }
    )


def test_missing_columns_are_named() -> None:
    bad = pd.DataFrame({"task": ["a"], "worker": ["w"], "spans": [[]]})
    with pytest.raises(ValueError, match=r"lack column\(s\) \['text'\]"):
        default_span_aggregator().fit_predict(bad)
    with pytest.raises(TypeError, match="DataFrame"):
        default_span_aggregator().fit_predict([("a", "w", [], TEXT)])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("span", "message"),
    [
        ([0, 40, "PER"], "spans[1] = [0, 40, 'PER'] ends after the text (length 26)"),
        ([5, 5, "PER"], "spans[1] = [5, 5, 'PER'] needs start < end"),
        ([7, 3, "PER"], "spans[1] = [7, 3, 'PER'] needs start < end"),
        ([-1, 3, "PER"], "spans[1] = [-1, 3, 'PER'] starts before the text"),
        ([0.0, 4, "PER"], "spans[1] = [0.0, 4, 'PER'] needs integer offsets"),
        ([True, 4, "PER"], "spans[1] = [True, 4, 'PER'] needs integer offsets"),
        ([0, 4, ""], "spans[1] = [0, 4, ''] needs a non-empty string label"),
        ([0, 4, 7], "spans[1] = [0, 4, 7] needs a non-empty string label"),
        ([0, 4], "spans[1] = [0, 4] must be [start, end, label]"),
        ("0 4 PER", "spans[1] = '0 4 PER' must be [start, end, label]"),
    ],
)
def test_a_bad_span_is_named_by_task_worker_and_position(span: object, message: str) -> None:
    answers = frame(("t1", "ann", [[0, 10, "PER"]]), ("t1", "bob", [[19, 24, "LOC"], span]))
    with pytest.raises(ValueError, match=re.escape(f"task 't1', worker 'bob': {message}")):
        default_span_aggregator().fit_predict(answers)


def test_spans_must_be_a_list() -> None:
    with pytest.raises(ValueError, match="task 't1', worker 'ann': spans must be a list"):
        TokenMajorityVote().fit_predict(frame(("t1", "ann", "PER")))


def test_texts_of_one_task_must_agree() -> None:
    answers = frame(("t1", "ann", []), ("t1", "bob", []), ("t2", "ann", []))
    answers.loc[1, "text"] = "John Smith flew to Rome ."
    with pytest.raises(
        ValueError,
        match=r"task 't1': worker 'bob' gave a different text than worker 'ann' \(first difference at character 19\)",
    ):
        TokenMajorityVote().fit_predict(answers)
    answers["text"] = pd.Series([TEXT, None, TEXT], dtype=object)
    with pytest.raises(ValueError, match="task 't1', worker 'bob': text must be a string, got None"):
        TokenMajorityVote().fit_predict(answers)


def test_missing_answers_dropped_empty_answers_kept_last_duplicate_wins() -> None:
    answers = frame(
        ("t1", "ann", [[0, 10, "PER"]]),
        ("t1", "bob", None),  # no answer
        ("t1", "cid", np.nan),  # no answer
        ("t2", "ann", []),  # an answer: nothing here
        ("t1", "ann", [[19, 24, "LOC"]]),  # ann resubmits t1: this one counts
    )
    out = TokenMajorityVote().fit_predict(answers)
    assert out.to_dict() == {"t1": [[19, 24, "LOC"]], "t2": []}


def test_mappings_and_dict_spans_are_read_and_duplicates_count_once() -> None:
    answers = {
        "task": ["t1", "t1"],
        "worker": ["ann", "bob"],
        "spans": [
            [{"start": 0, "end": 10, "label": "PER"}, {"start": 0, "end": 10, "label": "PER"}],
            [(0, 10, "PER"), [np.int64(19), np.int64(24), "LOC"]],
        ],
        "text": [TEXT, TEXT],
    }
    out = default_span_aggregator().fit_predict(answers)
    assert out["t1"][0] == [0, 10, "PER"]
    model = TokenMajorityVote().fit(answers)
    assert model.token_tags_.loc[0, "confidence"] == 1.0  # the duplicated span is one vote, not two


def test_nothing_left_and_missing_ids_are_errors() -> None:
    with pytest.raises(ValueError, match="no row with a spans value"):
        TokenMajorityVote().fit_predict(frame(("t1", "ann", None)))
    with pytest.raises(ValueError, match="column 'worker' has missing ids"):
        TokenMajorityVote().fit_predict(frame(("t1", None, [])))
