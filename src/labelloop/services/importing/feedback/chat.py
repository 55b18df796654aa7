"""Records of language-model data mapped onto a schema's prompt, conversation and responses.

The mappings of docs/feedback.md ("Items"), applied to every record before its fields are read
(importing/records.py), for schemas with a `responses` or a `conversation` field:

- plain fields: `prompt` fills the schema's first text field and `responses` its responses field
  when the record lacks keys of their own names; `response_a`, `response_b`, ... or `response1`,
  `response2`, ... are read as the responses, in that order;
- a candidate given as a string becomes `{"id": "r<n>", "content": ...}`, n its place from 1, and
  every candidate is stored with `model` (null when not given) and `meta` ({} when not given);
- OpenAI's chat format: `messages` fills the conversation field; a message's content may be a
  list of text parts (`{"type": "text", "text": ...}`), which are joined;
- when the record has no responses and the conversation ends with an assistant message, that
  message leaves the conversation and becomes the only candidate, `r1`.
CSV cells are text: a `responses` or `messages` cell holds JSON, `response_a`... cells plain text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from labelloop.errors import Problem
from labelloop.schema import LabelSchema
from labelloop.services.importing.readers import Where

ROLES = ("system", "user", "assistant", "tool")
NUMBERED = re.compile(r"response_?([a-z]|[0-9]{1,2})")
TEXT_PARTS = frozenset({"text", "input_text", "output_text"})

JsonCell = Callable[[Where, str, Any, list[Problem]], Any]  # RecordReader._json_cell


class ChatMapping:
    """The schema's prompt, conversation and responses fields, and how records fill them."""

    def __init__(self, schema: LabelSchema) -> None:
        def first(kind: str) -> str | None:
            return next((f.name for f in schema.fields if f.type == kind), None)

        self.prompt, self.conversation = first("text"), first("conversation")
        self.responses = first("responses")
        self.field_names = frozenset(f.name for f in schema.fields)
        self.active = self.responses is not None or self.conversation is not None

    def covered(self, header: list[str]) -> set[str]:
        """The fields a CSV header fills through an alias (`prompt`, `messages`, `response_a`...)."""
        found: set[str] = set()
        for field, alias in ((self.prompt, "prompt"), (self.conversation, "messages"),
                             (self.responses, "responses")):
            if field is not None and alias in header:
                found.add(field)
        if self.responses is not None and self._numbered(header):
            found.add(self.responses)
        if self.responses is not None and self.conversation is not None and (
            self.conversation in found or self.conversation in header
        ):
            found.add(self.responses)  # a conversation that ends with the answer brings it
        return found

    def apply(
        self, where: Where, record: dict[str, Any], problems: list[Problem], json_cell: JsonCell | None,
    ) -> tuple[dict[str, Any], set[str]]:
        """The record with its aliases moved onto the schema's fields, and the fields whose problem
        is already appended (so they are not called missing as well)."""
        out = dict(record)
        reported: set[str] = set()
        for field, alias in ((self.prompt, "prompt"), (self.conversation, "messages"),
                             (self.responses, "responses")):
            if field is not None and field != alias and field not in out and alias in out:
                out[field] = out.pop(alias)
        conversation = self.conversation
        if conversation is not None and out.get(conversation) is not None:
            # OpenAI's format, when the conversation came as `messages`.
            key = "messages" if conversation == "messages" or conversation not in record else conversation
            value = self._json(where, key, out[conversation], problems, json_cell)
            if value is not None and key == "messages":
                value = _openai_messages(where, key, value, problems)
            if value is None:
                out.pop(conversation)
                reported.add(conversation)
            else:
                out[conversation] = value
        if self.responses is not None and (
            not self._responses(where, out, problems, json_cell)
            or (conversation in reported and self.responses not in out)  # it would have come from there
        ):
            reported.add(self.responses)
        return out, reported

    def _numbered(self, keys: Any) -> list[str]:
        return [k for k in keys if k not in self.field_names and NUMBERED.fullmatch(k)]

    def _responses(self, where: Where, out: dict[str, Any], problems: list[Problem],
                   json_cell: JsonCell | None) -> bool:
        """Fill the responses field from the record; False when a problem was appended."""
        assert self.responses is not None
        name = self.responses
        numbered = self._numbered(out)
        if numbered:
            letters = [k for k in numbered if not k[-1].isdigit()]
            if name in out or (letters and len(letters) != len(numbered)):
                problems.append(where.problem(
                    f"give the candidates one way: as '{name}', as response_a, response_b, ... or as "
                    "response1, response2, ...", numbered[0]))
                for k in (*numbered, name):
                    out.pop(k, None)
                return False
            out[name] = [out.pop(k) for k in sorted(numbered, key=_place)]
        elif out.get(name) is not None:
            out[name] = self._json(where, name, out[name], problems, json_cell)
            if out[name] is None:
                out.pop(name)
                return False
        elif self.conversation is not None and isinstance(conv := out.get(self.conversation), list) and conv:
            last = conv[-1]
            if (isinstance(last, dict) and last.get("role") == "assistant"
                    and isinstance(last.get("content"), str)):
                out[self.conversation] = conv[:-1]
                out[name] = [{"id": "r1", "content": last["content"]}]
        value = out.get(name)
        if isinstance(value, list):
            out[name] = [_candidate(i, c) for i, c in enumerate(value)]
        elif value is None:
            out.pop(name, None)
        return True

    @staticmethod
    def _json(
        where: Where, shown: str, value: Any, problems: list[Problem], json_cell: JsonCell | None
    ) -> Any:
        """A CSV cell's JSON (other formats are JSON already); None when it is not JSON."""
        if json_cell is not None and isinstance(value, str):
            return json_cell(where, shown, value, problems)
        return value


def _place(key: str) -> tuple[int, str]:
    """Where `response_b` or `response10` goes among its kind: by letter, or by number."""
    m = NUMBERED.fullmatch(key)
    suffix = m[1] if m else key
    return (int(suffix), "") if suffix.isdigit() else (0, suffix)


def _candidate(i: int, raw: Any) -> Any:
    """A candidate in its stored form; anything else is left for the field check to name."""
    if isinstance(raw, str):
        return {"id": f"r{i + 1}", "content": raw, "model": None, "meta": {}}
    if isinstance(raw, dict):
        return {**raw, "model": raw.get("model"), "meta": {} if raw.get("meta") is None else raw["meta"]}
    return raw


def _openai_messages(where: Where, key: str, value: Any, problems: list[Problem]) -> Any:
    """OpenAI messages as the conversation field holds them: a known role, and text content (a
    list of text parts joined; null for an assistant's tool call read as empty)."""
    if not isinstance(value, list):
        return value  # the field check says what it should be
    out: list[Any] = []
    for i, message in enumerate(value):
        if not isinstance(message, dict):
            out.append(message)
            continue
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            problems.append(where.problem(f"{role!r} is not a role (roles: {', '.join(ROLES)})",
                                          f"{key}[{i}].role"))
            return None
        if isinstance(content, list):
            parts = [p.get("text") if isinstance(p, dict) and p.get("type") in TEXT_PARTS else None
                     for p in content]
            if any(not isinstance(p, str) for p in parts):
                problems.append(where.problem("only text parts can be imported ({\"type\": \"text\", "
                                              "\"text\": ...})", f"{key}[{i}].content"))
                return None
            content = "".join(p for p in parts if isinstance(p, str))
        elif content is None and (message.get("tool_calls") or message.get("function_call")):
            content = ""
        out.append({**message, "content": content})
    return out
