"""Majority vote and weighted majority vote on hand-made cases."""

from __future__ import annotations

import pandas as pd
import pytest

from labelloop.quality import MajorityVote, WeightedMajorityVote


def _answers(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


def test_plurality_and_shares() -> None:
    answers = _answers([("t1", "a", "x"), ("t1", "b", "x"), ("t1", "c", "y"), ("t2", "a", "z")])
    model = MajorityVote().fit(answers)
    assert model.labels_.to_dict() == {"t1": "x", "t2": "z"}
    assert model.probas_.loc["t1"].to_dict() == pytest.approx({"x": 2 / 3, "y": 1 / 3, "z": 0.0})
    assert model.skills_.to_dict() == {"a": 1.0, "b": 1.0, "c": 0.0}


def test_ties_go_to_the_smallest_label() -> None:
    answers = _answers([("t", "a", "dog"), ("t", "b", "cat"), ("u", "a", "b"), ("u", "b", "a")])
    assert MajorityVote().fit_predict(answers).to_dict() == {"t": "cat", "u": "a"}


def test_numeric_labels_tie_to_the_smallest_number() -> None:
    answers = pd.DataFrame({"task": [1, 1], "worker": [1, 2], "label": [10, 9]})
    assert MajorityVote().fit_predict(answers)[1] == 9


def test_given_weights_override_the_count() -> None:
    answers = _answers([("t", "expert", "x"), ("t", "n1", "y"), ("t", "n2", "y")])
    labels = WeightedMajorityVote(weights={"expert": 3.0, "n1": 1.0, "n2": 1.0}).fit_predict(answers)
    assert labels["t"] == "x"


def test_missing_weights_get_the_median_of_given_ones() -> None:
    answers = _answers([("t", "a", "x"), ("t", "b", "y"), ("t", "c", "y")])
    model = WeightedMajorityVote(weights=pd.Series({"a": 5.0, "b": 1.0})).fit(answers)
    assert model.weights_.to_dict() == {"a": 5.0, "b": 1.0, "c": 3.0}
    assert model.labels_["t"] == "x"  # 5 against 1 + 3


def test_weights_must_be_valid() -> None:
    answers = _answers([("t", "a", "x")])
    with pytest.raises(ValueError, match="non-negative"):
        WeightedMajorityVote(weights={"a": -1.0}).fit(answers)
    with pytest.raises(ValueError, match="weighting"):
        WeightedMajorityVote(weighting="max")  # type: ignore[arg-type]


def test_weights_from_gold_accuracy() -> None:
    # "good" is right on both gold tasks, "bad1"/"bad2" wrong on both; on t3 good is outvoted 2:1.
    rows = [("g1", "good", "x"), ("g1", "bad1", "y"), ("g1", "bad2", "y")]
    rows += [("g2", "good", "y"), ("g2", "bad1", "x"), ("g2", "bad2", "x")]
    rows += [("t3", "good", "x"), ("t3", "bad1", "y"), ("t3", "bad2", "y")]
    answers = _answers(rows)
    gold = pd.Series({"g1": "x", "g2": "y"})
    model = WeightedMajorityVote().fit(answers, gold=gold)
    assert model.labels_["t3"] == "x"
    assert model.skills_["good"] > 0.5 > model.skills_["bad1"]
    assert model.weights_["bad1"] == 0.0
    assert MajorityVote().fit_predict(answers)["t3"] == "y"


def test_without_weights_or_gold_it_is_wawa() -> None:
    rows = [(f"t{i}", w, "x") for i in range(5) for w in ("a", "b")]
    rows += [(f"t{i}", "c", "y") for i in range(5)]
    rows += [("u", "a", "x"), ("u", "c", "y")]
    model = WeightedMajorityVote(weighting="accuracy").fit(_answers(rows))
    assert model.skills_["a"] > model.skills_["c"]
    assert model.labels_["u"] == "x"
