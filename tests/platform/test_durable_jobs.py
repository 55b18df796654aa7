"""Durable jobs (services/jobs/): any number of workers claim from one table, each job once; a
job whose process went silent is taken over, after what the cut-off run left is undone; the
silent process, if it wakes up, neither goes on nor overwrites the outcome."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from labelloop.services.importing import writer
from labelloop.services.jobs import JobLost, Progress, create_job, get_job, run_job
from labelloop.services.jobs.claims import claim
from labelloop.services.jobs.heartbeat import Heartbeat
from labelloop.services.jobs.kinds import IMPORT, RECOMPUTE, ROUND, job_kinds
from labelloop.services.jobs.worker import MAX_ATTEMPTS, JobWorker
from labelloop.services.policy import Actor
from labelloop.store.models import items, jobs, model_versions
from tests.platform.world import World

OPERATOR = Actor.operator()
KINDS = (IMPORT, ROUND, RECOMPUTE)


def quiet(world: World) -> None:
    """From here on the test's own workers claim, not the app's threads."""
    world.runtime.jobs.stop()


def worker(world: World, name: str) -> JobWorker:
    return JobWorker(world.runtime.db, job_kinds(world.runtime), threads=0, name=name, stale_seconds=30)


def queue(world: World, pid: int | None, kind: str, n: int = 1) -> list[int]:
    with world.runtime.db.write() as conn:
        return [create_job(conn, OPERATOR, pid, kind, {}).id for _ in range(n)]


def row(world: World, job_id: int) -> Any:
    with world.runtime.db.read() as conn:
        return conn.execute(select(jobs).where(jobs.c.id == job_id)).one()


def text_project(world: World, n: int = 40) -> tuple[Any, int]:
    owner = world.user("owner")
    pid = world.project(owner)
    r = world.import_records(owner, pid, [{"id": f"i{k}", "text": f"text number {k}"} for k in range(n)])
    assert r.status_code in (200, 201), r.text
    quiet(world)
    return owner, pid


def test_workers_claiming_side_by_side_take_each_job_once(world: World) -> None:
    quiet(world)
    ids = queue(world, None, RECOMPUTE, 30)
    taken: list[tuple[str, int]] = []
    lock = threading.Lock()

    def take(name: str) -> None:
        while (c := claim(world.runtime.db, name, KINDS, 30)) is not None:
            with lock:
                taken.append((name, c.job.id))

    threads = [threading.Thread(target=take, args=(f"w{k}",)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(j for _, j in taken) == ids  # every job once, none twice
    for name, job_id in taken:
        r = row(world, job_id)
        assert (r.status, r.worker, r.attempts) == ("running", name, 1)
        assert r.heartbeat_at is not None


def test_a_job_of_a_silent_process_is_taken_over_and_the_silent_one_stops(world: World) -> None:
    _, pid = text_project(world)
    [job_id] = queue(world, pid, RECOMPUTE)
    first = claim(world.runtime.db, "first:1", KINDS, 30)
    assert first is not None and first.job.id == job_id and not first.taken_over
    w = worker(world, "second")
    assert claim(world.runtime.db, w.name, KINDS, 30) is None  # alive: nobody else's
    world.cut_off(job_id)
    second = claim(world.runtime.db, w.name, KINDS, 30)
    assert second is not None and second.taken_over and second.job.attempts == 2
    # The first process wakes up: its heartbeat finds the job gone, its progress stops it, and
    # its outcome is not recorded over the second's.
    beat = Heartbeat(world.runtime.db, "first:1")
    beat.add(job_id)
    beat.beat()
    assert beat.lost(job_id)
    progress = Progress(world.runtime.db, job_id, lost=lambda: beat.lost(job_id))
    with pytest.raises(JobLost):
        progress(1, 2, "still working")
    done = w.handle(second)
    assert done is not None and done.status == "succeeded" and done.worker == w.name
    late = run_job  # the first process could not even start it again
    with pytest.raises(Exception, match="not this process's"):
        late(world.runtime.db, job_id, lambda _p: {"late": True}, worker="first:1")
    assert row(world, job_id).result == done.result and done.result is not None  # the second run's


def test_a_round_cut_off_runs_again_without_the_version_it_began(world: World) -> None:
    _, pid = text_project(world)
    [job_id] = queue(world, pid, ROUND)
    assert claim(world.runtime.db, "first:1", KINDS, 30) is not None
    with world.runtime.db.write() as conn:  # what the cut-off run had written
        conn.execute(insert(model_versions).values(project_id=pid, job_id=job_id, question="sentiment",
                                                   encoder="tfidf", classes=["pos"], metrics={}))
    world.cut_off(job_id)
    w = worker(world, "second")
    taken = claim(world.runtime.db, w.name, KINDS, 30)
    assert taken is not None
    done = w.handle(taken)
    assert done is not None and done.status == "succeeded", done
    with world.runtime.db.read() as conn:
        versions = conn.execute(select(model_versions).where(model_versions.c.job_id == job_id)).all()
    assert len(versions) == 1 and versions[0].classes != ["pos"]  # the round's own, one only


def test_an_import_cut_off_before_its_commit_is_imported_again_from_its_upload(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = world.user("owner")
    pid = world.project(owner)
    quiet(world)
    n = 300
    path = world.runtime.spool_path("items.jsonl")
    path.write_text("".join(json.dumps({"id": f"i{k}", "text": f"t{k}"}) + "\n" for k in range(n)))
    job = world.runtime.start_import(OPERATOR, pid, path, filename="items.jsonl")
    first = claim(world.runtime.db, "first:1", KINDS, 30)
    assert first is not None and first.job.id == job.id

    class Died(BaseException):
        pass

    def dies(done: int, total: int | None, message: str = "", **_: Any) -> None:
        if "records read" in message:
            raise Died

    monkeypatch.setattr(writer, "discard_staged", lambda *a, **k: 0)  # a killed process cleans nothing
    with pytest.raises(Died):
        writer.import_file(world.runtime.db, OPERATOR, pid, path, job_id=job.id, batch_size=50, progress=dies)
    monkeypatch.undo()
    with world.runtime.db.read() as conn:
        left = conn.execute(select(func.count()).where(items.c.project_id == pid)).scalar_one()
    # SQLite: the batches staged are left behind; PostgreSQL: the import's transaction rolled back.
    assert left > 0 if world.runtime.db.is_sqlite else left == 0
    world.cut_off(job.id)
    w = worker(world, "second")
    taken = claim(world.runtime.db, w.name, KINDS, 30)
    assert taken is not None and taken.taken_over
    done = w.handle(taken)
    assert done is not None and done.status == "succeeded" and done.attempts == 2, done
    assert done.result is not None and done.result["created"] == n
    with world.runtime.db.read() as conn:
        ids = conn.execute(select(items.c.external_id, items.c.staged).where(items.c.project_id == pid)).all()
    assert sorted(e for e, _ in ids) == sorted(f"i{k}" for k in range(n))  # each once
    assert not any(staged for _, staged in ids)
    assert not path.exists()  # the upload goes once imported


def test_a_job_whose_process_keeps_dying_fails_and_says_so(world: World) -> None:
    _, pid = text_project(world)
    [job_id] = queue(world, pid, RECOMPUTE)
    with world.runtime.db.write() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(status="running", worker="gone:1",
                                                                     attempts=MAX_ATTEMPTS))
    world.cut_off(job_id)
    w = worker(world, "last")
    taken = claim(world.runtime.db, w.name, KINDS, 30)
    assert taken is not None
    done = w.handle(taken)
    assert done is not None and done.status == "failed"
    assert done.error == {"message": f"its process stopped {MAX_ATTEMPTS} times before it finished"}


def test_the_api_queues_jobs_that_a_worker_process_runs(world: World, tmp_path: Path) -> None:
    """With LABELLOOP_JOB_WORKERS=0 the server runs none; `labelloop worker` does."""
    owner, pid = text_project(world)
    r = world.client.post(f"/api/projects/{pid}/quality/recompute", headers=owner.headers)
    assert r.status_code == 202 and r.json()["status"] == "queued"
    job_id = r.json()["id"]
    settings = world.runtime.settings
    env = {"LABELLOOP_DATABASE_URL": settings.resolved_database_url, "LABELLOOP_DATA_DIR": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "labelloop", "worker", "--until-idle", "--name", "w"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    r = world.client.get(f"/api/jobs/{job_id}", headers=owner.headers)
    assert r.json()["status"] == "succeeded" and r.json()["worker"].startswith("w:"), r.json()
    assert r.json()["attempts"] == 1
    with world.runtime.db.read() as conn:
        assert get_job(conn, OPERATOR, job_id).result is not None
