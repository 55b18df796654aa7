"""An import is whole or nothing whatever point it stops at: its rows are nobody's to see until
it commits (SQLite: staged; PostgreSQL: one transaction); on SQLite the commit point decides
whether a restart deletes the staged rows or finishes publishing them; a restart removes uploads
nobody will import. (test_import_crash.py kills a real server.)"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from labelloop.services.importing import copy_stream, writer
from labelloop.services.jobs import create_job, get_job
from labelloop.services.policy import Actor
from labelloop.services.runtime import Runtime
from labelloop.store.models import items
from tests.platform.world import World

N = 600
OPERATOR = Actor.operator()


class Stop(Exception):
    """Stands for the process dying: raised from a progress report, at a chosen moment."""


def counts(runtime: Runtime, pid: int) -> dict[bool, int]:
    with runtime.db.read() as conn:
        rows = conn.execute(select(items.c.staged, func.count()).where(items.c.project_id == pid)
                            .group_by(items.c.staged)).all()
    return {bool(staged): int(n) for staged, n in rows}


def start(world: World, owner: Any, pid: int, tmp_path: Path) -> tuple[Path, int]:
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps({"id": f"i{k}", "text": f"text {k}",
                                        **({"gold": {"sentiment": "pos"}} if k % 50 == 0 else {})})
                            + "\n" for k in range(N)))
    job = world.runtime.db.run(lambda c: create_job(c, OPERATOR, pid, "import", {}, foreground=True))
    return path, job.id


def run_until(world: World, pid: int, path: Path, job_id: int, phase: str, *, cleanup: bool) -> None:
    """Import, stopping at the first progress report of `phase` ('records read' or 'opened')."""

    def progress(done: int, total: int | None, message: str = "", **_: Any) -> None:
        if phase in message:
            raise Stop(message)

    if not cleanup:  # a killed process runs no except-block: leave the staged rows behind
        discard = writer.discard_staged
        writer.discard_staged = lambda db, job_id: 0  # type: ignore[assignment]
    try:
        with pytest.raises(Stop):
            writer.import_file(world.runtime.db, OPERATOR, pid, path, job_id=job_id,
                               batch_size=50, progress=progress)
    finally:
        if not cleanup:
            writer.discard_staged = discard  # type: ignore[assignment]


@pytest.fixture
def setup(world: World) -> tuple[World, Any, Any, int]:
    owner = world.user("owner")
    annotator = world.user("annotator")
    pid = world.project(owner, overlap=1, members={"annotator": (annotator,)})
    return world, owner, annotator, pid


def test_an_unfinished_imports_items_are_in_no_queue_list_count_or_export(
    setup: tuple[World, Any, Any, int], tmp_path: Path
) -> None:
    world, owner, annotator, pid = setup
    path, job_id = start(world, owner, pid, tmp_path)
    seen: list[dict[str, Any]] = []

    def progress(done: int, total: int | None, message: str = "", **_: Any) -> None:
        if "records read" not in message or seen:
            return
        # Batches are written (SQLite: staged; PostgreSQL: in the import's open transaction).
        seen.append({"staged": counts(world.runtime, pid).get(True, 0)})
        # Changing the overlap re-decides which items are open: the import's must stay out, and
        # get the new overlap all the same once they are in.
        r = world.client.patch(f"/api/projects/{pid}", json={"overlap": 2}, headers=owner.headers)
        assert r.status_code == 200, r.text
        seen[0]["next"] = world.next(annotator, pid).status_code  # nothing to hand out, gold neither
        listed = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers)
        seen[0]["listed"] = (listed.status_code, listed.json())
        status = world.client.get(f"/api/projects/{pid}/status", headers=owner.headers).json()
        seen[0]["count"] = status["items"]
        export = world.client.get(f"/api/projects/{pid}/export", params={"format": "jsonl"},
                                  headers=owner.headers)
        seen[0]["export"] = (export.status_code, export.content)

    writer.import_file(world.runtime.db, OPERATOR, pid, path, job_id=job_id, batch_size=50, progress=progress)
    [during] = seen
    assert during["staged"] > 0 if world.runtime.db.is_sqlite else during["staged"] == 0
    assert during["next"] == 204
    assert during["listed"] == (200, [])
    assert during["count"] == 0
    assert during["export"] == (200, b"")
    with world.runtime.db.read() as conn:
        needed = dict(conn.execute(select(items.c.needed, func.count()).where(items.c.project_id == pid)
                                   .group_by(items.c.needed)).all())
    assert needed == {2: N}
    assert world.next(annotator, pid).status_code == 200


def test_a_restart_deletes_what_an_uncommitted_import_staged(
    setup: tuple[World, Any, Any, int], tmp_path: Path
) -> None:
    world, owner, _, pid = setup
    path, job_id = start(world, owner, pid, tmp_path)
    run_until(world, pid, path, job_id, "records read", cleanup=False)
    left = counts(world.runtime, pid).get(True, 0)
    assert left > 0 if world.runtime.db.is_sqlite else left == 0  # PostgreSQL: rolled back
    world.cut_off(job_id)
    said = world.runtime.recover()
    assert counts(world.runtime, pid) == {}
    assert any(f"import job {job_id} was cut off; nothing" in line for line in said)
    with world.runtime.db.read() as conn:
        job = get_job(conn, OPERATOR, job_id)
    assert job.status == "failed" and job.result is None


def test_a_restart_finishes_an_import_cut_off_while_publishing(
    setup: tuple[World, Any, Any, int], tmp_path: Path
) -> None:
    world, owner, annotator, pid = setup
    if not world.runtime.db.is_sqlite:
        pytest.skip("SQLite's publishing phase: on PostgreSQL an import is one transaction")
    path, job_id = start(world, owner, pid, tmp_path)
    # Publishing goes in ranges of 10 x 50 rows: the first range is out when the report comes.
    run_until(world, pid, path, job_id, "opened to the queue", cleanup=True)
    partial = counts(world.runtime, pid)
    assert partial[False] > 0 and partial[True] > 0  # cut off half-way, and kept (committed)
    world.cut_off(job_id)
    world.runtime.recover()
    assert counts(world.runtime, pid) == {False: N}
    with world.runtime.db.read() as conn:
        job = get_job(conn, OPERATOR, job_id)
    assert job.status == "succeeded" and job.result == {"created": N, "unchanged": 0, "records": N}
    assert world.next(annotator, pid).status_code == 200


def test_a_failure_while_staging_deletes_the_staged_rows_at_once(
    setup: tuple[World, Any, Any, int], tmp_path: Path
) -> None:
    world, owner, _, pid = setup
    path, job_id = start(world, owner, pid, tmp_path)
    run_until(world, pid, path, job_id, "records read", cleanup=True)
    assert counts(world.runtime, pid) == {}


def test_a_restart_removes_stray_uploads(setup: tuple[World, Any, Any, int]) -> None:
    world = setup[0]
    stray = world.runtime.spool_path("cut-off.jsonl")
    stray.write_bytes(b'{"text": "half an upl')
    young = world.runtime.spool_path("being-written.jsonl")  # another process's, right now
    young.write_bytes(b'{"text": "half')
    waiting = world.runtime.spool_path("queued.jsonl")  # a running import's upload
    waiting.write_bytes(b'{"text": "whole"}\n')
    world.runtime.db.run(lambda c: create_job(c, OPERATOR, None, "import", {"upload": waiting.name},
                                              foreground=True))
    for old in (stray, waiting):
        os.utime(old, (time.time() - 3600, time.time() - 3600))
    said = world.runtime.recover()
    assert not stray.exists() and young.exists() and waiting.exists()
    assert "removed 1 unfinished upload" in said


def test_a_rename_and_an_overlap_change_during_an_import_wait_for_it(
    setup: tuple[World, Any, Any, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the import's rows hold the project's row FOR KEY SHARE (their foreign key) and
    its commit point reads it FOR SHARE: a change of name (a unique key) and overlap made meanwhile
    waits for the commit, then applies to the imported rows too; neither side is rolled back."""
    world, owner, _, pid = setup
    monkeypatch.setattr(copy_stream, "COPY_ROWS", 50)  # the first COPYs end: their rows' keys are checked
    collisions: list[BaseException] = []
    monkeypatch.setattr(writer, "collided", lambda e: bool(collisions.append(e)) or copy_stream.collided(e))
    path, job_id = start(world, owner, pid, tmp_path)
    before = 0 if world.runtime.db.is_sqlite else deadlocks(world)
    answers: list[httpx.Response] = []
    change = threading.Thread(target=lambda: answers.append(world.client.patch(
        f"/api/projects/{pid}", json={"name": "renamed", "overlap": 2}, headers=owner.headers)))

    def progress(done: int, total: int | None, message: str = "", **_: Any) -> None:
        if "records read" in message and not change.is_alive() and not answers:
            change.start()
            time.sleep(0.5)  # the change is waiting for the import (PostgreSQL) or done (SQLite)

    result = writer.import_file(world.runtime.db, OPERATOR, pid, path, job_id=job_id, batch_size=50,
                                progress=progress)
    change.join(30)
    assert [r.status_code for r in answers] == [200], [r.text for r in answers]
    assert result == {"created": N, "unchanged": 0, "records": N}
    assert collisions == []  # no deadlock, no second run
    with world.runtime.db.read() as conn:
        needed = dict(conn.execute(select(items.c.needed, func.count()).where(items.c.project_id == pid)
                                   .group_by(items.c.needed)).all())
    assert needed == {2: N}
    assert world.client.get(f"/api/projects/{pid}", headers=owner.headers).json()["name"] == "renamed"
    if not world.runtime.db.is_sqlite:  # nor did the change meet a deadlock (it would retry)
        assert deadlocks(world) == before


def deadlocks(world: World) -> int:
    """PostgreSQL's count of deadlocks in this database (its statistics come a moment late)."""
    time.sleep(1.2)
    with world.runtime.db.read() as conn:
        conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
        return int(conn.exec_driver_sql(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()").scalar_one())
