"""labelloop.client against a real server process: every method, sync and async; retries against
a stub server of the test's own; the CLI's remote mode as a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from labelloop.client import AsyncClient, Backoff, Client, ClientError, Item
from labelloop.services.accounts import tokens, users
from labelloop.services.policy import Actor
from labelloop.store.db import Database
from tests.platform.live import LiveServer, live_server
from tests.platform.stub_http import JsonHandler, serving

SCHEMA = {"fields": [{"name": "text"}],
          "questions": [{"name": "label", "type": "choice", "options": ["pos", "neg"]}]}
FAST = Backoff(base=0.01, cap=2.0)


def make_token(database_url: str, username: str = "owner") -> str:
    db = Database(database_url)
    try:
        def go(conn: Any) -> str:
            user = users.create_user(conn, Actor.operator(), username, is_admin=True)
            return tokens.create_token(conn, Actor.operator(), user.id, "client").secret
        return db.run(go)
    finally:
        db.dispose()


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[tuple[LiveServer, str]]:
    token = make_token(database_url)
    (tmp_path / "server").mkdir()
    with live_server(tmp_path / "server", database_url) as live:
        yield live, token


def write_items(path: Path, n: int, prefix: str = "i") -> Path:
    path.write_text("".join(json.dumps({"id": f"{prefix}{k}", "text": f"text number {k}"}) + "\n"
                            for k in range(n)))
    return path


class CountingTransport(httpx.HTTPTransport):
    """Counts the requests per path, to see pages fetched and retries made."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return super().handle_request(request)


def test_sync_client_end_to_end(server: tuple[LiveServer, str], tmp_path: Path) -> None:
    live, token = server
    transport = CountingTransport()
    with Client(live.url, token, transport=transport) as c:
        project = c.create_project("Reviews", SCHEMA, description="client test", overlap=1)
        assert (project.name, project.overlap, project.description, project.role) == (
            "Reviews", 1, "client test", "owner")
        assert [p.id for p in c.list_projects()] == [project.id]
        assert c.get_project(project.id).label_schema["questions"][0]["options"] == [{"value": "pos"}, {"value": "neg"}]
        assert c.find_project("Reviews").id == project.id
        with pytest.raises(ClientError) as missing:
            c.get_project(project.id + 100)
        assert (missing.value.status, missing.value.type) == (404, "not_found")

        # A streamed upload with progress, then its job waited for.
        data = write_items(tmp_path / "items.jsonl", 250)
        seen: list[tuple[int, int | None]] = []
        job = c.import_file(project.id, data, progress=lambda done, total: seen.append((done, total)))
        size = data.stat().st_size
        result = job.result or {}
        assert (job.status, job.kind, result.get("created"), result.get("unchanged")) == (
            "succeeded", "import", 250, 0)
        assert seen[-1] == (size, size)
        assert c.get_job(job.id).status == "succeeded"
        assert job.id in [j.id for j in c.list_jobs(project.id)]

        # A bad file: the job's error with the line and field at fault.
        bad = tmp_path / "bad.jsonl"
        bad.write_text('{"id": "b1", "text": "fine"}\n{"id": "b2"}\n')
        with pytest.raises(ClientError) as invalid:
            c.import_file(project.id, bad)
        assert invalid.value.problems and invalid.value.problems[0]["line"] == 2

        # Pagination: three pages of 100, 100 and 50, fetched lazily.
        transport.paths.clear()
        items = c.iter_items(project.id, page_size=100)
        first = next(items)
        assert isinstance(first, Item) and first.external_id == "i0"
        assert transport.paths.count(f"/api/projects/{project.id}/items") == 1
        rest = list(items)
        assert transport.paths.count(f"/api/projects/{project.id}/items") == 3
        assert [i.external_id for i in [first, *rest]] == [f"i{k}" for k in range(250)]
        assert [i.id for i in c.list_items(project.id, after=first.id, limit=2)] == [rest[0].id, rest[1].id]
        assert [i.external_id for i in c.list_items(project.id, q="number 249")] == ["i249"]

        # Tasks: lease, submit with a key, the retry of that submit stores nothing new.
        task = c.next_task(project.id)
        assert task is not None and task.external_id == "i0"
        answer = c.submit(project.id, task.item_id, {"label": "pos"}, idempotency_key="k-1", duration_ms=900)
        again = c.submit(project.id, task.item_id, {"label": "pos"}, idempotency_key="k-1", duration_ms=900)
        assert (again.id, answer.value, answer.duration_ms, answer.source) == (answer.id, {"label": "pos"}, 900,
                                                                               "human")
        status = c.project_status(project.id)
        assert (status.items, status.answers, status.done) == (250, 1, 1)

        # Quality and the loop.
        assert set(c.quality_report(project.id)) >= {"questions"}
        assert isinstance(c.annotator_report(project.id), list)
        round_job = c.run_round(project.id, timeout=120)
        assert (round_job.kind, round_job.finished) == ("round", True)
        assert all(r.model_version >= 1 for r in c.list_rounds(project.id))

        # A streamed download with progress, into a file and into an open file.
        got: list[int] = []
        out = tmp_path / "export.jsonl"
        written = c.export(project.id, out, progress=lambda done, total: got.append(done))
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert (written, len(rows), got[-1]) == (out.stat().st_size, 250, written)
        assert got == sorted(got)
        with (tmp_path / "export.csv").open("wb") as f:
            c.export(project.id, f, format="csv")
        assert (tmp_path / "export.csv").read_text().count("\n") >= 251
        with pytest.raises(ClientError) as wrong:
            c.export(project.id, tmp_path / "no.bin", format="nope")
        assert wrong.value.status == 422 and not (tmp_path / "no.bin").exists()

    with Client(live.url, "llt_wrong") as anonymous, pytest.raises(ClientError) as denied:
        anonymous.list_projects()
    assert (denied.value.status, denied.value.type) == (401, "unauthenticated")


def test_async_client_end_to_end(server: tuple[LiveServer, str], tmp_path: Path) -> None:
    live, token = server
    data = write_items(tmp_path / "items.jsonl", 120, prefix="a")

    async def go() -> dict[str, Any]:
        async with AsyncClient(live.url, token) as c:
            project = await c.create_project("Async", SCHEMA)
            sent: list[int] = []
            job = await c.import_file(project.id, data, progress=lambda done, total: sent.append(done))
            ids = [i.external_id async for i in c.iter_items(project.id, page_size=50)]
            task = await c.next_task(project.id)
            assert task is not None
            answer = await c.submit(project.id, task.item_id, {"label": "neg"})
            got: list[int] = []
            written = await c.export(project.id, tmp_path / "a.jsonl", progress=lambda d, t: got.append(d))
            return {
                "found": (await c.find_project("Async")).id == project.id,
                "listed": [p.name for p in await c.list_projects()],
                "job": (job.status, (job.result or {}).get("created")),
                "sent": sent[-1], "ids": ids, "answer": answer.value,
                "status": (await c.project_status(project.id)).answers,
                "export": (written, got[-1]),
                "jobs": len(await c.list_jobs(project.id)),
                "quality": "questions" in await c.quality_report(project.id),
                "annotators": isinstance(await c.annotator_report(project.id), list),
                "rounds": isinstance(await c.list_rounds(project.id), list),
                "got_job": (await c.get_job(job.id)).id == job.id,
            }

    r = asyncio.run(go())
    size = (tmp_path / "a.jsonl").stat().st_size
    assert r == {"found": True, "listed": ["Async"], "job": ("succeeded", 120), "sent": data.stat().st_size,
                 "ids": [f"a{k}" for k in range(120)], "answer": {"label": "neg"}, "status": 1,
                 "export": (size, size), "jobs": 1, "quality": True, "annotators": True, "rounds": True,
                 "got_job": True}


class Flaky(JsonHandler):
    """Answers each path's scripted statuses in turn (then 200), and records when each came."""

    script: ClassVar[dict[str, list[tuple[int, dict[str, str]]]]] = {}
    seen: ClassVar[list[tuple[str, str, float, str | None]]] = []

    def _answer(self) -> None:
        if self.command == "POST":
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Flaky.seen.append((self.command, self.path, time.monotonic(), self.headers.get("Idempotency-Key")))
        queue = Flaky.script.get(self.path.split("?")[0], [])
        if queue:
            status, headers = queue.pop(0)
            data = json.dumps({"error": {"type": "busy", "message": f"busy ({status})", "problems": []}})
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data.encode())
            return
        self.reply_json(ANSWERS[self.path.split("?")[0]])

    do_GET = do_POST = _answer


STATUS = {"project_id": 1, "items": 3, "done": 1, "in_progress": 0, "untouched": 2, "answers": 1,
          "answers_needed": 3, "leased": 0, "skipped": 0, "annotators": 1, "percent_done": 33.3}
ANSWER = {"id": 7, "item_id": 2, "user_id": 1, "username": "ann", "value": {"label": "pos"},
          "created_at": "2026-01-01T00:00:00Z", "leased_at": None, "duration_ms": None, "source": "human"}
PROJECT = {"id": 1, "name": "p", "description": "", "label_schema": SCHEMA, "overlap": 1,
           "lease_seconds": 600, "quality": {}, "loop": {}, "created_at": "2026-01-01T00:00:00Z", "role": None}
ANSWERS = {"/api/projects/1/status": STATUS, "/api/projects/1/items/2/answers": ANSWER,
           "/api/projects": PROJECT}


@pytest.fixture
def flaky() -> Iterator[str]:
    Flaky.script, Flaky.seen = {}, []
    with serving(Flaky) as url:
        yield url


def test_get_retried_on_503_then_answers(flaky: str) -> None:
    Flaky.script = {"/api/projects/1/status": [(503, {}), (502, {}), (504, {})]}
    with Client(flaky, "t", retries=3, backoff=FAST) as c:
        assert c.project_status(1).items == 3
    assert [s[1] for s in Flaky.seen] == ["/api/projects/1/status"] * 4


def test_gives_up_after_the_retries_with_the_servers_message(flaky: str) -> None:
    Flaky.script = {"/api/projects/1/status": [(503, {})] * 3}
    with Client(flaky, "t", retries=2, backoff=FAST) as c, pytest.raises(ClientError) as failed:
        c.project_status(1)
    assert (failed.value.status, failed.value.message, len(Flaky.seen)) == (503, "busy (503)", 3)


def test_429_waits_for_retry_after(flaky: str) -> None:
    Flaky.script = {"/api/projects/1/status": [(429, {"Retry-After": "1"})]}
    with Client(flaky, "t", backoff=FAST) as c:
        assert c.project_status(1).done == 1
    (_, _, first, _), (_, _, second, _) = Flaky.seen
    assert second - first >= 1.0  # the server's 1 s, not the backoff's 0.01 s


def test_post_with_idempotency_key_retried_with_the_same_key(flaky: str) -> None:
    Flaky.script = {"/api/projects/1/items/2/answers": [(503, {})]}
    with Client(flaky, "t", backoff=FAST) as c:
        assert c.submit(1, 2, {"label": "pos"}, idempotency_key="abc").id == 7
    assert [(s[0], s[3]) for s in Flaky.seen] == [("POST", "abc"), ("POST", "abc")]


def test_post_without_idempotency_key_is_not_retried(flaky: str) -> None:
    Flaky.script = {"/api/projects": [(503, {})]}
    with Client(flaky, "t", backoff=FAST) as c, pytest.raises(ClientError) as failed:
        c.create_project("p", SCHEMA)
    assert failed.value.status == 503
    assert [s[:2] for s in Flaky.seen] == [("POST", "/api/projects")]


def test_connection_errors_retried_then_reported(tmp_path: Path) -> None:
    from tests.platform.live import free_port

    url = f"http://127.0.0.1:{free_port()}"
    transport = CountingTransport()
    with Client(url, "t", retries=2, backoff=FAST, transport=transport) as c, \
            pytest.raises(ClientError) as failed:
        c.list_projects()
    assert (failed.value.status, transport.paths) == (None, ["/api/projects"] * 3)
    assert url in failed.value.message


def test_async_retries_like_sync(flaky: str) -> None:
    Flaky.script = {"/api/projects/1/status": [(503, {})], "/api/projects": [(503, {})]}

    async def go() -> tuple[int, int | None]:
        async with AsyncClient(flaky, "t", backoff=FAST) as c:
            items = (await c.project_status(1)).items
            try:
                await c.create_project("p", SCHEMA)
            except ClientError as e:
                return items, e.status
            return items, None

    assert asyncio.run(go()) == (3, 503)
    assert [s[:2] for s in Flaky.seen] == [("GET", "/api/projects/1/status")] * 2 + [("POST", "/api/projects")]


def cli(*args: str, env: dict[str, str] | None = None, data_dir: Path) -> subprocess.CompletedProcess[str]:
    # The local database the CLI would open is empty and elsewhere: what it shows comes from the server.
    full = {**os.environ, "LABELLOOP_DATA_DIR": str(data_dir), "COLUMNS": "200",
            "LABELLOOP_DATABASE_URL": f"sqlite:///{data_dir / 'local.db'}", **(env or {})}
    if "LABELLOOP_SERVER" not in (env or {}):
        full.pop("LABELLOOP_SERVER", None)
        full.pop("LABELLOOP_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "labelloop", *args], env=full, capture_output=True,
                          text=True, timeout=180)


def test_cli_remote_mode(server: tuple[LiveServer, str], tmp_path: Path) -> None:
    live, token = server
    local = tmp_path / "local"
    local.mkdir()
    with Client(live.url, token) as c:
        pid = c.create_project("Remote one", SCHEMA).id
    data = write_items(tmp_path / "r.jsonl", 40, prefix="r")

    done = cli("--server", live.url, "--token", token, "import", "Remote one", str(data), data_dir=local)
    assert done.returncode == 0, done.stderr
    assert "imported 40 new items (0 already there)" in done.stdout

    env = {"LABELLOOP_SERVER": live.url, "LABELLOOP_TOKEN": token}
    listed = cli("project", "list", env=env, data_dir=local)
    assert listed.returncode == 0 and "Remote one" in listed.stdout, listed.stderr
    status = cli("status", str(pid), env=env, data_dir=local)
    assert status.returncode == 0 and "Remote one" in status.stdout and " 40" in status.stdout
    everything = cli("status", env=env, data_dir=local)
    assert everything.returncode == 0 and "Remote one" in everything.stdout

    out = tmp_path / "out.jsonl"
    exported = cli("export", "Remote one", "-o", str(out), env=env, data_dir=local)
    assert exported.returncode == 0, exported.stderr
    assert sorted(json.loads(line)["id"] for line in out.read_text().splitlines()) == sorted(
        f"r{k}" for k in range(40))
    to_stdout = cli("export", str(pid), "--format", "csv", env=env, data_dir=local)
    assert to_stdout.stdout.count("\n") == 41

    # The local database was never touched, and commands without a remote mode are refused.
    assert "Remote one" not in cli("project", "list", data_dir=local).stdout
    refused = cli("project", "create", "x", "--schema", str(data), env=env, data_dir=local)
    assert refused.returncode == 2 and "local instance only" in refused.stderr
    wrong = cli("--token", "llt_nope", "status", env={"LABELLOOP_SERVER": live.url}, data_dir=local)
    assert wrong.returncode == 1 and "HTTP 401" in wrong.stderr
