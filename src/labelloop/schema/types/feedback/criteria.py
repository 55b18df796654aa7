"""Ratings on named criteria (helpful, correct, harmless, ...), per candidate response.

A value is `{"r1": {"helpful": 4, "correct": 5}, "r2": {...}}`: every candidate rated on every
criterion, on the question's scale; with `per_response: false`, one set for the item:
`{"helpful": 4, "correct": 5}`. Each (response, criterion) cell is a rating: it is aggregated
and its agreement measured by the `rating` type's rules, which this type reuses.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from labelloop.schema.label_type import (
    Aggregate,
    LabelType,
    Target,
    ValueProblem,
    register,
    weights_or_ones,
)
from labelloop.schema.types.choices.rating import Rating, RatingQuestion
from labelloop.schema.types.feedback.candidates import candidate_id, compact_json, responses_of

Cell = tuple[str | None, str]  # (response id, or None for the item; criterion)


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    label: str | None = None
    help: str | None = None


class CriteriaQuestion(RatingQuestion):
    """A rating question's scale (`min`, `max`, `labels`), asked once per criterion."""

    type: Literal["criteria"] = "criteria"  # type: ignore[assignment]
    criteria: list[Criterion] = Field(min_length=1, max_length=50)
    per_response: bool = True

    @model_validator(mode="after")
    def _unique(self) -> CriteriaQuestion:
        names = [c.name for c in self.criteria]
        if len(set(names)) != len(names):
            raise ValueError("a criterion is listed twice")
        return self


_RATING = Rating()


def _scores(question: CriteriaQuestion, raw: Any, path: str) -> dict[str, int]:
    """One set of ratings: every criterion, in the question's order, each on the scale."""
    if not isinstance(raw, dict):
        raise ValueProblem(f"expected an object of ratings by criterion, got {type(raw).__name__}", path=path)
    names = [c.name for c in question.criteria]
    for key in raw:
        if key not in names:
            raise ValueProblem(f"{key!r} is not a criterion (criteria: {', '.join(names)})",
                               path=f"{path}.{key}")
    out: dict[str, int] = {}
    for name in names:
        if name not in raw:
            raise ValueProblem("every criterion must be rated", path=f"{path}.{name}")
        try:
            out[name] = _RATING.validate(question, raw[name])
        except ValueProblem as e:
            raise ValueProblem(e.message, path=f"{path}.{name}") from None
    return out


def _cells(question: CriteriaQuestion, value: Any) -> Iterator[tuple[Cell, int]]:
    if question.per_response:
        for rid, scores in value.items():
            for name, score in scores.items():
                yield (rid, name), score
    else:
        for name, score in value.items():
            yield (None, name), score


class Criteria(LabelType[CriteriaQuestion]):
    name = "criteria"
    question_model = CriteriaQuestion
    target_kinds = frozenset({"responses"})
    target_required = True

    def validate(self, question: CriteriaQuestion, value: Any, target: Target = None) -> Any:
        if not question.per_response:
            return _scores(question, value, "")
        if not isinstance(value, dict) or not value:
            raise ValueProblem("expected an object of ratings by candidate id")
        candidates = responses_of(target)
        for rid in value:
            candidate_id(rid, candidates, f".{rid}")
        order = list(candidates.ids) if candidates is not None else list(value)
        out: dict[str, dict[str, int]] = {}
        for rid in order:
            if rid not in value:
                raise ValueProblem("every candidate must be rated", path=f".{rid}")
            out[rid] = _scores(question, value[rid], f".{rid}")
        return out

    def aggregate(
        self, question: CriteriaQuestion, values: Sequence[Any], weights: Sequence[float] | None = None
    ) -> Aggregate:
        """Per (response, criterion), the `rating` type's weighted median; confidence is the mean
        over those cells of the rating's confidence (the share within one point of the median)."""
        w = weights_or_ones(values, weights)
        cells: dict[Cell, tuple[list[int], list[float]]] = {}
        for v, wi in zip(values, w, strict=True):
            for cell, score in _cells(question, v):
                scores, ws = cells.setdefault(cell, ([], []))
                scores.append(score)
                ws.append(wi)
        if not cells or sum(w) <= 0:
            return Aggregate(None, 0.0)
        out: dict[str, Any] = {}
        sure = 0.0
        for (rid, name), (scores, ws) in cells.items():
            agg = _RATING.aggregate(question, scores, ws)
            (out.setdefault(rid, {}) if rid is not None else out)[name] = agg.value
            sure += agg.confidence
        return Aggregate(out, sure / len(cells))

    def agreement(
        self, question: CriteriaQuestion, values_per_item: Sequence[Sequence[Any]]
    ) -> float | None:
        """The `rating` type's agreement over every (item, response, criterion) cell."""
        per_cell: list[list[int]] = []
        for values in values_per_item:
            cells: dict[Cell, list[int]] = {}
            for v in values:
                for cell, score in _cells(question, v):
                    cells.setdefault(cell, []).append(score)
            per_cell.extend(cells.values())
        return _RATING.agreement(question, per_cell)

    def export_cell(self, question: CriteriaQuestion, value: Any) -> str | None:
        """The ratings as compact JSON."""
        return compact_json(value)


register(Criteria())
