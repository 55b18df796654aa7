"""Audio datasets with their segments, NeMo manifests, SRT, WebVTT or RTTM, in a zip (or, from the
CLI, a folder) with the audio files: each audio file one item, its segments the gold answer or
the pre-label of one `audio_segments` question (docs/audio.md, "Formats"); the audio counterpart
of images/datasets.py.

The format modules (`manifest.py`, `subtitles.py`, `rttm.py`) read the annotation files into
`AudioEntry`s: an audio file's path in the archive and its segments, each with the file and line
it came from. Here each audio file is stored like any imported one (importing/archive.py: names checked,
sizes counted while inflating, probed and decoded once, peaks), and each segment is checked as a
submitted one is (`LabelType.validate` against the probed duration), every problem naming the
annotation file, its line and the field: a time past the end of the audio, an end before its
start, a label that is not the question's, overlapping segments where the question allows none.
Nothing is imported unless everything is right.

The segments become the item's gold (`as=gold`) or its pre-label (`as=prelabels`: `meta.prelabel`),
as for image datasets; not answers (images/datasets.py says why).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelloop.errors import Problem
from labelloop.schema import AudioInfo, LabelSchema, Question, ValueProblem
from labelloop.services.blobs import StoredAudio
from labelloop.services.exporting.audio.plan import segments_question
from labelloop.services.importing.annotated import AnnotatedArchive, DatasetOptions, check_as
from labelloop.services.importing.archive import Member
from labelloop.services.importing.audio.files import KnownAudioFn
from labelloop.services.importing.limits import ImportLimits
from labelloop.services.importing.names import AUDIO_SUFFIXES, suffix
from labelloop.services.importing.readers import Where, shown
from labelloop.store.blobs import BlobStore

FORMATS = ("nemo", "srt", "webvtt", "rttm")
_INDEX = re.compile(r"^\[(\d+)\]\.?")
_OTHER = re.compile(r"segment \[(\d+)\]")


@dataclass
class RawSegment:
    """One segment as a file gives it, in seconds, with where it is written."""

    where: Where  # the annotation file and line
    start: float
    end: float
    label: str
    text: str | None


@dataclass
class AudioEntry:
    """One audio file as the annotation files name it, and its segments in file order."""

    audio: str  # its path in the archive
    external_id: str
    where: Where  # where it is named, for a problem about the file itself
    at: str | None  # the field naming it (`audio_filepath`), if any
    segments: list[RawSegment]


Reader = Callable[["AudioDatasetArchive", dict[str, Member]], Iterator[AudioEntry | Problem]]
# An annotation file's entry -> (item id, the item's audio as probed, or None for a URL), or why not.
FindFn = Callable[[AudioEntry], "tuple[int, AudioInfo | None] | Problem"]


@dataclass(frozen=True)
class Update:
    """Segments for an item already in the project (an archive without audio files)."""

    item_id: int
    entry: AudioEntry
    segments: list[Any]


def target_question(schema: LabelSchema, fmt: str, options: DatasetOptions) -> Question:
    check_as(options, "segments")
    return segments_question(schema, options.question, fmt)


class AudioDatasetArchive(AnnotatedArchive):
    """A record source over an audio dataset archive; `reader` turns its annotation files into entries."""

    def __init__(
        self, path: Path, store: BlobStore, limits: ImportLimits | None, *, fmt: str, reader: Reader,
        schema: LabelSchema, options: DatasetOptions, known_audio: KnownAudioFn | None = None,
    ) -> None:
        super().__init__(path, store, limits, fmt=fmt, reader=reader,
                         question=target_question(schema, fmt, options), options=options,
                         known_audio=known_audio)
        # No audio file at all: the annotation files are for items already in the project
        # (attach.py), found by `find`; what they hold is collected in `updates`.
        self.attach = not any(suffix(n) in AUDIO_SUFFIXES for n in self._names())
        self.find: FindFn | None = None
        self.updates: list[Update] = []

    # -- what the format modules use ------------------------------------------------------------
    @property
    def transcript(self) -> bool:
        return bool(self.spec.transcript)

    def text_of(self, m: Member) -> str | Problem:
        """An annotation file as text: UTF-8 (a byte-order mark allowed), line ends made `\\n`."""
        raw = self.read(m)
        if isinstance(raw, Problem):
            return raw
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = raw[:e.start].count(b"\n") + 1
            return Where(file=m.name, line=line).problem("not valid UTF-8: save the file as UTF-8")
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def _entry(
        self, e: AudioEntry, by_name: dict[str, Member]
    ) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        if self.attach:
            yield from self._attached(e)
            return
        member = by_name.get(e.audio)
        if member is None:
            yield e.where, e.where.problem(f"no audio file {shown(e.audio)!r} in the archive", e.at)
            return
        self.bytes_read += member.packed
        stored = self._store_audio(member, Where(file=member.name))
        if isinstance(stored, Problem):
            yield e.where, stored
            return
        assert isinstance(stored, StoredAudio)
        segments, problems = self._segments(e, stored.info)
        if problems:
            for p in problems:
                yield Where(line=p.line, file=p.file), p
            return
        yield e.where, self._record(e.external_id, stored, segments)

    def _attached(self, e: AudioEntry) -> Iterator[tuple[Where, Problem]]:
        """An entry for an item already in the project: checked against its audio, kept for later."""
        assert self.find is not None, "an archive without audio files needs find (attach.py)"
        found = self.find(e)
        if isinstance(found, Problem):
            yield e.where, found
            return
        item_id, audio = found
        segments, problems = self._segments(e, audio)
        for p in problems:
            yield Where(line=p.line, file=p.file), p
        if not problems:
            self.updates.append(Update(item_id, e, segments))

    def _segments(self, e: AudioEntry, audio: AudioInfo | None) -> tuple[list[Any], list[Problem]]:
        kind = self.question.kind
        checked: list[dict[str, Any]] = []
        problems: list[Problem] = []
        for raw in e.segments:
            segment: dict[str, Any] = {"start": raw.start, "end": raw.end, "label": raw.label}
            if self.transcript:
                segment["text"] = raw.text
            try:
                checked.extend(kind.validate(self.spec, [segment], audio))
            except ValueProblem as err:
                problems.append(raw.where.problem(err.message, _INDEX.sub("", err.path) or None))
        if problems:
            return [], problems
        if len(checked) > self.spec.max_segments:
            return [], [e.where.problem(
                f"{len(checked)} segments for one audio file; question {self.question.name!r} takes at "
                f"most {self.spec.max_segments}", e.at)]
        try:
            return kind.validate(self.spec, checked, audio), []
        except ValueProblem as err:  # overlapping segments: the path names the later one
            found = _INDEX.match(err.path)
            where = e.segments[int(found.group(1))].where if found else e.where

            def line_of(m: re.Match[str]) -> str:
                other = e.segments[int(m.group(1))].where
                return f"the segment on line {other.line}" if other.line else "another segment"

            return [], [where.problem(_OTHER.sub(line_of, err.message), _INDEX.sub("", err.path) or None)]
