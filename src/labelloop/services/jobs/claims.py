"""Jobs shared by many processes: a queued job goes to exactly one worker, and a running job
whose process has stopped saying it is alive goes to another.

A claim is one write transaction: on PostgreSQL `SELECT ... FOR UPDATE SKIP LOCKED` lets
workers claim side by side without waiting on each other; SQLite has one writer at a time, so
the same statement (without the lock clause) is already exclusive. A worker's `Heartbeat`
stamps its running jobs every few seconds; one whose stamp is older than the stale limit is
due again, and the first worker to claim it takes it over (the job's kind first undoes what the
cut-off run left: services/jobs/kinds.py). The heartbeat is services/jobs/heartbeat.py.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update

from labelloop.services.jobs.rows import JobInfo, _info, actor_of
from labelloop.services.jobs.status import QUEUED, RUNNING
from labelloop.services.policy import Actor
from labelloop.store.db import Database
from labelloop.store.models import jobs, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    """A job this worker now holds."""

    job: JobInfo
    params: dict[str, Any]
    actor: Actor
    taken_over: bool  # it was running in a process presumed dead


def due(kinds: Collection[str], stale_seconds: float) -> ColumnElement[bool]:
    stale_before = utcnow() - timedelta(seconds=stale_seconds)
    stale = and_(jobs.c.status == RUNNING,
                 or_(jobs.c.heartbeat_at.is_(None), jobs.c.heartbeat_at < stale_before))
    return and_(jobs.c.kind.in_(list(kinds)), or_(jobs.c.status == QUEUED, stale))


def claim(db: Database, worker: str, kinds: Collection[str], stale_seconds: float, *, after: int = 0
          ) -> Claimed | None:
    """The oldest job due (queued, or running in a silent process) with an id above `after`, now
    `worker`'s; None if none."""
    is_due = and_(due(kinds, stale_seconds), jobs.c.id > after)
    with db.read() as conn:  # a cheap look first: no write transaction while there is nothing to do
        if conn.execute(select(jobs.c.id).where(is_due).limit(1)).first() is None:
            return None
    with db.write() as conn:
        row = conn.execute(
            select(jobs).where(is_due).order_by(jobs.c.id).limit(1).with_for_update(skip_locked=True)
        ).first()
        if row is None:
            return None
        now = utcnow()
        conn.execute(update(jobs).where(jobs.c.id == row.id).values(
            status=RUNNING, worker=worker, heartbeat_at=now, started_at=now, finished_at=None,
            attempts=jobs.c.attempts + 1,
        ))
        claimed = conn.execute(select(jobs).where(jobs.c.id == row.id)).one()
    if row.status == RUNNING:
        log.warning("job %s (%s): its process %s stopped answering; %s takes it over",
                    row.id, row.kind, row.worker, worker)
    return Claimed(_info(claimed), dict(row.params or {}), actor_of(row.actor),
                   taken_over=row.status == RUNNING)
