"""The input contract of the transcript aggregators: columns, text types, empty answers, duplicates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labelloop.quality import ROVER, default_text_aggregator
from labelloop.quality.texts import normalize
from labelloop.quality.texts._input import encode_texts


def frame(rows: list[tuple[object, object, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["task", "worker", "text"])


def test_contract_returns_a_series_of_text_indexed_by_task() -> None:
    answers = frame(
        [
            ("c1", "ann", "The cat sat."),
            ("c1", "bob", "the cat sat"),
            ("c1", "cid", "The bat sat."),
            ("c2", "ann", "Hello there"),
            ("c2", "bob", "hello there"),
        ]
    )
    out = default_text_aggregator().fit_predict(answers)
    assert isinstance(out, pd.Series)
    assert list(out.index) == ["c1", "c2"]
    # the most common written form of each winning word: "The" (2 of 3), "sat." (2 of 3)
    assert out["c1"] == "The cat sat."
    assert out["c2"] in {"Hello there", "hello there"}


def test_missing_column_is_named() -> None:
    with pytest.raises(ValueError, match=r"lack column\(s\) \['text'\]"):
        default_text_aggregator().fit_predict(pd.DataFrame({"task": [1], "worker": [1], "label": ["a"]}))


def test_non_string_text_names_the_row() -> None:
    answers = frame([("c1", "ann", "fine"), ("c1", "bob", 42)])
    answers.index = ["r0", "r1"]
    with pytest.raises(
        ValueError, match=r"row 'r1' \(task 'c1', worker 'bob'\): text must be a string, got int"
    ):
        default_text_aggregator().fit_predict(answers)


def test_missing_ids_are_errors_and_missing_text_is_no_answer() -> None:
    with pytest.raises(ValueError, match="'worker' has a missing id"):
        ROVER().fit_predict(frame([("c1", None, "x")]))
    out = ROVER().fit_predict(
        frame([("c1", "a", "yes"), ("c1", "b", None), ("c2", "a", np.nan), ("c2", "b", "no")])
    )
    assert out.to_dict() == {"c1": "yes", "c2": "no"}
    with pytest.raises(ValueError, match="empty"):
        ROVER().fit_predict(frame([("c1", "a", None)]))


def test_empty_string_is_an_answer() -> None:
    # two of three heard nothing: the consensus is empty
    out = default_text_aggregator().fit_predict(frame([("c", "a", ""), ("c", "b", ""), ("c", "d", "noise")]))
    assert out["c"] == ""
    # a lone empty answer is kept, not dropped
    assert ROVER().fit_predict(frame([("c", "a", "")]))["c"] == ""


def test_duplicate_task_worker_last_wins() -> None:
    answers = frame([("c", "a", "wrong words"), ("c", "a", "right words")])
    assert ROVER().fit_predict(answers)["c"] == "right words"
    data = encode_texts(answers)
    assert data.n_answers == 1


def test_mapping_input_and_bad_type() -> None:
    out = ROVER().fit_predict({"task": ["c", "c"], "worker": ["a", "b"], "text": ["x y", "x y"]})
    assert out["c"] == "x y"
    with pytest.raises(TypeError):
        ROVER().fit_predict([("c", "a", "x")])  # type: ignore[arg-type]


def test_normalisation() -> None:
    assert normalize("\"Don't,\" said Mr. O'Neil -- air-tight!") == [
        "dont",
        "said",
        "mr",
        "oneil",
        "air",
        "tight",
    ]
    assert normalize("  ") == []
    assert normalize("Ünïcode ÇAFÉ") == ["ünïcode", "çafé"]


def test_encoding_keeps_written_forms() -> None:
    data = encode_texts(frame([("c", "a", "Hello, World!"), ("c", "b", "- x")]))
    assert list(data.vocabulary) == ["hello", "world", "x"]
    assert data.forms[0, :2].tolist() == ["Hello,", "World!"]
    assert data.length.tolist() == [2, 1]
