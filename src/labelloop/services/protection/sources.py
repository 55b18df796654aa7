"""The source files a project's items came from, for choosing one to erase (the console's
erasure form): each import that wrote items, its file's name and how many of its items remain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from labelloop.services.policy import Action, Actor, access
from labelloop.store.models import items, jobs


@dataclass(frozen=True)
class Source:
    import_job_id: int
    file: str  # as the import was given it
    items: int  # still in the project
    created_at: datetime


def sources(conn: Connection, actor: Actor, project_id: int) -> list[Source]:
    """The project's imports that still have items, newest first (managers and up)."""
    access(conn, actor, project_id, Action.erase)
    counts = (select(items.c.import_job_id, func.count().label("n"))
              .where(items.c.project_id == project_id, items.c.staged.is_(False))
              .group_by(items.c.import_job_id).subquery())
    rows = conn.execute(
        select(jobs.c.id, jobs.c.params, jobs.c.created_at, counts.c.n)
        .join(counts, counts.c.import_job_id == jobs.c.id)
        .where(jobs.c.project_id == project_id, jobs.c.kind == "import")
        .order_by(jobs.c.id.desc())
    )
    return [Source(r.id, str((r.params or {}).get("file") or ""), int(r.n), r.created_at) for r in rows]
