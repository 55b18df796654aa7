"""Label Studio's JSON export: an array of tasks `{"id", "data", "annotations", "predictions"}`.

`data` becomes the item's fields (keys must be the schema's field names). The first annotation
that was not cancelled becomes the item's gold or its pre-label (`DatasetOptions.as_`); every
annotation is checked all the same, so a wrong one refuses the file. The first prediction becomes
the pre-label when no annotation is one. Results are read by type:

- `choices`: one option for a `choice` question, a list for `multi_choice`;
- `labels`: text spans `{start, end, labels}`, one span per label;
- `rectanglelabels`: boxes in percent of the image (`x`, `y`, `width`, `height`), turned into
  pixels `[x1, y1, x2, y2]` with the result's `original_width` and `original_height`;
- `textarea`: free text, its lines joined by newlines.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from labelloop.errors import Problem
from labelloop.schema import ImageInfo, LabelSchema, Target
from labelloop.services.importing.movein import as_record, checked, question_named, unknown_key
from labelloop.services.importing.where import Where, shown

TYPES = ("choices", "labels", "rectanglelabels", "textarea")
DECIMALS = 3  # of a box's pixel coordinates: percentages rarely give whole pixels


def records(
    tasks: Iterator[tuple[Where, dict[str, Any] | Problem]], schema: LabelSchema, as_: str,
) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
    """This project's records from the export's tasks (the JSON array reader's objects)."""
    for where, task in tasks:
        if isinstance(task, Problem):
            yield where, task
            continue
        found = _record(where, task, schema, as_)
        if isinstance(found, list):
            for p in found:
                yield where, p
        else:
            yield where, found


def _record(
    where: Where, task: dict[str, Any], schema: LabelSchema, as_: str,
) -> dict[str, Any] | list[Problem]:
    data = task.get("data")
    if not isinstance(data, dict):
        return [where.problem("a task has its fields in a 'data' object", "data")]
    fields = {f.name for f in schema.fields}
    problems = [unknown_key(where, k, schema) for k in data if k not in fields]
    record: dict[str, Any] = dict(data)
    if task.get("id") is not None:
        record["id"] = str(task["id"])
    chosen: dict[str, dict[str, Any]] = {}  # the first annotation and the first prediction
    for kind in ("annotations", "predictions"):
        listed = task.get(kind) or []
        if not isinstance(listed, list):
            problems.append(where.problem(f"expected a list of {kind}", kind))
            continue
        for n, one in enumerate(listed, 1):
            what = f"{kind[:-1]} {n}"
            if not isinstance(one, dict) or not isinstance(one.get("result", []), list):
                problems.append(where.problem(f"{what}: expected an object with a 'result' list", kind))
                continue
            answer = _answer(where, one.get("result", []), schema, data, what, problems)
            if answer and not one.get("was_cancelled"):
                chosen.setdefault(kind, answer)
    if problems:
        return problems
    annotation, prediction = chosen.get("annotations"), chosen.get("predictions")
    if annotation is not None:
        as_record(annotation, as_, record)
    if prediction is not None and (as_ == "gold" or annotation is None):
        as_record(prediction, "prelabels", record)
    return record


def _answer(
    where: Where, results: list[Any], schema: LabelSchema, data: dict[str, Any], what: str,
    problems: list[Problem],
) -> dict[str, Any]:
    """One annotation's (or prediction's) answer, each value checked against its question."""
    values: dict[str, Any] = {}
    targets: dict[str, Target] = {}
    for n, result in enumerate(results, 1):
        at = f"{what}, result {n}"
        if not isinstance(result, dict) or not isinstance(result.get("value"), dict):
            problems.append(where.problem(f"{at}: expected an object with a 'value' object"))
            continue
        name, kind, value = result.get("from_name"), result.get("type"), result["value"]
        question = question_named(schema, name)
        if question is None:
            questions = ", ".join(q.name for q in schema.questions)
            problems.append(where.problem(f"{at}: {shown(str(name))!r} is not a question of the schema "
                                          f"(questions: {questions})", str(name)))
            continue
        if kind not in TYPES:
            problems.append(where.problem(f"{at}: result type {shown(str(kind))!r} is not imported "
                                          f"(imported: {', '.join(TYPES)})", question.name))
            continue
        converted = _value(kind, value, question.kind.name, result)
        if isinstance(converted, str):
            problems.append(where.problem(f"{at}: {converted}", question.name))
            continue
        if kind in ("labels", "rectanglelabels"):  # one result per span or box: gathered
            values.setdefault(question.name, []).extend(converted)
            if kind == "rectanglelabels":
                targets[question.name] = ImageInfo(result["original_width"], result["original_height"])
        elif question.name in values:
            problems.append(where.problem(f"{at}: a second result for the question", question.name))
        else:
            values[question.name] = converted[0]
    answer: dict[str, Any] = {}
    for name, value in values.items():
        question = schema.question(name)
        target = targets.get(name)
        if target is None and question.spec.target is not None:
            target = data.get(question.spec.target)
        ok = checked(question, value, target, where, what)
        if isinstance(ok, Problem):
            problems.append(ok)
        else:
            answer[name] = ok
    return answer


def _value(kind: str, value: dict[str, Any], question_type: str, result: dict[str, Any]) -> list[Any] | str:
    """The result's value as this project stores it (in a list of one, or of its spans or boxes),
    or what is wrong with it."""
    if kind == "choices":
        choices = value.get("choices")
        if not isinstance(choices, list):
            return "'choices' is a list of options"
        if question_type == "choice":
            return [choices[0]] if len(choices) == 1 else "one option for a single-choice question"
        return [choices]
    if kind == "textarea":
        text = value.get("text")
        if isinstance(text, str):
            return [text]
        if not isinstance(text, list) or not all(isinstance(t, str) for t in text):
            return "'text' is a list of strings"
        return ["\n".join(text)]
    labels = value.get(kind)
    if not isinstance(labels, list) or not labels:
        return f"{kind!r} is a list of labels"
    if kind == "labels":
        return [{"start": value.get("start"), "end": value.get("end"), "label": label} for label in labels]
    return _boxes(value, labels, result)


def _boxes(value: dict[str, Any], labels: list[Any], result: dict[str, Any]) -> list[Any] | str:
    width, height = result.get("original_width"), result.get("original_height")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (width, height)):
        return "a box needs the image's original_width and original_height in pixels"
    assert isinstance(width, int) and isinstance(height, int)
    numbers = [value.get(k) for k in ("x", "y", "width", "height")]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
        return "a box has numbers x, y, width and height (percent of the image)"
    if value.get("rotation", 0) not in (0, 0.0):
        return "a rotated box is not imported (boxes are axis-aligned)"
    x, y, w, h = (float(v) for v in numbers)  # type: ignore[arg-type]
    box = [round(x * width / 100, DECIMALS), round(y * height / 100, DECIMALS),
           round((x + w) * width / 100, DECIMALS), round((y + h) * height / 100, DECIMALS)]
    return [{"label": label, "box": box} for label in labels]
