"""The label schema: a declarative document naming the fields to show and the questions to ask.

    fields:
      - {name: text, type: text, label: Review}
    questions:
      - {name: sentiment, type: choice, options: [positive, negative, neutral]}

See docs/schema.md for the reference. `parse_schema` accepts YAML or JSON (text or an already
loaded mapping) and rejects an invalid document with problems that name the offending path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import labelloop.schema.types  # noqa: F401  (registers the built-in label types)
from labelloop.errors import Invalid, Problem
from labelloop.schema.fields import FieldSpec
from labelloop.schema.label_type import LabelType, QuestionBase, ValueProblem, get_type, type_names

# Keys an imported record uses for the item itself rather than for a field.
RESERVED_FIELD_NAMES = frozenset({"id", "meta", "priority", "gold"})


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(1, ge=1, le=1)
    title: str | None = None
    instructions: str | None = Field(None, max_length=100_000)
    fields: list[FieldSpec] = Field(min_length=1, max_length=100)
    questions: list[dict[str, Any]] = Field(min_length=1, max_length=100)


@dataclass(frozen=True)
class Question:
    """A parsed question together with the label type that handles it."""

    spec: QuestionBase
    kind: LabelType[Any]

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class LabelSchema:
    version: int
    title: str | None
    instructions: str | None
    fields: tuple[FieldSpec, ...]
    questions: tuple[Question, ...]
    document: dict[str, Any]  # the normalised document, as stored and served

    def question(self, name: str) -> Question:
        for q in self.questions:
            if q.name == name:
                return q
        raise KeyError(name)

    def validate_answer(self, value: Any) -> dict[str, Any]:
        """The canonical answer, or `Invalid` naming each question that is wrong."""
        if not isinstance(value, Mapping):
            raise Invalid("an answer is an object keyed by question name", [Problem("not an object")])
        problems: list[Problem] = []
        known = {q.name for q in self.questions}
        for key in value:
            if key not in known:
                problems.append(Problem("no such question in the schema", field=str(key)))
        out: dict[str, Any] = {}
        for q in self.questions:
            raw = value.get(q.name)
            if raw is None:
                if q.spec.required:
                    problems.append(Problem("an answer is required", field=q.name))
                continue
            try:
                out[q.name] = q.kind.validate(q.spec, raw)
            except ValueProblem as e:
                problems.append(Problem(e.message, field=q.name + e.path))
        if problems:
            raise Invalid("the answer does not fit the schema", problems)
        return out


def _path(loc: tuple[int | str, ...], prefix: str = "") -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


def _problems(err: ValidationError, prefix: str = "") -> list[Problem]:
    return [Problem(e["msg"], field=_path(tuple(e["loc"]), prefix)) for e in err.errors()]


def load_document(source: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(source, Mapping):
        return dict(source)
    try:
        doc = yaml.safe_load(source)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise Invalid("the schema is not valid YAML or JSON", [Problem(str(e), line=line)]) from e
    if not isinstance(doc, dict):
        raise Invalid("the schema must be a mapping with 'fields' and 'questions'")
    return doc


def parse_schema(source: str | bytes | Mapping[str, Any]) -> LabelSchema:
    doc = load_document(source)
    try:
        env = _Envelope.model_validate(doc)
    except ValidationError as e:
        raise Invalid("invalid label schema", _problems(e)) from e

    problems: list[Problem] = []
    fields_by_name: dict[str, FieldSpec] = {}
    for i, f in enumerate(env.fields):
        if f.name in RESERVED_FIELD_NAMES:
            problems.append(
                Problem(
                    f"{f.name!r} is reserved for the item's own {f.name}; choose another name",
                    field=f"fields[{i}].name",
                )
            )
        if f.name in fields_by_name:
            problems.append(Problem(f"field name {f.name!r} is used twice", field=f"fields[{i}].name"))
        fields_by_name[f.name] = f

    questions: list[Question] = []
    seen: set[str] = set()
    for i, raw in enumerate(env.questions):
        where = f"questions[{i}]"
        type_name = raw.get("type")
        if not isinstance(type_name, str) or type_name not in type_names():
            problems.append(
                Problem(
                    f"unknown question type {type_name!r}; known: {', '.join(type_names())}",
                    field=f"{where}.type",
                )
            )
            continue
        kind = get_type(type_name)
        try:
            spec = kind.question_model.model_validate(raw)
        except ValidationError as e:
            problems.extend(_problems(e, where))
            continue
        if spec.name in seen:
            problems.append(Problem(f"question name {spec.name!r} is used twice", field=f"{where}.name"))
        seen.add(spec.name)
        problems.extend(_check_target(spec, kind, fields_by_name, where))
        questions.append(Question(spec, kind))

    if problems:
        raise Invalid("invalid label schema", problems)
    normalised = {
        "version": env.version,
        "title": env.title,
        "instructions": env.instructions,
        "fields": [f.model_dump() for f in env.fields],
        "questions": [q.spec.model_dump(exclude_none=True) for q in questions],
    }
    return LabelSchema(
        env.version, env.title, env.instructions, tuple(env.fields), tuple(questions), normalised
    )


def _check_target(
    spec: QuestionBase, kind: LabelType[Any], fields: Mapping[str, FieldSpec], where: str
) -> list[Problem]:
    if spec.target is None:
        if kind.target_required:
            return [Problem(f"a {kind.name} question needs a 'target' field", field=f"{where}.target")]
        return []
    if not kind.target_kinds:
        return [Problem(f"a {kind.name} question takes no 'target'", field=f"{where}.target")]
    field = fields.get(spec.target)
    if field is None:
        return [Problem(f"no field named {spec.target!r}", field=f"{where}.target")]
    if field.type not in kind.target_kinds:
        allowed = ", ".join(sorted(kind.target_kinds))
        return [
            Problem(
                f"field {spec.target!r} is {field.type}; a {kind.name} question needs {allowed}",
                field=f"{where}.target",
            )
        ]
    return []
