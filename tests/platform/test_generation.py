"""Generating candidate responses from a model server (docs/feedback.md, "Generation").

The server is the test's own: `http.server` in a thread speaking OpenAI's chat completions, told
per test how to misbehave, and recording every request it gets (when, headers, body).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from labelloop.cli.main import app
from labelloop.config import get_settings
from labelloop.services.generation import writer
from labelloop.services.generation.candidates import messages_for, next_ids
from labelloop.services.generation.client import RateLimit, _retry_after
from labelloop.services.generation.settings import GenerationSettings
from labelloop.store.models import items, jobs, projects
from tests.platform.world import User, World

ROOT = Path(__file__).resolve().parents[2]
SCHEMA: dict[str, Any] = {
    "fields": [{"name": "prompt", "type": "text"},
               {"name": "responses", "type": "responses", "required": False}],
    "questions": [{"name": "ok", "type": "choice", "options": ["yes", "no"]}],
}
CHAT_SCHEMA: dict[str, Any] = {
    "fields": [{"name": "chat", "type": "conversation"},
               {"name": "answers", "type": "responses", "required": False}],
    "questions": [{"name": "ok", "type": "choice", "options": ["yes", "no"]}],
}
SERVED_MODEL = "stub-model-v1"  # what the stub says it is; the settings ask for another name

Answer = tuple[int, dict[str, str], Any]  # status, headers, JSON body


@dataclass
class Seen:
    at: float  # time.monotonic() when the stub read the request
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def prompt(self) -> str:
        return str(self.body["messages"][-1]["content"])


@dataclass
class Stub:
    """A chat completions server: answers `n` choices (one if `honour_n` is false) after `delay`
    seconds, unless `rule(stub, seen)` returns an answer of its own."""

    honour_n: bool = True
    delay: float = 0.0
    rule: Callable[[Stub, Seen], Answer | None] | None = None
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)
    made: int = 0

    def answer(self, seen: Seen) -> Answer:
        if self.rule is not None and (custom := self.rule(self, seen)) is not None:
            return custom
        if self.delay:
            self.released.wait(self.delay)
        n = int(seen.body.get("n", 1)) if self.honour_n else 1
        with self.lock:
            first = self.made
            self.made += n
        choices = [{"index": i, "message": {"role": "assistant", "content": f"answer {first + i} to: {seen.prompt}"},
                    "finish_reason": "stop" if i % 2 == 0 else "length"} for i in range(n)]
        usage = {"prompt_tokens": 7, "completion_tokens": 5 * n, "total_tokens": 7 + 5 * n}
        return 200, {}, {"id": "cmpl-1", "object": "chat.completion", "model": SERVED_MODEL,
                         "choices": choices, "usage": usage}

    def asked(self, prompt: str) -> list[Seen]:
        return [s for s in self.seen if s.prompt == prompt]


def serve(stub: Stub) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen = Seen(time.monotonic(), {k.lower(): v for k, v in self.headers.items()}, body)
            with stub.lock:
                stub.seen.append(seen)
            if self.path != "/v1/chat/completions":
                status, headers, doc = 404, {}, {"error": {"message": f"no route {self.path}"}}
            else:
                status, headers, doc = stub.answer(seen)
            raw = json.dumps(doc).encode()
            try:
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def stub_server() -> Iterator[Callable[..., tuple[Stub, str]]]:
    started: list[tuple[ThreadingHTTPServer, Stub]] = []

    def start(**kw: Any) -> tuple[Stub, str]:
        stub = Stub(**kw)
        server, url = serve(stub)
        started.append((server, stub))
        return stub, url

    yield start
    for server, stub in started:
        stub.released.set()
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def project(world: World, base_url: str, records: list[dict[str, Any]], schema: dict[str, Any] = SCHEMA,
            **settings: Any) -> tuple[User, int]:
    owner = world.user()
    pid = world.project(owner, schema=schema)
    world.import_records(owner, pid, records)
    r = world.client.patch(f"/api/projects/{pid}/generation/settings", headers=owner.headers,
                           json={"base_url": base_url, "model": "configured-model", "backoff_s": 0.01,
                                 **settings})
    assert r.status_code == 200, r.text
    return owner, pid


def prompts(n: int, prefix: str = "prompt") -> list[dict[str, Any]]:
    return [{"id": f"{prefix}{i:02d}", "prompt": f"{prefix} number {i}"} for i in range(n)]


def generate(world: World, owner: User, pid: int) -> dict[str, Any]:
    r = world.client.post(f"/api/projects/{pid}/generation/jobs", params={"wait": "true"},
                          headers=owner.headers)
    assert r.status_code == 200, r.text
    job: dict[str, Any] = r.json()
    return job


def stored(world: World, pid: int, name: str = "responses") -> dict[str, list[dict[str, Any]]]:
    with world.runtime.db.read() as conn:
        rows = conn.execute(select(items.c.external_id, items.c.data).where(items.c.project_id == pid)).all()
    return {r.external_id: r.data.get(name) or [] for r in rows}


# --- the job against the stub -------------------------------------------------------------------


def test_happy_path_fills_every_item_to_k_with_model_and_meta(world: World, stub_server: Any) -> None:
    stub, url = stub_server()
    records = prompts(18)
    records += [{"id": f"had{i}", "prompt": f"had two {i}", "responses": [
        {"id": "r1", "content": "old one", "model": "human"}, {"id": "r2", "content": "old two"}]}
        for i in range(2)]
    owner, pid = project(world, url + "/v1", records, candidates=4, temperature=0.7, top_p=0.9,
                         max_tokens=64, system_prompt="Be brief.", concurrency=4)
    job = generate(world, owner, pid)

    assert job["status"] == "succeeded", job
    assert job["progress_done"] == job["progress_total"] == 20
    result = job["result"]
    assert result | {"seconds": 0} == {
        "items": 20, "to_generate": 20, "completed": 20, "candidates": 18 * 4 + 2 * 2, "already_full": 0,
        "without_prompt": 0, "requests": 20, "n_honoured": True, "models": [SERVED_MODEL], "seconds": 0}
    after = stored(world, pid)
    for external_id, candidates in after.items():
        assert [c["id"] for c in candidates] == ["r1", "r2", "r3", "r4"], external_id
        new = candidates[2:] if external_id.startswith("had") else candidates
        for c in new:
            assert c["model"] == SERVED_MODEL
            assert c["content"].startswith("answer ") and c["content"].endswith(f": {dict((r['id'], r['prompt']) for r in records)[external_id]}")
            meta = c["meta"]
            assert meta["parameters"] == {"temperature": 0.7, "top_p": 0.9, "max_tokens": 64,
                                          "system_prompt": "Be brief."}
            assert meta["finish_reason"] in ("stop", "length")
            assert meta["usage"]["total_tokens"] > 0 and meta["choices_asked"] == len(new)
            assert meta["seconds"] >= 0 and meta["job_id"] == job["id"]
            at = datetime.fromisoformat(meta["generated_at"].replace("Z", "+00:00"))
            assert at.tzinfo is not None and abs(datetime.now(UTC) - at) < timedelta(hours=1)
    assert [(c["id"], c["content"], c.get("model")) for c in after["had0"][:2]] == [
        ("r1", "old one", "human"), ("r2", "old two", None)]  # kept as they were
    assert len({c["content"] for cs in after.values() for c in cs}) == 20 * 4 - 2  # "old one"/"old two" twice
    # what was asked: one request per item, n = what it lacked, the configured model and parameters
    assert len(stub.seen) == 20
    for seen in stub.seen:
        body = seen.body
        assert body["model"] == "configured-model" and body["temperature"] == 0.7 and body["top_p"] == 0.9
        assert body["max_tokens"] == 64 and body["stream"] is False
        assert body["n"] == (2 if seen.prompt.startswith("had two") else 4)
        assert body["messages"] == [{"role": "system", "content": "Be brief."},
                                    {"role": "user", "content": seen.prompt}]
        assert "authorization" not in seen.headers  # no key configured, none sent

    again = generate(world, owner, pid)  # everything is full: nothing is asked
    assert again["result"]["to_generate"] == 0 and again["result"]["already_full"] == 20
    assert len(stub.seen) == 20
    # the prompts' file imports again as it was: the items keep their content hash
    reimport = world.import_records(owner, pid, records).json()["result"]
    assert (reimport["created"], reimport["unchanged"]) == (0, 20)
    assert all(len(v) == 4 for v in stored(world, pid).values())


def test_a_conversation_is_sent_as_it_is_without_its_trailing_answer(world: World, stub_server: Any) -> None:
    stub, url = stub_server()
    chat = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "2+2?"}]
    records = [{"id": "open", "chat": chat},
               {"id": "answered", "chat": [*chat, {"role": "assistant", "content": "4"}]}]
    owner, pid = project(world, url, records, schema=CHAT_SCHEMA, candidates=2, system_prompt="ignored")
    job = generate(world, owner, pid)
    assert job["status"] == "succeeded", job
    assert [s.body["messages"] for s in stub.seen] == [chat, chat]  # the conversation's own system prompt wins
    assert all(len(v) == 2 for v in stored(world, pid, "answers").values())


def test_a_server_that_ignores_n_gets_single_requests_for_the_rest(world: World, stub_server: Any) -> None:
    stub, url = stub_server(honour_n=False)
    owner, pid = project(world, url, prompts(5), candidates=3, concurrency=1)
    job = generate(world, owner, pid)
    assert job["status"] == "succeeded", job
    assert job["result"]["n_honoured"] is False
    assert all([c["id"] for c in v] == ["r1", "r2", "r3"] for v in stored(world, pid).values())
    # the first item: n=3 (one choice came back), then two of n=1; after that, n=1 only
    assert [s.body["n"] for s in stub.seen] == [3, 1, 1] + [1] * 12
    assert job["result"]["requests"] == 15


def test_a_429_with_retry_after_is_waited_out_then_retried(world: World, stub_server: Any) -> None:
    def once_busy(stub: Stub, seen: Seen) -> Answer | None:
        if len(stub.seen) == 1:
            return 429, {"Retry-After": "1"}, {"error": {"message": "slow down"}}
        return None

    # backoff_s 30: without Retry-After the first retry would wait 15 to 30 s
    stub, url = stub_server(rule=once_busy)
    owner, pid = project(world, url, prompts(1), candidates=2, backoff_s=30, max_retries=2)
    job = generate(world, owner, pid)
    assert job["status"] == "succeeded", job
    assert len(stub.seen) == 2 and stub.seen[0].body == stub.seen[1].body
    assert stub.seen[1].at - stub.seen[0].at >= 0.9  # Retry-After: 1, honoured
    assert job["result"]["requests"] == 2 and len(stored(world, pid)["prompt00"]) == 2


def test_500s_beyond_the_retries_fail_the_job_and_no_item_is_half_written(world: World, stub_server: Any) -> None:
    # n is ignored, so each item takes three requests; the third item's second one always fails
    def third_item_breaks(stub: Stub, seen: Seen) -> Answer | None:
        if seen.prompt == "prompt number 2" and len(stub.asked(seen.prompt)) >= 2:
            return 500, {}, {"error": {"message": "CUDA out of memory"}}
        return None

    stub, url = stub_server(honour_n=False, rule=third_item_breaks)
    owner, pid = project(world, url, prompts(6), candidates=3, concurrency=1, max_retries=2)
    job = generate(world, owner, pid)

    assert job["status"] == "failed"
    message = job["error"]["message"]
    assert f"{url}/v1/chat/completions" in message and "500 Internal Server Error" in message
    assert "CUDA out of memory" in message and "after 3 attempts" in message
    assert "2 of 6 items got their candidates" in message
    assert job["error"]["problems"][0]["field"] == "generation.base_url"
    after = stored(world, pid)
    assert {k: len(v) for k, v in after.items()} == {
        "prompt00": 3, "prompt01": 3, "prompt02": 0, "prompt03": 0, "prompt04": 0, "prompt05": 0}
    assert len(stub.asked("prompt number 2")) == 1 + 3  # one good answer (dropped), then 3 failures


@pytest.mark.parametrize(("status", "said"), [(401, "Invalid API key"), (404, "model 'configured-model' not found")])
def test_a_refusal_fails_at_once_naming_the_url_and_the_status(world: World, stub_server: Any, status: int,
                                                               said: str) -> None:
    stub, url = stub_server(rule=lambda stub, seen: (status, {}, {"error": {"message": said}}))
    owner, pid = project(world, url, prompts(3), concurrency=1, max_retries=3)
    job = generate(world, owner, pid)
    assert job["status"] == "failed"
    message = job["error"]["message"]
    assert f"the model server at {url}/v1/chat/completions answered {status}" in message
    assert said in message and "this run changed no item" in message
    assert len(stub.seen) == 1  # not retried: asking again cannot help
    assert all(v == [] for v in stored(world, pid).values())


def test_a_server_that_is_down_fails_the_job_with_a_clear_message(world: World) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    owner, pid = project(world, url, prompts(4), max_retries=2)
    job = generate(world, owner, pid)
    assert job["status"] == "failed"
    message = job["error"]["message"]
    assert f"the model server at {url}/v1/chat/completions cannot be reached (ConnectError" in message
    assert "after 3 attempts" in message and "this run changed no item" in message
    assert all(v == [] for v in stored(world, pid).values())


def test_a_server_that_does_not_answer_in_time_fails_the_job(world: World, stub_server: Any) -> None:
    stub, url = stub_server(delay=30)
    owner, pid = project(world, url, prompts(2), timeout_s=0.2, max_retries=1, concurrency=1)
    job = generate(world, owner, pid)
    assert job["status"] == "failed"
    assert "did not answer within 0.2 s, after 2 attempts" in job["error"]["message"]
    assert len(stub.seen) == 2
    assert all(v == [] for v in stored(world, pid).values())


def test_a_job_killed_midway_resumes_and_does_not_ask_for_full_items_again(
    world: World, stub_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub, url = stub_server()
    owner, pid = project(world, url, prompts(20), candidates=2, concurrency=4)
    real = writer.add_candidates
    written: list[int] = []

    def dies_after_five(conn: Any, **kw: Any) -> int:
        if len(written) == 5:
            raise RuntimeError("killed")  # as if the process died here
        written.append(kw["item_id"])
        return real(conn, **kw)

    monkeypatch.setattr(writer, "add_candidates", dies_after_five)
    first = generate(world, owner, pid)
    assert first["status"] == "failed" and "killed" in first["error"]["message"]
    counts = {k: len(v) for k, v in stored(world, pid).items()}
    assert sorted(counts.values()) == [0] * 15 + [2] * 5  # whole items or nothing
    full = {k for k, n in counts.items() if n == 2}
    asked_before = len(stub.seen)

    monkeypatch.setattr(writer, "add_candidates", real)
    second = generate(world, owner, pid)
    assert second["status"] == "succeeded", second
    assert second["result"]["already_full"] == 5 and second["result"]["to_generate"] == 15
    assert all(len(v) == 2 for v in stored(world, pid).values())
    asked_again = {s.prompt for s in stub.seen[asked_before:]}
    assert len(asked_again) == 15 and not asked_again & {f"prompt number {int(k[-2:])}" for k in full}


def test_the_rate_limit_holds_over_concurrent_requests(world: World, stub_server: Any) -> None:
    stub, url = stub_server()
    rate = 20.0
    owner, pid = project(world, url, prompts(40), candidates=1, concurrency=8, requests_per_second=rate)
    job = generate(world, owner, pid)
    assert job["status"] == "succeeded", job
    times = sorted(s.at for s in stub.seen)
    assert len(times) == 40
    window = 0.5
    # spaced 1/rate apart at the client: w*rate + 1 in any window; one more for network jitter
    most = max(sum(1 for t in times if start <= t < start + window) for start in times)
    assert most <= window * rate + 2, most  # without the limit: all 40 at once, 8 threads at a time


def test_the_api_key_comes_from_the_named_variable_and_is_never_stored_or_shown(
    world: World, stub_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-test-7d1e9c0b-not-for-logs"
    stub, url = stub_server()
    owner, pid = project(world, url, prompts(3), api_key_env="LLTEST_STUB_API_KEY", candidates=1)

    refused = world.client.post(f"/api/projects/{pid}/generation/jobs", headers=owner.headers)
    assert refused.status_code == 422  # named, but not set: said at once
    assert refused.json()["error"]["problems"][0] == {
        "field": "generation.api_key_env",
        "message": "the environment variable LLTEST_STUB_API_KEY is not set in the server's environment"}

    monkeypatch.setenv("LLTEST_STUB_API_KEY", secret)
    shown = world.client.get(f"/api/projects/{pid}/generation/settings", headers=owner.headers)
    assert shown.status_code == 200 and shown.json()["api_key_set"] is True
    assert shown.json()["api_key_env"] == "LLTEST_STUB_API_KEY" and secret not in shown.text
    job = generate(world, owner, pid)
    assert job["status"] == "succeeded", job
    assert [s.headers["authorization"] for s in stub.seen] == [f"Bearer {secret}"] * 3
    with world.runtime.db.read() as conn:
        row = conn.execute(select(projects.c.generation_settings).where(projects.c.id == pid)).one()
        job_rows = conn.execute(select(jobs.c.params, jobs.c.result, jobs.c.error)).all()
        item_rows = conn.execute(select(items.c.data, items.c.meta).where(items.c.project_id == pid)).all()
    assert row.generation_settings["api_key_env"] == "LLTEST_STUB_API_KEY"
    for stored_doc in [row.generation_settings, *[tuple(r) for r in job_rows], *[tuple(r) for r in item_rows]]:
        assert secret not in json.dumps(stored_doc)
    project_doc = world.client.get(f"/api/projects/{pid}", headers=owner.headers).text
    assert secret not in project_doc


# --- settings -------------------------------------------------------------------------------------


def test_settings_are_validated_with_problems_naming_each_key(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=SCHEMA)
    path = f"/api/projects/{pid}/generation/settings"

    def problems(body: dict[str, Any]) -> dict[str, str]:
        r = world.client.patch(path, json=body, headers=owner.headers)
        assert r.status_code == 422, r.text
        return {p["field"]: p["message"] for p in r.json()["error"]["problems"]}

    assert set(problems({"base_url": "ftp://host", "candidates": 17, "concurrency": 0, "temperature": 3,
                         "colour": "red"})) == {
        "generation.base_url", "generation.candidates", "generation.concurrency", "generation.temperature",
        "generation.colour"}
    assert "no credentials in the URL" in problems({"base_url": "http://me:pw@host:8000"})["generation.base_url"]
    for name in ("LABELLOOP_DATABASE_URL", "AWS_SECRET_ACCESS_KEY", "HOME", "LABELLOOP_X_API_KEY", "A B_API_KEY"):
        assert "ending in _API_KEY" in problems({"api_key_env": name})["generation.api_key_env"], name
    assert "not a text or conversation field" in problems({"prompt_field": "responses"})["generation.prompt_field"]
    assert "not a responses field" in problems({"responses_field": "nope"})["generation.responses_field"]

    ok = world.client.patch(path, json={"base_url": "http://gpu:8000/v1/", "model": "m", "candidates": 2},
                            headers=owner.headers)
    assert ok.status_code == 200, ok.text
    assert ok.json()["base_url"] == "http://gpu:8000/v1"
    assert ok.json()["endpoint"] == "http://gpu:8000/v1/chat/completions" and ok.json()["api_key_set"] is False
    # keys not given are kept; a null puts one back to its default
    again = world.client.patch(path, json={"temperature": 0.2, "candidates": None}, headers=owner.headers).json()
    assert (again["model"], again["temperature"], again["candidates"]) == ("m", 0.2, 4)
    with world.runtime.db.read() as conn:
        doc = conn.execute(select(projects.c.generation_settings).where(projects.c.id == pid)).scalar_one()
    assert doc == {"base_url": "http://gpu:8000/v1", "model": "m", "temperature": 0.2}  # only what differs


def test_a_job_cannot_start_before_generation_is_set_up(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=SCHEMA)
    r = world.client.post(f"/api/projects/{pid}/generation/jobs", headers=owner.headers)
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["error"]["problems"]} == {"generation.base_url", "generation.model"}
    plain = world.project(owner)  # a schema without a responses field
    r = world.client.patch(f"/api/projects/{plain}/generation/settings", json={"model": "m"}, headers=owner.headers)
    assert r.status_code == 422 and "no responses field" in r.text


def test_writes_keep_candidates_another_writer_added_and_never_pass_k(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=SCHEMA)
    world.import_records(owner, pid, [{"id": "a", "prompt": "p", "responses": [
        {"id": "r1", "content": "x"}, {"id": "gpt4", "content": "y"}, {"id": "r7", "content": "z"}]}])
    with world.runtime.db.read() as conn:
        item_id = conn.execute(select(items.c.id).where(items.c.project_id == pid)).scalar_one()
    new = [{"content": f"new {i}", "model": "m", "meta": {}} for i in range(3)]
    added = world.runtime.db.run(lambda c: writer.add_candidates(c, pid, item_id, "responses", new, 4))
    assert added == 1
    assert [c["id"] for c in stored(world, pid)["a"]] == ["r1", "gpt4", "r7", "r8"]
    assert world.runtime.db.run(lambda c: writer.add_candidates(c, pid, item_id, "responses", new, 4)) == 0


def test_the_cli_generates_with_a_progress_bar(world: World, stub_server: Any, tmp_path: Path,
                                               database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    stub, url = stub_server()
    owner, pid = project(world, url, prompts(6), candidates=2)
    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["generate", str(pid)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "6 of 6 items got 12 candidates in 6 requests" in result.output
    assert all(len(v) == 2 for v in stored(world, pid).values())
    stub.rule = lambda stub, seen: (503, {}, {"error": {"message": "loading"}})
    world.import_records(owner, pid, prompts(1, "late"))
    get_settings.cache_clear()
    try:
        failed = CliRunner().invoke(app, ["generate", str(pid)])
    finally:
        get_settings.cache_clear()
    assert failed.exit_code == 1 and "503 Service Unavailable: loading" in " ".join(failed.output.split())


# --- the pieces ---------------------------------------------------------------------------------


def test_new_ids_continue_the_numbering() -> None:
    assert next_ids([], 3) == ["r1", "r2", "r3"]
    assert next_ids([{"id": "r1"}, {"id": "r2"}], 2) == ["r3", "r4"]
    assert next_ids([{"id": "gpt4"}, {"id": "claude"}], 2) == ["r3", "r4"]
    assert next_ids([{"id": "r9"}, {"id": "r3"}], 1) == ["r10"]
    assert next_ids([{"id": "a"}, {"id": "r3"}, {"id": "r4x"}], 2) == ["r4", "r5"]


@given(st.lists(st.sampled_from(["r1", "r2", "r3", "r5", "r12", "x", "r0", "r01"]), unique=True), st.integers(1, 8))
def test_new_ids_are_fresh_and_distinct(ids: list[str], n: int) -> None:
    new = next_ids([{"id": i} for i in ids], n)
    assert len(new) == n == len(set(new)) and not set(new) & set(ids)
    assert all(re.fullmatch(r"r[1-9][0-9]*", i) for i in new)


def test_messages_for_text_and_conversations() -> None:
    assert messages_for("  ", "text", None) is None
    assert messages_for("Hi", "text", "Sys") == [{"role": "system", "content": "Sys"}, {"role": "user", "content": "Hi"}]
    only_answer = [{"role": "assistant", "content": "x"}]
    assert messages_for(only_answer, "conversation", None) is None
    chat = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    assert messages_for(chat, "conversation", "Sys") == [{"role": "system", "content": "Sys"}, chat[0]]


@settings(max_examples=200)
@given(st.floats(0.5, 200.0), st.lists(st.floats(0.0, 0.3), min_size=1, max_size=60))
def test_the_rate_limit_spaces_requests_by_its_interval_and_no_more(rate: float, gaps: list[float]) -> None:
    now = [0.0]

    class Clock:  # a stop event whose wait moves a fake clock on
        def wait(self, seconds: float) -> bool:
            now[0] += seconds
            return False

    limit = RateLimit(rate, clock=lambda: now[0])
    starts: list[float] = []
    for gap in gaps:
        now[0] += gap
        arrived = now[0]
        limit.acquire(Clock())  # type: ignore[arg-type]
        expected = arrived if not starts else max(arrived, starts[-1] + 1 / rate)
        assert now[0] == pytest.approx(expected)  # starts as soon as allowed, never earlier
        starts.append(now[0])


def test_retry_after_reads_seconds_and_dates() -> None:
    assert _retry_after("3") == 3.0 and _retry_after("0") == 0.0 and _retry_after("-4") == 0.0
    assert _retry_after("100000") == 120.0 and _retry_after(None) is None and _retry_after("soon") is None
    assert _retry_after("nan") is None
    later = _retry_after(format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True))
    assert later is not None and 55 <= later <= 61


def test_the_settings_table_in_the_docs_matches_the_model() -> None:
    text = (ROOT / "docs" / "feedback.md").read_text()
    section = text.split("## Generation", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", section, re.M))
    assert set(rows) == set(GenerationSettings.model_fields)
    for name, f in GenerationSettings.model_fields.items():
        expected = "null" if f.default is None else str(f.default).lower()
        assert rows[name].strip() == expected, name
