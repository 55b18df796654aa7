"""Retention: a project may delete the raw content of its items N days after their import.

What goes: each item's `data` (replaced by `{}`, `content_deleted_at` set) and the files it
referenced that no other item of the project shows and no other project links (with their
previews, thumbnails and waveforms). What stays: the item row (id, external id, priority, gold,
review state), answers, revisions, consensus, predictions, the model versions and the audit log,
so a dataset of labels can still be exported and its provenance checked.

`run` is what `labelloop retention run` calls (daily, from cron: the server has no scheduler);
each project is one transaction, recorded in the audit log as `retention.run` with its counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from labelloop.errors import Invalid, Problem
from labelloop.services import audit
from labelloop.services.curation import pg_vectors, search
from labelloop.services.policy import Action, Actor, access
from labelloop.services.protection.content import (
    clear_embedding_cache,
    delete_files,
    flush,
    references,
    secure_deletes,
    unlink_files,
)
from labelloop.store.blobs import BlobStore
from labelloop.store.db import Database
from labelloop.store.models import item_pii, items, projects, utcnow

MAX_DAYS = 36_500
BATCH = 1000


def set_retention(conn: Connection, actor: Actor, project_id: int, days: int | None) -> int | None:
    """Set (or, with None, turn off) the project's "delete raw content after N days"."""
    access(conn, actor, project_id, Action.edit_project)
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise Invalid("retention out of range", [Problem(f"between 1 and {MAX_DAYS} days, or none",
                                                         field="days")])
    conn.execute(update(projects).where(projects.c.id == project_id).values(retention_days=days))
    audit.record(conn, actor, "retention.settings", project_id=project_id, object_type="project",
                 object_id=project_id, details={"days": days})
    return days


@dataclass
class RetentionResult:
    project_id: int
    items: int
    files: int


@dataclass
class RetentionView:
    """A project's retention as its console page shows it."""

    days: int | None
    items: int  # published items
    deleted: int  # whose content retention already deleted
    due: int  # whose content a run now would delete


@dataclass
class ProjectRun:
    """One project's run from the console: what went (or, for a dry run, would go)."""

    dry_run: bool
    items: int
    files: int
    audit_seq: int | None  # the `retention.run` entry; None for a dry run or when nothing was due


def _expired(project_id: int, days: int, now: datetime) -> list[Any]:
    cutoff = now - timedelta(days=days)
    return [items.c.project_id == project_id, items.c.staged.is_(False),
            items.c.content_deleted_at.is_(None), items.c.created_at < cutoff]


def view(conn: Connection, actor: Actor, project_id: int, *, now: datetime | None = None) -> RetentionView:
    """The project's retention, how many items' content it deleted, and how many a run would now."""
    acc = access(conn, actor, project_id, Action.erase)
    days = acc.project.retention_days
    published = (items.c.project_id == project_id, items.c.staged.is_(False))
    total, deleted = conn.execute(select(func.count(), func.count(items.c.content_deleted_at))
                                  .where(*published)).one()
    expired = _expired(project_id, days, now or utcnow()) if days is not None else None
    due = 0 if expired is None else int(
        conn.execute(select(func.count()).select_from(items).where(*expired)).scalar_one())
    return RetentionView(days, int(total), int(deleted), due)


def run_project(db: Database, store: BlobStore, actor: Actor, project_id: int, *, dry_run: bool,
                data_dir: Path | None = None, now: datetime | None = None) -> ProjectRun:
    """Apply one project's retention now (managers, from the console), as the daily run would;
    a dry run only counts the items whose content would go."""
    at = now or utcnow()
    if dry_run:
        with db.read() as conn:
            return ProjectRun(True, view(conn, actor, project_id, now=at).due, 0, None)

    def expire(conn: Connection) -> tuple[int, list[str], int | None]:
        acc = access(conn, actor, project_id, Action.erase)
        days = acc.project.retention_days
        if days is None:
            raise Invalid("this project keeps its items' content: set a retention first",
                          [Problem("no retention set", field="days")])
        return _expire_project(conn, actor, project_id, days, at)

    n, files, seq = db.run(expire)
    deleted = delete_files(store, files)
    if n:
        flush(db)
        search.forget_indexes()
        if data_dir is not None:
            clear_embedding_cache(data_dir)
            search.drop_saved_indexes(data_dir, project_id)
    return ProjectRun(False, n, deleted, seq)


def _expire_project(conn: Connection, actor: Actor, project_id: int, days: int, now: datetime
                    ) -> tuple[int, list[str], int | None]:
    rows = conn.execute(select(items.c.id, items.c.data).where(*_expired(project_id, days, now))).all()
    if not rows:
        return 0, [], None
    secure_deletes(conn)
    shown: set[str] = set()
    ids = [r.id for r in rows]
    for r in rows:
        shown |= references(r.data)
    for start in range(0, len(ids), BATCH):
        conn.execute(update(items).where(items.c.id.in_(ids[start:start + BATCH]))
                     .values(data={}, content_deleted_at=now))
        # The findings' offsets and value hashes are about the content: they go with it.
        conn.execute(delete(item_pii).where(item_pii.c.item_id.in_(ids[start:start + BATCH])))
    files = unlink_files(conn, project_id, shown)
    pg_vectors.forget_project(conn, project_id)  # derived from the content that went
    entry = audit.record(conn, actor, "retention.run", project_id=project_id, object_type="project",
                         object_id=project_id, details={"days": days, "items": len(ids), "files": len(files)})
    return len(ids), files, entry.seq if entry is not None else None


def run(db: Database, store: BlobStore, actor: Actor, *, data_dir: Path | None = None,
        now: datetime | None = None) -> list[RetentionResult]:
    """Apply every project's retention; returns what each project lost (projects with nothing
    due are left out). Only the operator (CLI, the server's own pass) runs it for all projects."""
    if not actor.is_admin:
        raise Invalid("only an administrator runs retention for every project")
    at = now or utcnow()
    with db.read() as conn:
        due = conn.execute(select(projects.c.id, projects.c.retention_days)
                           .where(projects.c.retention_days.is_not(None)).order_by(projects.c.id)).all()
    out: list[RetentionResult] = []
    for project_id, days in due:
        def expire(conn: Connection, p: int = project_id, d: int = days) -> tuple[int, list[str], int | None]:
            return _expire_project(conn, actor, p, d, at)

        n, files, _ = db.run(expire)
        if n:
            out.append(RetentionResult(project_id, n, delete_files(store, files)))
    if out:
        flush(db)
        search.forget_indexes()
        if data_dir is not None:
            clear_embedding_cache(data_dir)
            for r in out:
                search.drop_saved_indexes(data_dir, r.project_id)
    return out
