"""The label schema: a declarative document naming the fields to show and the questions to ask.

    fields:
      - {name: text, type: text, label: Review}
    questions:
      - {name: sentiment, type: choice, options: [positive, negative, neutral]}

See docs/schema.md for the reference. `parse_schema` accepts YAML or JSON (text or an already
loaded mapping) and rejects an invalid document with problems that name the offending path.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import labelloop.schema.types  # noqa: F401  (registers the built-in label types)
from labelloop.errors import Invalid, Problem
from labelloop.schema.fields import FieldSpec
from labelloop.schema.label_type import (
    LabelType,
    QuestionBase,
    Target,
    ValueProblem,
    get_type,
    type_names,
)

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

    @cached_property
    def target_fields(self) -> frozenset[str]:
        """The fields some question is about: what `validate_answer`'s `targets` may hold."""
        return frozenset(q.spec.target for q in self.questions if q.spec.target is not None)

    def validate_answer(
        self, value: Any, targets: Mapping[str, Target] | None = None
    ) -> dict[str, Any]:
        """The canonical answer, or `Invalid` naming each question that is wrong.

        `targets` holds, by field name, what the item's target fields are (`Target`: a text, an
        image's size); a question whose target is not in it is checked without it.
        """
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
                target = targets.get(q.spec.target) if targets and q.spec.target else None
                out[q.name] = q.kind.validate(q.spec, raw, target)
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


def _problems(
    err: ValidationError, keys: Callable[[tuple[int | str, ...]], Collection[str]], prefix: str = ""
) -> list[Problem]:
    """Pydantic's errors as problems; an unknown key names the known key it is closest to
    (`keys(loc)`: the keys the object at `loc` may have), and the missing key it was surely
    meant to be is not reported again."""
    errors = err.errors()
    meant: set[tuple[int | str, ...]] = set()
    problems: list[Problem] = []
    for e in errors:
        loc = tuple(e["loc"])
        if e["type"] == "extra_forbidden" and loc and isinstance(loc[-1], str):
            known = sorted(keys(loc[:-1]))
            close = difflib.get_close_matches(loc[-1], known, n=1)
            if close:
                meant.add((*loc[:-1], close[0]))
                message = f"unknown key {loc[-1]!r}; did you mean {close[0]!r}?"
            else:
                message = f"unknown key {loc[-1]!r}; known keys: {', '.join(known)}"
            problems.append(Problem(message, field=_path(loc, prefix)))
    for e in errors:
        loc = tuple(e["loc"])
        if e["type"] == "extra_forbidden" or (e["type"] == "missing" and loc in meant):
            continue
        problems.append(Problem(e["msg"], field=_path(loc, prefix)))
    return problems


def _question_keys(kind: LabelType[Any], loc: tuple[int | str, ...]) -> Collection[str]:
    return kind.question_model.model_fields.keys() if not loc else ()


def _envelope_keys(loc: tuple[int | str, ...]) -> Collection[str]:
    if len(loc) == 2 and loc[0] == "fields":
        return FieldSpec.model_fields.keys()
    return _Envelope.model_fields.keys() if not loc else ()


# PyYAML's names for what it expected or found, in words.
_YAML_WORDS = {
    "<block end>": "the end of the block",
    "'<block mapping start>'": "a new key at a different indentation",
    "<block mapping start>": "a new key",
    "'<block sequence start>'": "a list item",
    "'<stream end>'": "the end of the text",
    "found '?'": "found a key",
    "found unexpected end of stream": "the text ends before it is closed",
    "mapping values are not allowed here":
        "a ':' is not allowed here (check the indentation, or quote a value that holds ': ')",
}

_YAML_CONTEXT = {
    "while parsing a flow mapping": "the {...}",
    "while parsing a flow sequence": "the [...]",
    "while parsing a block mapping": "the block",
    "while parsing a block collection": "the block",
    "while scanning a quoted scalar": "the quoted text",
    "while scanning a simple key": "the key",
}


def _yaml_problem(e: yaml.YAMLError) -> Problem:
    """A YAML syntax error as `line, column: what` (PyYAML's own text quotes the line and
    draws a caret under it, which reads badly anywhere but a terminal)."""
    if not isinstance(e, yaml.MarkedYAMLError) or e.problem_mark is None:
        return Problem(str(e).splitlines()[0] if str(e) else "not valid YAML")
    message = e.problem or "not valid YAML"
    if "'\\t'" in message:  # PyYAML quotes the tab it found as '\\t'
        message = "a tab character: indent YAML with spaces"
    for word, plain in _YAML_WORDS.items():
        message = message.replace(word, plain)
    if e.context and e.context_mark is not None and e.context_mark.line != e.problem_mark.line:
        what = _YAML_CONTEXT.get(e.context, "the part")
        message += f" (in {what} that starts on line {e.context_mark.line + 1})"
    return Problem(message, line=e.problem_mark.line + 1, column=e.problem_mark.column + 1)


class _SchemaLoader(yaml.SafeLoader):
    """YAML 1.2's booleans: only true and false. PyYAML follows YAML 1.1, where yes, no, on and
    off are booleans too, so `options: [yes, no]` would turn into two booleans, the most common
    options of all refused as "not an option"."""


_SchemaLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SchemaLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load_document(source: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(source, Mapping):
        return dict(source)
    try:
        doc = yaml.load(source, Loader=_SchemaLoader)  # a SafeLoader: no Python objects
    except yaml.YAMLError as e:
        raise Invalid("the schema is not valid YAML or JSON", [_yaml_problem(e)]) from e
    if not isinstance(doc, dict):
        raise Invalid("the schema must be a mapping with 'fields' and 'questions'")
    return doc


def parse_schema(source: str | bytes | Mapping[str, Any]) -> LabelSchema:
    doc = load_document(source)
    try:
        env = _Envelope.model_validate(doc)
    except ValidationError as e:
        raise Invalid("invalid label schema", _problems(e, _envelope_keys)) from e

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
            close = difflib.get_close_matches(str(type_name), type_names(), n=1)
            guess = f"did you mean {close[0]!r}? " if close and isinstance(type_name, str) else ""
            problems.append(
                Problem(
                    f"unknown question type {type_name!r}; {guess}known: {', '.join(type_names())}",
                    field=f"{where}.type",
                )
            )
            continue
        kind = get_type(type_name)
        try:
            spec = kind.question_model.model_validate(raw)
        except ValidationError as e:
            problems.extend(_problems(e, partial(_question_keys, kind), where))
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
