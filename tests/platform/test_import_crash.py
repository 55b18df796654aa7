"""kill -9 a real server at random points of a large import, many times. On SQLite, while it
stages rows and while it publishes them; on PostgreSQL, where an import is one transaction,
while it reads the file (none of its rows is to be seen then). After each restart the import is
finished, each item once: one cut off while publishing is published, one cut off before its
commit is imported again from its upload (its staged rows deleted first); nothing is left
staged, and no upload remains."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from labelloop.services import projects
from labelloop.services.accounts import tokens, users
from labelloop.services.policy import Actor
from labelloop.store.db import Database
from labelloop.store.models import items, jobs
from tests.platform.live import LiveServer, live_server

ITEMS = 40_000
TRIALS = 8  # SQLite: half of them killed while staging, half while publishing
OPERATOR = Actor.operator()
SCHEMA = {"fields": [{"name": "text"}],
          "questions": [{"name": "label", "type": "choice", "options": ["a", "b"]}]}


def owner_token(db: Database) -> str:
    def go(conn: Any) -> str:
        owner = users.create_user(conn, OPERATOR, "owner")
        return tokens.create_token(conn, OPERATOR, owner.id, "t").secret
    return db.run(go)


def new_project(db: Database, name: str) -> int:
    def go(conn: Any) -> int:
        owner = users.find_user(conn, "owner")
        return projects.create_project(conn, Actor(owner.id, "owner"), name, SCHEMA).id
    return db.run(go)


def settled(db: Database, pid: int, timeout: float = 120) -> tuple[int, int]:
    """(published, staged) once the restarted server has finished the import job (its items are
    out a moment before: a large import ends with ANALYZE), or at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.read() as conn:
            status = conn.execute(select(jobs.c.status).where(jobs.c.project_id == pid,
                                                              jobs.c.kind == "import")).scalar_one()
        if status == "succeeded":
            break
        time.sleep(0.1)
    return counts(db, pid)


def counts(db: Database, pid: int) -> tuple[int, int]:
    """(published, staged) items of the project."""
    with db.read() as conn:
        rows = dict(conn.execute(select(items.c.staged, func.count())
                                 .where(items.c.project_id == pid).group_by(items.c.staged)).all())
    return int(rows.get(False, 0)), int(rows.get(True, 0))


def read_so_far(db: Database, pid: int) -> tuple[str, int, int]:
    """The import job's status, and how much of its file it has read (bytes done, total)."""
    with db.read() as conn:
        row = conn.execute(select(jobs.c.status, jobs.c.progress_done, jobs.c.progress_total)
                           .where(jobs.c.project_id == pid, jobs.c.kind == "import")).first()
    return ("queued", 0, 0) if row is None else (row.status, int(row.progress_done), int(row.progress_total or 0))


def kill_during(server: LiveServer, db: Database, pid: int, token: str, body: bytes,
                phase: str, target: int) -> tuple[int, int]:
    """Upload the file, then kill -9 once `target` rows of it are staged (`phase` "staging"),
    published ("publishing"), or, in one transaction, read ("reading"; `target` rows' worth of
    the file)."""
    r = httpx.post(f"{server.url}/api/projects/{pid}/imports", params={"filename": "big.jsonl"},
                   content=body, headers={"Authorization": f"Bearer {token}"}, timeout=120)
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        published, staged = counts(db, pid)
        status, done, total = read_so_far(db, pid) if phase == "reading" else ("running", 0, 0)
        if (phase == "staging" and staged >= target and published == 0) or (
                phase == "publishing" and published >= target and staged > 0) or (
                phase == "reading" and status == "running" and total and done >= total * target // ITEMS):
            os.kill(server.process.pid, signal.SIGKILL)
            server.process.wait()
            if phase == "reading":  # nothing of the import to be seen before it commits
                assert (published, staged) == (0, 0)
                return done, total
            return published, staged
        if published == ITEMS or status not in ("running", "queued"):
            break
        time.sleep(0.002)
    server.process.kill()
    raise AssertionError(f"missed the {phase} phase (published {published}, staged {staged}, job {status})")


def targets(rng: random.Random, phase: str, trials: int) -> list[int]:
    """A random point in each of `trials` equal slices of the phase, so the kills land far apart
    even on a machine where the poll sees the rows move in large steps. Publishing is killed in
    its first half, where the poll cannot miss it by overshooting to the end."""
    # Reading: the job reports its progress four times a second, so a point late in a short
    # import may come after its last report.
    lo, hi = {"staging": (0.05, 0.9), "publishing": (0.05, 0.5), "reading": (0.05, 0.6)}[phase]
    width = (hi - lo) / trials
    return [int(ITEMS * rng.uniform(lo + k * width, lo + (k + 1) * width)) for k in range(trials)]


def test_kill_9_during_imports_keeps_all_or_nothing(tmp_path: Path, database_url: str) -> None:
    rng = random.Random(20261129)
    db = Database(database_url)
    token = owner_token(db)
    env = {"LABELLOOP_IMPORT_BATCH_SIZE": "200",  # publishing goes in ranges of 2,000 rows
           # A killed server's job is stale one second later: the restarted one takes it over.
           "LABELLOOP_JOB_HEARTBEAT_SECONDS": "0.2", "LABELLOOP_JOB_STALE_SECONDS": "1"}
    uploads = tmp_path / "uploads"
    checked: list[tuple[str, int, tuple[int, int]]] = []
    previous: tuple[str, int] | None = None
    # Staging and publishing trials alternate; each phase's points come in a shuffled order.
    phases = ("staging", "publishing") if database_url.startswith("sqlite") else ("reading",)
    per_phase = TRIALS // len(phases)
    points = {phase: rng.sample(targets(rng, phase, per_phase), per_phase) for phase in phases}
    for trial in range(TRIALS + 1):
        with live_server(tmp_path, database_url, env=env) as server:
            # The restarted server finished the previous trial's import: all of it, once.
            if previous is not None:
                phase, pid = previous
                assert settled(db, pid) == (ITEMS, 0), phase
                assert len(db.run(lambda c, pid=pid: c.execute(
                    select(items.c.external_id).where(items.c.project_id == pid)
                    .distinct()).all())) == ITEMS
                assert not any(uploads.iterdir()), list(uploads.iterdir())
            if trial == TRIALS:
                break
            phase = phases[trial % len(phases)]
            pid = new_project(db, f"crash {trial}")
            body = "".join(json.dumps({"id": f"t{trial}-{k}", "text": f"item {k} of trial {trial}"})
                           + "\n" for k in range(ITEMS)).encode()
            at = kill_during(server, db, pid, token, body, phase, points[phase].pop())
            checked.append((phase, pid, at))
            previous = (phase, pid)
    db.dispose()
    # The kills landed at many different points of each phase.
    if "staging" in phases:
        assert len({at for phase, _, at in checked if phase == "staging"}) == TRIALS // 2
        assert len({at for phase, _, at in checked if phase == "publishing"}) >= 2
    else:
        assert len({at for _, _, at in checked}) >= 3
