"""Kinds of item fields a schema can show, and how an item's value for each is checked.

Media fields hold a reference (an http(s) URL, a path under the data folder, or a
`blob:<sha256>` of stored content), never the bytes themselves.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FieldKind = Literal["text", "image", "audio", "video", "conversation"]
MEDIA_KINDS = frozenset({"image", "audio", "video"})


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
    return f"unknown field kind {kind!r}"


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
