"""Text spans: stretches of a text field tagged with labels (named entities, phrases, errors).

A value is a list of `{start, end, label}`: offsets in Unicode code points into the target
text (Python string indices), `end` exclusive. A value is checked for shape, labels,
duplicates, overlaps (unless `allow_overlap`) and, when the caller passes the target text,
offsets inside it; the page that draws the text snaps offsets to token boundaries.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import pairwise
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from labelloop.schema.label_type import (
    Aggregate,
    LabelType,
    QuestionBase,
    Target,
    ValueProblem,
    pairwise_mean,
    register,
    weights_or_ones,
)

SpanKey = tuple[int, int, str]
SPAN_KEYS = frozenset({"start", "end", "label"})


class SpanLabel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str = Field(min_length=1, max_length=200)
    label: str | None = None
    key: str | None = Field(None, min_length=1, max_length=1, description="Keyboard shortcut.")


class LabelledQuestion(QuestionBase):
    """A question whose answers carry labels from a list (spans, shapes, audio segments): given as
    strings or as objects with a label and a key, none twice."""

    labels: list[SpanLabel] = Field(min_length=1, max_length=100)

    @field_validator("labels", mode="before")
    @classmethod
    def _strings_to_labels(cls, raw: Any) -> Any:
        if isinstance(raw, list | tuple):
            return [{"value": o} if isinstance(o, str) else o for o in raw]
        return raw

    @model_validator(mode="after")
    def _unique_labels(self) -> Self:
        values = [lab.value for lab in self.labels]
        if len(set(values)) != len(values):
            raise ValueError("a label is listed twice")
        keys = [lab.key for lab in self.labels if lab.key is not None]
        if len(set(keys)) != len(keys):
            raise ValueError("two labels have the same key")
        return self


class SpansQuestion(LabelledQuestion):
    type: Literal["spans"] = "spans"
    # Nested or crossing spans (e.g. "Bank of [America]" inside "[Bank of America]").
    allow_overlap: bool = False
    max_spans: int = Field(1000, ge=1, le=100_000)

    @property
    def values(self) -> frozenset[str]:
        return frozenset(lab.value for lab in self.labels)


def _offset(raw: Any, name: str, i: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValueProblem(f"{name} must be an integer", path=f"[{i}].{name}")
    if raw < 0:
        raise ValueProblem(f"{name} must not be negative", path=f"[{i}].{name}")
    return raw


def _keys(value: Sequence[dict[str, Any]]) -> set[SpanKey]:
    return {(s["start"], s["end"], s["label"]) for s in value}


def _as_value(keys: Sequence[SpanKey]) -> list[dict[str, Any]]:
    return [{"start": s, "end": e, "label": lab} for s, e, lab in sorted(keys)]


class Spans(LabelType[SpansQuestion]):
    name = "spans"
    question_model = SpansQuestion
    target_kinds = frozenset({"text"})
    target_required = True

    def validate(self, question: SpansQuestion, value: Any, target: Target = None) -> Any:
        """The spans sorted by (start, end, label); no duplicates, and no overlaps unless allowed."""
        if not isinstance(value, list):
            raise ValueProblem(f"expected a list of spans, got {type(value).__name__}")
        if len(value) > question.max_spans:
            raise ValueProblem(f"at most {question.max_spans} spans")
        keys: list[SpanKey] = []
        for i, span in enumerate(value):
            if not isinstance(span, dict) or set(span) != SPAN_KEYS:
                raise ValueProblem("a span is an object with exactly start, end and label", path=f"[{i}]")
            start, end = _offset(span["start"], "start", i), _offset(span["end"], "end", i)
            if end <= start:
                raise ValueProblem("end must be larger than start", path=f"[{i}].end")
            if isinstance(target, str) and end > len(target):
                raise ValueProblem(
                    f"end {end} is past the end of the text ({len(target)} characters)", path=f"[{i}].end"
                )
            label = span["label"]
            if not isinstance(label, str) or label not in question.values:
                allowed = ", ".join(lab.value for lab in question.labels)
                raise ValueProblem(f"{label!r} is not a label (labels: {allowed})", path=f"[{i}].label")
            keys.append((start, end, label))
        ordered = sorted(keys)
        for a, b in pairwise(ordered):
            if a == b:
                raise ValueProblem(f"the span {a[2]} [{a[0]}, {a[1]}) is given twice")
            if not question.allow_overlap and b[0] < a[1]:
                raise ValueProblem(
                    f"spans [{a[0]}, {a[1]}) and [{b[0]}, {b[1]}) overlap; this question does not allow it"
                )
        return _as_value(ordered)

    def aggregate(
        self, question: SpansQuestion, values: Sequence[Any], weights: Sequence[float] | None = None
    ) -> Aggregate:
        """Each exact span (start, end, label) is kept when more than half the weight marked it.

        Confidence is the mean over every span anyone marked of the winning side's share (keep
        or drop); 1 when nobody marked anything. A majority can never hold two spans that
        no single annotator could (so without `allow_overlap` the result never overlaps).
        """
        w = weights_or_ones(values, weights)
        total = sum(w)
        if total <= 0:
            return Aggregate(None, 0.0)
        support: dict[SpanKey, float] = {}
        for v, wi in zip(values, w, strict=True):
            for key in _keys(v):
                support[key] = support.get(key, 0.0) + wi
        if not support:
            return Aggregate([], 1.0)
        kept = [k for k, s in support.items() if s / total > 0.5]
        sure = sum(max(s / total, 1.0 - s / total) for s in support.values()) / len(support)
        return Aggregate(_as_value(kept), sure)

    def agreement(
        self, question: SpansQuestion, values_per_item: Sequence[Sequence[Any]]
    ) -> float | None:
        """Mean pairwise F1 of exact spans: 2|A∩B| / (|A|+|B|); two empty answers agree fully."""

        def f1(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> float:
            ka, kb = _keys(a), _keys(b)
            if not ka and not kb:
                return 1.0
            return 2 * len(ka & kb) / (len(ka) + len(kb))

        return pairwise_mean(values_per_item, f1)

    def export_cell(self, question: SpansQuestion, value: Any) -> str | None:
        """The spans as compact JSON, e.g. [{"start":0,"end":5,"label":"PER"}]."""
        return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


register(Spans())
