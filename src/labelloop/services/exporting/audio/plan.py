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

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import orjson
from sqlalchemy import Connection, select

from labelloop.errors import Invalid, Problem
from labelloop.schema import LabelSchema, Question
from labelloop.services.exporting.chunks import ItemChunk, item_chunks
from labelloop.services.exporting.images.pictures import IMAGES, SOURCES, Skipped
from labelloop.services.importing.names import AUDIO_SUFFIXES, is_junk, unsafe_name
from labelloop.services.targets import blob_hash
from labelloop.store.models import blob_audio, blobs

FORMATS = ("nemo", "srt", "webvtt", "rttm")
NAMES = {"nemo": "NeMo manifest", "srt": "SRT", "webvtt": "WebVTT", "rttm": "RTTM"}
SUFFIX = {"audio/wav": ".wav", "audio/flac": ".flac", "audio/mpeg": ".mp3", "audio/ogg": ".ogg",
          "audio/mp4": ".m4a"}
MAX_NAME = 255


@dataclass(frozen=True)
class AudioPlan:
    format: str
    question: Question
    field: str  # the audio field the question is about
    source: str
    files: str  # include (the audio files go in) or refs (references.csv instead)


@dataclass(frozen=True)
class Clip:
    """One exported audio file and its segments: (annotator, segment), annotator None but for answers."""

    index: int  # 1-based, in item order
    external_id: str
    name: str
    reference: str
    sha256: str
    media_type: str
    duration: float
    segments: list[tuple[str | None, dict[str, Any]]]


def audio_plan(schema: LabelSchema, fmt: str, question: str | None, source: str, files: str) -> AudioPlan:
    """Check the parameters against the schema before the first byte is sent."""
    if source not in SOURCES:
        raise Invalid("unknown source", [Problem(f"{source!r}; known: {', '.join(SOURCES)}", field="source")])
    if files not in IMAGES:
        raise Invalid("unknown choice for the audio files",
                      [Problem(f"{files!r}; known: {', '.join(IMAGES)}", field="images")])
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
    return AudioPlan(fmt, q, q.spec.target, source, files)


def segments_question(schema: LabelSchema, name: str | None, fmt: str) -> Question:
    """The question named, or the schema's only `audio_segments` question; Invalid naming the choices."""
    fitting = [q for q in schema.questions if q.kind.name == "audio_segments"]
    if name is not None:
        found = [q for q in schema.questions if q.name == name]
        if not found:
            known = ", ".join(q.name for q in fitting) or "none"
            raise Invalid("no such question", [Problem(f"{name!r}; audio_segments questions: {known}",
                                                       field="question")])
        if found[0].kind.name != "audio_segments":
            raise Invalid("the format cannot hold this question", [Problem(
                f"{name!r} is a {found[0].kind.name} question; {NAMES[fmt]} holds audio_segments",
                field="question")])
        return found[0]
    if len(fitting) == 1:
        return fitting[0]
    if not fitting:
        raise Invalid("no question the format can hold", [Problem(
            f"{NAMES[fmt]} holds the segments of an audio_segments question; the schema has none",
            field="question")])
    names = ", ".join(q.name for q in fitting)
    raise Invalid("say which question", [Problem(f"the schema has several ({names}); choose one",
                                                 field="question")])


def stem(name: str) -> str:
    """The name without its suffix: what subtitle and RTTM files are named after."""
    return str(PurePosixPath(name).with_suffix(""))


class _Names:
    """Unique names in the archive, as clips are met in item order; an 8-byte digest kept per name."""

    def __init__(self) -> None:
        self.seen: set[bytes] = set()

    def _key(self, name: str) -> bytes:
        return hashlib.blake2b(stem(name).casefold().encode(), digest_size=8).digest()

    def __call__(self, item_id: int, external_id: str, media_type: str) -> str:
        suffix = SUFFIX.get(media_type, ".audio")
        plain = len(external_id) <= MAX_NAME - 20 and unsafe_name(external_id) is None \
            and not is_junk(external_id)
        if plain and PurePosixPath(external_id).suffix.lower() in AUDIO_SUFFIXES:
            name = external_id
        elif plain:
            name = external_id + suffix
        else:
            name = f"item-{item_id}{suffix}"
        path = PurePosixPath(name)
        n = 1
        while self._key(name) in self.seen:
            name = str(path.with_name(f"{path.stem}~{item_id}{'' if n == 1 else f'~{n}'}{path.suffix}"))
            n += 1
        self.seen.add(self._key(name))
        return name


def _probed(conn: Connection, hashes: set[str]) -> dict[str, Any]:
    if not hashes:
        return {}
    rows = conn.execute(select(blobs.c.sha256, blobs.c.media_type, blob_audio.c.duration)
                        .join(blob_audio, blob_audio.c.sha256 == blobs.c.sha256)
                        .where(blobs.c.sha256.in_(sorted(hashes))))
    return {r.sha256: r for r in rows}


def _segments(plan: AudioPlan, chunk: ItemChunk, row: Any) -> list[tuple[str | None, Any]] | None:
    """The question's segments on one item from the plan's source; None when it has no value."""
    q = plan.question.name
    if plan.source == "gold":
        value = orjson.loads(row.gold).get(q) if row.gold else None
        return None if value is None else [(None, s) for s in value]
    if plan.source == "consensus":
        c = chunk.consensus.get(row.id)
        value = orjson.loads(c.value).get(q) if c is not None else None
        return None if value is None else [(None, s) for s in value]
    given = chunk.answers.get(row.id, [])
    replaced = {a.supersedes_id for a in given}
    latest = [(a.username, orjson.loads(a.value).get(q)) for a in given if a.id not in replaced]
    latest = [(who, v) for who, v in latest if v is not None]
    return None if not latest else [(who, s) for who, v in latest for s in v]


def clips(conn: Connection, project_id: int, plan: AudioPlan) -> Iterator[Clip | Skipped]:
    """The export's audio files in item order (one pass over the project; run again for another)."""
    names = _Names()
    index = 0
    for chunk in item_chunks(conn, project_id, with_answers=plan.source == "answers"):
        found: list[tuple[Any, Any, list[tuple[str | None, Any]]]] = []
        for row in chunk.items:
            segments = _segments(plan, chunk, row)
            if segments is not None:
                found.append((row, orjson.loads(row.data).get(plan.field), segments))
        probed = _probed(conn, {h for _, ref, _ in found if (h := blob_hash(ref)) is not None})
        for row, ref, segments in found:
            sha = blob_hash(ref)
            blob = probed.get(sha) if sha is not None else None
            if blob is None:
                why = "no audio" if ref is None else (
                    "the audio is given by URL: the file is not stored here" if sha is None
                    else "the stored file is not probed audio")
                yield Skipped(row.external_id, why)
                continue
            index += 1
            yield Clip(index, row.external_id, names(row.id, row.external_id, blob.media_type), ref,
                       blob.sha256, blob.media_type, blob.duration, segments)
