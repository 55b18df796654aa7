"""Kinds of item fields a schema can show, and how an item's value for each is checked.

Media fields hold a reference (an http(s) URL, a path under the data folder, or a
`blob:<sha256>` of stored content), never the bytes themselves. A `responses` field holds the
candidate answers of a language model to the item's prompt (docs/feedback.md): questions name
them by `id`, and annotators see them without `model` and `meta` (`blind`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FieldKind = Literal["text", "image", "audio", "video", "conversation", "responses"]
MEDIA_KINDS = frozenset({"image", "audio", "video"})
MAX_RESPONSES = 16
MAX_RESPONSE_CHARS = 200_000  # a long answer is a few thousand; the item limit bounds the whole
RESPONSE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
RESPONSE_KEYS = frozenset({"id", "content", "model", "meta"})


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    type: FieldKind = "text"
    label: str | None = None
    required: bool = True

    @property
    def title(self) -> str:
        return self.label or self.name


def check_field_value(kind: str, value: Any) -> str | None:
    """None when `value` fits a field of this kind, else what is wrong with it."""
    if kind == "text" or kind in MEDIA_KINDS:
        if not isinstance(value, str):
            return f"expected a string, got {_json_type(value)}"
        return None
    if kind == "conversation":
        if not isinstance(value, list):
            return f"expected a list of messages, got {_json_type(value)}"
        for i, message in enumerate(value):
            if (
                not isinstance(message, dict)
                or not isinstance(message.get("role"), str)
                or not isinstance(message.get("content"), str)
            ):
                return f"message {i} must be an object with string 'role' and 'content'"
        return None
    if kind == "responses":
        return _responses_problem(value)
    return f"unknown field kind {kind!r}"


def _responses_problem(value: Any) -> str | None:
    """What is wrong with a list of candidate responses, naming the candidate and its key."""
    if not isinstance(value, list):
        return f"expected a list of candidate responses, got {_json_type(value)}"
    if not 1 <= len(value) <= MAX_RESPONSES:
        return f"holds {len(value)} candidates; 1 to {MAX_RESPONSES} are allowed"
    seen: dict[str, int] = {}
    for i, candidate in enumerate(value):
        where = f"candidate [{i}]"
        if not isinstance(candidate, dict):
            return f"{where} must be an object with 'id' and 'content', got {_json_type(candidate)}"
        unknown = sorted(set(candidate) - RESPONSE_KEYS)
        if unknown:
            return f"{where} has the unknown key {unknown[0]!r} (keys: id, content, model, meta)"
        rid, content = candidate.get("id"), candidate.get("content")
        if not isinstance(rid, str) or RESPONSE_ID.fullmatch(rid) is None:
            return f"{where} key 'id' must be 1 to 64 characters of A-Z a-z 0-9 _ . : -"
        if rid in seen:
            return f"{where} key 'id' repeats {rid!r}, the id of candidate [{seen[rid]}]"
        seen[rid] = i
        if not isinstance(content, str):
            return f"{where} key 'content' must be a string, got {_json_type(content)}"
        if len(content) > MAX_RESPONSE_CHARS:
            return f"{where} key 'content' is longer than {MAX_RESPONSE_CHARS:,} characters"
        model = candidate.get("model")
        if model is not None and (not isinstance(model, str) or not 1 <= len(model) <= 200):
            return f"{where} key 'model' must be null or a string of 1 to 200 characters"
        meta = candidate.get("meta")
        if meta is not None and not isinstance(meta, dict):
            return f"{where} key 'meta' must be an object, got {_json_type(meta)}"
    return None


def blind(fields: Iterable[FieldSpec], data: Mapping[str, Any]) -> dict[str, Any]:
    """The item's data as annotators see it: each candidate response keeps only its `id` and
    `content`, so a preference cannot follow a model's name (blind comparison)."""
    names = {f.name for f in fields if f.type == "responses"}
    if not names and isinstance(data, dict):
        return data  # nothing to hide: the hot path of a text or image project copies nothing
    out = dict(data)
    for name in names:
        value = out.get(name)
        if isinstance(value, list):
            out[name] = [
                {"id": c.get("id"), "content": c.get("content")} if isinstance(c, dict) else c
                for c in value
            ]
    return out


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
