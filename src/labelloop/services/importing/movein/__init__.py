"""Moving in from other labelling tools: Label Studio's JSON export (label_studio.py) and doccano's
JSONL (doccano.py). Each turns the tool's records into this project's records (`id`, the schema's
fields, `gold`, `meta.prelabel`), so records.py checks and stores them as any other import.

A value is checked against its question here, so a problem can name the task or line, the
annotation and the question; gold is checked again, as a whole answer, by records.py.
"""

from __future__ import annotations

from typing import Any

from labelloop.errors import Problem
from labelloop.schema import LabelSchema, Question, Target
from labelloop.schema.label_type import ValueProblem
from labelloop.services.importing.where import MOVE_IN, Where, shown

__all__ = ["MOVE_IN", "as_record", "checked", "question_named", "unknown_key"]


def question_named(schema: LabelSchema, name: Any) -> Question | None:
    """The schema's question called *name*, if there is one."""
    return next((q for q in schema.questions if q.name == name), None)


def checked(question: Question, value: Any, target: Target, where: Where, what: str) -> Any | Problem:
    """The question's canonical value, or a problem naming *what* (an annotation, a prediction)."""
    try:
        return question.kind.validate(question.spec, value, target)
    except ValueProblem as e:
        return where.problem(f"{what}: {e.message}", question.name + e.path)


def as_record(answer: dict[str, Any], as_: str, record: dict[str, Any]) -> None:
    """Put *answer* in *record* as its gold or its pre-label."""
    if not answer:
        return
    if as_ == "gold":
        record["gold"] = answer
    else:
        record.setdefault("meta", {})["prelabel"] = answer


def unknown_key(where: Where, key: str, schema: LabelSchema) -> Problem:
    fields = ", ".join(f.name for f in schema.fields)
    return where.problem(f"{shown(key)!r} is not a field of the schema (fields: {fields})", key)
