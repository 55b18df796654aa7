"""A large JSONL or CSV export as tasks over ranges of items (LABELLOOP_RAY_ADDRESS set), on
PostgreSQL: the same bytes as the export in process, read from the same moment.

The driver opens a repeatable-read transaction and exports its snapshot (`pg_export_snapshot`);
each task opens a connection of its own, adopts that snapshot (`SET TRANSACTION SNAPSHOT`), reads
its range of items by id and renders it with the export's own writer. So every range sees the
database as it was when the export began, even while annotators work, and the driver only
concatenates the ranges in order, a window of them at a time (memory stays flat). The driver's
transaction stays open until the last range is rendered: a snapshot lives as long as it does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select, text

from labelloop.services.compute.batches import BatchMap
from labelloop.services.compute.round_tasks import ItemSource
from labelloop.services.compute.runner import batch_map
from labelloop.services.exporting.chunks import item_chunks
from labelloop.services.exports import CHUNK, ExportPlan, row_writer, stream_export
from labelloop.services.privacy.exported import redacted_chunks
from labelloop.store.blobs import BlobStore
from labelloop.store.db import Database
from labelloop.store.models import items, published_in

RANGE_CHUNKS = 4  # chunks of CHUNK items per task: big enough to outweigh a task's overhead
MIN_ITEMS = 100_000  # smaller exports stay in process: one read is quicker than starting tasks
_SNAPSHOT = re.compile(r"[0-9A-F]+-[0-9A-F]+-[0-9]+")  # what pg_export_snapshot() returns


def ray_export_applies(db: Database, plan: ExportPlan, min_items: int) -> bool:
    """Whether this export goes to Ray: a row format (ranges concatenate), PostgreSQL (snapshots
    can be shared), and a project large enough to be worth the tasks."""
    if plan.format not in ("jsonl", "csv") or not db.url.startswith("postgresql"):
        return False
    if any(getattr(plan, kind, None) is not None for kind in ("dataset", "feedback", "audio", "video")):
        return False
    with db.read() as conn:
        n = conn.execute(select(func.count()).where(published_in(plan.project_id))).scalar_one()
    return int(n) >= min_items


def render_range(snapshot: str, plan: ExportPlan, after: int, last: int, first: bool, *,
                 source: ItemSource) -> bytes:
    """The export's bytes for the items with ids in (after, last], as of the snapshot."""
    if not _SNAPSHOT.fullmatch(snapshot):  # SET TRANSACTION SNAPSHOT takes no bind parameter
        raise ValueError(f"not a snapshot id: {snapshot!r}")
    db = source.database()
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            conn.execute(text("SET TRANSACTION READ ONLY"))
            conn.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
            chunks = item_chunks(conn, plan.project_id, size=CHUNK, after=after, upto=last, where=plan.where)
            if plan.redact is not None:
                chunks = redacted_chunks(conn, plan.redact, plan.schema, chunks, plan.project_id)
            out = b"".join(row_writer(plan)(plan, chunks))
    if not first and plan.format == "csv":  # the header row once, at the top of the file
        out = out.split(b"\r\n", 1)[1] if b"\r\n" in out else b""
    return out


def _bounds(conn: Any, project_id: int, per_task: int) -> list[tuple[int, int]]:
    """(after, last] id ranges of `per_task` published items each, in id order."""
    numbered = select(items.c.id, func.row_number().over(order_by=items.c.id).label("n")).where(
        published_in(project_id)).subquery()
    ends = [int(i) for i in conn.execute(
        select(numbered.c.id).where(numbered.c.n % per_task == 0).order_by(numbered.c.id)).scalars()]
    last = conn.execute(select(func.max(items.c.id)).where(published_in(project_id))).scalar_one()
    if last is not None and (not ends or ends[-1] != last):
        ends.append(int(last))
    return list(zip([0, *ends[:-1]], ends, strict=True))


def export_stream(db: Database, plan: ExportPlan, blobs: BlobStore | None, ray_address: str | None
                  ) -> Iterator[bytes]:
    """The export's bytes: as Ray tasks when LABELLOOP_RAY_ADDRESS is set and the export is a
    large JSONL or CSV on PostgreSQL, else in process (services/exports.py)."""
    if ray_address and ray_export_applies(db, plan, MIN_ITEMS):
        return stream_ray_export(db, plan, batch_map(ray_address))
    return stream_export(db, plan, blobs)


def stream_ray_export(db: Database, plan: ExportPlan, runner: BatchMap, *, window: int = 8,
                      per_task: int = CHUNK * RANGE_CHUNKS) -> Iterator[bytes]:
    """The export's bytes, rendered range by range by `runner`'s tasks, `window` ranges at a time."""
    source = ItemSource(db)
    with db.read(snapshot=True) as conn:
        snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
        ranges = _bounds(conn, plan.project_id, per_task)
        if not ranges and plan.format == "csv":  # no item: the header alone, as in process
            yield from row_writer(plan)(plan, iter(()))
        for start in range(0, len(ranges), window):
            part = [(snapshot, plan, after, last, start + k == 0)
                    for k, (after, last) in enumerate(ranges[start:start + window])]
            done = dict(runner.imap(render_range, part, source=source))
            for k in range(len(part)):
                yield done.pop(k)
