"""The texts of an item that may hold personal data, each named by a path, and putting redacted
texts back in their place.

Paths: a text field's name (`text`); `name/3` for the content of message 3 of a conversation
field; `name/<id>` for the content of the candidate response with that id; `@json/name/3/<key>...`
for any other string inside a message or a candidate (a speaker's name, a candidate's `meta`), as
a JSON Pointer into the field's value; `@meta/<key>...` for any string of the item's metadata,
nested or not (annotators see it), but for an imported pre-label (`meta.prelabel`: an answer, whose
transcripts are services/privacy/transcripts.py's). Media fields are references, not text: their
faces are the images' business (docs/privacy.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from labelloop.schema import LabelSchema
from labelloop.schema.fields import FieldSpec
from labelloop.services.privacy import nested
from labelloop.services.privacy.transcripts import PREDICTION_PREFIX, PRELABEL_PREFIX, value_texts

META = "@meta/"
JSON = "@json/"
PRELABEL = "prelabel"  # meta.prelabel: an answer, read as one (transcripts.py), not as free strings
_STRUCTURE = {"conversation": frozenset({"role", "content"}), "responses": frozenset({"id", "content"})}


def item_texts(fields: Iterable[FieldSpec], data: Mapping[str, Any], meta: Mapping[str, Any] | None = None,
               ) -> Iterator[tuple[str, str]]:
    """(path, text) for every non-empty text of the item, in the schema's field order (each
    field's nested strings after its texts), then the metadata's strings in document order."""
    yield from _data_texts(fields, data)
    yield from nested.strings(meta or {}, META[:-1], skip=frozenset({PRELABEL}))


def scanned_texts(schema: LabelSchema, data: Mapping[str, Any], meta: Mapping[str, Any] | None = None,
                  prediction: Any = None) -> list[tuple[str, str]]:
    """What a scan reads of an item: its texts (`item_texts`), then the transcripts of its imported
    pre-label and of the latest model version's prediction (`prediction`)."""
    out = list(item_texts(schema.fields, data, meta))
    out += value_texts(schema, (meta or {}).get(PRELABEL), PRELABEL_PREFIX)
    out += value_texts(schema, prediction, PREDICTION_PREFIX)
    return out


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
        if f.type in _STRUCTURE and isinstance(value, list):
            for i, part in enumerate(value):
                if isinstance(part, dict):
                    yield from nested.strings(part, f"{JSON}{f.name}/{i}", skip=_STRUCTURE[f.type])


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
        if f.type in _STRUCTURE and isinstance(out.get(f.name), list):
            out[f.name] = nested.replace(out[f.name], JSON + f.name, texts)
    return out


def replace_meta(meta: Mapping[str, Any], texts: Mapping[str, str]) -> dict[str, Any]:
    """A copy of the metadata with the strings at `@meta/...` paths of `texts` replaced."""
    out: dict[str, Any] = nested.replace(dict(meta), META[:-1], texts)
    return out
