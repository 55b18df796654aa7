"""A process's heartbeat for the jobs it runs (services/jobs/claims.py says what silence means)."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import update

from labelloop.services.jobs.status import RUNNING
from labelloop.store.db import Database
from labelloop.store.models import jobs, utcnow

log = logging.getLogger(__name__)


class Heartbeat:
    """Stamps the jobs a process runs, every `interval` seconds, on a thread of its own; a job
    another worker has taken over meanwhile is marked lost (its Progress then stops it)."""

    def __init__(self, db: Database, worker: str, interval: float = 5.0) -> None:
        self.db = db
        self.worker = worker
        self.interval = interval
        self._held: set[int] = set()
        self._lost: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="labelloop-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def add(self, job_id: int) -> None:
        with self._lock:
            self._held.add(job_id)
            self._lost.discard(job_id)

    def remove(self, job_id: int) -> None:
        with self._lock:
            self._held.discard(job_id)

    def lost(self, job_id: int) -> bool:
        with self._lock:
            return job_id in self._lost

    def beat(self) -> None:
        with self._lock:
            held = sorted(self._held)
        if not held:
            return
        with self.db.write() as conn:
            alive = set(conn.execute(
                update(jobs)
                .where(jobs.c.id.in_(held), jobs.c.worker == self.worker, jobs.c.status == RUNNING)
                .values(heartbeat_at=utcnow())
                .returning(jobs.c.id)
            ).scalars())
        with self._lock:
            self._lost |= {j for j in held if j not in alive and j in self._held}

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat()
            except Exception:  # the database away for a moment: the next beat tries again
                log.exception("heartbeat of %s failed", self.worker)
