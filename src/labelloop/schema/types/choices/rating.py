"""Rating: an integer on a bounded scale (Likert items, quality scores)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, field_serializer, model_validator

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


class RatingQuestion(QuestionBase):
    type: Literal["rating"] = "rating"
    min: int = 1
    max: int = 5
    # Optional words for the points of the scale, e.g. {1: "bad", 5: "excellent"}.
    labels: dict[int, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _scale(self) -> RatingQuestion:
        if self.max <= self.min:
            raise ValueError("max must be larger than min")
        if self.max - self.min > 100:
            raise ValueError("a scale has at most 101 points")
        for point in self.labels:
            if not self.min <= point <= self.max:
                raise ValueError(f"label for {point}, which is outside the scale")
        return self

    @field_serializer("labels")
    def _labels_with_text_keys(self, labels: dict[int, str]) -> dict[str, str]:
        # A JSON object's keys are text: stored as {"1": "bad"}, read back as integers.
        return {str(point): word for point, word in labels.items()}


class Rating(LabelType[RatingQuestion]):
    name = "rating"
    question_model = RatingQuestion

    def validate(self, question: RatingQuestion, value: Any, target: Target = None) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueProblem(f"expected an integer, got {type(value).__name__}")
        if not question.min <= value <= question.max:
            raise ValueProblem(f"{value} is outside the scale {question.min}..{question.max}")
        return value

    def aggregate(
        self, question: RatingQuestion, values: Sequence[Any], weights: Sequence[float] | None = None
    ) -> Aggregate:
        """Weighted median (robust to one outlier); confidence = share within one point of it."""
        if not values:
            return Aggregate(None, 0.0)
        w = weights_or_ones(values, weights)
        if weights is None:
            median = statistics.median_low(values)
        else:
            pairs = sorted(zip(values, w, strict=True))
            half = sum(w) / 2
            run = 0.0
            median = pairs[-1][0]
            for v, wi in pairs:
                run += wi
                if run >= half:
                    median = v
                    break
        near = sum(wi for v, wi in zip(values, w, strict=True) if abs(v - median) <= 1)
        return Aggregate(median, near / sum(w) if sum(w) > 0 else 0.0)

    def agreement(
        self, question: RatingQuestion, values_per_item: Sequence[Sequence[Any]]
    ) -> float | None:
        """One minus the mean absolute pairwise difference, relative to the scale's width."""
        width = question.max - question.min
        return pairwise_mean(values_per_item, lambda a, b: 1.0 - abs(a - b) / width)


register(Rating())
