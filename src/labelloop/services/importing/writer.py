"""Import a file into a project: check every record, write it in batches, commit.

A file is imported whole or not at all, whatever moment the process dies at. If any record is
bad, or an id comes back with different content, nothing from the file remains; the error lists
the problems (up to `MAX_PROBLEMS`) with their line and field. Re-importing the same file
changes nothing: items whose id and content are there are skipped.

On PostgreSQL the import is one transaction: nobody sees its rows before it commits, and a
process that dies takes them with it. Items without files go in as one COPY streamed while the
file is read (copy_stream.py); imports with files write batch by batch (`BatchWrites`, a COPY
each, on a thread of its own so the next batch is read meanwhile), recording and linking the
blobs with the rows. A large import ends with ANALYZE, so that plans over `items` know its rows.

On SQLite one long transaction would hold the database's single write lock: rows are written
staged (`items.staged`: in no queue, list or export) in transactions of `batch_size` items, and
published after. The commit point is one short transaction that writes the job's result once
every row is staged. Before it, a worker that takes over the cut-off job deletes the staged rows
(services/jobs/kinds.py); after it, that worker finishes publishing them. Publishing opens the
staged rows to the queue in id ranges, each a short transaction, and lets the project's members
read the blobs they show (`project_blobs`), so a failed import leaves no link; the batches and
the publishing let the write-ahead log grow before it is checkpointed (store/db.py
`write(bulk=True)`), and the log is checkpointed once the import is published.

Images (a zip or folder of them, archive.py) are stored as blobs while the file is read. The
files of a failed import stay in the store: content-addressed, readable by nobody, and re-used
as they are when the same image is imported again.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from psycopg import errors as psycopg_errors
from sqlalchemy import (
    Connection,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError

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
from labelloop.services.importing.copy_stream import Abandoned, IdsCollide, StreamWrites, collided
from labelloop.services.importing.feedback.hf_disk import HFDataset
from labelloop.services.importing.images import coco, voc, yolo
from labelloop.services.importing.images.datasets import DatasetArchive
from labelloop.services.importing.known_ids import conflicts, split_new, stored_of
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
from labelloop.store.bulk import ItemBatch, insert_items
from labelloop.store.db import Database
from labelloop.store.models import items, jobs, open_when, projects, utcnow

MAX_PROBLEMS = 50
ANALYZE_AFTER = 10_000  # PostgreSQL: rows written by one import that refresh the statistics
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
    committed: bool = False  # past the commit point: a failure then is not to be run again

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
    # PostgreSQL: first as one COPY, then (ids met that the lookups could not see) batch by batch,
    # twice at most: the second careful run sees what a concurrent import has committed meanwhile.
    modes = (False,) if db.is_sqlite else (False, True, True)
    for attempt, careful in enumerate(modes):
        stats = ImportStats()
        try:
            return _import(db, actor, project_id, path, entry, acc, stats, batch_size=batch_size,
                           progress=progress, limits=limits, blobs=blobs, dataset=dataset, split=split,
                           careful=careful)
        except DomainError as e:  # refused: logged with the deletion of what it staged
            # Every problem found, where the error lists the first MAX_PROBLEMS.
            problems = max(len(stats.problems), len(e.detail) if isinstance(e, Invalid) else 0)
            discard_staged(db, job_id, then=partial(entry.refused, problems=problems))
            raise
        except (IdsCollide, DBAPIError, psycopg_errors.Error) as e:
            if stats.committed or attempt == len(modes) - 1 or not (isinstance(e, IdsCollide) or collided(e)):
                raise
    raise AssertionError("unreachable")


def _import(
    db: Database, actor: Actor, project_id: int, path: Path, entry: ImportEntry, acc: Any,
    stats: ImportStats, *,
    batch_size: int, progress: ProgressFn | None, limits: ImportLimits | None, blobs: BlobStore | None,
    dataset: DatasetOptions | None, split: str | None, careful: bool,
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

    media = tuple(f.name for f in schema.fields if f.type in MEDIA_KINDS)
    common = ItemBatch(project_id, job_id, overlap, utcnow(), staged=db.is_sqlite)
    write = partial(_write_batch, db=db, actor=actor, common=common, media=media, stats=stats)
    writes: BatchWrites | StreamWrites
    if db.is_sqlite or media or careful:
        writes = BatchWrites(db, write, unwritten=partial(_check_references, db, actor, stats=stats))
    else:  # no files to record or link as rows go in: one COPY (copy_stream.py)
        writes = StreamWrites(db, common, stats=stats, write=write, batch_size=batch_size)
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
        writes.drain()
        if stats.records == 0 and not stats.problems:
            stats.problems.append(Problem("the file holds no records"))
        if stats.problems:
            _check_references(db, actor, batch + unchecked, stats=stats)
            raise Invalid(
                _nothing_imported(display_name, len(stats.problems), stopped),
                stats.problems[:MAX_PROBLEMS],
            )
        writes.commit(lambda c: _commit(c, entry, stats.as_result(), common))
        stats.committed = True
    except BaseException as e:
        writes.abandon()  # nothing may be written after the staged rows are deleted
        if not isinstance(e, DomainError):  # a refusal is discarded by `import_file`, and logged
            discard_staged(db, job_id)
        raise
    if common.staged:
        # Committed: from here on a failure leaves the rest to the worker that takes the job over.
        def published(done: int, total: int) -> None:
            if progress is not None:
                progress(source.total_bytes, source.total_bytes,
                         f"{done:,} of {total:,} items opened to the queue")

        publish_staged(db, job_id, batch_size=batch_size * 10, on_range=published)
    elif stats.created >= ANALYZE_AFTER:
        _analyze(db)
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


def _new_images(batch: list[ItemRow]) -> dict[str, Any]:
    """The files the batch's rows brought, by SHA-256."""
    return {image.original.sha256: image for r in batch for image in r.images}


def _blob_problems(
    conn: Connection, actor: Actor, batch: list[ItemRow], *, record: bool = True
) -> list[Problem]:
    """Record the batch's new images; name each reference to a blob the importer may not use."""
    new = _new_images(batch)
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
    """The import's batches, written in file order.

    On SQLite each batch is a transaction of its own, written at once as it comes (its rows
    staged), and `commit` is one more. On PostgreSQL every batch and `commit` are one transaction
    on a thread of its own, so the file's next batch is read and checked while the database writes
    this one. (A thread on SQLite costs more than it saves: the driver takes the GIL back for every
    row it binds, and waits for the reading thread to give it up each time; measured in-process,
    3 to 5 µs more CPU per item and no faster.)

    `write` says whether it found problems; from then on a batch is not written (the import
    will be discarded), its rows get the checks of rows read after a problem (`unwritten`).
    `drain` waits for every batch handed over and raises the writer's failure; `commit` ends the
    import's writes with `finish`, `abandon` rolls back what is not committed (PostgreSQL)."""

    def __init__(self, db: Database, write: Callable[[Connection, list[ItemRow]], bool], *,
                 unwritten: Callable[[list[ItemRow]], None]) -> None:
        self.db, self.write, self.unwritten = db, write, unwritten
        self.refused = False
        self.error: BaseException | None = None
        # ("batch", rows) | ("drain", event) | ("commit", finish) | ("abandon", None); one batch ahead
        self.handed: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
        self.thread: threading.Thread | None = None
        if not db.is_sqlite:
            self.thread = threading.Thread(target=self._run, name="labelloop-import-write", daemon=True)
            self.thread.start()

    def submit(self, batch: list[ItemRow]) -> None:
        if self.thread is None:
            self._one(batch, None)
            return
        if self.error is not None:
            raise self.error
        self.handed.put(("batch", batch))

    def drain(self) -> None:
        if self.thread is not None:
            done = threading.Event()
            self.handed.put(("drain", done))
            done.wait()
        if self.error is not None:
            raise self.error

    def commit(self, finish: Callable[[Connection], None]) -> None:
        if self.thread is None:
            self.db.run(finish)
            return
        self.handed.put(("commit", finish))
        self.thread.join()
        self.thread = None
        if self.error is not None:
            raise self.error

    def abandon(self) -> None:
        if self.thread is not None:
            self.handed.put(("abandon", None))
            self.thread.join()
            self.thread = None

    def _one(self, batch: list[ItemRow], conn: Connection | None) -> None:
        if self.refused:
            self.unwritten(batch)
        elif conn is not None:
            self.refused = self.write(conn, batch)
        else:
            self.refused = self.db.run(lambda c: self.write(c, batch), bulk=True)

    def _run(self) -> None:
        end = ""
        try:
            with self.db.write(bulk=True) as conn:
                while True:
                    end, message = self.handed.get()
                    if end == "batch":
                        self._one(message, conn)
                    elif end == "drain":
                        message.set()
                    elif end == "commit":
                        message(conn)
                        return  # committed as the block ends
                    else:
                        raise Abandoned
        except Abandoned:
            pass
        except BaseException as e:  # raised in the importing thread; rolled back
            self.error = e
        # The importing thread may still hand batches over: taken, and dropped, until it stops.
        while end not in ("commit", "abandon"):
            end, message = self.handed.get()
            if end == "drain":
                message.set()


def _write_batch(
    conn: Connection, batch: list[ItemRow], *, db: Database, actor: Actor, common: ItemBatch,
    media: tuple[str, ...], stats: ImportStats,
) -> bool:
    """Write the batch's new rows; whether it found problems (then nothing more is written).

    On SQLite the rows go in first, skipping ids the project already has; only the rows skipped
    are then looked up, told from the inserted ones by row id: SQLite numbers new rows on from
    the largest id, and this transaction holds the write lock, so the `created` rows just written
    are the last ids. A batch of new ids makes no lookup at all, where looking them all up cost
    2,000 index probes a batch (in no order for ids that are content hashes). PostgreSQL's COPY
    cannot skip a row, so there the lookup comes first and only new rows are copied; the rows
    are published as they are written (the import is one transaction), and so are the blobs
    they show to the project's members."""
    problems: list[Problem] = []
    if any(r.images or r.refs for r in batch):
        sqlite = conn.dialect.name == "sqlite"
        if not sqlite:  # the files' rows commit at once, as on SQLite: another import of the same
            # file would wait on their key for the whole of this import's transaction
            db.run(lambda c: record_images(c, _new_images(batch).values()))
        problems = _blob_problems(conn, actor, batch, record=sqlite)
    project_id, job_id = common.project_id, common.import_job_id
    if conn.dialect.name == "sqlite":
        created = insert_items(conn, common, batch, skip_existing=True)
        unchanged = 0
        if created < len(batch):  # some ids were there already: the same content, or a problem
            inserted = set(conn.exec_driver_sql(_JUST_INSERTED, (created,)).scalars())
            skipped = []
            for r in batch:
                if r.external_id in inserted:
                    inserted.discard(r.external_id)  # its first row went in; a later one was skipped
                else:
                    skipped.append(r)
            stored = stored_of(conn, project_id, skipped)
            unchanged = len(skipped) - conflicts(skipped, stored, job_id, problems)
    else:
        existing = stored_of(conn, project_id, batch)
        rows, known = split_new(batch, existing, job_id)
        unchanged = len(known) - conflicts(known, existing, job_id, problems)
        created = insert_items(conn, common, rows)
        if media and not problems:
            link_blobs(conn, project_id, {sha for r in rows for sha in references_in(r.data, media)})
    # Counted only once the transaction is sure to commit (db.run may retry the whole batch).
    stats.created += created
    stats.unchanged += unchanged
    stats.problems.extend(problems)
    return bool(problems)


# SQLite: the external ids of the last `?` rows inserted (see `_write_batch`).
_JUST_INSERTED = "SELECT external_id FROM items WHERE id > (SELECT max(id) FROM items) - ?"
def _commit(conn: Connection, entry: ImportEntry, result: dict[str, Any], common: ItemBatch) -> None:
    """The import's commit point: its result is written, so its staged rows are its to publish;
    the audit log's entry is written with it."""
    _settle_needed(conn, common)
    conn.execute(update(jobs).where(jobs.c.id == entry.job_id).values(result=result))
    entry.imported(conn, result)


def _settle_needed(conn: Connection, common: ItemBatch) -> None:
    """The answers each of the import's items needs, as the project says now: the rows were
    written with what it said when the import began, and a change of overlap made meanwhile
    updated the project's items without the rows written after it (SQLite) or any of them (on
    PostgreSQL it cannot see this transaction's rows). There the project's row is read FOR SHARE:
    a change still under way is waited for, and one that comes later waits for this commit
    (projects.update_project locks the row first) and then sees the rows."""
    project = conn.execute(
        select(projects.c.overlap, projects.c.quality_settings)
        .where(projects.c.id == common.project_id).with_for_update(read=True)
    ).one()
    needed = initial_needed(project.overlap, quality_settings(project.quality_settings))
    if needed != common.needed:  # no slot of these rows is reserved yet: nobody could see them
        conn.execute(
            update(items)
            .where(items.c.project_id == common.project_id, items.c.import_job_id == common.import_job_id)
            .values(needed=needed, is_open=items.c.gold.is_(None) & items.c.staged.is_(False))
        )


def publish_staged(
    db: Database, job_id: int, *, batch_size: int = 20_000,
    on_range: Callable[[int, int], None] | None = None,
) -> int:
    """Open a committed import's staged items to the queue, in id ranges so no transaction runs
    long, and let the project's members read the blobs they show. Safe to run again after a
    crash: it picks up the rows still staged. (SQLite; on PostgreSQL an import stages nothing,
    but this also finishes one that an earlier version committed and staged.)"""
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
    for start in range(lo, hi + 1, batch_size):
        done += db.run(partial(publish_range, start=start), bulk=True)
        if on_range is not None:
            on_range(done, total)
    db.checkpoint()  # SQLite: the bulk writes' log, into the database now rather than in someone's commit
    return done


def _analyze(db: Database) -> None:
    """PostgreSQL, after a large import: the planner's statistics would not know its rows until
    autovacuum comes by, and every "published, id > n" chunk of an export was then planned as a
    scan of the whole table. (Skipped with a warning where the role does not own the table.)"""
    with db.write() as conn:
        conn.exec_driver_sql("ANALYZE items")


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


