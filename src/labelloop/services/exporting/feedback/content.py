"""What a training row says, read from an item's data: the prompt and the candidates' contents.

The prompt is the schema's first `text` or `conversation` field, as generation asks it
(docs/feedback.md, "Exports for training"). A conversation's candidates answer its last turn, so
assistant messages at its end are answers being judged, not context (an import keeps a chat's
last assistant message there and makes it the only candidate), and are not part of the prompt.
Messages keep `role` and `content` only: OpenAI's chat format, whatever else a message carried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labelloop.schema import LabelSchema

Message = dict[str, str]


@dataclass(frozen=True)
class PromptField:
    name: str
    conversation: bool  # a list of messages, else one text


def prompt_field(schema: LabelSchema) -> PromptField | None:
    """The field a candidate answers; None when the schema has neither kind."""
    for f in schema.fields:
        if f.type in ("text", "conversation"):
            return PromptField(f.name, f.type == "conversation")
    return None


def prompt_messages(field: PromptField | None, data: dict[str, Any]) -> list[Message]:
    """The prompt as chat messages (a text prompt is one user message)."""
    if field is None:
        return []
    value = data.get(field.name)
    if not field.conversation:
        return [{"role": "user", "content": value}] if isinstance(value, str) else []
    messages = [
        {"role": str(m.get("role")), "content": str(m.get("content"))}
        for m in (value if isinstance(value, list) else []) if isinstance(m, dict)
    ]
    while messages and messages[-1]["role"] == "assistant":
        messages.pop()
    return messages


def prompt_value(field: PromptField | None, data: dict[str, Any]) -> str | list[Message]:
    """The `prompt` of a DPO row: the text, or the conversation's messages."""
    if field is not None and not field.conversation:
        value = data.get(field.name)
        return value if isinstance(value, str) else ""
    return prompt_messages(field, data)


def candidates(data: dict[str, Any], field: str) -> dict[str, dict[str, Any]]:
    """An item's candidates by id (a `responses` value is a list of objects with an `id`)."""
    value = data.get(field)
    if not isinstance(value, list):
        return {}
    return {str(c["id"]): c for c in value if isinstance(c, dict) and "id" in c}


def content(found: dict[str, dict[str, Any]], response: str) -> str | None:
    c = found.get(response)
    text = None if c is None else c.get("content")
    return text if isinstance(text, str) else None


def model_name(found: dict[str, dict[str, Any]], response: str | None) -> str | None:
    c = found.get(response) if response is not None else None
    name = None if c is None else c.get("model")
    return name if isinstance(name, str) else None
