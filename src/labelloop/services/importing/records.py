"""From a parsed record to an item row: id, data fields, metadata, priority, gold answer.

Keys of a record: `id` (kept as the item's original id), one key per schema field, `meta`
(an object), `priority` (a number; higher comes first in the queue), `gold` (an answer that
fits the schema). Any other key is kept in the item's metadata, so nothing is lost. CSV
cells are text: `meta` and `gold` hold JSON there, and a `meta.<key>` column fills one key.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import orjson

from labelloop.errors import Invalid, Problem
from labelloop.schema import LabelSchema, check_field_value
from labelloop.services.importing.readers import TXT_TEXT_KEY, Where

RESERVED = frozenset({"id", "meta", "priority", "gold"})
MAX_ID = 500


@dataclass(frozen=True)
class ItemRow:
    external_id: str
    content_hash: str
    data: dict[str, Any]
    meta: dict[str, Any]
    priority: float
    gold: dict[str, Any] | None
    where: Where


def content_hash(data: dict[str, Any]) -> str:
    """SHA-256 of the item's fields in canonical JSON (sorted keys): equal content, equal hash."""
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()


class RecordReader:
    """Checks records against one project's schema."""

    def __init__(self, schema: LabelSchema, *, text_cells: bool = False) -> None:
        self.schema = schema
        self.fields = schema.fields
        self.field_names = frozenset(f.name for f in self.fields)
        self.text_cells = text_cells  # CSV: every cell is a string
        self.first_text_field = next((f.name for f in self.fields if f.type == "text"), None)

    def to_row(self, where: Where, record: dict[str, Any]) -> ItemRow | list[Problem]:
        problems: list[Problem] = []
        if TXT_TEXT_KEY in record:
            if self.first_text_field is None:
                return [where.problem("the schema has no text field to put a .txt file in")]
            record = {"id": record["id"], self.first_text_field: record[TXT_TEXT_KEY]}

        data: dict[str, Any] = {}
        for f in self.fields:
            value = record.get(f.name)
            if value is None:
                if f.required:
                    problems.append(where.problem("missing required field", f.name))
                continue
            if self.text_cells and f.type == "conversation":
                value = self._json_cell(where, f.name, value, problems)
                if value is None:
                    continue
            wrong = check_field_value(f.type, value)
            if wrong:
                problems.append(where.problem(wrong, f.name))
            elif f.type == "text" and f.required and not value.strip():
                problems.append(where.problem("is empty", f.name))
            else:
                data[f.name] = value

        external_id = self._id(where, record.get("id"), problems)
        meta = self._meta(where, record, problems)
        priority = self._priority(where, record.get("priority"), problems)
        gold = self._gold(where, record.get("gold"), problems)
        if problems:
            return problems
        digest = content_hash(data)
        return ItemRow(external_id or digest, digest, data, meta, priority, gold, where)

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

    def _gold(self, where: Where, raw: Any, problems: list[Problem]) -> dict[str, Any] | None:
        if raw is None:
            return None
        if self.text_cells:
            raw = self._json_cell(where, "gold", raw, problems)
            if raw is None:
                return None
        try:
            return self.schema.validate_answer(raw)
        except Invalid as e:
            for p in e.problems:
                problems.append(where.problem(p.message, f"gold.{p.field}" if p.field else "gold"))
            return None

    @staticmethod
    def _json_cell(where: Where, name: str, raw: Any, problems: list[Problem]) -> Any:
        if not isinstance(raw, str):
            return raw
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            problems.append(where.problem(f"invalid JSON in the cell: {e.msg}", name))
            return None
