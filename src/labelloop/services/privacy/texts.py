"""The texts of an item that may hold personal data, each named by a path, and putting redacted
texts back in their place.

Paths: a text field's name (`text`); `name/3` for the content of message 3 of a conversation
field; `name/<id>` for the content of the candidate response with that id; `@meta/<key>` for a
string at the top of the item's metadata (annotators see it). Media fields are references, not
text: their faces are the images' business (docs/privacy.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from labelloop.schema.fields import FieldSpec

META = "@meta/"


def item_texts(fields: Iterable[FieldSpec], data: Mapping[str, Any], meta: Mapping[str, Any] | None = None,
               ) -> Iterator[tuple[str, str]]:
    """(path, text) for every non-empty text of the item, in the schema's field order, then the
    metadata's top-level strings."""
    yield from _data_texts(fields, data)
    for key, value in (meta or {}).items():
        if isinstance(value, str) and value:
            yield META + key, value


def _data_texts(fields: Iterable[FieldSpec], data: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for f in fields:
        value = data.get(f.name)
        if f.type == "text" and isinstance(value, str) and value:
            yield f.name, value
        elif f.type == "conversation" and isinstance(value, list):
            for i, message in enumerate(value):
                content = message.get("content") if isinstance(message, dict) else None
                if isinstance(content, str) and content:
                    yield f"{f.name}/{i}", content
        elif f.type == "responses" and isinstance(value, list):
            for candidate in value:
                if isinstance(candidate, dict):
                    content, rid = candidate.get("content"), candidate.get("id")
                    if isinstance(content, str) and content and isinstance(rid, str):
                        yield f"{f.name}/{rid}", content


def replace_texts(
    fields: Iterable[FieldSpec], data: Mapping[str, Any], texts: Mapping[str, str]
) -> dict[str, Any]:
    """A copy of `data` with the text at each path of `texts` replaced (others untouched)."""
    out = dict(data)
    for f in fields:
        value = out.get(f.name)
        if f.type == "text" and f.name in texts:
            out[f.name] = texts[f.name]
        elif f.type == "conversation" and isinstance(value, list):
            out[f.name] = [
                {**m, "content": texts[f"{f.name}/{i}"]}
                if isinstance(m, dict) and f"{f.name}/{i}" in texts else m
                for i, m in enumerate(value)
            ]
        elif f.type == "responses" and isinstance(value, list):
            out[f.name] = [
                {**c, "content": texts[f"{f.name}/{c.get('id')}"]}
                if isinstance(c, dict) and f"{f.name}/{c.get('id')}" in texts else c
                for c in value
            ]
    return out


def replace_meta(meta: Mapping[str, Any], texts: Mapping[str, str]) -> dict[str, Any]:
    """A copy of the metadata with the strings at `@meta/<key>` paths of `texts` replaced."""
    return {k: texts.get(META + k, v) if isinstance(v, str) else v for k, v in meta.items()}
