"""Free text: a written answer (a correction, a comment, a short reply)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

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


class FreeTextQuestion(QuestionBase):
    type: Literal["text"] = "text"
    min_length: int = Field(0, ge=0)
    max_length: int = Field(10_000, ge=1, le=1_000_000)
    multiline: bool = True


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


class FreeText(LabelType[FreeTextQuestion]):
    name = "text"
    question_model = FreeTextQuestion

    def validate(self, question: FreeTextQuestion, value: Any, target: Target = None) -> Any:
        if not isinstance(value, str):
            raise ValueProblem(f"expected a string, got {type(value).__name__}")
        if len(value) < question.min_length:
            raise ValueProblem(f"at least {question.min_length} characters")
        if len(value) > question.max_length:
            raise ValueProblem(f"at most {question.max_length} characters")
        return value

    def aggregate(
        self,
        question: FreeTextQuestion,
        values: Sequence[Any],
        weights: Sequence[float] | None = None,
    ) -> Aggregate:
        """The most supported text, compared after folding case and whitespace."""
        w = weights_or_ones(values, weights)
        support: dict[str, float] = {}
        first: dict[str, str] = {}
        for v, wi in zip(values, w, strict=True):
            key = _normal(v)
            support[key] = support.get(key, 0.0) + wi
            first.setdefault(key, v)
        total = sum(support.values())
        if total <= 0:
            return Aggregate(None, 0.0)
        key = max(support, key=support.__getitem__)  # the first of equals wins
        score = support[key]
        return Aggregate(first[key], score / total)

    def agreement(
        self, question: FreeTextQuestion, values_per_item: Sequence[Sequence[Any]]
    ) -> float | None:
        """Share of annotator pairs whose texts match after folding case and whitespace."""
        return pairwise_mean(values_per_item, lambda a, b: float(_normal(a) == _normal(b)))


register(FreeText())
