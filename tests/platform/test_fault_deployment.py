"""The deployment under faults: 64 annotators work a text project with overlap 3 through the
round-robin proxy of a one-machine deployment (2 API processes, 2 workers, Ray, S3; see
deployment.py) while a consensus recompute runs; mid-job, the worker running it and one API
process are killed with SIGKILL and started again.

The job is caught mid-job for sure, not by timing: the test holds a row lock on one finished
item's consensus row, which the recompute's write reaches first and waits on; the kill comes once
PostgreSQL shows the job's connection waiting behind the test's.

At the end: every answer the API acknowledged (2xx) is stored exactly once, none is stored that
was not acknowledged, every item has exactly 3 answers from 3 annotators, the job succeeded on
its second attempt in another process, and the JSONL export through the proxy holds exactly the
acknowledged answers. PostgreSQL only: `make test-postgres`.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, func, select, text

from labelloop.services import projects
from labelloop.services.accounts import tokens, users
from labelloop.services.policy import Actor
from labelloop.store.db import Database
from labelloop.store.migrate import upgrade
from labelloop.store.models import answers, consensus, items
from tests.platform.conftest import PG_URL
from tests.platform.deployment import Deployment, deployment, fresh_database

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not PG_URL, reason="the deployment runs on PostgreSQL (make test-postgres)"),
]

ANNOTATORS = 64
ITEMS = 1000
OVERLAP = 3
LEASE_SECONDS = 3  # short, so the leases of dropped tasks expire during the run
KILL_AFTER = 0.25  # the share of the answers in when the job starts and the kills come
DEADLINE_S = 400.0  # for the crowd's whole run: a stuck deployment fails instead of hanging (a
# quiet 2-core machine needs about a minute; the margin is for one shared with other work)
OPERATOR = Actor.operator()


@dataclass
class Crowd:
    project_id: int
    owner_token: str
    people: list[tuple[str, str]]  # (username, token)


def set_up(db: Database) -> Crowd:
    def go(conn: Connection) -> Crowd:
        owner = users.create_user(conn, OPERATOR, "owner")
        p = projects.create_project(
            conn, Actor(owner.id, "owner"), "fault",
            {"fields": [{"name": "text"}],
             "questions": [{"name": "label", "type": "choice", "options": ["a", "b", "c"]}]},
            overlap=OVERLAP, lease_seconds=LEASE_SECONDS,
        )
        people = []
        for i in range(ANNOTATORS):
            u = users.create_user(conn, OPERATOR, f"annotator{i}")
            projects.set_member(conn, OPERATOR, p.id, u.id, "annotator")
            people.append((u.username, tokens.create_token(conn, OPERATOR, u.id, "t").secret))
        return Crowd(p.id, tokens.create_token(conn, OPERATOR, owner.id, "t").secret, people)

    return db.run(go)


@dataclass(frozen=True)
class Acked:
    answer_id: int
    item_id: int
    annotator: str
    value: dict[str, Any]


@dataclass
class Annotator:
    """One simulated annotator: next, then submit (or drop the task), through the proxy; a
    connection error or the proxy's 502 is retried with the same request (a submit keeps its
    Idempotency-Key, so a retry never makes a second answer)."""

    url: str
    project_id: int
    name: str
    token: str
    rng: random.Random
    acked: dict[str, Acked] = field(default_factory=dict)  # Idempotency-Key -> what was acknowledged
    counts: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)

    async def call(self, http: httpx.AsyncClient, method: str, path: str, **kw: Any) -> httpx.Response:
        give_up = time.monotonic() + 120  # no API process for this long: the deployment is broken
        while True:
            if time.monotonic() > give_up:
                raise RuntimeError(f"{method} {path}: no answer through the proxy in 120 s")
            try:
                r = await http.request(method, f"/api/projects/{self.project_id}{path}", **kw)
            except httpx.TransportError:
                self.counts["retried_network"] += 1
            else:
                if r.status_code not in (502, 503):
                    if r.status_code >= 500:
                        self.unexpected.append(f"{method} {path}: {r.status_code} {r.text[:300]}")
                    return r
                self.counts[f"retried_{r.status_code}"] += 1
            await asyncio.sleep(0.2)

    async def run(self, stop: threading.Event) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=30,
                                     headers={"Authorization": f"Bearer {self.token}"}) as http:
            try:
                await self.work(http, stop)
            except Exception as e:  # one annotator's end must not go unseen
                self.unexpected.append(f"{self.name} stopped: {e!r}")

    async def work(self, http: httpx.AsyncClient, stop: threading.Event) -> None:
        dropped: list[int] = []
        while not stop.is_set():
            r = await self.call(http, "POST", "/tasks/next", json={"exclude": dropped[-2:]})
            if r.status_code in (204, 409):  # nothing for me now, or I hold too many
                self.counts["idle"] += 1
                await asyncio.sleep(0.3)
                continue
            if r.status_code != 200:
                self.unexpected.append(f"next: {r.status_code} {r.text[:300]}")
                continue
            item_id = r.json()["item_id"]
            if self.rng.random() < 0.04:  # walk away: the lease expires
                self.counts["dropped"] += 1
                dropped.append(item_id)
                continue
            await self.submit(http, item_id)

    async def submit(self, http: httpx.AsyncClient, item_id: int) -> None:
        key = str(uuid.uuid4())
        value = {"label": self.rng.choice("abc")}
        tries = 2 if self.rng.random() < 0.1 else 1  # a retry, as after a lost response
        ids = set()
        for _ in range(tries):
            r = await self.call(http, "POST", f"/items/{item_id}/answers",
                                json={"value": value, "duration_ms": self.rng.randint(100, 9000)},
                                headers={"Idempotency-Key": key})
            if r.status_code in (200, 201):
                ids.add(r.json()["id"])
            elif r.status_code == 409:
                self.counts["refused_late"] += 1  # the lease ran out and the item filled up meanwhile
            else:
                self.unexpected.append(f"submit: {r.status_code} {r.text[:300]}")
        if len(ids) > 1:
            self.unexpected.append(f"a retried submit made a second answer: {ids}")
        if ids:
            self.acked[key] = Acked(ids.pop(), item_id, self.name, value)
            self.counts["submitted"] += 1
            self.counts["resubmitted"] += tries - 1


def work(crowd: list[Annotator], stop: threading.Event) -> threading.Thread:
    """The whole crowd on one event loop, in a thread of its own, until `stop`."""

    async def everyone() -> None:
        await asyncio.gather(*(a.run(stop) for a in crowd))

    thread = threading.Thread(target=lambda: asyncio.run(everyone()), daemon=True)
    thread.start()
    return thread


def owner_call(dep: Deployment, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
    """An owner's request through the proxy, retried while no API process can answer it."""
    deadline = time.monotonic() + 60
    while True:
        try:
            r = httpx.request(method, f"{dep.url}{path}", headers={"Authorization": f"Bearer {token}"},
                              timeout=120, **kw)
            if r.status_code not in (502, 503):
                return r
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{method} {path} found no API process in 60 s"
        time.sleep(0.2)


def wait_for(what: str, check: Any, timeout: float, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"gave up waiting for {what} after {timeout:.0f} s"
        time.sleep(every)


def answered(db: Database, project_id: int) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(answers)
                                .where(answers.c.project_id == project_id)).scalar_one())


def finished_first_item(db: Database, project_id: int) -> int | None:
    """The lowest item id that has answers, once it has all of them (no submit touches it again)."""
    with db.read() as conn:
        row = conn.execute(select(items.c.id, items.c.answer_count, items.c.needed)
                           .where(items.c.project_id == project_id, items.c.answer_count > 0)
                           .order_by(items.c.id).limit(1)).first()
    return row.id if row is not None and row.answer_count >= row.needed else None


def waiting_behind(db: Database, backend_pid: int) -> bool:
    with db.read() as conn:
        blocked = conn.execute(text("SELECT count(*) FROM pg_stat_activity "
                                    "WHERE :me = ANY(pg_blocking_pids(pid))"), {"me": backend_pid})
        return int(blocked.scalar_one()) > 0


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    assert PG_URL is not None
    with fresh_database(PG_URL) as url:
        db = Database(url)
        upgrade(db.engine)
        try:
            yield db
        finally:
            db.dispose()


def test_kill_an_api_process_and_the_jobs_worker_mid_job(tmp_path: Path, database: Database) -> None:
    db = database
    setup = set_up(db)
    with deployment(tmp_path, db.url) as dep:
        try:
            run_the_faults(dep, db, setup)
        except BaseException:
            print(dep.logs())
            raise


def run_the_faults(dep: Deployment, db: Database, setup: Crowd) -> None:
    pid, owner = setup.project_id, setup.owner_token
    began = time.monotonic()
    timeline: list[str] = []

    def mark(what: str) -> None:
        timeline.append(f"{time.monotonic() - began:.1f}s {what}")

    body = b"".join(json.dumps({"id": f"i{n}", "text": f"item {n}"}).encode() + b"\n" for n in range(ITEMS))
    r = owner_call(dep, owner, "POST", f"/api/projects/{pid}/imports",
                   params={"filename": "items.jsonl", "wait": "true"}, content=body)
    assert r.status_code == 201, r.text
    mark("imported")

    crowd = [Annotator(dep.url, pid, name, token, random.Random(seed))
             for seed, (name, token) in enumerate(setup.people)]
    stop = threading.Event()
    started = time.monotonic()
    thread = work(crowd, stop)
    try:
        wait_for("the first answers", lambda: answered(db, pid) >= KILL_AFTER * ITEMS * OVERLAP, 180)
        first = wait_for("a finished first item", lambda: finished_first_item(db, pid), 30)

        # Hold the recompute at its first write: it upserts every item's consensus in id order.
        with db.engine.connect() as hold:
            hold.begin()
            me = hold.execute(text("SELECT pg_backend_pid()")).scalar_one()
            locked = hold.execute(select(consensus.c.item_id).where(consensus.c.item_id == first)
                                  .with_for_update()).first()
            assert locked is not None, f"item {first} has answers but no consensus row"
            r = owner_call(dep, owner, "POST", f"/api/projects/{pid}/quality/recompute")
            assert r.status_code == 202, r.text
            job_id = r.json()["id"]

            def running() -> dict[str, Any] | None:
                job = owner_call(dep, owner, "GET", f"/api/jobs/{job_id}").json()
                return job if job["status"] == "running" and job.get("worker") else None

            first_run = wait_for(f"job {job_id} running", running, 60)
            wait_for(f"job {job_id} waiting on the held row", lambda: waiting_behind(db, me), 60)
            holder = dep.worker_running(first_run["worker"])
            mark(f"job {job_id} waits on the held row in {first_run['worker']}")
            holder.kill9()
            dep.apis[0].kill9()
            mark(f"killed {holder.name} and {dep.apis[0].name}")
            hold.rollback()
        time.sleep(1.0)  # the crowd meets the dead process: the proxy routes around it
        holder.launch()
        dep.apis[0].launch()
        holder.wait_ready()
        dep.apis[0].wait_ready()
        mark("both started again")

        def done() -> dict[str, Any] | None:
            job = owner_call(dep, owner, "GET", f"/api/jobs/{job_id}").json()
            return job if job["status"] in ("succeeded", "failed") else None

        job = wait_for(f"job {job_id} to finish", done, 120)
        assert job["status"] == "succeeded", job
        assert job["attempts"] == 2, job
        assert job["worker"] != first_run["worker"], job  # another process ran it again
        assert job["result"]["items"] > 0, job
        mark(f"job {job_id} succeeded in {job['worker']}")

        def complete() -> bool:
            assert time.monotonic() - started < DEADLINE_S, "the crowd did not finish in time"
            with db.read() as conn:
                left = conn.execute(select(items.c.id).where(
                    items.c.project_id == pid, items.c.answer_count < items.c.needed).limit(1)).first()
            return left is None

        wait_for("every item answered", complete, DEADLINE_S, every=0.5)
        mark("every item answered")
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive(), "the crowd did not stop"

    problems = [p for a in crowd for p in a.unexpected]
    assert problems == []
    totals = sum((a.counts for a in crowd), Counter())
    print("\n".join(timeline))
    print(f"crowd: {dict(totals)}; CPU seconds: {dep.cpu_split()}")
    assert totals["dropped"] > 0 and totals["resubmitted"] > 0, totals
    acked = {key: a for c in crowd for key, a in c.acked.items()}

    with db.read() as conn:
        stored = conn.execute(select(answers.c.id, answers.c.item_id, answers.c.user_id,
                                     answers.c.idempotency_key).where(answers.c.project_id == pid)).all()
        item_rows = conn.execute(select(items.c.id, items.c.answer_count)
                                 .where(items.c.project_id == pid)).all()
    assert {s.idempotency_key: s.id for s in stored} == {k: a.answer_id for k, a in acked.items()}
    assert len(stored) == len(acked) == ITEMS * OVERLAP  # none lost, none twice, none unacknowledged
    per_item: dict[int, list[int]] = {}
    for s in stored:
        per_item.setdefault(s.item_id, []).append(s.user_id)
    assert len(item_rows) == ITEMS
    for row in item_rows:
        who = per_item.get(row.id, [])
        assert len(who) == OVERLAP, f"item {row.id} has {len(who)} answers"
        assert len(set(who)) == OVERLAP, f"item {row.id} was answered twice by one annotator"
        assert row.answer_count == OVERLAP, f"item {row.id} counts {row.answer_count} answers"

    r = owner_call(dep, owner, "GET", f"/api/projects/{pid}/export", params={"format": "jsonl"})
    assert r.status_code == 200, r.text
    exported = {(a["answer_id"], line["item_id"], a["annotator"], json.dumps(a["value"], sort_keys=True))
                for line in map(json.loads, r.text.splitlines()) for a in line["answers"]}
    assert exported == {(a.answer_id, a.item_id, a.annotator, json.dumps(a.value, sort_keys=True))
                        for a in acked.values()}

    for proc in (*dep.apis, *dep.workers):
        assert "Traceback" not in proc.log_tail(10**9), proc.log_tail()
