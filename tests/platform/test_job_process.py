"""`labelloop serve` runs its jobs in a child process (cli/job_process.py): an import's work is
not done by the process that answers requests; the child is started again if it dies, and dies
with the server however the server ends; LABELLOOP_JOB_PROCESS=false keeps the jobs in the
serving process."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped, unused-ignore]

from labelloop.services import projects
from labelloop.services.accounts import tokens, users
from labelloop.services.policy import Actor
from labelloop.store.db import Database
from tests.platform.live import LiveServer, live_server

OPERATOR = Actor.operator()
SCHEMA = {"fields": [{"name": "text"}],
          "questions": [{"name": "label", "type": "choice", "options": ["a", "b"]}]}


def owner_and_project(db: Database) -> tuple[str, int]:
    def go(conn: Any) -> tuple[str, int]:
        owner = users.create_user(conn, OPERATOR, "owner")
        pid = projects.create_project(conn, Actor(owner.id, "owner"), "jobs", SCHEMA).id
        return tokens.create_token(conn, OPERATOR, owner.id, "t").secret, pid
    return db.run(go)


def imported_by(server: LiveServer, token: str, pid: int, n: int, tag: str) -> int:
    """Import `n` records and wait for the job; the pid of the process that ran it."""
    auth = {"Authorization": f"Bearer {token}"}
    body = "".join(json.dumps({"id": f"{tag}{k}", "text": f"{tag} {k}"}) + "\n" for k in range(n))
    r = httpx.post(f"{server.url}/api/projects/{pid}/imports", params={"filename": f"{tag}.jsonl"},
                   content=body.encode(), headers=auth, timeout=60)
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 60
    while (job := httpx.get(f"{server.url}/api/jobs/{r.json()['id']}", headers=auth).json())["status"] in (
            "queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    assert job["status"] == "succeeded", job
    assert job["result"]["created"] == n
    return int(job["worker"].rsplit(":", 1)[1])


def job_process(server: LiveServer, timeout: float = 30) -> psutil.Process:
    """The server's one job process, once it is running."""
    deadline = time.monotonic() + timeout
    while True:
        found = [c for c in psutil.Process(server.process.pid).children()
                 if "worker" in c.cmdline() and c.status() != psutil.STATUS_ZOMBIE]
        if found:
            assert len(found) == 1, found
            return found[0]
        assert time.monotonic() < deadline, "no job process"
        time.sleep(0.05)


def gone(proc: psutil.Process, timeout: float = 10) -> bool:
    try:
        proc.wait(timeout)
    except psutil.TimeoutExpired:
        return False
    return True


def test_jobs_run_in_a_child_restarted_if_it_dies_and_ended_with_the_server(
        tmp_path: Path, database_url: str) -> None:
    db = Database(database_url)
    token, pid = owner_and_project(db)
    with live_server(tmp_path, database_url) as server:
        child = job_process(server)
        assert child.cmdline()[-4:] == ["--parent", str(server.process.pid), "--poll-seconds", "0.25"]
        assert imported_by(server, token, pid, 3000, "a") == child.pid != server.process.pid

        child.send_signal(signal.SIGKILL)  # dies while the server runs: a new one takes its place
        assert gone(child)
        again = job_process(server)
        assert again.pid != child.pid
        assert imported_by(server, token, pid, 500, "b") == again.pid

        os.kill(server.process.pid, signal.SIGKILL)  # the server killed: its job process with it
        server.process.wait()
        assert gone(again), "the job process outlived a killed server"
    db.dispose()


def test_a_stopped_server_stops_its_job_process(tmp_path: Path, database_url: str) -> None:
    with live_server(tmp_path, database_url) as server:
        child = job_process(server)
    assert server.process.returncode == 128 + signal.SIGTERM  # by itself, not killed after a wait
    assert gone(child, timeout=0)


def test_without_a_job_process_the_server_runs_its_jobs_itself(tmp_path: Path, database_url: str) -> None:
    db = Database(database_url)
    token, pid = owner_and_project(db)
    with live_server(tmp_path, database_url, env={"LABELLOOP_JOB_PROCESS": "false"}) as server:
        assert imported_by(server, token, pid, 200, "c") == server.process.pid
        assert not psutil.Process(server.process.pid).children()
    db.dispose()
