"""What image and audio dataset archives share: an archive whose annotation files a format's
reader turns into entries, one per media file, for one question of the schema.

Both read annotation files against the archive's byte limit, refuse members whose names could
leave the archive, check each class against the question's labels, and make each stored file one
record whose value is its gold answer or its pre-label (images/datasets.py says why not answers).
How an entry's values are built and checked (pixels or seconds) stays with images/datasets.py and
audio/datasets.py.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from labelloop.errors import Problem
from labelloop.schema import Question
from labelloop.services.blobs import StoredMedia
from labelloop.services.importing.archive import ImageArchive, Member
from labelloop.services.importing.audio.files import KnownAudioFn
from labelloop.services.importing.images.files import KnownFn
from labelloop.services.importing.limits import ImportLimits
from labelloop.services.importing.options import AS as AS
from labelloop.services.importing.options import DatasetOptions as DatasetOptions
from labelloop.services.importing.options import check_as as check_as
from labelloop.services.importing.readers import StoredRecord, Where, shown
from labelloop.store.blobs import BlobStore

PIECE = 1 << 20  # read at a time from an annotation file


class AnnotatedArchive(ImageArchive):
    """A record source over a dataset archive; `reader` turns its annotation files into entries,
    and a subclass's `_entry` turns an entry into records or problems."""

    def __init__(
        self, path: Path, store: BlobStore, limits: ImportLimits | None, *, fmt: str,
        reader: Callable[[Any, dict[str, Member]], Iterator[Any]], question: Question,
        options: DatasetOptions, known: KnownFn | None = None, known_audio: KnownAudioFn | None = None,
    ) -> None:
        super().__init__(path, store, limits, known=known, known_audio=known_audio)
        self.format = fmt
        self.reader = reader
        self.options = options
        self.question = question
        assert self.question.spec.target is not None
        self.field = self.question.spec.target
        self.spec: Any = self.question.spec

    # -- what the format modules use ------------------------------------------------------------
    @property
    def stopped(self) -> bool:
        """Whether the archive's limit was reached (the rest is not read)."""
        return self._stop

    def read(self, m: Member) -> bytes | Problem:
        """A member's bytes (an annotation file), counted against the archive's limit."""
        where = Where(file=m.name)
        self.bytes_read += m.packed
        if m.problem is not None:
            return where.problem(m.problem)
        parts: list[bytes] = []
        size = 0
        try:
            with m.open() as f:
                while size <= self._left and (piece := f.read(min(PIECE, self._left + 1 - size))):
                    parts.append(piece)
                    size += len(piece)
        except (OSError, EOFError, RuntimeError, NotImplementedError, ValueError, zlib.error) as e:
            return where.problem(f"cannot be read from the archive: {e}")
        if size > self._left:
            self._stop = True
            return where.problem(self.limits.archive_too_large("files"))
        self._left -= size
        return b"".join(parts)

    def label(self, name: Any, where: Where, at: str, what: str = "label") -> str | Problem:
        """A class the file gives, if it is one of the question's labels."""
        if name not in self.spec.values:
            labels = ", ".join(self.spec.values)
            return where.problem(f"{what} {shown(str(name))!r} is not a label of question "
                                 f"{self.question.name!r} (labels: {labels})", at or None)
        return str(name)

    # -- the records --------------------------------------------------------------------------
    def _records(self, members: list[Member]) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        for m in members:  # a name that could leave the archive, a link, a name twice: refused
            if m.problem is not None:
                yield Where(file=m.name), Where(file=m.name).problem(m.problem)
        by_name = {m.name: m for m in members if m.problem is None}
        for found in self.reader(self, by_name):
            if isinstance(found, Problem):
                yield Where(line=found.line, record=found.record, file=found.file), found
            else:
                yield from self._entry(found, by_name)
            if self._stop:
                return

    def _entry(self, e: Any, by_name: dict[str, Member]) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        raise NotImplementedError

    def _record(self, external_id: str, stored: StoredMedia, values: Any) -> StoredRecord:
        """The item of one stored file, the question's values (its answer) its gold or its pre-label."""
        record: dict[str, Any] = {"id": external_id, self.field: stored.reference}
        value = {self.question.name: values}
        if self.options.as_ == "gold":
            record["gold"] = value
        else:
            record["meta"] = {"prelabel": value}
        return StoredRecord(record, (stored,))
