"""The boundary: accepted input shapes, clear errors, and the stated rules for odd rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labelloop.quality import DawidSkene, MajorityVote, krippendorff_alpha
from labelloop.quality._input import encode, encode_numeric


def test_dataframe_mapping_and_tuple_inputs_agree() -> None:
    task, worker, label = ["a", "a", "b"], ["x", "y", "x"], [1, 1, 0]
    frame = MajorityVote().fit_predict(pd.DataFrame({"task": task, "worker": worker, "label": label}))
    mapping = MajorityVote().fit_predict({"task": task, "worker": worker, "label": label})
    arrays = MajorityVote().fit_predict((np.array(task), np.array(worker), np.array(label)))
    pd.testing.assert_series_equal(frame, mapping)
    pd.testing.assert_series_equal(frame, arrays)
    assert frame.to_dict() == {"a": 1, "b": 0}


def test_missing_column_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"lack column\(s\) \['worker'\]"):
        DawidSkene().fit(pd.DataFrame({"task": [1], "label": [0]}))


def test_empty_input_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        DawidSkene().fit(pd.DataFrame({"task": [], "worker": [], "label": []}))
    with pytest.raises(ValueError, match="empty"):
        MajorityVote().fit(pd.DataFrame({"task": [1, 2], "worker": [1, 1], "label": [None, np.nan]}))


def test_wrong_type_and_ragged_arrays() -> None:
    with pytest.raises(TypeError, match="DataFrame"):
        MajorityVote().fit([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="same length"):
        MajorityVote().fit(([1, 2], [1], [0, 1]))


def test_missing_ids_are_errors() -> None:
    with pytest.raises(ValueError, match="'worker' has missing ids"):
        encode(pd.DataFrame({"task": [1, 2], "worker": ["a", None], "label": [0, 1]}))


def test_missing_answers_are_dropped() -> None:
    data = encode(pd.DataFrame({"task": [1, 1, 2], "worker": ["a", "b", "a"], "label": [0, None, 1]}))
    assert data.n_answers == 2
    assert list(data.labels) == [0.0, 1.0]


def test_duplicate_task_worker_rows_keep_the_last() -> None:
    answers = pd.DataFrame(
        {"task": ["t", "t", "t", "t"], "worker": ["a", "b", "a", "c"], "label": ["no", "yes", "yes", "no"]}
    )
    data = encode(answers)
    assert data.n_answers == 3
    # a's last answer is "yes": 2 yes vs 1 no
    assert MajorityVote().fit_predict(answers)["t"] == "yes"


def test_labels_are_encoded_sorted_tasks_in_first_appearance() -> None:
    data = encode(pd.DataFrame({"task": ["z", "a"], "worker": ["w", "w"], "label": ["b", "a"]}))
    assert list(data.labels) == ["a", "b"]
    assert list(data.tasks) == ["z", "a"]


def test_mixed_labels_still_get_a_deterministic_order() -> None:
    first = encode(pd.DataFrame({"task": [1, 2], "worker": [1, 1], "label": ["x", 3]}))
    second = encode(pd.DataFrame({"task": [1, 2], "worker": [1, 1], "label": [3, "x"]}))
    assert list(first.labels) == list(second.labels) == [3, "x"]


def test_extra_gold_labels_extend_the_vocabulary() -> None:
    answers = pd.DataFrame({"task": [1, 2], "worker": ["a", "a"], "label": ["b", "c"]})
    model = DawidSkene().fit(answers, gold=pd.Series({1: "a"}))
    assert list(model.probas_.columns) == ["a", "b", "c"]
    assert model.labels_[1] == "a"


def test_numeric_input_rejects_text_and_drops_nan() -> None:
    with pytest.raises(ValueError, match="numeric labels"):
        encode_numeric(pd.DataFrame({"task": [1], "worker": [1], "label": ["high"]}))
    data = encode_numeric(pd.DataFrame({"task": [1, 1], "worker": [1, 2], "label": [1.5, np.nan]}))
    assert data.value.tolist() == [1.5]


def test_reliability_matrix_and_long_table_agree() -> None:
    matrix = np.array([[1, 2, np.nan], [1, 2, 2], [1, 1, 2]])
    long = pd.DataFrame(
        {
            "task": [0, 1, 0, 1, 2, 0, 1, 2],
            "worker": [0, 0, 1, 1, 1, 2, 2, 2],
            "label": [1, 2, 1, 2, 2, 1, 1, 2],
        }
    )
    assert krippendorff_alpha(matrix) == pytest.approx(krippendorff_alpha(long))
