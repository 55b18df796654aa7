"""Export a project as JSONL, CSV or Parquet: items, every answer, gold and consensus; or one
shape question as an image dataset, COCO, YOLO or Pascal VOC in a zip (`services/exporting/`);
or one audio_segments question as NeMo manifests, SRT, WebVTT or RTTM in a zip with the audio;
or one video_tracks question as MOT, CVAT for video, a YouTube-VIS-like JSON or YOLO per frame in
a zip with the videos (`services/exporting/video/`); or language-model feedback as training
data: DPO, SFT, ratings, a Hugging Face dataset (`services/exporting/feedback/`).

Streamed in chunks of items read by id (keyset pagination) inside one snapshot, so memory
stays flat in the number of items and the file is consistent even while annotators work.
Stored JSON is passed through as-is (orjson fragments), not parsed and re-encoded.

CSV is for spreadsheets, which run a cell that starts like a formula, so text cells are
`neutralised` (OWASP's CSV-injection rule) and rows end in CRLF (RFC 4180), which makes the
writer quote any cell holding a carriage return: a bare one would start a new row in a
spreadsheet, and that row's first cell would escape the rule. JSONL and Parquet are for
programs and stay exact.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection

from labelloop.errors import Invalid, Problem
from labelloop.schema import LabelSchema
from labelloop.services import audit
from labelloop.services.curation import slices
from labelloop.services.exporting.audio.dataset import stream_audio_dataset
from labelloop.services.exporting.audio.plan import FORMATS as AUDIO
from labelloop.services.exporting.audio.plan import AudioPlan, audio_plan
from labelloop.services.exporting.cells import FORMULA_START, neutralised
from labelloop.services.exporting.chunks import ItemChunk, item_chunks, prefetched
from labelloop.services.exporting.feedback import FORMATS as FEEDBACK
from labelloop.services.exporting.feedback import FeedbackPlan, feedback_plan, stream_feedback
from labelloop.services.exporting.images.dataset import MEDIA_TYPE, stream_dataset
from labelloop.services.exporting.images.pictures import TYPES, DatasetPlan, dataset_plan
from labelloop.services.exporting.sink import Sink
from labelloop.services.exporting.video.dataset import stream_video_dataset
from labelloop.services.exporting.video.plan import FORMATS as VIDEO
from labelloop.services.exporting.video.plan import VideoPlan, video_plan
from labelloop.services.items import ItemFilter
from labelloop.services.policy import Action, Actor, access
from labelloop.services.privacy.exported import redacted_chunks
from labelloop.services.privacy.settings import PrivacySettings, privacy_settings
from labelloop.services.projects import schema_of
from labelloop.store.blobs import BlobStore
from labelloop.store.db import Database

CHUNK = 5000  # items read at a time
TEXT_FORMATS = ("jsonl", "csv", "parquet")
FORMATS = {"jsonl": "application/x-ndjson", "csv": "text/csv", "parquet": "application/vnd.apache.parquet",
           **dict.fromkeys(TYPES, MEDIA_TYPE), **dict.fromkeys(AUDIO, MEDIA_TYPE),
           **dict.fromkeys(VIDEO, MEDIA_TYPE),
           **{f: media for f, (media, _) in FEEDBACK.items()}}
@dataclass(frozen=True)
class ExportPlan:
    project_id: int
    project_name: str
    format: str
    schema: LabelSchema
    dataset: DatasetPlan | None = None  # coco, yolo and voc: the question, source and images
    feedback: FeedbackPlan | None = None  # dpo, sft, ratings, hf: the aggregates, decided up front
    audio: AudioPlan | None = None  # nemo, srt, webvtt, rttm: the question, source and audio files
    video: VideoPlan | None = None  # mot, cvat, vis, yolo-frames: the question, source and videos
    # JSONL, CSV, Parquet: personal data replaced by placeholders (docs/privacy.md); None: original.
    redact: PrivacySettings | None = None
    # Only the items of a saved slice (services/curation/slices.py; the media plans carry it too); None: all.
    where: ItemFilter | None = None

    @property
    def media_type(self) -> str:
        return FORMATS[self.format]

    @property
    def filename(self) -> str:
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.project_name)
        if self.dataset is not None or self.audio is not None or self.video is not None:
            return f"{safe or 'project'}-{self.format}.zip"
        if self.feedback is not None:
            return f"{safe or 'project'}-{self.feedback.suffix}"
        return f"{safe or 'project'}.{self.format}"


def plan_export(
    conn: Connection, actor: Actor, project_id: int, fmt: str, *, question: str | None = None,
    source: str = "consensus", images: str = "include", license: str = "other", redact: bool = False,
    slice_ref: int | str | None = None,
) -> ExportPlan:
    """Check permission and format (and for an image dataset, the question, the source of its
    objects and whether the images go in; for training data, the questions it is made from, and
    aggregate them) before the first byte is sent."""
    acc = access(conn, actor, project_id, Action.export)
    if fmt not in FORMATS:
        known = ", ".join(FORMATS)
        raise Invalid("unknown export format", [Problem(f"{fmt!r}; known: {known}", field="format")])
    schema = schema_of(acc.project.label_schema)
    # What was chosen, as asked (a refused choice raises below and rolls this entry back).
    audit.record(conn, actor, "export", project_id=project_id, object_type="project", object_id=project_id,
                 details={"format": fmt, "source": source, "images": images, "question": question,
                          "license": license, "redacted": redact, "slice": slice_ref})
    if redact and fmt not in TEXT_FORMATS and fmt not in AUDIO:
        raise Invalid("redaction is for the text and audio formats", [Problem(
            f"redact is available for {', '.join((*TEXT_FORMATS, *AUDIO))}, not {fmt}", field="redact")])
    if slice_ref is not None and fmt in FEEDBACK:  # training data aggregates the whole project
        raise Invalid("a slice is for the item formats", [Problem(
            f"slice is available for every format but the training data ones ({', '.join(FEEDBACK)}), "
            f"not {fmt}", field="slice")])
    where = None if slice_ref is None else slices.filter_of(conn, project_id, slice_ref)
    if fmt in FEEDBACK:
        feedback = feedback_plan(conn, project_id, acc.project.name, schema, fmt, question, license)
        return ExportPlan(project_id, acc.project.name, fmt, schema, feedback=feedback)
    if fmt in AUDIO:
        audio = audio_plan(schema, fmt, question, source, images,
                           privacy_settings(acc.project.privacy_settings) if redact else None)
        return ExportPlan(project_id, acc.project.name, fmt, schema, audio=replace(audio, where=where))
    if fmt in VIDEO:
        video = video_plan(schema, fmt, question, source, images)
        return ExportPlan(project_id, acc.project.name, fmt, schema, video=replace(video, where=where))
    dataset = None if fmt not in TYPES else replace(
        dataset_plan(schema, fmt, question, source, images), where=where)
    return ExportPlan(project_id, acc.project.name, fmt, schema, dataset,
                      redact=privacy_settings(acc.project.privacy_settings) if redact else None, where=where)


def _status(row: Any) -> str:
    return "done" if row.answer_count >= row.needed else "open"


def _frag(text: str | None) -> orjson.Fragment | None:
    return None if text is None else orjson.Fragment(text)


def _answer_obj(a: Any) -> dict[str, Any]:
    return {
        "answer_id": a.id, "annotator": a.username, "value": orjson.Fragment(a.value),
        "created_at": a.created_at, "leased_at": a.leased_at, "duration_ms": a.duration_ms,
        "source": a.source, "supersedes": a.supersedes_id,
        # What the annotator did with the model's suggestion (services/loop/suggestions.py), or null.
        "suggestion": _frag(a.suggestion),
    }


def _consensus_obj(c: Any) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"value": orjson.Fragment(c.value), "confidence": c.confidence, "method": c.method,
            "final": c.final}


def stream_export(db: Database, plan: ExportPlan, blobs: BlobStore | None = None) -> Iterator[bytes]:
    """The export's bytes; `blobs` is where an image dataset's images are read from."""
    if plan.dataset is not None:
        if blobs is None:
            raise ValueError("exporting an image dataset needs the blob store")
        with db.read(snapshot=True) as conn:
            yield from stream_dataset(conn, plan.project_id, plan.dataset, blobs)
        return
    if plan.feedback is not None:
        with db.read(snapshot=True) as conn:
            yield from stream_feedback(conn, plan.project_id, plan.feedback)
        return
    if plan.audio is not None:
        if blobs is None:
            raise ValueError("exporting an audio dataset needs the blob store")
        with db.read(snapshot=True) as conn:
            yield from stream_audio_dataset(conn, plan.project_id, plan.audio, blobs)
        return
    if plan.video is not None:
        if blobs is None:
            raise ValueError("exporting a video dataset needs the blob store")
        with db.read(snapshot=True) as conn:
            yield from stream_video_dataset(conn, plan.project_id, plan.video, blobs)
        return
    writer = row_writer(plan)
    with db.read(snapshot=True) as conn:
        chunks = item_chunks(conn, plan.project_id, size=CHUNK, where=plan.where)
        if plan.redact is not None:
            chunks = redacted_chunks(conn, plan.redact, plan.schema, chunks, plan.project_id)
        yield from writer(plan, prefetched(chunks))


def row_writer(plan: ExportPlan) -> Callable[[ExportPlan, Iterator[ItemChunk]], Iterator[bytes]]:
    """What turns a text export's chunks of items into its bytes."""
    return {"jsonl": _jsonl, "csv": _csv, "parquet": _parquet}[plan.format]


def _jsonl(plan: ExportPlan, chunks: Iterator[ItemChunk]) -> Iterator[bytes]:
    # Names bound once and `_status` inlined: this loop runs once per item of the project.
    dumps, fragment, utc_z = orjson.dumps, orjson.Fragment, orjson.OPT_UTC_Z
    for chunk in chunks:
        answers, consensus = chunk.answers, chunk.consensus
        lines = []
        for r in chunk.items:
            item_id = r.id
            lines.append(dumps({
                "id": r.external_id, "item_id": item_id, "data": fragment(r.data),
                "meta": fragment(r.meta), "content_hash": r.content_hash,
                "priority": r.priority, "status": "done" if r.answer_count >= r.needed else "open",
                "answers_needed": r.needed,
                "answers": [_answer_obj(a) for a in answers[item_id]] if item_id in answers else [],
                "consensus": _consensus_obj(consensus.get(item_id)),
                "gold": None if r.gold is None else fragment(r.gold),
            }, option=utc_z))
        if lines:
            lines.append(b"")
            yield b"\n".join(lines)


def _csv(plan: ExportPlan, chunks: Iterator[ItemChunk]) -> Iterator[bytes]:
    fields = [f.name for f in plan.schema.fields]
    questions = plan.schema.questions
    header = ["id", *fields, "meta", "priority", "gold", "status", "answer_count", "answers",
              *[f"consensus.{q.name}" for q in questions], "consensus_confidence", "consensus"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([neutralised(h) for h in header])
    for chunk in chunks:
        for r in chunk.items:
            data = orjson.loads(r.data)
            cons = chunk.consensus.get(r.id)
            cons_value = orjson.loads(cons.value) if cons is not None else {}
            row = [
                r.external_id,
                *[_cell(data.get(f)) for f in fields],
                r.meta, r.priority, r.gold or "", _status(r), r.answer_count,
                orjson.dumps([_answer_obj(a) for a in chunk.answers.get(r.id, ())],
                             option=orjson.OPT_UTC_Z).decode(),
                *[_cell(q.kind.export_cell(q.spec, cons_value.get(q.name))) for q in questions],
                "" if cons is None or cons.confidence is None else cons.confidence,
                "" if cons is None else cons.value,
            ]
            w.writerow([
                neutralised(c) if isinstance(c, str) and c[:1] in FORMULA_START else c for c in row
            ])
        yield buf.getvalue().encode()
        buf.seek(0)
        buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return orjson.dumps(value).decode()
    return value


_ANSWER = pa.struct([
    ("answer_id", pa.int64()), ("annotator", pa.string()), ("value", pa.string()),
    ("created_at", pa.timestamp("us", tz="UTC")), ("leased_at", pa.timestamp("us", tz="UTC")),
    ("duration_ms", pa.int64()), ("source", pa.string()), ("supersedes", pa.int64()),
    ("suggestion", pa.string()),
])


def _parquet(plan: ExportPlan, chunks: Iterator[ItemChunk]) -> Iterator[bytes]:
    fields = [f.name for f in plan.schema.fields]
    schema = pa.schema([
        ("id", pa.string()), ("item_id", pa.int64()),
        *[(f"data.{f}", pa.string()) for f in fields],
        ("meta", pa.string()), ("priority", pa.float64()), ("gold", pa.string()),
        ("status", pa.string()), ("answer_count", pa.int32()), ("answers", pa.list_(_ANSWER)),
        ("consensus", pa.string()), ("consensus_confidence", pa.float64()),
        ("consensus_method", pa.string()),
    ], metadata={b"labelloop.redacted": b"true" if plan.redact is not None else b"false"})
    sink = Sink()
    writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd")
    for chunk in chunks:
        data = [orjson.loads(r.data) for r in chunk.items]
        cons = [chunk.consensus.get(r.id) for r in chunk.items]
        columns: dict[str, list[Any]] = {
            "id": [r.external_id for r in chunk.items],
            "item_id": [r.id for r in chunk.items],
            **{f"data.{f}": [_text(d.get(f)) for d in data] for f in fields},
            "meta": [r.meta for r in chunk.items],
            "priority": [r.priority for r in chunk.items],
            "gold": [r.gold for r in chunk.items],
            "status": [_status(r) for r in chunk.items],
            "answer_count": [r.answer_count for r in chunk.items],
            "answers": [
                [{**_answer_obj(a), "value": a.value, "suggestion": a.suggestion}
                 for a in chunk.answers.get(r.id, ())]
                for r in chunk.items
            ],
            "consensus": [c.value if c else None for c in cons],
            "consensus_confidence": [c.confidence if c else None for c in cons],
            "consensus_method": [c.method if c else None for c in cons],
        }
        writer.write_table(pa.Table.from_pydict(columns, schema=schema))
        yield sink.drain()
    writer.close()
    yield sink.drain()


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()
