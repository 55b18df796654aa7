"""From a parsed record to an item row: id, data fields, metadata, priority, gold answer.

Keys of a record: `id` (kept as the item's original id), one key per schema field, `meta`
(an object), `priority` (a number; higher comes first in the queue), `gold` (an answer that
fits the schema). Any other key is kept in the item's metadata, so nothing is lost. CSV
cells are text: `meta` and `gold` hold JSON there, and a `meta.<key>` column fills one key.
For schemas with a conversation or candidate responses, feedback/chat.py first maps the record's
prompt, OpenAI `messages` and `responses` / `response_a`... onto the schema's fields.

The item as it will be stored is checked last (`ImportLimits`): at most `max_item_bytes` of
JSON (fields, meta and gold), each of the three nesting at most `max_json_depth` levels
(counting itself as level 1), and no NUL character anywhere. PostgreSQL cannot store a NUL in
JSONB or text (and SQLite would keep it as a six-byte escape), and it has no use in labelling;
refusing it on both databases keeps them alike.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import orjson

from labelloop.errors import Invalid, Problem
from labelloop.schema import AudioInfo, ImageInfo, LabelSchema, Target, VideoInfo, check_field_value
from labelloop.schema.fields import MEDIA_KINDS
from labelloop.services.blobs import REFERENCE_PREFIX, StoredAudio, StoredMedia, StoredVideo
from labelloop.services.importing.feedback.chat import ChatMapping
from labelloop.services.importing.limits import ImportLimits, deeper_than
from labelloop.services.importing.readers import (
    AudioFile,
    ImageFile,
    StoredRecord,
    TextFile,
    VideoFile,
    Where,
    shown,
)
from labelloop.services.targets import SizeOf, targets_of
from labelloop.store.blobs import is_sha256

RESERVED = frozenset({"id", "meta", "priority", "gold"})
MAX_ID = 500
MAX_COLUMNS_SHOWN = 20  # of a header, in a problem
NUL_MESSAGE = "contains a NUL character (\\u0000), which cannot be stored"
_ESCAPED_NUL = b"\\u0000"  # how orjson writes a NUL (or, harmlessly, a backslash then "u0000")


# Not frozen: one is made per record, and a frozen dataclass sets each field through
# object.__setattr__ (about 1 µs a record under py-spy). Nothing changes one once made.
@dataclass(slots=True)
class ItemRow:
    external_id: str
    content_hash: str
    data: dict[str, Any]
    meta: dict[str, Any]
    priority: float
    gold: dict[str, Any] | None
    canonical: bytes  # `data` as JSON with sorted keys: what `content_hash` hashes
    where: Where
    images: tuple[StoredMedia, ...] = ()  # stored by this import, to record with the item
    refs: tuple[tuple[str, str], ...] = ()  # (field, sha256) of each blob the fields reference


def content_hash(data: dict[str, Any]) -> str:
    """SHA-256 of the item's fields in canonical JSON (sorted keys): equal content, equal hash."""
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()


class RecordReader:
    """Checks records against one project's schema."""

    def __init__(
        self, schema: LabelSchema, *, text_cells: bool = False, limits: ImportLimits | None = None,
        image_size: SizeOf | None = None,
    ) -> None:
        self.schema = schema
        # The size of a stored image a record references, to check gold shapes against.
        self.image_size = image_size
        self.limits = limits or ImportLimits()
        self.max_item_bytes = self.limits.max_item_bytes
        self.max_depth = self.limits.max_json_depth
        self.fields = schema.fields
        self.field_names = frozenset(f.name for f in self.fields)
        self.text_cells = text_cells  # CSV: every cell is a string
        self.first_text_field = next((f.name for f in self.fields if f.type == "text"), None)
        self.first_image_field = next((f.name for f in self.fields if f.type == "image"), None)
        self.first_audio_field = next((f.name for f in self.fields if f.type == "audio"), None)
        self.first_video_field = next((f.name for f in self.fields if f.type == "video"), None)
        self.chat = ChatMapping(schema)  # prompts, conversations and candidate responses (feedback/chat.py)

    def missing_columns(self, header: list[str]) -> str | None:
        """What a CSV header lacks for this schema: its required fields (said once, not per row)."""
        present = set(header) | (self.chat.covered(header) if self.chat.active else set())
        missing = [f.name for f in self.fields if f.required and f.name not in present]
        if not missing:
            return None
        names = ", ".join(f"'{name}'" for name in missing)
        found = ", ".join(shown(h if len(h) <= 40 else h[:40] + "…") for h in header[:MAX_COLUMNS_SHOWN])
        if len(header) > MAX_COLUMNS_SHOWN:
            found += f" and {len(header) - MAX_COLUMNS_SHOWN} more"
        return f"no column{'s' if len(missing) > 1 else ''} {names} (found: {found})"

    def to_row(self, where: Where, record: dict[str, Any]) -> ItemRow | list[Problem]:
        problems: list[Problem] = []
        if isinstance(record, TextFile):
            if self.first_text_field is None:
                return [where.problem("the schema has no text field to put a .txt file in")]
            record = {"id": record["id"], self.first_text_field: record["text"]}
        images: tuple[StoredMedia, ...] = ()
        if isinstance(record, StoredRecord):
            images = record.images
            if isinstance(record, ImageFile):
                if self.first_image_field is None:
                    return [where.problem("the schema has no image field to put an image in")]
                record = {"id": record["id"], self.first_image_field: record["blob"]}
            elif isinstance(record, AudioFile):
                if self.first_audio_field is None:
                    return [where.problem("the schema has no audio field to put an audio file in")]
                record = {"id": record["id"], self.first_audio_field: record["blob"]}
            elif isinstance(record, VideoFile):
                if self.first_video_field is None:
                    return [where.problem("the schema has no video field to put a video in")]
                record = {"id": record["id"], self.first_video_field: record["blob"]}
        reported: set[str] = set()  # fields whose problem the mapping already named
        if self.chat.active:
            record, reported = self.chat.apply(where, record, problems,
                                               self._json_cell if self.text_cells else None)

        data: dict[str, Any] = {}
        refs: list[tuple[str, str]] = []
        for f in self.fields:
            value = record.get(f.name)
            if value is None:
                if f.required and f.name not in reported:
                    problems.append(where.problem("missing required field", f.name))
                continue
            if self.text_cells and f.type == "conversation":
                value = self._json_cell(where, f.name, value, problems)
                if value is None:
                    continue
            wrong = check_field_value(f.type, value)
            if wrong is None and (not isinstance(value, str) or "\x00" in value):
                wrong = self._unstorable(value)
            if wrong is None and f.type in MEDIA_KINDS and value.startswith(REFERENCE_PREFIX):
                sha256 = value[len(REFERENCE_PREFIX):]
                if is_sha256(sha256):
                    refs.append((f.name, sha256))
                else:
                    wrong = "a stored file is referenced as blob: and its SHA-256 in 64 lowercase hex digits"
            if wrong:
                problems.append(where.problem(wrong, f.name))
            elif f.type == "text" and f.required and not value.strip():
                problems.append(where.problem("is empty", f.name))
            else:
                data[f.name] = value

        external_id = self._id(where, record.get("id"), problems)
        meta = self._meta(where, record, problems)
        priority = self._priority(where, record.get("priority"), problems)
        gold = self._gold(where, record.get("gold"), problems, data, images)
        if problems:
            return problems
        canonical = self._stored(where, external_id, data, meta, gold)
        if isinstance(canonical, list):
            return canonical
        digest = hashlib.sha256(canonical).hexdigest()  # content_hash(data), serialised once
        return ItemRow(external_id or digest, digest, data, meta, priority, gold, canonical, where, images,
                       tuple(refs))

    def _unstorable(self, value: Any) -> str | None:
        """Why a field's value cannot be stored: a NUL, or nesting past the limit (the item's
        fields are level 1, so the value starts at level 2)."""
        if isinstance(value, str):
            return NUL_MESSAGE if "\x00" in value else None
        if deeper_than(value, self.max_depth - 1):
            return self.limits.too_deep()
        return NUL_MESSAGE if _has_nul(value) else None

    def _stored(
        self, where: Where, external_id: str | None, data: dict[str, Any], meta: dict[str, Any],
        gold: dict[str, Any] | None,
    ) -> bytes | list[Problem]:
        """The fields' canonical JSON (what `content_hash` hashes), once the item as stored fits
        the item limit and its id, meta and gold hold no NUL and nest no deeper than the limit
        (fields were checked one by one). Every record passes here, so the common case is kept
        cheap: one serialisation serves the hash and the size, a str is searched for one
        character rather than JSON for an escape, and only JSON with enough brackets to be too
        deep is walked."""
        try:
            canonical = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)  # as content_hash does
            rest = orjson.dumps(meta) if meta else b""
            if gold is not None:
                rest += orjson.dumps(gold)
        except TypeError as e:  # orjson refuses 255 levels; else what JSON cannot hold
            return self._rest_problems(where, None, meta, gold) or [
                where.problem(f"cannot be stored as JSON: {e}")
            ]
        size = len(canonical) + len(rest)
        if (
            size <= self.max_item_bytes
            and rest.find(_ESCAPED_NUL) < 0
            # Too deep takes more brackets than that (and twice as many bytes): most skip the walk.
            and (len(rest) <= 2 * self.max_depth or rest.count(b"[") + rest.count(b"{") <= self.max_depth)
            and (external_id is None or "\x00" not in external_id)
        ):
            return canonical
        problems = self._rest_problems(where, external_id, meta, gold)
        if size > self.max_item_bytes:
            problems.append(where.problem(self.limits.stored_too_large(size), _largest(data, meta, gold)))
        return problems or canonical

    def _rest_problems(
        self, where: Where, external_id: str | None, meta: dict[str, Any], gold: dict[str, Any] | None
    ) -> list[Problem]:
        problems: list[Problem] = []
        if external_id is not None and "\x00" in external_id:
            problems.append(where.problem(NUL_MESSAGE, "id"))
        for name, doc in (("meta", meta), ("gold", gold or {})):
            for key, value in doc.items():
                field = f"{name}.{shown(key)}"
                if deeper_than(value, self.max_depth - 1):  # meta and gold are level 1 too
                    problems.append(where.problem(self.limits.too_deep(), field))
                elif "\x00" in key or _has_nul(value):
                    problems.append(where.problem(NUL_MESSAGE, field))
        return problems

    def _id(self, where: Where, raw: Any, problems: list[Problem]) -> str | None:
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            problems.append(where.problem(f"must be a string or an integer, got {type(raw).__name__}", "id"))
            return None
        text = str(raw).strip()
        if not text or len(text) > MAX_ID:
            problems.append(where.problem(f"must be 1 to {MAX_ID} characters", "id"))
            return None
        return text

    def _meta(self, where: Where, record: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        for key, value in record.items():
            if key in RESERVED or key in self.field_names:
                continue
            if self.text_cells and key.startswith("meta."):
                meta[key[len("meta."):]] = value
            else:
                meta[key] = value
        raw = record.get("meta")
        if raw is not None:
            if self.text_cells:
                raw = self._json_cell(where, "meta", raw, problems)
            if raw is not None and not isinstance(raw, dict):
                problems.append(where.problem(f"must be an object, got {type(raw).__name__}", "meta"))
            elif raw is not None:
                meta.update(raw)
        return meta

    def _priority(self, where: Where, raw: Any, problems: list[Problem]) -> float:
        if raw is None:
            return 0.0
        if self.text_cells and isinstance(raw, str):
            try:
                raw = float(raw)
            except ValueError:
                problems.append(where.problem(f"must be a number, got {raw!r}", "priority"))
                return 0.0
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            problems.append(where.problem("must be a finite number", "priority"))
            return 0.0
        return float(raw)

    def _gold(
        self, where: Where, raw: Any, problems: list[Problem], data: dict[str, Any],
        images: tuple[StoredMedia, ...] = (),
    ) -> dict[str, Any] | None:
        if raw is None:
            return None
        if self.text_cells:
            raw = self._json_cell(where, "gold", raw, problems)
            if raw is None:
                return None
        try:
            return self.schema.validate_answer(raw, self._targets(data, images))
        except Invalid as e:
            for p in e.problems:
                problems.append(where.problem(p.message, f"gold.{p.field}" if p.field else "gold"))
            return None

    def _targets(self, data: dict[str, Any], images: tuple[StoredMedia, ...]) -> dict[str, Target]:
        """What the gold answer's questions are about: texts, and the sizes of images (durations of
        audio) stored by this import or (through `image_size`) before it."""
        if not self.schema.target_fields:
            return {}
        here: dict[str, ImageInfo | AudioInfo | VideoInfo] = {}
        for i in images:
            if isinstance(i, StoredAudio | StoredVideo):
                here[i.original.sha256] = i.info
            elif i.original.width and i.original.height:
                here[i.original.sha256] = ImageInfo(i.original.width, i.original.height)

        def size_of(sha256: str) -> ImageInfo | AudioInfo | VideoInfo | None:
            if sha256 in here:
                return here[sha256]
            return self.image_size(sha256) if self.image_size is not None else None

        return targets_of(self.schema, data, size_of)

    def _json_cell(self, where: Where, name: str, raw: Any, problems: list[Problem]) -> Any:
        if not isinstance(raw, str):
            return raw
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            too_deep = e.msg == "depth limit exceeded"  # past orjson's own 1024 levels
            problems.append(where.problem(
                self.limits.too_deep() if too_deep else f"invalid JSON in the cell: {e.msg}", name
            ))
            return None


def _has_nul(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return True
        elif isinstance(node, dict):
            if any("\x00" in k for k in node):
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _largest(data: dict[str, Any], meta: dict[str, Any], gold: dict[str, Any] | None) -> str:
    """The part of an item that takes the most room, to point at in a size problem."""
    parts = {**data, "meta": meta, "gold": gold}
    return max(parts, key=lambda name: len(orjson.dumps(parts[name])))
