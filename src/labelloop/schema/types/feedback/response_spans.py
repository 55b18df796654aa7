"""Flagged words in a candidate response (hallucination, unsafe, ...): the `spans` type on one
response's `content`.

A value is `{"response": "r1", "spans": [{"start", "end", "label"}, ...]}`: offsets in code
points into that candidate's content. The question takes the `spans` options (`labels`,
`allow_overlap`, `max_spans`), and the spans are checked, aggregated and compared by the
`spans` type itself, per response.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from labelloop.schema.label_type import (
    Aggregate,
    LabelType,
    Target,
    ValueProblem,
    register,
    weights_or_ones,
)
from labelloop.schema.types.feedback.candidates import candidate_id, check_keys, compact_json, responses_of
from labelloop.schema.types.text.spans import Spans, SpansQuestion

KEYS = {"response": True, "spans": True}


class ResponseSpansQuestion(SpansQuestion):
    """A spans question (labels, overlaps, at most so many spans) over one candidate response."""

    type: Literal["response_spans"] = "response_spans"  # type: ignore[assignment]


_SPANS = Spans()


def _by_response(values: Sequence[Any], weights: Sequence[float]) -> dict[str, tuple[list[Any], list[float]]]:
    groups: dict[str, tuple[list[Any], list[float]]] = {}
    for v, wi in zip(values, weights, strict=True):
        spans, ws = groups.setdefault(v["response"], ([], []))
        spans.append(v["spans"])
        ws.append(wi)
    return groups


class ResponseSpans(LabelType[ResponseSpansQuestion]):
    name = "response_spans"
    question_model = ResponseSpansQuestion
    target_kinds = frozenset({"responses"})
    target_required = True

    def validate(self, question: ResponseSpansQuestion, value: Any, target: Target = None) -> Any:
        check_keys(value, KEYS, "an object with response and spans")
        candidates = responses_of(target)
        rid = candidate_id(value["response"], candidates, ".response")
        content = candidates.content(rid) if candidates is not None else None
        try:
            spans = _SPANS.validate(question, value["spans"], content)
        except ValueProblem as e:
            raise ValueProblem(e.message, path=".spans" + e.path) from None
        return {"response": rid, "spans": spans}

    def aggregate(
        self, question: ResponseSpansQuestion, values: Sequence[Any], weights: Sequence[float] | None = None
    ) -> Aggregate:
        """Per response, the `spans` type's rule over the annotators who flagged that response
        (a span is kept when more than half their weight marked it): `{"r1": [spans], ...}`.
        Confidence: the responses' confidences averaged with their weights."""
        w = weights_or_ones(values, weights)
        out: dict[str, Any] = {}
        sure = total = 0.0
        for rid, (spans, ws) in _by_response(values, w).items():
            agg = _SPANS.aggregate(question, spans, ws)
            if agg.value is None:
                continue
            out[rid] = agg.value
            sure += agg.confidence * sum(ws)
            total += sum(ws)
        return Aggregate(out, sure / total) if total > 0 else Aggregate(None, 0.0)

    def agreement(
        self, question: ResponseSpansQuestion, values_per_item: Sequence[Sequence[Any]]
    ) -> float | None:
        """The `spans` type's pairwise F1, between annotators who flagged the same response of an
        item (pairs on different responses are left out)."""
        groups = [
            spans for values in values_per_item
            for spans, _ in _by_response(values, [1.0] * len(values)).values()
        ]
        return _SPANS.agreement(question, groups)

    def matches_gold(self, question: ResponseSpansQuestion, value: Any, gold: Any) -> bool:
        """The same spans on the same response; against a consensus (spans by response), the
        spans it settled on for the response the value flagged."""
        if not isinstance(value, dict) or not isinstance(gold, dict):
            return False
        if "spans" in gold and "response" in gold:
            return bool(value == gold)
        return bool(gold.get(value.get("response")) == value.get("spans"))

    def export_cell(self, question: ResponseSpansQuestion, value: Any) -> str | None:
        """The value (or the aggregate) as compact JSON."""
        return compact_json(value)


register(ResponseSpans())
