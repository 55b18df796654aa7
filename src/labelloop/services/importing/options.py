"""What an import with annotations makes of them: gold or pre-labels, and for which question
(datasets in annotated.py, other tools' exports in movein/)."""

from __future__ import annotations

from dataclasses import dataclass

from labelloop.errors import Invalid, Problem

AS = ("gold", "prelabels")


@dataclass(frozen=True)
class DatasetOptions:
    """What the annotations become, and for which question (None: the schema's only fitting one)."""

    as_: str = "gold"
    question: str | None = None


def check_as(options: DatasetOptions, what: str) -> None:
    """Invalid unless the values are to become gold or pre-labels."""
    if options.as_ not in AS:
        raise Invalid(f"unknown choice for the {what}", [Problem(
            f"{options.as_!r}; known: gold, prelabels (answers are people's work: see docs/images.md)",
            field="as")])
