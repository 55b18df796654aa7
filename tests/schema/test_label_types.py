"""Each label type's hooks: validate, aggregate, agreement, export."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelloop.schema import ValueProblem, parse_schema

SCHEMA = parse_schema({
    "fields": [{"name": "t"}],
    "questions": [
        {"name": "c", "type": "choice", "options": ["x", "y", "z"]},
        {"name": "m", "type": "multi_choice", "options": ["a", "b", "c"], "min_selected": 1},
        {"name": "r", "type": "rating", "min": 1, "max": 5},
        {"name": "f", "type": "text"},
    ],
})
C, M, R, F = (SCHEMA.question(n) for n in "cmrf")


def test_choice_majority_with_first_option_winning_ties() -> None:
    agg = C.kind.aggregate(C.spec, ["y", "x", "y"])
    assert (agg.value, agg.confidence) == ("y", pytest.approx(2 / 3))
    assert C.kind.aggregate(C.spec, ["z", "y"]).value == "y"  # tie: y is listed before z
    assert C.kind.aggregate(C.spec, ["x", "y"], [1.0, 3.0]).value == "y"
    assert C.kind.aggregate(C.spec, []).value is None


def test_choice_agreement_is_pairwise() -> None:
    assert C.kind.agreement(C.spec, [["x", "x", "x"], ["y", "y"]]) == 1.0
    assert C.kind.agreement(C.spec, [["x", "y"]]) == 0.0
    assert C.kind.agreement(C.spec, [["x", "x", "y"]]) == pytest.approx(1 / 3)
    assert C.kind.agreement(C.spec, [["x"]]) is None


def test_multi_choice_validates_sorts_and_aggregates_per_option() -> None:
    assert M.kind.validate(M.spec, ["c", "a"]) == ["a", "c"]
    for bad in (["a", "a"], [], ["q"], "a"):
        with pytest.raises(ValueProblem):
            M.kind.validate(M.spec, bad)
    agg = M.kind.aggregate(M.spec, [["a"], ["a", "b"], ["a"]])
    assert agg.value == ["a"]
    assert agg.confidence == pytest.approx((1 + 2 / 3 + 1) / 3)
    assert M.kind.export_cell(M.spec, ["a", "b"]) == "a|b"
    assert M.kind.agreement(M.spec, [[["a"], ["a", "b"]]]) == pytest.approx(0.5)


def test_rating_median_and_agreement() -> None:
    agg = R.kind.aggregate(R.spec, [1, 4, 5])
    assert agg.value == 4 and agg.confidence == pytest.approx(2 / 3)
    assert R.kind.agreement(R.spec, [[1, 5]]) == 0.0
    assert R.kind.agreement(R.spec, [[3, 3]]) == 1.0


def test_free_text_matches_after_folding_case_and_space() -> None:
    agg = F.kind.aggregate(F.spec, ["New  York", "new york", "Boston"])
    assert agg.value == "New  York" and agg.confidence == pytest.approx(2 / 3)
    assert F.kind.agreement(F.spec, [["A b", "a  B"]]) == 1.0


@given(st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=30))
def test_choice_aggregate_is_an_answer_with_confidence_in_range(values: list[str]) -> None:
    agg = C.kind.aggregate(C.spec, values)
    assert agg.value in values
    assert agg.confidence >= 1 / 3 and agg.confidence <= 1.0
    assert values.count(agg.value) == max(values.count(v) for v in set(values))


@given(st.lists(st.integers(1, 5), min_size=2, max_size=10))
def test_unanimous_ratings_agree_fully_and_agreement_is_bounded(values: list[int]) -> None:
    assert R.kind.agreement(R.spec, [[values[0]] * len(values)]) == 1.0
    a = R.kind.agreement(R.spec, [values])
    assert a is not None and 0.0 <= a <= 1.0
