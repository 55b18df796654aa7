"""Redacted exports: a chunk of items with personal data replaced, and every span in answers,
consensus and gold moved onto the redacted text, so the file is consistent with itself.

Placeholders, as annotators see them (masked when the policy masks). Findings come from the
scans; an item not yet scanned under the current settings is detected as it is written.
Transcripts in answers, consensus and gold (audio segments' texts and words) are detected as the
export is written, a chunk's in one call: an annotator may have typed a name heard in the audio,
which is their answer (kept as typed) and still personal data.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy import Connection

from labelloop.privacy import Finding, Numbering
from labelloop.schema import LabelSchema
from labelloop.services.exporting.chunks import ItemChunk
from labelloop.services.privacy.findings import (
    current_key,
    detect_items,
    detector,
    scan_keys,
    stored_findings,
)
from labelloop.services.privacy.redaction import ItemRedaction, redact_item
from labelloop.services.privacy.settings import PrivacySettings
from labelloop.services.privacy.texts import PRELABEL, item_texts
from labelloop.services.privacy.transcripts import (
    PRELABEL_PREFIX,
    Detect,
    Redactor,
    Restorer,
    has_transcripts,
    value_texts,
)


def _moved(red: ItemRedaction, schema: LabelSchema, text: str | None) -> str | None:
    if text is None or (not red.maps and red.transcripts is None):
        return text
    return orjson.dumps(red.answer_to_shown(schema, orjson.loads(text))).decode()


def redact_chunk(conn: Connection, settings: PrivacySettings, schema: LabelSchema, chunk: ItemChunk,
                 scanned_with: dict[int, str | None], key: str | None = None) -> ItemChunk:
    """The chunk as a redacted export writes it (stored JSON stays text, as `item_chunks` gives it);
    `key`: the key items scanned under the current settings carry (findings.current_key)."""
    mode = "masked" if settings.annotators == "masked" else "placeholders"
    key = key or settings.scan_key
    datas = {r.id: orjson.loads(r.data) for r in chunk.items}
    metas = {r.id: orjson.loads(r.meta) for r in chunk.items}
    stored = stored_findings(conn, [i for i, k in scanned_with.items() if k == key])
    todo = [i for i in datas if i not in stored]
    fresh = dict(zip(todo, detect_items(settings, schema, [datas[i] for i in todo],
                                        [metas[i] for i in todo]), strict=True))
    detect = detector(settings)
    known = _answers_findings(schema, chunk, detect)
    reds = {}
    for i, d in datas.items():
        reds[i] = redact_item(schema, d, item_texts(schema.fields, d, metas[i]),
                              stored.get(i) or fresh.get(i) or {}, mode, metas[i], detect=detect)
        redactor = reds[i].transcripts
        if redactor is not None:
            redactor.known.update(known)
    rows = []
    for r in chunk.items:
        red = reds[r.id]
        meta = dict(red.meta)
        if isinstance(meta.get(PRELABEL), dict):
            meta[PRELABEL] = red.value_shown(schema, PRELABEL_PREFIX, meta[PRELABEL])
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


def _answers_findings(schema: LabelSchema, chunk: ItemChunk, detect: Detect) -> dict[str, list[Finding]]:
    """The findings of every transcript in the chunk's answers, consensus and gold, by text, in
    one detection call."""
    if not has_transcripts(schema):
        return {}
    values = [r.gold for r in chunk.items] + [c.value for c in chunk.consensus.values()]
    values += [a.value for listed in chunk.answers.values() for a in listed]
    texts = list(dict.fromkeys(t for v in values if v is not None
                               for _, t in value_texts(schema, orjson.loads(v))))
    return dict(zip(texts, detect(texts), strict=True)) if texts else {}


def redacted_chunks(conn: Connection, settings: PrivacySettings, schema: LabelSchema,
                    chunks: Iterator[ItemChunk], project_id: int | None = None) -> Iterator[ItemChunk]:
    """`item_chunks` redacted, chunk by chunk (memory stays flat)."""
    key = None if project_id is None else current_key(conn, settings, schema, project_id)
    for chunk in chunks:
        yield redact_chunk(conn, settings, schema, chunk, scan_keys(conn, [r.id for r in chunk.items]), key)


def redact_segments(settings: PrivacySettings, schema: LabelSchema, question: str,
                    segments: Sequence[tuple[str | None, dict[str, Any]]]
                    ) -> list[tuple[str | None, dict[str, Any]]]:
    """One audio file's segments (annotator, segment) as a redacted audio-dataset export writes them
    (NeMo manifests, SRT, WebVTT): transcripts detected now, in one call, numbered across the file."""
    mode = "masked" if settings.annotators == "masked" else "placeholders"
    redactor = Redactor(mode, Numbering(), Restorer(), detect=detector(settings))
    shown = redactor.redact(schema, {question: [s for _, s in segments]})[question]
    return [(who, s) for (who, _), s in zip(segments, shown, strict=True)]
