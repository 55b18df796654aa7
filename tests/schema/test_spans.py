"""The text-spans label type: validation, majority aggregation, F1 agreement, export."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelloop.errors import Invalid
from labelloop.schema import ValueProblem, parse_schema

SCHEMA = parse_schema({
    "fields": [{"name": "text"}, {"name": "picture", "type": "image"}],
    "questions": [
        {"name": "ents", "type": "spans", "target": "text", "labels": ["PER", {"value": "ORG", "key": "o"}]},
        {"name": "nested", "type": "spans", "target": "text", "labels": ["PER", "ORG"], "allow_overlap": True},
    ],
})
FLAT, NESTED = SCHEMA.question("ents"), SCHEMA.question("nested")


def span(start: int, end: int, label: str = "PER") -> dict[str, Any]:
    return {"start": start, "end": end, "label": label}


def test_valid_spans_come_back_sorted() -> None:
    assert FLAT.kind.validate(FLAT.spec, [span(6, 9, "ORG"), span(0, 5)]) == [span(0, 5), span(6, 9, "ORG")]
    assert FLAT.kind.validate(FLAT.spec, []) == []


@pytest.mark.parametrize(("value", "where", "words"), [
    ("PER", "", "list of spans"),
    ([{"start": 0, "end": 2}], "[0]", "exactly start, end and label"),
    ([{"start": 0, "end": 2, "label": "PER", "x": 1}], "[0]", "exactly"),
    ([span(0, 2), {"start": "0", "end": 2, "label": "PER"}], "[1].start", "integer"),
    ([{"start": True, "end": 2, "label": "PER"}], "[0].start", "integer"),
    ([span(-1, 2)], "[0].start", "negative"),
    ([span(3, 3)], "[0].end", "larger than start"),
    ([span(0, 2, "LOC")], "[0].label", "not a label"),
    ([span(0, 2), span(0, 2)], "", "twice"),
    ([span(0, 4), span(2, 6, "ORG")], "", "overlap"),
])
def test_invalid_spans_name_the_problem(value: Any, where: str, words: str) -> None:
    with pytest.raises(ValueProblem) as e:
        FLAT.kind.validate(FLAT.spec, value)
    assert e.value.path == where and words in e.value.message


def test_overlapping_and_nested_spans_when_the_question_allows_them() -> None:
    value = [span(0, 16, "ORG"), span(8, 16, "ORG"), span(0, 4)]
    assert NESTED.kind.validate(NESTED.spec, value) == [span(0, 4), span(0, 16, "ORG"), span(8, 16, "ORG")]
    assert NESTED.kind.validate(NESTED.spec, [span(0, 4), span(0, 4, "ORG")])  # same text, two labels
    with pytest.raises(ValueProblem):
        NESTED.kind.validate(NESTED.spec, [span(0, 4), span(0, 4)])


def test_an_answer_with_spans_is_checked_through_the_schema() -> None:
    assert SCHEMA.validate_answer({"ents": [span(0, 1)], "nested": []}) == {"ents": [span(0, 1)], "nested": []}
    with pytest.raises(Invalid) as e:
        SCHEMA.validate_answer({"ents": [span(0, 1, "X")], "nested": []})
    assert e.value.detail[0]["field"] == "ents[0].label"


@pytest.mark.parametrize(("question", "problem"), [
    ({"name": "s", "type": "spans", "labels": ["A"]}, "needs a 'target'"),
    ({"name": "s", "type": "spans", "target": "picture", "labels": ["A"]}, "needs text"),
    ({"name": "s", "type": "spans", "target": "nope", "labels": ["A"]}, "no field named"),
    ({"name": "s", "type": "spans", "target": "text", "labels": []}, "at least 1"),
    ({"name": "s", "type": "spans", "target": "text", "labels": ["A", "A"]}, "listed twice"),
    ({"name": "s", "type": "spans", "target": "text", "labels": [{"value": "A", "key": "a"},
                                                                 {"value": "B", "key": "a"}]}, "same key"),
])
def test_bad_spans_questions_are_refused(question: dict[str, Any], problem: str) -> None:
    with pytest.raises(Invalid) as e:
        parse_schema({"fields": [{"name": "text"}, {"name": "picture", "type": "image"}], "questions": [question]})
    assert any(problem in p["message"] for p in e.value.detail), e.value.detail


def test_aggregate_keeps_the_spans_a_majority_marked() -> None:
    votes = [[span(0, 5), span(6, 9, "ORG")], [span(0, 5)], [span(0, 5), span(6, 8, "ORG")]]
    agg = FLAT.kind.aggregate(FLAT.spec, votes)
    assert agg.value == [span(0, 5)]
    # candidates: PER[0,5) 3/3, ORG[6,9) 1/3, ORG[6,8) 1/3 -> sure 1, 2/3, 2/3
    assert agg.confidence == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    assert FLAT.kind.aggregate(FLAT.spec, votes, [1.0, 1.0, 5.0]).value == [span(0, 5), span(6, 8, "ORG")]
    assert FLAT.kind.aggregate(FLAT.spec, [[], []]).value == []
    assert FLAT.kind.aggregate(FLAT.spec, [[], []]).confidence == 1.0


def test_agreement_is_mean_pairwise_f1_of_exact_spans() -> None:
    a, b = [span(0, 5), span(6, 9, "ORG")], [span(0, 5)]
    assert FLAT.kind.agreement(FLAT.spec, [[a, b]]) == pytest.approx(2 * 1 / 3)
    assert FLAT.kind.agreement(FLAT.spec, [[[], []]]) == 1.0
    assert FLAT.kind.agreement(FLAT.spec, [[a, [span(0, 4)]]]) == 0.0
    assert FLAT.kind.agreement(FLAT.spec, [[a]]) is None


def test_export_cell_is_compact_json() -> None:
    assert FLAT.kind.export_cell(FLAT.spec, [span(0, 5)]) == '[{"start":0,"end":5,"label":"PER"}]'
    assert FLAT.kind.export_cell(FLAT.spec, None) is None


spans_values = st.lists(
    st.tuples(st.integers(0, 30), st.integers(1, 8), st.sampled_from(["PER", "ORG"])).map(
        lambda t: span(t[0], t[0] + t[1], t[2])),
    max_size=6,
    unique_by=lambda s: (s["start"], s["end"], s["label"]),
)


@given(spans_values)
def test_validation_is_idempotent_and_order_free(value: list[dict[str, Any]]) -> None:
    clean = NESTED.kind.validate(NESTED.spec, value)
    assert NESTED.kind.validate(NESTED.spec, clean) == clean
    assert NESTED.kind.validate(NESTED.spec, list(reversed(value))) == clean


@given(st.lists(spans_values, min_size=2, max_size=5))
def test_agreement_is_a_share_and_unanimity_is_full(values: list[list[dict[str, Any]]]) -> None:
    clean = [NESTED.kind.validate(NESTED.spec, v) for v in values]
    score = NESTED.kind.agreement(NESTED.spec, [clean])
    assert score is not None and 0.0 <= score <= 1.0
    assert NESTED.kind.agreement(NESTED.spec, [[clean[0]] * 3]) == 1.0
    agg = NESTED.kind.aggregate(NESTED.spec, [clean[0]] * 3)
    assert agg.value == clean[0] and agg.confidence == 1.0


@given(st.lists(spans_values.map(lambda v: FLAT.kind.validate(FLAT.spec, _disjoint(v))), min_size=1, max_size=5))
def test_a_majority_of_non_overlapping_answers_never_overlaps(values: list[list[dict[str, Any]]]) -> None:
    result = FLAT.kind.aggregate(FLAT.spec, values).value
    FLAT.kind.validate(FLAT.spec, result)


def _disjoint(value: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for s in sorted(value, key=lambda s: (s["start"], s["end"])):
        if not out or s["start"] >= out[-1]["end"]:
            out.append(s)
    return out
