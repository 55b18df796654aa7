"""Segments for audio items already in the project: a NeMo manifest, SRT, WebVTT or RTTM files in a
zip (or folder) that holds no audio file at all, such as an export with `images=refs`
(docs/audio.md, "Formats").

Each annotation file (each manifest line's `audio_filepath`) is matched to one item of the project:
- the item whose id is the name: the manifest's path without a leading `audio/`
  (`audio/calls/07.wav` -> `calls/07.wav`), or an SRT, WebVTT or RTTM file's path without its
  suffix (`calls/07.srt` -> `calls/07`);
- else the one item whose id is that name without its audio suffix, or with one (`calls/07.wav`,
  `calls/07.mp3`: two such items are a problem);
- else the item the export named `item-<id>` or `<name>~<id>` (ids it could not use as names).
The segments are checked against the item's probed audio (a URL's duration is unknown: everything
but the end is checked) and become its gold (merged with the gold of its other questions, and
checked as a whole answer, as `PUT .../items/{id}/gold` does) or its pre-label (`meta.prelabel`,
merged likewise). All in one transaction: nothing changes unless every file is right.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import orjson
from sqlalchemy import Connection, Text, cast, or_, select

from labelloop.errors import Invalid, Problem
from labelloop.schema import AudioInfo
from labelloop.services.blobs import audio_info
from labelloop.services.exporting.media import stem
from labelloop.services.importing.attach import (
    MAX_PROBLEMS,
    Attached,
    attach_values,
    first_problems,
    numbered_item,
    only_item,
)
from labelloop.services.importing.audio.datasets import AudioDatasetArchive, AudioEntry, Update
from labelloop.services.importing.names import AUDIO_SUFFIXES, suffix
from labelloop.services.importing.readers import Where, shown
from labelloop.services.policy import Actor
from labelloop.services.targets import blob_hash
from labelloop.store.db import Database
from labelloop.store.models import item_data_text, items, published_in


def _name(fmt: str, entry: AudioEntry) -> str:
    if fmt == "nemo":
        return entry.audio[len("audio/"):] if entry.audio.startswith("audio/") else entry.audio
    return entry.audio  # the annotation file's path without its suffix


def _item(conn: Connection, project_id: int, name: str) -> Any | Problem | None:
    cols = select(items.c.id, items.c.external_id, item_data_text(),
                  cast(items.c.gold, Text).label("gold"), cast(items.c.meta, Text).label("meta"))
    exact = conn.execute(cols.where(published_in(project_id), items.c.external_id == name)).first()
    if exact is not None:
        return exact
    base = stem(name) if suffix(name) in AUDIO_SUFFIXES else name
    near = [r for r in conn.execute(cols.where(published_in(project_id), or_(
        items.c.external_id == base, items.c.external_id.startswith(base + ".", autoescape=True))).limit(20))
        if r.external_id == base or (stem(r.external_id) == base and suffix(r.external_id) in AUDIO_SUFFIXES)]
    chosen = only_item(near, name)
    return chosen if chosen is not None else numbered_item(conn, cols, project_id, stem(name))


def _find(
    db: Database, project_id: int, archive: AudioDatasetArchive, entry: AudioEntry
) -> tuple[int, AudioInfo | None] | Problem:
    name = _name(archive.format, entry)
    with db.read() as conn:
        row = _item(conn, project_id, name)
        if isinstance(row, Problem):
            return entry.where.problem(row.message, entry.at)
        if row is None:
            return entry.where.problem(
                f"no audio file {shown(entry.audio)!r} in the archive, and no item {shown(name)!r} in the "
                "project to give these segments to", entry.at)
        sha = blob_hash(orjson.loads(row.data).get(archive.field))
        return row.id, audio_info(conn, sha) if sha is not None else None


def attach_segments(
    db: Database, actor: Actor, project_id: int, source: AudioDatasetArchive, name: str,
    then: Callable[[Connection, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Check every file, then write the segments to their items in one transaction, with
    `then(conn, result)` (the import's audit entry)."""
    source.find = partial(_find, db, project_id, source)
    found = first_problems(source.records())
    seen: dict[int, Update] = {}
    for u in source.updates:
        if u.item_id in seen:
            first = seen[u.item_id].entry.where
            found.append(u.entry.where.problem(f"for the same item as {shown(first.file or '')!r}",
                                               u.entry.at))
        seen[u.item_id] = u
    if not found and not source.updates:
        found.append(Problem("no segments for any item"))
    if found:
        raise Invalid(f"{name}: nothing was imported", found[:MAX_PROBLEMS])
    attached = (Attached(u.item_id, u.segments, Where(file=u.entry.where.file)) for u in source.updates)
    return attach_values(db, actor, project_id, name, question=source.question.name,
                         as_=source.options.as_, attached=attached, then=then)
