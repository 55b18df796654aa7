"""Video datasets with tracks, MOT Challenge or CVAT for video XML, in a zip (or, from the CLI, a
folder): with the videos, each video one item and its tracks the gold answer or the pre-label of
one `video_tracks` question; without any video file, the tracks of items already in the project,
found by name (docs/video.md, "Formats"). The video counterpart of audio/datasets.py and
audio/attach.py; `mot.py` and `cvat.py` read the files.

An annotation file names its video by path: MOT's sequence folder `clips/a/` (holding
`gt/gt.txt`) and CVAT's `clips/a.xml` are the video `clips/a` with a video suffix (`clips/a.mp4`;
two such files are a problem), or, without videos in the archive, the item whose id is `clips/a`,
else the one item whose id is that with a video suffix, else the item `item-<id>` or `<name>~<id>`
names (ids an export could not use as names). Each video is stored and probed as any imported
video; its tracks are read against its frame count and displayed size, then checked whole as a
submitted answer is (`video_tracks`' validate). Nothing is imported unless everything is right:
gold is merged with the item's gold for other questions and checked as a whole answer (as `PUT
.../gold`), pre-labels merged into `meta.prelabel`; all in one transaction.
Never as answers: an answer is a person's work given out by the queue (docs/images.md says why).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, select

from labelloop.errors import Invalid, Problem
from labelloop.schema import LabelSchema, ValueProblem, VideoInfo
from labelloop.services.blobs import StoredVideo, video_info
from labelloop.services.exporting.media import stem
from labelloop.services.exporting.video.plan import tracks_question
from labelloop.services.importing.annotated import AnnotatedArchive, DatasetOptions, check_as
from labelloop.services.importing.archive import Member
from labelloop.services.importing.attach import (
    MAX_PROBLEMS,
    Attached,
    attach_values,
    first_problems,
    numbered_item,
    only_item,
)
from labelloop.services.importing.limits import ImportLimits
from labelloop.services.importing.names import VIDEO_SUFFIXES, suffix
from labelloop.services.importing.readers import StoredRecord, Where, shown
from labelloop.services.importing.video.entries import Frame, TrackEntry
from labelloop.services.importing.video.media import KnownVideoFn
from labelloop.services.policy import Actor
from labelloop.services.targets import blob_hash
from labelloop.store.blobs import BlobStore
from labelloop.store.db import Database
from labelloop.store.models import item_data_text, items, published_in

FORMATS = ("mot", "cvat")
Reader = Callable[["VideoDatasetArchive", dict[str, Member]], Iterator[TrackEntry | Problem]]


@dataclass(frozen=True)
class Update:
    item_id: int
    where: Where
    value: dict[str, Any]


def _frame(info: VideoInfo | None) -> Frame:
    return Frame(None, None, None) if info is None else Frame(info.width, info.height, info.frame_count)


class VideoDatasetArchive(AnnotatedArchive):
    """A record source over a video dataset archive; `reader` turns its annotation files into entries."""

    def __init__(
        self, path: Path, store: BlobStore, limits: ImportLimits | None, *, fmt: str, reader: Reader,
        schema: LabelSchema, options: DatasetOptions, known_video: KnownVideoFn | None = None,
    ) -> None:
        check_as(options, "tracks")
        question = tracks_question(schema, options.question, fmt)
        super().__init__(path, store, limits, fmt=fmt, reader=reader, question=question, options=options)
        self.known_video = known_video
        self.video_fields = (self.field,)
        self.videos = sorted(n for n in self._names() if suffix(n) in VIDEO_SUFFIXES)
        self.attach = not self.videos
        self.find: Callable[[TrackEntry], tuple[int, VideoInfo | None] | Problem] | None = None
        self.updates: list[Update] = []
        self._named: set[str] = set()  # the videos annotation files are for

    @property
    def labels(self) -> list[str]:
        return list(self.spec.values)

    @property
    def attribute_names(self) -> list[str]:
        return [a.name for a in getattr(self.spec, "attributes", None) or []]

    def _records(self, members: list[Member]) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        yield from super()._records(members)
        if self.attach or self._stop:
            return
        for m in members:  # a video without annotation file: an item with nothing on it yet
            if m.problem is None and suffix(m.name) in VIDEO_SUFFIXES and stem(m.name) not in self._named:
                stored = self._store_video(m)
                where = Where(file=m.name)
                yield where, stored if isinstance(stored, Problem) else StoredRecord(
                    {"id": m.name, self.field: stored.reference}, (stored,))

    def _answer(self, e: TrackEntry, info: VideoInfo | None) -> dict[str, Any] | list[Problem]:
        tracks, problems = e.read(_frame(info))
        if problems:
            return problems
        try:
            value: dict[str, Any] = self.question.kind.validate(
                self.spec, {"tracks": tracks, "shapes": []}, info)
        except ValueProblem as err:
            return [e.where.problem(err.message, err.path.lstrip(".") or None)]
        return value

    def _entry(
        self, e: TrackEntry, by_name: dict[str, Member]
    ) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        self._named.add(e.name)
        if self.attach:
            assert self.find is not None, "an archive without videos needs find"
            found = self.find(e)
            if isinstance(found, Problem):
                yield e.where, found
                return
            item_id, info = found
            answer = self._answer(e, info)
            if isinstance(answer, list):
                yield from ((Where(file=p.file, line=p.line), p) for p in answer)
            else:
                self.updates.append(Update(item_id, e.where, answer))
            return
        videos = [n for n in self.videos if stem(n) == e.name]
        if len(videos) != 1:
            why = (f"no video {shown(e.name)}.mp4 (or .webm, .mov, .mkv) in the archive" if not videos
                   else f"several videos for it: {', '.join(shown(v) for v in videos)}")
            yield e.where, e.where.problem(why)
            return
        member = by_name.get(videos[0])
        if member is None:  # refused by name already (a link, a name twice, one that leaves the archive)
            return
        stored = self._store_video(member)
        if isinstance(stored, Problem):
            yield e.where, stored
            return
        assert isinstance(stored, StoredVideo)
        answer = self._answer(e, stored.info)
        if isinstance(answer, list):
            yield from ((Where(file=p.file, line=p.line), p) for p in answer)
            return
        yield e.where, self._record(member.name, stored, answer)


# -- items already in the project ---------------------------------------------------------------

def _item(conn: Connection, project_id: int, name: str) -> Any | Problem | None:
    cols = select(items.c.id, items.c.external_id, item_data_text())
    exact = conn.execute(cols.where(published_in(project_id), items.c.external_id == name)).first()
    if exact is not None:
        return exact
    near = [r for r in conn.execute(cols.where(
        published_in(project_id), items.c.external_id.startswith(name + ".", autoescape=True)).limit(20))
        if stem(r.external_id) == name and suffix(r.external_id) in VIDEO_SUFFIXES]
    chosen = only_item(near, name)
    return chosen if chosen is not None else numbered_item(conn, cols, project_id, name)


def _find(
    db: Database, project_id: int, field: str, e: TrackEntry
) -> tuple[int, VideoInfo | None] | Problem:
    with db.read() as conn:
        row = _item(conn, project_id, e.name)
        if isinstance(row, Problem):
            return e.where.problem(row.message)
        if row is None:
            return e.where.problem(f"no video {shown(e.name)!r} in the archive, and no item "
                                   f"{shown(e.name)!r} in the project to give these tracks to")
        sha = blob_hash(orjson.loads(row.data).get(field))
        return row.id, video_info(conn, sha) if sha is not None else None


def attach_tracks(
    db: Database, actor: Actor, project_id: int, source: VideoDatasetArchive, name: str,
    then: Callable[[Connection, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Check every file, then write the tracks to their items in one transaction, with
    `then(conn, result)` (the import's audit entry)."""
    source.find = partial(_find, db, project_id, source.field)
    found = first_problems(source.records())
    seen: dict[int, Update] = {}
    for u in source.updates:
        if u.item_id in seen:
            first = seen[u.item_id].where.file or ""
            found.append(u.where.problem(f"for the same item as {shown(first)!r}"))
        seen[u.item_id] = u
    if not found and not source.updates:
        found.append(Problem("no tracks for any item"))
    if found:
        raise Invalid(f"{name}: nothing was imported", found[:MAX_PROBLEMS])

    attached = (Attached(u.item_id, u.value, u.where) for u in source.updates)
    return attach_values(db, actor, project_id, name, question=source.question.name,
                         as_=source.options.as_, attached=attached, then=then)
