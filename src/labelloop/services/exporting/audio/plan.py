"""What an audio-dataset export holds: one `audio_segments` question, whose segments, which audio
files, named how (docs/audio.md, "Formats"); the audio counterpart of images/pictures.py.

Per item, the question's segments from one source: the consensus (the default), the gold answer,
or every annotator's latest answer (revisions replace what they correct; only the NeMo manifest
has a place for who marked a segment). Items without a value from that source are not exported;
items whose audio is not a stored, probed audio file (given by URL, or not audio) are listed in
`skipped.csv`.

An audio file's name in the archive is its item's id when that is a plain relative path with an
audio suffix (`calls/07.wav`), the id with the suffix of its type added when it has none
(`c1` -> `c1.wav`), else `item-<id>` with the suffix. Subtitle and RTTM files are named after the
audio file without its suffix, and a folder unzipped on Windows or macOS ignores case, so two
names equal in those ways get `~<item id>` before the suffix of the later one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, select

from labelloop.errors import Invalid, Problem
from labelloop.schema import LabelSchema, Question
from labelloop.services.exporting import media
from labelloop.services.importing.names import AUDIO_SUFFIXES
from labelloop.services.items import ItemFilter
from labelloop.services.privacy.exported import redact_segments
from labelloop.services.privacy.settings import PrivacySettings
from labelloop.store.models import blob_audio, blobs

FORMATS = ("nemo", "srt", "webvtt", "rttm")
NAMES = {"nemo": "NeMo manifest", "srt": "SRT", "webvtt": "WebVTT", "rttm": "RTTM"}
SUFFIX = {"audio/wav": ".wav", "audio/flac": ".flac", "audio/mpeg": ".mp3", "audio/ogg": ".ogg",
          "audio/mp4": ".m4a"}


@dataclass(frozen=True)
class AudioPlan:
    format: str
    question: Question
    field: str  # the audio field the question is about
    source: str
    files: str  # include (the audio files go in) or refs (references.csv instead)
    # Transcripts with personal data replaced (docs/privacy.md, "Exports"); None: the original.
    redact: PrivacySettings | None = None
    schema: LabelSchema | None = None
    where: ItemFilter | None = None  # only the items of a saved slice (services/curation/slices.py)


@dataclass(frozen=True)
class Clip(media.ArchivedFile):
    """One exported audio file and its segments: (annotator, segment), annotator None but for answers."""

    duration: float
    segments: list[tuple[str | None, dict[str, Any]]]


def audio_plan(schema: LabelSchema, fmt: str, question: str | None, source: str, files: str,
               redact: PrivacySettings | None = None) -> AudioPlan:
    """Check the parameters against the schema before the first byte is sent."""
    media.check_choices(source, files, "unknown choice for the audio files")
    if source == "answers" and fmt != "nemo":
        raise Invalid(f"{NAMES[fmt]} cannot say who marked what", [Problem(
            f"{NAMES[fmt]} has one file per audio item and no place for the annotator: export answers "
            f"as nemo, or the consensus or gold as {fmt}", field="source")])
    q = segments_question(schema, question, fmt)
    if fmt == "rttm":
        spaced = [v for v in q.spec.values if not v or any(c.isspace() for c in v)]  # type: ignore[attr-defined]
        if spaced:
            raise Invalid("RTTM cannot hold these labels", [Problem(
                f"RTTM separates its fields by spaces, so a speaker label holds none: {spaced[0]!r}",
                field="question")])
    assert q.spec.target is not None  # an audio_segments question always has one
    return AudioPlan(fmt, q, q.spec.target, source, files, redact, schema if redact is not None else None)


def segments_question(schema: LabelSchema, name: str | None, fmt: str) -> Question:
    """The question named, or the schema's only `audio_segments` question; Invalid naming the choices."""
    return media.kind_question(
        schema, name, "audio_segments", NAMES[fmt], "the segments of an audio_segments question")


def _probed(hashes: list[str]) -> Select[Any]:
    return (select(blobs.c.sha256, blobs.c.media_type, blob_audio.c.duration)
            .join(blob_audio, blob_audio.c.sha256 == blobs.c.sha256).where(blobs.c.sha256.in_(hashes)))


def clips(conn: Connection, project_id: int, plan: AudioPlan) -> Iterator[Clip | media.Skipped]:
    """The export's audio files in item order (one pass over the project; run again for another)."""
    names = media.ArchiveNames(SUFFIX, ".audio", AUDIO_SUFFIXES)
    index = 0
    for item in media.media_items(conn, project_id, source=plan.source, question=plan.question.name,
                            field=plan.field, lookup=_probed, where=plan.where):
        row, ref, sha, blob = item.row, item.reference, item.sha256, item.blob
        if blob is None:
            why = "no audio" if ref is None else (
                "the audio is given by URL: the file is not stored here" if sha is None
                else "the stored file is not probed audio")
            yield media.Skipped(row.external_id, why)
            continue
        index += 1
        values = item.values
        if plan.redact is not None and plan.schema is not None:  # personal data in transcripts hidden
            values = redact_segments(plan.redact, plan.schema, plan.question.name, values)
        yield Clip(index, row.external_id, names(row.id, row.external_id, blob.media_type), ref,
                   blob.sha256, blob.media_type, blob.duration, values)
