"""Job rows: status, progress and result, persisted so that any process can answer "how far is it?".

A job row is written first (queued); a worker (services/jobs/worker.py: threads of `labelloop
serve`, or `labelloop worker` processes) claims it, runs it and records the outcome. The CLI runs
its own jobs in the foreground (`foreground=True`: created running, by this process).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update

from labelloop.errors import DomainError, NotFound
from labelloop.services.jobs.heartbeat import Heartbeat
from labelloop.services.jobs.status import FAILED, QUEUED, RUNNING, SUCCEEDED
from labelloop.services.policy import ALL_SCOPES, Action, Actor, Scope, access, require_scope
from labelloop.store.db import Database
from labelloop.store.models import jobs, utcnow

log = logging.getLogger(__name__)



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
    worker: str | None = None
    heartbeat_at: datetime | None = None
    attempts: int = 0

    @property
    def finished(self) -> bool:
        return self.status in (SUCCEEDED, FAILED)


def _info(row: Any) -> JobInfo:
    return JobInfo(
        row.id, row.project_id, row.kind, row.status, row.progress_done, row.progress_total,
        row.message, row.result, row.error, row.created_at, row.started_at, row.finished_at,
        row.worker, row.heartbeat_at, row.attempts,
    )


def process_name(prefix: str | None = None) -> str:
    """This process as a job's `worker`: host and pid (a restarted process is another one)."""
    return f"{prefix or socket.gethostname()}:{os.getpid()}"


def actor_record(actor: Actor) -> dict[str, Any]:
    """Who started a job, as stored: a worker runs it again as them (their scopes included)."""
    return {"user_id": actor.user_id, "username": actor.username, "is_admin": actor.is_admin,
            "scopes": sorted(s.value for s in actor.scopes)}


def actor_of(record: dict[str, Any] | None) -> Actor:
    """The actor a job runs as; a job without one (made before jobs were durable) runs as the
    local operator, as the server that made it did."""
    if record is None:
        return Actor.operator()
    scopes = frozenset(Scope(s) for s in record.get("scopes", ())) or ALL_SCOPES
    return Actor(record["user_id"], record["username"], bool(record["is_admin"]), scopes)


def create_job(
    conn: Connection, actor: Actor, project_id: int | None, kind: str, params: dict[str, Any],
    *, foreground: bool = False,
) -> JobInfo:
    """A queued job for the workers, or with `foreground` one this process runs itself (`run_job`)."""
    now = utcnow()
    running = {"status": RUNNING, "worker": process_name(), "heartbeat_at": now, "started_at": now,
               "attempts": 1} if foreground else {"status": QUEUED}
    row = conn.execute(
        insert(jobs)
        .values(
            project_id=project_id, kind=kind, created_by=actor.user_id, actor=actor_record(actor),
            created_at=now, params=params, message="", **running,
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


class JobLost(Exception):
    """Another worker took the job over (this process was presumed dead): stop working on it."""


class Progress:
    """What a running job calls to report progress; writes at most a few times a second, and
    stops the job (JobLost) once another worker has taken it over."""

    def __init__(self, db: Database, job_id: int, *, echo: Callable[[int, int | None], None] | None = None,
                 lost: Callable[[], bool] = lambda: False):
        self.db = db
        self.job_id = job_id
        self.echo = echo
        self.lost = lost
        self._last = 0.0

    def __call__(self, done: int, total: int | None, message: str = "", *, force: bool = False) -> None:
        if self.lost():
            raise JobLost(f"job {self.job_id} was taken over by another worker")
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


def run_job(db: Database, job_id: int, body: JobBody, progress: Progress | None = None,
            *, worker: str | None = None, heartbeat: Heartbeat | None = None) -> JobInfo:
    """Run the job's body here and now, recording its result or failure. The job must be this
    process's: created `foreground` here, or claimed by `worker` (whose `heartbeat` then says it
    is alive); a foreground job gets a heartbeat of its own, so no worker takes it over."""
    worker = worker or process_name()
    with db.write() as conn:  # the job is ours, or it is queued and becomes ours now
        taken = conn.execute(
            update(jobs).where(jobs.c.id == job_id, jobs.c.status.in_([QUEUED, RUNNING]),
                               or_(jobs.c.worker.is_(None), jobs.c.worker == worker))
            .values(status=RUNNING, worker=worker, heartbeat_at=utcnow(),
                    started_at=func.coalesce(jobs.c.started_at, utcnow()))
        ).rowcount
    if not taken:
        raise DomainError(f"job {job_id} is not this process's to run (finished, or another worker's)")
    own = heartbeat is None
    beat = Heartbeat(db, worker) if heartbeat is None else heartbeat
    if own:
        beat.start()
    beat.add(job_id)
    progress = progress or Progress(db, job_id)
    progress.lost = lambda: beat.lost(job_id)
    try:
        try:
            result = body(progress)
            values: dict[str, Any] = {"status": SUCCEEDED, "result": result}
        except JobLost:
            log.warning("job %s: taken over by another worker; this process stops working on it", job_id)
            with db.read() as conn:
                return _info(conn.execute(select(jobs).where(jobs.c.id == job_id)).one())
        except DomainError as e:
            values = {"status": FAILED, "error": {"message": e.message, "problems": e.detail}}
        except KeyboardInterrupt:
            finish(db, job_id, worker, {"status": FAILED, "error": {"message": "stopped (interrupted)"}})
            raise
        except Exception as e:  # a bug or an outage: record it, never leave the job "running"
            log.exception("job %s failed", job_id)
            values = {"status": FAILED, "error": {"message": f"internal error: {type(e).__name__}: {e}"}}
        return finish(db, job_id, worker, values)
    finally:
        beat.remove(job_id)
        if own:
            beat.stop()


def finish(db: Database, job_id: int, worker: str, values: dict[str, Any]) -> JobInfo:
    """Record the outcome, unless another worker has taken the job over meanwhile (its outcome
    is the one that counts)."""
    with db.write() as conn:
        conn.execute(
            update(jobs).where(jobs.c.id == job_id, jobs.c.worker == worker, jobs.c.status == RUNNING)
            .values(finished_at=utcnow(), **values)
        )
        return _info(conn.execute(select(jobs).where(jobs.c.id == job_id)).one())
