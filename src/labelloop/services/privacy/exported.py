"""Redacted exports: a chunk of items with personal data replaced, and every span in answers,
consensus and gold moved onto the redacted text, so the file is consistent with itself.

Placeholders, as annotators see them (masked when the policy masks). Findings come from the
scans; an item not yet scanned under the current settings is detected as it is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import orjson
from sqlalchemy import Connection

from labelloop.schema import LabelSchema
from labelloop.services.exporting.chunks import ItemChunk
from labelloop.services.privacy.findings import detect_items, scan_keys, stored_findings
from labelloop.services.privacy.redaction import ItemRedaction, redact_item
from labelloop.services.privacy.settings import PrivacySettings
from labelloop.services.privacy.texts import item_texts


def _moved(red: ItemRedaction, schema: LabelSchema, text: str | None) -> str | None:
    if text is None or not red.maps:
        return text
    return orjson.dumps(red.answer_to_shown(schema, orjson.loads(text))).decode()


def redact_chunk(conn: Connection, settings: PrivacySettings, schema: LabelSchema, chunk: ItemChunk,
                 scanned_with: dict[int, str | None]) -> ItemChunk:
    """The chunk as a redacted export writes it (stored JSON stays text, as `item_chunks` gives it)."""
    mode = "masked" if settings.annotators == "masked" else "placeholders"
    datas = {r.id: orjson.loads(r.data) for r in chunk.items}
    metas = {r.id: orjson.loads(r.meta) for r in chunk.items}
    stored = stored_findings(conn, [i for i, key in scanned_with.items() if key == settings.scan_key])
    todo = [i for i in datas if i not in stored]
    fresh = dict(zip(todo, detect_items(settings, schema.fields, [datas[i] for i in todo],
                                        [metas[i] for i in todo]), strict=True))
    reds = {i: redact_item(schema, d, item_texts(schema.fields, d, metas[i]),
                           stored.get(i) or fresh.get(i) or {}, mode, metas[i])
            for i, d in datas.items()}
    rows = []
    for r in chunk.items:
        red = reds[r.id]
        meta = dict(red.meta)
        if isinstance(meta.get("prelabel"), dict):
            meta["prelabel"] = red.answer_to_shown(schema, meta["prelabel"])
        rows.append(SimpleNamespace(**{**r._asdict(), "data": orjson.dumps(red.data).decode(),
                                       "meta": orjson.dumps(meta).decode(),
                                       "gold": _moved(red, schema, r.gold)}))
    answers = {
        item_id: [SimpleNamespace(**{**a._asdict(), "value": _moved(reds[item_id], schema, a.value)})
                  for a in listed]
        for item_id, listed in chunk.answers.items()
    }
    consensus = {item_id: SimpleNamespace(**{**c._asdict(), "value": _moved(reds[item_id], schema, c.value)})
                 for item_id, c in chunk.consensus.items()}
    return ItemChunk(rows, answers, consensus)


def redacted_chunks(conn: Connection, settings: PrivacySettings, schema: LabelSchema,
                    chunks: Iterator[ItemChunk]) -> Iterator[ItemChunk]:
    """`item_chunks` redacted, chunk by chunk (memory stays flat)."""
    for chunk in chunks:
        yield redact_chunk(conn, settings, schema, chunk, scan_keys(conn, [r.id for r in chunk.items]))
