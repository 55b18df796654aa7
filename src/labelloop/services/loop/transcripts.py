"""Pre-labels from a speech model: segments (with transcripts and word timings when the question wants
text) for an `audio_segments` question, stored as a model version's predictions, so the workbench
shows them as editable regions under the suggestion rules.

The pre-label job (`POST /api/projects/{id}/loop/prelabel`, services/loop/prelabels.py dispatches
here when the project's `audio_segments` question has a `transcriber`) runs the project's
transcriber (`whisper`, `vad`, a team's over HTTP, or an entry point; services/loop/transcribers.py)
over every item whose audio is a stored file, one file at a time with progress, and writes one new
model version:

- **what is transcribed**: items without segments from this transcriber yet. The previous version's
  segments are kept when they came from the same transcriber with the same settings (name, label,
  question, whether it asks for text); after a change every file is transcribed again. Audio given
  by URL is never fetched (`without_audio`).
- **segments**: every segment gets the label `transcriber_label` (default the question's first
  label); text and words only when the question has `transcript: true`. Each item's segments are
  checked against the probed duration like any `audio_segments` answer: a model answering a segment
  past the end fails the job, naming the item and the segment. The item's confidence is the mean
  of its segments' scores weighted by their words (1 when nobody speaks).
- **the version** carries the previous version's answers to the other questions
  (services/loop/versions.py). Nothing is written until every file is done, and then in one
  transaction: a failed job leaves the suggestions as they were.
- **held-out score** (`speech_score`, what `suggest_min_accuracy` is compared with): on a question
  with transcripts the word accuracy `max(0, 1 - WER)`, where WER is the corpus word error rate
  (labelloop.quality.texts: errors pooled over items / reference words, lower case, punctuation
  removed) of the model's transcript of each item (its segments' texts in time order) against
  gold items and the human consensus of items whose answers never showed this question's
  suggestion; without transcripts the segment F1 at temporal IoU 0.5 (same label) against the
  same references. None when no such item exists: with a bar set, an unmeasured model suggests
  nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, and_, insert, select

from labelloop.errors import Invalid, Problem
from labelloop.learn.speech import SpeechSegment, Transcriber
from labelloop.quality.texts import corpus_wer
from labelloop.schema import AudioInfo, LabelSchema, Question, ValueProblem
from labelloop.schema.types.audio.segments import THRESHOLD, interval_iou
from labelloop.schema.types.shapes import shape_match
from labelloop.services.loop import prelabelling
from labelloop.services.loop.settings import LoopSettings, loop_settings
from labelloop.services.loop.transcribers import FIELD, HttpTranscriber, transcriber_for
from labelloop.services.policy import Action, Actor, access
from labelloop.services.projects import schema_of
from labelloop.services.targets import blob_hash
from labelloop.store.blobs import BlobStore
from labelloop.store.db import Database
from labelloop.store.models import (
    blob_audio,
    blobs,
    predictions,
    project_blobs,
)

KIND = "prelabel"
QUESTION_TYPE = "audio_segments"
ProgressFn = Callable[..., None]


@dataclass(frozen=True)
class AudioFile:
    """An item's stored audio file as probed at import."""

    sha256: str
    media_type: str
    duration: float
    channels: int
    sample_rate: int

    @property
    def info(self) -> AudioInfo:
        return AudioInfo(self.duration, self.channels, self.sample_rate)


def wants_transcriber(schema: LabelSchema, settings: LoopSettings) -> bool:
    """Whether the pre-label job is the speech one: the schema has an `audio_segments` question and
    either a transcriber is set or there is no `bbox` question for a detector."""
    kinds = {q.kind.name for q in schema.questions}
    return QUESTION_TYPE in kinds and (settings.transcriber is not None or "bbox" not in kinds)


def is_speech_job(conn: Connection, actor: Actor, project_id: int) -> bool:
    """Whether the project's pre-label job runs its speech model (`wants_transcriber`)."""
    acc = access(conn, actor, project_id, Action.edit_project)
    return wants_transcriber(schema_of(acc.project.label_schema), loop_settings(acc.project.loop_settings))


def speech_question(schema: LabelSchema, settings: LoopSettings) -> Question:
    """The audio_segments question the transcriber pre-labels (`transcriber_question`, else the first)."""
    for q in schema.questions:
        if q.kind.name == QUESTION_TYPE and settings.transcriber_question in (None, q.name):
            return q
    where = (f"no {QUESTION_TYPE} question named {settings.transcriber_question!r}"
             if settings.transcriber_question else f"the schema has no {QUESTION_TYPE} question")
    raise Invalid("nothing to pre-label", [Problem(where, field="loop.transcriber_question")])


def speech_label(question: Question, settings: LoopSettings) -> str:
    labels = list(question.spec.values)  # type: ignore[attr-defined]
    if settings.transcriber_label is None:
        return str(labels[0])
    if settings.transcriber_label not in labels:
        raise Invalid("bad transcriber settings", [Problem(
            f"{settings.transcriber_label!r} is not a label of {question.name!r} "
            f"(labels: {', '.join(labels)})", field="loop.transcriber_label")])
    return settings.transcriber_label


def transcriber_config(settings: LoopSettings, question: Question, label: str) -> dict[str, Any]:
    """What makes two runs' segments the same segments (kept in the version's metrics)."""
    return {"name": settings.transcriber, "label": label, "question": question.name,
            "transcript": bool(question.spec.transcript)}  # type: ignore[attr-defined]


def item_audio(conn: Connection, project_id: int, data: Sequence[dict[str, Any]],
               field: str) -> list[AudioFile | None]:
    """Each item's stored, probed audio file in `field` that the project holds (None: a URL, a
    missing value, a file the project does not hold or that is not audio)."""
    hashes = [blob_hash(d.get(field)) for d in data]
    wanted = sorted({h for h in hashes if h is not None})
    found: dict[str, AudioFile] = {}
    for start in range(0, len(wanted), 1000):
        rows = conn.execute(
            select(blobs.c.sha256, blobs.c.media_type, blob_audio.c.duration, blob_audio.c.channels,
                   blob_audio.c.sample_rate)
            .select_from(blobs.join(blob_audio, blob_audio.c.sha256 == blobs.c.sha256)
                         .join(project_blobs, and_(project_blobs.c.sha256 == blobs.c.sha256,
                                                   project_blobs.c.project_id == project_id)))
            .where(blobs.c.sha256.in_(wanted[start:start + 1000])))
        found.update({r.sha256: AudioFile(r.sha256, r.media_type, float(r.duration), int(r.channels),
                                          int(r.sample_rate)) for r in rows})
    return [None if h is None else found.get(h) for h in hashes]


def run_transcripts(
    db: Database, store: BlobStore, actor: Actor, project_id: int, *, job_id: int | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """The job (module docstring); returns its metrics with the new model version."""
    schema, settings = prelabelling.project_loop(db, actor, project_id)
    if settings.transcriber is None:
        raise Invalid("no transcriber is set", [Problem(
            "set loop.transcriber: whisper, vad, the URL of a speech model, or python:<entry point>",
            field=FIELD)])
    question = speech_question(schema, settings)
    label = speech_label(question, settings)
    field = question.spec.target
    assert field is not None  # audio_segments questions target an audio field
    config = transcriber_config(settings, question, label)

    with db.read(snapshot=True) as conn:
        rows = prelabelling.published_items(conn, project_id)
        audio = item_audio(conn, project_id, [r.data for r in rows], field)
        previous, before = prelabelling.previous_version(conn, project_id, rows)
        reference = _references(conn, project_id, question, rows)
    found: prelabelling.Found = {}
    if previous is not None and _config_of(previous[1]) == config:
        found = prelabelling.reused(before, question.name)
    todo = [(r, a) for r, a in zip(rows, audio, strict=True) if a is not None and r.id not in found]
    model = transcriber_for(settings.transcriber, question=question.name,
                            transcript=config["transcript"])
    _transcribe(model, question, label, store, todo, found, progress)

    metrics = _metrics(question, config, model.name, reference, found, len(rows), len(todo),
                       sum(a is None for a in audio))
    metrics["carried"] = prelabelling.carried(previous)
    version = db.run(lambda c: _write(c, project_id, job_id, question, settings, metrics, rows, found,
                                      before))
    return {"model_version": version, **metrics}


def _config_of(metrics: dict[str, Any]) -> dict[str, Any] | None:
    own = metrics.get("transcriber", (metrics.get("carried") or {}).get("transcriber"))
    return dict(own) if isinstance(own, dict) else None


def _confidence(segments: Sequence[SpeechSegment]) -> float:
    """The segments' mean score, each weighing as many words as it has (at least one)."""
    if not segments:
        return 1.0
    weights = [max(len(s.words or ()), 1) for s in segments]
    return float(sum(s.score * w for s, w in zip(segments, weights, strict=True)) / sum(weights))


def _transcribe(
    model: Transcriber, question: Question, label: str, store: BlobStore,
    todo: Sequence[tuple[Any, AudioFile]], found: prelabelling.Found, progress: ProgressFn | None,
) -> None:
    """Transcribe `todo` into `found`, each item's segments checked as an answer would be."""
    transcript = bool(question.spec.transcript)  # type: ignore[attr-defined]
    for n, (row, file) in enumerate(todo):
        if progress is not None:
            progress(n, len(todo), f"transcribing: {n:,} of {len(todo):,} files")
        try:  # a file on disk for the decoder (a temporary copy when encrypted or in S3)
            with store.local_copy(file.sha256) as source:
                if isinstance(model, HttpTranscriber):
                    segments = model.transcribe(source, item=str(row.external_id), ref=f"blob:{file.sha256}",
                                                media_type=file.media_type)
                else:
                    segments = model.transcribe(source)
        except Invalid as e:
            raise Invalid(e.message, [Problem(f"item {row.external_id!r}: {p.message}", field=p.field)
                                      for p in e.problems]) from None
        value = [s.as_value(label, transcript=transcript) for s in segments]
        try:
            clean = question.kind.validate(question.spec, value, file.info)
        except ValueProblem as e:
            raise Invalid("the speech model answered badly", [Problem(
                f"item {row.external_id!r}: {e.message}", field=f"{question.name}{e.path}")]) from None
        found[int(row.id)] = (clean, _confidence(segments))
    if progress is not None:
        progress(len(todo), len(todo), "transcribed", force=True)


def _references(conn: Connection, project_id: int, question: Question, rows: Sequence[Any]) -> dict[int, Any]:
    """Segments to measure the model against: gold, and human consensus of items whose answers
    never showed this question's suggestion (prelabelling.py)."""
    gold = {r.id: r.gold[question.name] for r in rows
            if r.gold is not None and isinstance(r.gold.get(question.name), list)}
    return prelabelling.with_human_consensus(conn, project_id, question, gold)


def transcript_of(segments: Sequence[dict[str, Any]]) -> str | None:
    """An item's text: its segments' texts in time order (None when a segment has no text)."""
    texts = [s.get("text") for s in segments]
    if any(t is None for t in texts):
        return None
    return " ".join(str(t) for t in texts)


def segment_counts(found: Sequence[dict[str, Any]], truth: Sequence[dict[str, Any]]) -> tuple[int, int, int]:
    """(matched, |found|, |truth|): one-to-one matching at temporal IoU 0.5 within a label."""
    if not found or not truth:
        return 0, len(found), len(truth)
    bounds = [np.array([[s["start"], s["end"]] for s in v], dtype=np.float64) for v in (found, truth)]
    same = np.array([[a["label"] == b["label"] for b in truth] for a in found], dtype=bool)
    sim = np.where(same, interval_iou(bounds[0], bounds[1]), 0.0)
    return len(shape_match.matches(sim, THRESHOLD)), len(found), len(truth)


def _metrics(
    question: Question, config: dict[str, Any], model: str, reference: dict[int, Any],
    found: prelabelling.Found, n_items: int, transcribed: int, without_audio: int,
) -> dict[str, Any]:
    measured = [i for i in reference if i in found]
    matched = n_found = n_truth = 0
    for i in measured:
        m, a, b = segment_counts(found[i][0], reference[i])
        matched, n_found, n_truth = matched + m, n_found + a, n_truth + b
    f1 = (1.0 if n_found + n_truth == 0 else 2 * matched / (n_found + n_truth)) if measured else None
    wer = None
    texts = {i: t for i in measured if (t := transcript_of(reference[i])) is not None}
    if config["transcript"] and texts:
        wer = corpus_wer({i: transcript_of(found[i][0]) or "" for i in texts}, texts)
    score = (None if wer is None else max(0.0, 1.0 - wer)) if config["transcript"] else f1
    return {
        "kind": KIND, "question": question.name, "transcriber": config, "transcriber_model": model,
        "speech_score": score, "wer": wer, "wer_items": len(texts), "segment_f1": f1,
        "segment_f1_items": len(measured),
        "items": n_items, "prelabelled": len(found), "transcribed": transcribed,
        "reused": len(found) - transcribed, "without_audio": without_audio,
        "segments": sum(len(v) for v, _ in found.values()),
        "words": sum(len(s.get("words") or ()) for v, _ in found.values() for s in v),
    }


def _write(
    conn: Connection, project_id: int, job_id: int | None, question: Question, settings: LoopSettings,
    metrics: dict[str, Any], rows: Sequence[Any], found: prelabelling.Found, before: prelabelling.Before,
) -> int:
    """The version and all its predictions, in the caller's one transaction."""
    version = prelabelling.new_version(
        conn, project_id=project_id, job_id=job_id, question=question.name,
        encoder=f"transcriber:{settings.transcriber}",
        classes=list(question.spec.values),  # type: ignore[attr-defined]
        metrics=metrics)
    out = prelabelling.prediction_rows(version, rows, question.name, found, before)
    for start in range(0, len(out), prelabelling.WRITE_CHUNK):
        conn.execute(insert(predictions), out[start:start + prelabelling.WRITE_CHUNK])
    return version
