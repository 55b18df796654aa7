"""Background jobs with persisted status and progress.

A job row is written first; the work then runs in a thread of the server process (or in the
foreground for the CLI) and reports progress into the row, so any API worker can answer
"how far is it?". Jobs left running by a stopped server are failed at the next start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from labelloop.errors import DomainError, NotFound
from labelloop.services.policy import Action, Actor, Scope, access, require_scope
from labelloop.store.db import Database
from labelloop.store.models import jobs, utcnow

log = logging.getLogger(__name__)

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"


@dataclass(frozen=True)
class JobInfo:
    id: int
    project_id: int | None
    kind: str
    status: str
    progress_done: int
    progress_total: int | None
    message: str
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in (SUCCEEDED, FAILED)


def _info(row: Any) -> JobInfo:
    return JobInfo(
        row.id, row.project_id, row.kind, row.status, row.progress_done, row.progress_total,
        row.message, row.result, row.error, row.created_at, row.started_at, row.finished_at,
    )


def create_job(
    conn: Connection, actor: Actor, project_id: int | None, kind: str, params: dict[str, Any]
) -> JobInfo:
    row = conn.execute(
        insert(jobs)
        .values(
            project_id=project_id, kind=kind, status=QUEUED, created_by=actor.user_id,
            created_at=utcnow(), params=params, message="",
        )
        .returning(jobs)
    ).one()
    return _info(row)


def get_job(conn: Connection, actor: Actor, job_id: int) -> JobInfo:
    row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
    if row is None:
        raise NotFound(f"job {job_id} not found")
    if row.project_id is not None:
        access(conn, actor, row.project_id, Action.view_jobs)
    elif not actor.is_admin and row.created_by != actor.user_id:
        raise NotFound(f"job {job_id} not found")
    else:
        require_scope(actor, Scope.read, "reading a job")
    return _info(row)


def list_jobs(conn: Connection, actor: Actor, project_id: int, limit: int = 50) -> list[JobInfo]:
    access(conn, actor, project_id, Action.view_jobs)
    rows = conn.execute(
        select(jobs).where(jobs.c.project_id == project_id).order_by(jobs.c.id.desc()).limit(limit)
    )
    return [_info(r) for r in rows]


class Progress:
    """What a running job calls to report progress; writes at most a few times a second."""

    def __init__(self, db: Database, job_id: int, *, echo: Callable[[int, int | None], None] | None = None):
        self.db = db
        self.job_id = job_id
        self.echo = echo
        self._last = 0.0

    def __call__(self, done: int, total: int | None, message: str = "", *, force: bool = False) -> None:
        if self.echo is not None:
            self.echo(done, total)
        now = time.monotonic()
        if not force and now - self._last < 0.25:
            return
        self._last = now
        with self.db.write() as conn:
            conn.execute(
                update(jobs)
                .where(jobs.c.id == self.job_id)
                .values(progress_done=done, progress_total=total, message=message)
            )


JobBody = Callable[[Progress], dict[str, Any]]


def run_job(db: Database, job_id: int, body: JobBody, progress: Progress | None = None) -> JobInfo:
    """Run the job's body now, recording start, result or failure."""
    with db.write() as conn:
        conn.execute(
            update(jobs).where(jobs.c.id == job_id).values(status=RUNNING, started_at=utcnow())
        )
    progress = progress or Progress(db, job_id)
    try:
        result = body(progress)
        values: dict[str, Any] = {"status": SUCCEEDED, "result": result}
    except DomainError as e:
        values = {"status": FAILED, "error": {"message": e.message, "problems": e.detail}}
    except Exception as e:  # a bug or an outage: record it, never leave the job "running"
        log.exception("job %s failed", job_id)
        values = {"status": FAILED, "error": {"message": f"internal error: {type(e).__name__}: {e}"}}
    with db.write() as conn:
        conn.execute(
            update(jobs).where(jobs.c.id == job_id).values(finished_at=utcnow(), **values)
        )
        return _info(conn.execute(select(jobs).where(jobs.c.id == job_id)).one())


class JobRunner:
    """Runs jobs on a small thread pool inside the server process."""

    def __init__(self, db: Database, workers: int = 2) -> None:
        self.db = db
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="labelloop-job")
        self._lock = threading.Lock()
        self._futures: dict[int, Future[JobInfo]] = {}

    def submit(self, job_id: int, body: JobBody) -> Future[JobInfo]:
        future = self._pool.submit(run_job, self.db, job_id, body)
        with self._lock:
            self._futures[job_id] = future
        future.add_done_callback(lambda _f: self._forget(job_id))
        return future

    def _forget(self, job_id: int) -> None:
        with self._lock:
            self._futures.pop(job_id, None)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)


def fail_interrupted(conn: Connection, *, kind: str | None = None) -> list[JobInfo]:
    """Mark jobs (of `kind`) a previous server left queued or running as failed; returns them."""
    stmt = select(jobs).where(jobs.c.status.in_([QUEUED, RUNNING]))
    rows = conn.execute(stmt if kind is None else stmt.where(jobs.c.kind == kind)).all()
    if rows:
        conn.execute(
            update(jobs)
            .where(jobs.c.id.in_([r.id for r in rows]))
            .values(
                status=FAILED,
                finished_at=utcnow(),
                error={"message": "interrupted: the server stopped before the job finished"},
            )
        )
    return [_info(r) for r in rows]
