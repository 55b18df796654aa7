"""The job worker: threads that claim jobs from the database and run them.

`labelloop serve` runs one with LABELLOOP_JOB_WORKERS threads (the single-machine default), in a
child process of its own unless LABELLOOP_JOB_PROCESS is false (cli/job_process.py);
`labelloop worker` is a process that does nothing else, so heavy jobs can leave the API
processes (LABELLOOP_JOB_WORKERS=0 there). Both claim from the same table, so any number of
them, on any number of machines, share the work (docs/scaling.md, "Processes and jobs").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from labelloop.services.jobs.claims import Claimed, claim, due
from labelloop.services.jobs.heartbeat import Heartbeat
from labelloop.services.jobs.rows import JobInfo, Progress, finish, process_name, run_job
from labelloop.services.jobs.status import FAILED, QUEUED, SUCCEEDED
from labelloop.store.db import Database
from labelloop.store.models import jobs

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a job whose process died this many times fails rather than kill a fourth


@dataclass(frozen=True)
class JobKind:
    """How a worker runs one kind of job from its stored parameters.

    `run` does the work as the job's actor. `clean_up` runs before every start and undoes what a
    cut-off earlier run left (a started job is then never half applied); it returns a result
    when that run turns out to have finished (an import past its commit point). `cannot_run`
    says why this worker cannot run the job at all (an import whose upload it cannot see)."""

    run: Callable[[Claimed, Progress], dict[str, Any]]
    clean_up: Callable[[Database, Claimed], dict[str, Any] | None] = lambda _db, _c: None
    cannot_run: Callable[[Claimed], str | None] = lambda _c: None


class JobWorker:
    def __init__(
        self, db: Database, kinds: Mapping[str, JobKind], *, threads: int, name: str | None = None,
        heartbeat_seconds: float = 5.0, stale_seconds: float = 30.0, poll_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.kinds = kinds
        self.threads = threads
        self.name = process_name(name)
        self.stale_seconds = stale_seconds
        self.poll_seconds = poll_seconds
        self.heartbeat = Heartbeat(db, self.name, heartbeat_seconds)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._started = False
        self._start_lock = threading.Lock()
        self._pool: list[threading.Thread] = []
        self._busy = 0
        self._idle = threading.Condition()

    def start(self) -> None:
        """Start claiming (idempotent; a worker of 0 threads never claims)."""
        with self._start_lock:
            if self._started or self.threads <= 0:
                return
            self._started = True
            self.heartbeat.start()
            for k in range(self.threads):
                t = threading.Thread(target=self._loop, name=f"labelloop-job-{k}", daemon=True)
                t.start()
                self._pool.append(t)

    def wake(self) -> None:
        """A job was just queued here: look now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the jobs running here and stop claiming."""
        self._stopping.set()
        self._wake.set()
        for t in self._pool:
            t.join()
        if self._started:
            self.heartbeat.stop()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Until no job is due or running here (tests, and `worker --until-idle`)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0 and not self._due(), timeout)

    def _due(self) -> bool:
        with self.db.read() as conn:
            return conn.execute(select(jobs.c.id).where(
                due(self.kinds, self.stale_seconds)).limit(1)).first() is not None

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                claimed = self._claim()
            except Exception:  # the database away for a moment: try again at the next poll
                log.exception("%s: claiming a job failed", self.name)
                claimed = None
            if claimed is None:
                with self._idle:
                    self._idle.notify_all()
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
                continue
            try:
                self.handle(claimed)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

    def _claim(self) -> Claimed | None:
        with self._idle:
            self._busy += 1
        try:
            claimed = claim(self.db, self.name, self.kinds, self.stale_seconds)
        except BaseException:
            with self._idle:
                self._busy -= 1
            raise
        if claimed is None:
            with self._idle:
                self._busy -= 1
        return claimed

    def handle(self, claimed: Claimed, *, run: bool = True) -> JobInfo | None:
        """Settle what an earlier run left, then run the job (or say why it cannot run); with
        `run=False` a job that can run goes back to the queue instead (None)."""
        job, kind = claimed.job, self.kinds[claimed.job.kind]
        try:
            finished = kind.clean_up(self.db, claimed)
        except Exception as e:
            log.exception("job %s: cleaning up after an earlier run failed", job.id)
            return finish(self.db, job.id, self.name, {"status": FAILED, "error": {
                "message": f"internal error while cleaning up an earlier run: {type(e).__name__}: {e}"}})
        if finished is not None:
            return finish(self.db, job.id, self.name, {"status": SUCCEEDED, "result": finished,
                                                       "error": None})
        why = kind.cannot_run(claimed)
        if why is None and job.attempts > MAX_ATTEMPTS:
            why = f"its process stopped {job.attempts - 1} times before it finished"
        if why is not None:
            return finish(self.db, job.id, self.name, {"status": FAILED, "error": {"message": why}})
        if not run:
            with self.db.write() as conn:
                conn.execute(update(jobs).where(jobs.c.id == job.id, jobs.c.worker == self.name).values(
                    status=QUEUED, worker=None, heartbeat_at=None, attempts=jobs.c.attempts - 1))
            return None
        return run_job(self.db, job.id, lambda progress: kind.run(claimed, progress),
                       worker=self.name, heartbeat=self.heartbeat)

    def settle(self) -> tuple[list[JobInfo], list[int]]:
        """Settle every job due now, in this thread, without running any (`labelloop serve` at
        its start: what the last run left is cleaned up before anyone asks). Returns the jobs
        that ended here and the ids of those put back in the queue for the workers."""
        ended, queued = [], []
        last = 0
        while (claimed := claim(self.db, self.name, self.kinds, self.stale_seconds, after=last)) is not None:
            last = claimed.job.id
            if (info := self.handle(claimed, run=False)) is None:
                queued.append(claimed.job.id)
            else:
                ended.append(info)
        return ended, queued
