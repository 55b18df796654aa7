"""Single choice: exactly one option (a class label)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from labelloop.schema.label_type import (
    Aggregate,
    LabelType,
    Target,
    ValueProblem,
    pairwise_mean,
    register,
    weights_or_ones,
)
from labelloop.schema.types.choices.options import OptionsQuestion


class ChoiceQuestion(OptionsQuestion):
    type: Literal["choice"] = "choice"


class Choice(LabelType[ChoiceQuestion]):
    name = "choice"
    question_model = ChoiceQuestion

    def validate(self, question: ChoiceQuestion, value: Any, target: Target = None) -> Any:
        if not isinstance(value, str):
            raise ValueProblem(f"expected one of the options as a string, got {type(value).__name__}")
        if value not in question.values:
            raise ValueProblem(f"{value!r} is not an option (options: {', '.join(question.values)})")
        return value

    def aggregate(
        self, question: ChoiceQuestion, values: Sequence[Any], weights: Sequence[float] | None = None
    ) -> Aggregate:
        """Weighted majority; ties go to the option listed first in the schema."""
        w = weights_or_ones(values, weights)
        scores = dict.fromkeys(question.values, 0.0)
        for v, wi in zip(values, w, strict=True):
            scores[v] += wi
        total = sum(scores.values())
        if total <= 0:
            return Aggregate(None, 0.0)
        best = max(question.values, key=lambda o: scores[o])  # max keeps the first of equals
        return Aggregate(best, scores[best] / total)

    def agreement(
        self, question: ChoiceQuestion, values_per_item: Sequence[Sequence[Any]]
    ) -> float | None:
        """Observed pairwise agreement (the share of annotator pairs who chose the same option)."""
        return pairwise_mean(values_per_item, lambda a, b: float(a == b))


register(Choice())
