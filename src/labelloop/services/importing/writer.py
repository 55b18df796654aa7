"""Import a file into a project: check every record, stage in short batches, commit, publish.

Rows are written staged (`items.staged`: in no queue, list or export) in transactions of
`batch_size` items, so a huge import never holds SQLite's write lock for long. If any record is
bad, or an id comes back with different content, the staged rows are deleted and nothing from
the file remains; the error lists the problems (up to `MAX_PROBLEMS`) with their line and field.
Re-importing the same file changes nothing: items whose id and content are there are skipped.

Images (a zip or folder of them, archive.py) are stored as blobs while the file is read, their
rows written with each batch; the right of the project's members to read them
(`project_blobs`) is written as the items are published, so a failed import leaves no link.
Its files stay in the store: content-addressed, readable by nobody, and re-used as they are
when the same image is imported again.

A file is imported whole or not at all, whatever moment the process dies at. The commit point
is one short transaction that writes the job's result once every row is staged. Before it, a
worker that takes over the cut-off job deletes the staged rows (services/jobs/kinds.py); after
it, that worker finishes publishing them. Publishing opens the staged rows to the queue in id
ranges, each a short transaction.

On PostgreSQL the rows go in through COPY (store/bulk.py), one thread writes each batch while
the next is read and checked (`BatchWrites`), and each range is published in two parts at once;
a failure still waits for the writes under way before the staged rows are deleted. A large import
ends with ANALYZE, so that plans over `items` know its rows are published. On SQLite the batches
and the publishing let the write-ahead log grow before it is checkpointed (store/db.py
`write(bulk=True)`), and the log is checkpointed once the import is published.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    Connection,
    String,
    any_,
    bindparam,
    delete,
    exists,
    func,
    literal_column,
    select,
    update,
)

from labelloop.errors import DomainError, Invalid, Problem
from labelloop.schema import AudioInfo, ImageInfo, VideoInfo
from labelloop.schema.fields import MEDIA_KINDS
from labelloop.services.blobs import (
    StoredAudio,
    StoredImage,
    StoredVideo,
    link_blobs,
    record_images,
    references_in,
    stored_audio,
    stored_image,
    stored_video,
    visible_blobs,
)
from labelloop.services.importing.annotated import DatasetOptions
from labelloop.services.importing.archive import ImageArchive
from labelloop.services.importing.audio import manifest as audio_manifest
from labelloop.services.importing.audio import subtitles
from labelloop.services.importing.audio.attach import attach_segments
from labelloop.services.importing.audio.datasets import AudioDatasetArchive
from labelloop.services.importing.audit_entry import ImportEntry, file_sha256
from labelloop.services.importing.feedback.hf_disk import HFDataset
from labelloop.services.importing.images import coco, voc, yolo
from labelloop.services.importing.images.datasets import DatasetArchive
from labelloop.services.importing.limits import ImportLimits
from labelloop.services.importing.names import holds_media
from labelloop.services.importing.readers import (
    AUDIO_DATASETS,
    DATASETS,
    MOVE_IN,
    VIDEO_DATASETS,
    Source,
    detect_format,
)
from labelloop.services.importing.records import ItemRow, RecordReader
from labelloop.services.importing.video import cvat as video_cvat
from labelloop.services.importing.video import mot as video_mot
from labelloop.services.importing.video.tracked import VideoDatasetArchive, attach_tracks
from labelloop.services.jobs import FAILED
from labelloop.services.policy import Action, Actor, access
from labelloop.services.projects import schema_of
from labelloop.services.quality.settings import initial_needed, quality_settings
from labelloop.services.targets import stored_image_info
from labelloop.store.blobs import BlobStore
from labelloop.store.bulk import insert_items
from labelloop.store.db import Database
from labelloop.store.models import items, jobs, open_when, projects, utcnow

MAX_PROBLEMS = 50
PUBLISH_CONNECTIONS = 2  # PostgreSQL: ranges published at once (publish_staged)
ANALYZE_AFTER = 10_000  # PostgreSQL: rows published by one import that refresh the statistics
DATASET_READERS = {"coco": coco.entries, "yolo": yolo.entries, "voc": voc.entries}
VIDEO_READERS = {"mot": video_mot.entries, "cvat": video_cvat.entries}
AUDIO_READERS = {"nemo": audio_manifest.entries, "srt": subtitles.srt_entries,
                 "webvtt": subtitles.vtt_entries, "rttm": subtitles.rttm_entries}

ProgressFn = Callable[..., None]


@dataclass
class ImportStats:
    created: int = 0
    unchanged: int = 0
    records: int = 0
    problems: list[Problem] = field(default_factory=list)

    def as_result(self) -> dict[str, Any]:
        return {"created": self.created, "unchanged": self.unchanged, "records": self.records}


def check_import_allowed(conn: Connection, actor: Actor, project_id: int) -> None:
    access(conn, actor, project_id, Action.import_items)


def import_file(
    db: Database,
    actor: Actor,
    project_id: int,
    path: Path,
    *,
    job_id: int,
    fmt: str | None = None,
    batch_size: int = 2000,
    progress: ProgressFn | None = None,
    display_name: str | None = None,
    limits: ImportLimits | None = None,
    blobs: BlobStore | None = None,
    dataset: DatasetOptions | None = None,
    split: str | None = None,
) -> dict[str, Any]:
    """Import a file (or, from the CLI, a folder); `blobs` is where images go, `dataset` what a
    COCO, YOLO or VOC dataset's annotations become, `split` which split of a Hugging Face
    dataset is imported (feedback/hf_disk.py; by default `train`)."""
    with db.read() as conn:
        acc = access(conn, actor, project_id, Action.import_items)
    fmt = detect_format(path, fmt)
    entry = ImportEntry(actor, project_id, job_id, display_name or path.name, file_sha256(path), fmt,
                        dataset.as_ if dataset is not None and fmt in (*DATASETS, *MOVE_IN) else None)
    stats = ImportStats()
    try:
        return _import(db, actor, project_id, path, entry, acc, stats, batch_size=batch_size,
                       progress=progress, limits=limits, blobs=blobs, dataset=dataset, split=split)
    except DomainError as e:  # refused: logged with the deletion of what it staged
        # Every problem found, where the error lists the first MAX_PROBLEMS.
        problems = max(len(stats.problems), len(e.detail) if isinstance(e, Invalid) else 0)
        discard_staged(db, job_id, then=lambda c: entry.refused(c, problems))
        raise


def _import(
    db: Database, actor: Actor, project_id: int, path: Path, entry: ImportEntry, acc: Any,
    stats: ImportStats, *,
    batch_size: int, progress: ProgressFn | None, limits: ImportLimits | None, blobs: BlobStore | None,
    dataset: DatasetOptions | None, split: str | None,
) -> dict[str, Any]:
    fmt, job_id, display_name = entry.format, entry.job_id, entry.file
    schema = schema_of(acc.project.label_schema)
    reader = RecordReader(schema, text_cells=fmt in ("csv", "tsv"), limits=limits,
                          image_size=partial(_image_info, db, actor))
    source: Source | ImageArchive | HFDataset
    if fmt == "hf":
        source = HFDataset(path, limits, split=split)
    elif fmt in AUDIO_DATASETS:
        if blobs is None:
            raise ValueError("importing audio needs a blob store")
        source = AudioDatasetArchive(
            path, blobs, limits, fmt=fmt, reader=AUDIO_READERS[fmt], schema=schema,
            options=dataset or DatasetOptions(), known_audio=partial(_known_audio, db))
        if source.attach:  # no audio files: segments for items already in the project
            return attach_segments(db, actor, project_id, source, display_name, entry.imported)
    elif fmt in VIDEO_DATASETS:
        if blobs is None:
            raise ValueError("importing videos needs a blob store")
        source = VideoDatasetArchive(
            path, blobs, limits, fmt=fmt, reader=VIDEO_READERS[fmt], schema=schema,
            options=dataset or DatasetOptions(), known_video=partial(_known_video, db))
        if source.attach:  # no video files: tracks for items already in the project
            return attach_tracks(db, actor, project_id, source, display_name, entry.imported)
    elif fmt in DATASETS:
        if blobs is None:
            raise ValueError("importing images needs a blob store")
        source = DatasetArchive(path, blobs, limits, fmt=fmt, reader=DATASET_READERS[fmt], schema=schema,
                                options=dataset or DatasetOptions(), known=partial(_known_image, db))
    elif fmt == "images" or (fmt == "zip" and holds_media(path)):
        if blobs is None:
            raise ValueError("importing images needs a blob store")
        source = ImageArchive(
            path, blobs, limits, image_fields=tuple(f.name for f in schema.fields if f.type == "image"),
            known=partial(_known_image, db), header_check=reader.missing_columns,
            audio_fields=tuple(f.name for f in schema.fields if f.type == "audio"),
            known_audio=partial(_known_audio, db),
            video_fields=tuple(f.name for f in schema.fields if f.type == "video"),
            known_video=partial(_known_video, db),
        )
        reader.text_cells = source.records_format in ("csv", "tsv")
    else:
        source = Source(path, fmt, limits, header_check=reader.missing_columns, schema=schema,
                        dataset=dataset)
    batch: list[ItemRow] = []
    unchecked: list[ItemRow] = []
    overlap = initial_needed(acc.project.overlap, quality_settings(acc.project.quality_settings))
    records = source.records()
    stopped = False  # at MAX_PROBLEMS, with more of the file left unchecked

    def report(force: bool = False) -> None:
        if progress is not None:
            progress(source.bytes_read, source.total_bytes,
                     f"{stats.records:,} records read", force=force)

    writes = BatchWrites(db, partial(_write_batch, actor=actor, project_id=project_id, job_id=job_id,
                                     overlap=overlap, stats=stats),
                         unwritten=partial(_check_references, db, actor, stats=stats))
    try:
        for where, record in records:
            if isinstance(record, Problem):
                stats.problems.append(record)
            else:
                stats.records += 1
                row = reader.to_row(where, record)
                if isinstance(row, list):
                    stats.problems.extend(row)
                elif not stats.problems:
                    batch.append(row)
                elif row.refs:  # not to be written, but its references are checked all the same
                    unchecked.append(row)
            if len(unchecked) >= batch_size:
                _check_references(db, actor, unchecked, stats=stats)
                unchecked.clear()
            if len(stats.problems) >= MAX_PROBLEMS:
                stopped = next(records, None) is not None
                break
            if len(batch) >= batch_size:
                writes.submit(batch)
                batch = []
                report()
        if batch and not stats.problems:
            writes.submit(batch)
        writes.close()
        if stats.records == 0 and not stats.problems:
            stats.problems.append(Problem("the file holds no records"))
        if stats.problems:
            _check_references(db, actor, batch + unchecked, stats=stats)
            raise Invalid(
                _nothing_imported(display_name, len(stats.problems), stopped),
                stats.problems[:MAX_PROBLEMS],
            )
        db.run(lambda c: _commit(c, entry, stats.as_result()))
    except BaseException as e:
        writes.close(raising=False)  # nothing may be written after the staged rows are deleted
        if not isinstance(e, DomainError):  # a refusal is discarded by `import_file`, and logged
            discard_staged(db, job_id)
        raise
    # Committed: from here on a failure leaves the rest to the worker that takes the job over.
    def published(done: int, total: int) -> None:
        if progress is not None:
            progress(source.total_bytes, source.total_bytes,
                     f"{done:,} of {total:,} items opened to the queue")

    publish_staged(db, job_id, batch_size=batch_size * 10, on_range=published)
    report(force=True)
    return stats.as_result()


def _nothing_imported(name: str, found: int, stopped: bool) -> str:
    """The failure's message, saying when the list of problems is not the whole story."""
    listed = f"; the first {MAX_PROBLEMS} are listed" if found > MAX_PROBLEMS else ""
    if stopped:
        return (f"{name}: nothing was imported; stopped after {found:,} problems{listed} "
                "(the rest of the file was not checked)")
    if listed:
        return f"{name}: nothing was imported; {found:,} problems{listed}"
    return f"{name}: nothing was imported"


def _image_info(db: Database, actor: Actor, sha256: str) -> ImageInfo | AudioInfo | VideoInfo | None:
    """The size of a stored image (duration of an audio file) the importer may use (gold shapes
    and segments are checked against it); none for others, which an error message must not give
    away."""
    with db.read() as conn:
        return stored_image_info(conn, sha256) if visible_blobs(conn, actor, [sha256]) else None


def _known_image(db: Database, sha256: str) -> StoredImage | None:
    with db.read() as conn:
        return stored_image(conn, sha256)


def _known_audio(db: Database, sha256: str) -> StoredAudio | None:
    with db.read() as conn:
        return stored_audio(conn, sha256)


def _known_video(db: Database, sha256: str) -> StoredVideo | None:
    with db.read() as conn:
        return stored_video(conn, sha256)


def _blob_problems(
    conn: Connection, actor: Actor, batch: list[ItemRow], *, record: bool = True
) -> list[Problem]:
    """Record the batch's new images; name each reference to a blob the importer may not use."""
    new = {image.original.sha256: image for r in batch for image in r.images}
    if record:
        record_images(conn, new.values())
    wanted = {sha for r in batch for _, sha in r.refs} - new.keys()
    usable = new.keys() | visible_blobs(conn, actor, wanted)
    return [
        r.where.problem(f"no stored file blob:{sha} that you may use (import the image itself, or "
                        "reference one stored in a project you are a member of)", field)
        for r in batch for field, sha in r.refs if sha not in usable
    ]


def _check_references(db: Database, actor: Actor, rows: list[ItemRow], *, stats: ImportStats) -> None:
    """Name the bad blob references of rows that will not be written (the import already failed)."""
    if any(r.refs for r in rows):
        with db.read() as conn:
            stats.problems.extend(_blob_problems(conn, actor, rows, record=False))


class BatchWrites:
    """The import's batches, written in file order: on PostgreSQL by one thread of their own, so
    the file's next batch is read and checked while the database writes this one (the two took
    turns before); on SQLite at once, as they come. (A thread there costs more than it saves: the
    driver takes the GIL back for every row it binds, and waits for the reading thread to give it
    up each time; measured in-process, 3 to 5 µs more CPU per item and no faster.)

    `write` says whether it found problems; from then on a batch is not written (the import
    will be discarded), its rows get the checks of rows read after a problem (`unwritten`), as
    when the two took turns. `close` waits for every batch handed over and raises the writer's
    failure."""

    def __init__(self, db: Database, write: Callable[[Connection, list[ItemRow]], bool], *,
                 unwritten: Callable[[list[ItemRow]], None]) -> None:
        self.db, self.write, self.unwritten = db, write, unwritten
        self.refused = False
        self.error: BaseException | None = None
        self.handed: queue.Queue[list[ItemRow] | None] = queue.Queue(maxsize=1)  # one batch ahead
        self.thread: threading.Thread | None = None
        if not db.is_sqlite:
            self.thread = threading.Thread(target=self._run, name="labelloop-import-write", daemon=True)
            self.thread.start()

    def submit(self, batch: list[ItemRow]) -> None:
        if self.thread is None:
            self._one(batch)
            return
        if self.error is not None:
            raise self.error
        self.handed.put(batch)

    def _one(self, batch: list[ItemRow]) -> None:
        if self.refused:
            self.unwritten(batch)
        else:
            self.refused = self.db.run(lambda c: self.write(c, batch), bulk=True)

    def _run(self) -> None:
        while (batch := self.handed.get()) is not None:
            if self.error is None:
                try:
                    self._one(batch)
                except BaseException as e:  # raised in the importing thread
                    self.error = e

    def close(self, *, raising: bool = True) -> None:
        if self.thread is not None:
            self.handed.put(None)
            self.thread.join()
            self.thread = None
        if raising and self.error is not None:
            raise self.error


def _write_batch(
    conn: Connection, batch: list[ItemRow], *, actor: Actor, project_id: int, job_id: int, overlap: int,
    stats: ImportStats,
) -> bool:
    """Stage the batch's new rows; whether it found problems (then nothing more is written).

    On SQLite the rows go in first, skipping ids the project already has; only the rows skipped
    are then looked up, told from the inserted ones by row id: SQLite numbers new rows on from
    the largest id, and this transaction holds the write lock, so the `created` rows just written
    are the last ids. A batch of new ids makes no lookup at all, where looking them all up cost
    2,000 index probes a batch (in no order for ids that are content hashes). PostgreSQL's COPY
    cannot skip a row, so there the lookup comes first and only new rows are copied."""
    problems = _blob_problems(conn, actor, batch) if any(r.images or r.refs for r in batch) else []
    now = utcnow()

    def row(r: ItemRow) -> dict[str, Any]:
        return {
            "project_id": project_id, "external_id": r.external_id,
            "content_hash": r.content_hash, "data": r.data, "meta": r.meta,
            "priority": r.priority, "needed": overlap, "reserved": 0, "answer_count": 0,
            "is_open": False, "gold": r.gold, "import_job_id": job_id, "staged": True,
            "created_at": now,
        }

    if conn.dialect.name == "sqlite":
        created = insert_items(conn, [row(r) for r in batch], skip_existing=True)
        unchanged = 0
        if created < len(batch):  # some ids were there already: the same content, or a problem
            inserted = set(conn.exec_driver_sql(_JUST_INSERTED, (created,)).scalars())
            skipped = []
            for r in batch:
                if r.external_id in inserted:
                    inserted.discard(r.external_id)  # its first row went in; a later one was skipped
                else:
                    skipped.append(r)
            stored = _stored_of(conn, project_id, skipped)
            unchanged = len(skipped) - _conflicts(skipped, stored, job_id, problems)
    else:
        existing = _stored_of(conn, project_id, batch)
        rows: list[dict[str, Any]] = []
        known: list[ItemRow] = []  # ids stored, or earlier in the batch: checked against those
        for r in batch:
            if r.external_id in existing:
                known.append(r)
            else:
                existing[r.external_id] = (r.content_hash, job_id)
                rows.append(row(r))
        unchanged = len(known) - _conflicts(known, existing, job_id, problems)
        created = insert_items(conn, rows)
    # Counted only once the transaction is sure to commit (db.run may retry the whole batch).
    stats.created += created
    stats.unchanged += unchanged
    stats.problems.extend(problems)
    return bool(problems)


def _stored_of(conn: Connection, project_id: int, batch: list[ItemRow]) -> dict[str, tuple[str, int]]:
    """(content hash, import job) of the stored items with the batch's ids."""
    ids = list({r.external_id for r in batch})
    return {r.external_id: (r.content_hash, r.import_job_id) for r in _existing(conn, project_id, ids)}


def _conflicts(batch: list[ItemRow], stored: dict[str, tuple[str, int]], job_id: int,
               problems: list[Problem]) -> int:
    """How many of the batch's rows have an id stored with other content; a problem for each."""
    found = 0
    for r in batch:
        content, by_job = stored[r.external_id]
        if content != r.content_hash:
            message = (
                "appears earlier in this file with different content"
                if by_job == job_id
                else "already exists in the project with different content"
            )
            problems.append(r.where.problem(f"item {r.external_id!r} {message}", "id"))
            found += 1
    return found


# SQLite: the external ids of the last `?` rows inserted (see `_write_batch`).
_JUST_INSERTED = "SELECT external_id FROM items WHERE id > (SELECT max(id) FROM items) - ?"
_EXISTING_COLUMNS = (items.c.external_id, items.c.content_hash, items.c.import_job_id)
# The batch's ids as one parameter, not one per id (a statement of thousands of placeholders costs
# SQLAlchemy more to expand, and the driver more to bind, than the lookups cost the database):
# PostgreSQL `= ANY(array)`; SQLite `IN (SELECT value FROM json_each(?))` of a JSON array.
_EXISTING = {
    "postgresql": select(*_EXISTING_COLUMNS).where(
        items.c.project_id == bindparam("pid"),
        items.c.external_id == any_(bindparam("ids", type_=ARRAY(String)))),
    "sqlite": select(*_EXISTING_COLUMNS).where(
        items.c.project_id == bindparam("pid"),
        items.c.external_id.in_(select(literal_column("value")).select_from(func.json_each(bindparam("ids"))))),
}


def _existing(conn: Connection, project_id: int, ids: list[str]) -> Any:
    """(external_id, content_hash, import_job_id) of the project's items with one of these ids."""
    if conn.dialect.name == "postgresql":
        return conn.execute(_EXISTING["postgresql"], {"pid": project_id, "ids": ids})
    return conn.execute(_EXISTING["sqlite"], {"pid": project_id, "ids": orjson.dumps(ids).decode()})


def _commit(conn: Connection, entry: ImportEntry, result: dict[str, Any]) -> None:
    """The import's commit point: its result is written, so its staged rows are its to publish;
    the audit log's entry is written with it."""
    conn.execute(update(jobs).where(jobs.c.id == entry.job_id).values(result=result))
    entry.imported(conn, result)


def publish_staged(
    db: Database, job_id: int, *, batch_size: int = 20_000,
    on_range: Callable[[int, int], None] | None = None,
) -> int:
    """Open a committed import's staged items to the queue, in id ranges so no transaction runs
    long, and let the project's members read the blobs they show. Safe to run again after a
    crash: it picks up the rows still staged."""
    with db.read() as conn:
        lo, hi, total = conn.execute(
            select(func.min(items.c.id), func.max(items.c.id), func.count())
            .where(items.c.import_job_id == job_id, items.c.staged.is_(True))
        ).one()
        project = conn.execute(
            select(projects.c.id, projects.c.label_schema)
            .where(projects.c.id == select(jobs.c.project_id).where(jobs.c.id == job_id).scalar_subquery())
        ).first()
    if lo is None or project is None:
        return 0
    media = tuple(f.name for f in schema_of(project.label_schema).fields if f.type in MEDIA_KINDS)

    def publish_range(conn: Connection, start: int, size: int = batch_size) -> int:
        if media:
            shown = conn.execute(
                select(items.c.data).where(
                    items.c.import_job_id == job_id, items.c.staged.is_(True),
                    items.c.id >= start, items.c.id < start + size)
            ).scalars()
            link_blobs(conn, project.id, {sha for data in shown for sha in references_in(data, media)})
        return conn.execute(
            update(items)
            .where(items.c.import_job_id == job_id, items.c.staged.is_(True),
                   items.c.id >= start, items.c.id < start + size)
            .values(staged=False, is_open=open_when(items.c.reserved, publishing=True))
        ).rowcount

    done = 0
    starts = range(lo, hi + 1, batch_size)
    if db.is_sqlite:  # one writer at a time anyway
        for start in starts:
            done += db.run(partial(publish_range, start=start), bulk=True)
            if on_range is not None:
                on_range(done, total)
        db.checkpoint()  # the bulk writes' log, into the database now rather than in someone's commit
        return done
    # PostgreSQL rewrites every published row (and its index entries): each range is published
    # in parts on PUBLISH_CONNECTIONS connections at once, to keep both cores busy while this
    # process mostly waits; a range is reported once all its parts are in.
    part = -(-batch_size // PUBLISH_CONNECTIONS)
    with ThreadPoolExecutor(PUBLISH_CONNECTIONS, thread_name_prefix="labelloop-publish") as pool:
        for start in starts:
            end = start + batch_size
            parts = [pool.submit(db.run, partial(publish_range, start=s, size=min(part, end - s)))
                     for s in range(start, end, part)]
            done += sum(f.result() for f in parts)
            if on_range is not None:
                on_range(done, total)
    if done >= ANALYZE_AFTER:
        # The planner's statistics would still count these rows as staged until autovacuum
        # comes by: every "published, id > n" chunk of an export was then planned as a scan
        # of the whole table. (Skipped with a warning where the role does not own the table.)
        with db.write() as conn:
            conn.exec_driver_sql("ANALYZE items")
    return done


def discard_staged(db: Database, job_id: int, *, then: Callable[[Connection], None] | None = None) -> int:
    """Delete what an uncommitted import staged (nobody could see or answer those rows), and
    `then` in the same transaction (the audit entry of a refused import)."""
    def go(conn: Connection) -> int:
        res = conn.execute(
            delete(items).where(items.c.import_job_id == job_id, items.c.staged.is_(True))
        )
        if then is not None:
            then(conn)
        return res.rowcount
    return db.run(go)


def discard_leftovers(db: Database) -> list[int]:
    """Delete what failed imports staged but could not delete themselves (the database was away
    when they failed); returns their job ids. (An import cut off by its process's death is the
    worker's that takes the job over: services/jobs/kinds.py.)"""
    with db.read() as conn:
        failed = conn.execute(
            select(jobs.c.id).where(
                jobs.c.kind == "import", jobs.c.status == FAILED, jobs.c.result.is_(None),
                exists().where(items.c.import_job_id == jobs.c.id, items.c.staged.is_(True)),
            )
        ).scalars().all()
    for job_id in failed:
        discard_staged(db, job_id)
    return list(failed)


