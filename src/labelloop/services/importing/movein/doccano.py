"""doccano's JSONL: one object a line, `{"text", "label"}` and an optional `id`.

`text` goes into the schema's first text field. `label` is a list of categories for text
classification (one for a `choice` question, any number for `multi_choice`), or of `[start, end,
"TAG"]` triples for sequence labelling (`spans`); `entities` (objects with `start_offset`,
`end_offset` and `label`) is read as spans too. The labels become the item's gold or its
pre-label (`DatasetOptions`: `as_`, and `question` when the schema has several that fit). Other
keys are kept in the item's metadata, as for any JSONL import.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from labelloop.errors import Invalid, Problem
from labelloop.schema import LabelSchema, Question
from labelloop.services.importing.movein import as_record, checked
from labelloop.services.importing.where import Where

FITTING = ("choice", "multi_choice", "spans")


def target_question(schema: LabelSchema, name: str | None) -> Question:
    """The question the labels answer: the one named, or the schema's only one that fits."""
    fitting = [q for q in schema.questions if q.kind.name in FITTING]
    if name is not None:
        fitting = [q for q in fitting if q.name == name]
    if len(fitting) == 1:
        return fitting[0]
    known = ", ".join(q.name for q in schema.questions if q.kind.name in FITTING) or "none"
    message = (f"{name!r} is not a choice, multi_choice or spans question (those: {known})" if name
               else f"{len(fitting)} questions could take the labels (choice, multi_choice or spans: "
                    f"{known}); name one")
    raise Invalid("no question for doccano's labels", [Problem(message, field="question")])


def records(
    lines: Iterator[tuple[Where, dict[str, Any] | Problem]], schema: LabelSchema, as_: str,
    question_name: str | None,
) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
    """This project's records from doccano's lines (the JSONL reader's objects)."""
    text_field = next((f.name for f in schema.fields if f.type == "text"), None)
    if text_field is None:
        raise Invalid("no text field for doccano's texts",
                      [Problem("the schema has no text field", field="format")])
    question = target_question(schema, question_name)
    for where, line in lines:
        if isinstance(line, Problem):
            yield where, line
            continue
        record = {k: v for k, v in line.items() if k not in ("text", "label", "entities")}
        if "text" in line:
            record[text_field] = line["text"]
        labels = line.get("label", line.get("entities"))
        if labels is not None:
            value = _value(where, labels, question, "label" if "label" in line else "entities")
            if isinstance(value, Problem):
                yield where, value
                continue
            checked_value = checked(question, value, line.get("text"), where, "labels")
            if isinstance(checked_value, Problem):
                yield where, checked_value
                continue
            as_record({question.name: checked_value}, as_, record)
        yield where, record


def _value(where: Where, labels: Any, question: Question, key: str) -> Any | Problem:
    if not isinstance(labels, list):
        return where.problem(f"expected a list of labels, got {type(labels).__name__}", key)
    if question.kind.name == "choice":
        if len(labels) != 1:
            return where.problem(f"{len(labels)} labels for single-choice question {question.name!r}: "
                                 "give one", key)
        return labels[0]
    if question.kind.name == "multi_choice":
        return labels
    spans = []
    for i, span in enumerate(labels):
        if isinstance(span, list) and len(span) == 3:
            spans.append({"start": span[0], "end": span[1], "label": span[2]})
        elif isinstance(span, dict) and {"start_offset", "end_offset", "label"} <= set(span):
            spans.append({"start": span["start_offset"], "end": span["end_offset"], "label": span["label"]})
        else:
            return where.problem("a span is [start, end, label] or an object with start_offset, "
                                 "end_offset and label", f"{key}[{i}]")
    return spans
