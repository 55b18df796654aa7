"""Multiple choice: any subset of the options, within optional bounds on how many."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, model_validator

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


class MultiChoiceQuestion(OptionsQuestion):
    type: Literal["multi_choice"] = "multi_choice"
    min_selected: int = Field(0, ge=0)
    max_selected: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _bounds(self) -> MultiChoiceQuestion:
        top = self.max_selected if self.max_selected is not None else len(self.options)
        if self.min_selected > top:
            raise ValueError("min_selected is larger than max_selected")
        return self


class MultiChoice(LabelType[MultiChoiceQuestion]):
    name = "multi_choice"
    question_model = MultiChoiceQuestion

    def validate(self, question: MultiChoiceQuestion, value: Any, target: Target = None) -> Any:
        if not isinstance(value, list):
            raise ValueProblem(f"expected a list of options, got {type(value).__name__}")
        allowed = question.values
        for i, v in enumerate(value):
            if not isinstance(v, str) or v not in allowed:
                raise ValueProblem(f"{v!r} is not an option", path=f"[{i}]")
        if len(set(value)) != len(value):
            raise ValueProblem("an option is selected twice")
        if len(value) < question.min_selected:
            raise ValueProblem(f"select at least {question.min_selected}")
        if question.max_selected is not None and len(value) > question.max_selected:
            raise ValueProblem(f"select at most {question.max_selected}")
        order = {o: i for i, o in enumerate(allowed)}
        return sorted(value, key=order.__getitem__)

    def aggregate(
        self,
        question: MultiChoiceQuestion,
        values: Sequence[Any],
        weights: Sequence[float] | None = None,
    ) -> Aggregate:
        """Each option by its own weighted majority (selected by more than half the weight).

        Confidence is the mean over options of the winning side's share.
        """
        w = weights_or_ones(values, weights)
        total = sum(w)
        if total <= 0:
            return Aggregate(None, 0.0)
        chosen: list[str] = []
        sure = 0.0
        for option in question.values:
            share = sum(wi for v, wi in zip(values, w, strict=True) if option in v) / total
            if share > 0.5:
                chosen.append(option)
            sure += max(share, 1.0 - share)
        return Aggregate(chosen, sure / len(question.values))

    def agreement(
        self, question: MultiChoiceQuestion, values_per_item: Sequence[Sequence[Any]]
    ) -> float | None:
        """Mean pairwise Jaccard similarity of the selected sets (two empty sets agree fully)."""

        def jaccard(a: list[str], b: list[str]) -> float:
            sa, sb = set(a), set(b)
            union = sa | sb
            return 1.0 if not union else len(sa & sb) / len(union)

        return pairwise_mean(values_per_item, jaccard)

    def export_cell(self, question: MultiChoiceQuestion, value: Any) -> str | None:
        return None if value is None else "|".join(value)


register(MultiChoice())
