"""The annotator's two hot requests answered outside the router (api/hot_paths.py) answer exactly as
the routes do: the same statuses, bodies and headers, and anything out of the common form goes on to
the router whole. A query string makes the middleware step aside, so each request here is also
sent that way, to the route itself, for comparison."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from labelloop.api import hot_paths
from labelloop.services.accounts import tokens
from labelloop.services.policy import Actor, Scope
from tests.platform.world import User, World

SECURITY = ("x-content-type-options", "x-frame-options", "content-security-policy")


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The type of each response body the middleware built (so a test knows it answered)."""
    built: list[str] = []
    real = hot_paths._body_json

    def counting(obj: Any, fields: tuple[str, ...], model: Any) -> bytes:
        built.append(model.__name__)
        return real(obj, fields, model)

    monkeypatch.setattr(hot_paths, "_body_json", counting)
    yield built


def _post(world: World, user: User, path: str, *, router: bool, key: str | None = None,
          body: Any = None, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token or user.token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return world.client.post(path, json=body, headers=headers, params={"via": "router"} if router else None)


def _same(fast: httpx.Response, routed: httpx.Response) -> None:
    assert (fast.status_code, fast.content) == (routed.status_code, routed.content)
    for name in ("content-type", "www-authenticate", *SECURITY):
        assert fast.headers.get(name) == routed.headers.get(name), name


def test_next_and_submit_answer_as_the_routes_do(world: World, answered: list[str]) -> None:
    owner, ann = world.user("owner"), world.user("ann")
    pid = world.project(owner, members={"annotator": (ann,)})
    world.import_records(owner, pid, [{"id": f"t{i}", "text": f"text é {i}", "meta": {"n": i}} for i in range(3)])
    nxt = f"/api/projects/{pid}/tasks/next"

    fast = _post(world, ann, nxt, router=False)
    assert answered == ["TaskOut"] and fast.status_code == 200, fast.text
    routed = _post(world, ann, nxt, router=True)  # the lease held comes back: the same task
    assert answered == ["TaskOut"]
    _same(fast, routed)
    task = fast.json()
    assert task["external_id"] == "t0" and task["data"] == {"text": "text é 0"} and task["meta"] == {"n": 0}
    assert task["leased_at"].endswith("Z") and task["prelabel"] is None

    submit = f"/api/projects/{pid}/items/{task['item_id']}/answers"
    body = {"value": {"sentiment": "pos"}, "duration_ms": 1500}
    created = _post(world, ann, submit, router=False, key="k1", body=body)
    assert created.status_code == 201 and answered == ["TaskOut", "AnswerOut"], created.text
    again_routed = _post(world, ann, submit, router=True, key="k1", body=body)
    again_fast = _post(world, ann, submit, router=False, key="k1", body=body)
    assert again_fast.status_code == 200 and answered == ["TaskOut", "AnswerOut", "AnswerOut"]
    _same(again_fast, again_routed)
    assert created.json() == again_fast.json()
    assert created.json()["username"] == "ann" and created.json()["duration_ms"] == 1500

    # Nothing left after the other two: 204 without a body, both ways.
    for i in range(2):
        t = _post(world, ann, nxt, router=False).json()
        r = _post(world, ann, f"/api/projects/{pid}/items/{t['item_id']}/answers", router=False,
                  key=f"k{i + 2}", body=body)
        assert r.status_code == 201, r.text
    _same(_post(world, ann, nxt, router=False), _post(world, ann, nxt, router=True))
    assert _post(world, ann, nxt, router=False).status_code == 204


def test_errors_are_the_routes_errors(world: World, answered: list[str]) -> None:
    owner, ann, stranger = world.user("owner"), world.user("ann"), world.user("stranger")
    pid = world.project(owner, members={"annotator": (ann,)})
    world.import_records(owner, pid, [{"id": f"t{i}", "text": f"text {i}"} for i in range(2)])
    item = _post(world, ann, f"/api/projects/{pid}/tasks/next", router=False).json()["item_id"]
    read_only = world.runtime.db.run(
        lambda conn: tokens.create_token(conn, Actor.operator(), ann.id, "ro", scopes=frozenset({Scope.read})))
    body = {"value": {"sentiment": "pos"}}
    cases = [
        # not handed to the owner: 409; a read-only token: 403; not a member, or no such project: 404;
        # a wrong token: 401
        (owner, f"/api/projects/{pid}/items/{item}/answers", body, None, 409),
        (ann, f"/api/projects/{pid}/tasks/next", None, read_only.secret, 403),
        (stranger, f"/api/projects/{pid}/tasks/next", None, None, 404),
        (ann, f"/api/projects/{pid + 100}/tasks/next", None, None, 404),
        (ann, f"/api/projects/{pid}/tasks/next", None, "not-a-token", 401),
        # a value the schema refuses: the service's 422
        (ann, f"/api/projects/{pid}/items/{item}/answers", {"value": {"sentiment": "maybe"}}, None, 422),
    ]
    for user, path, sent, token, status in cases:
        fast = _post(world, user, path, router=False, body=sent, token=token, key="e1")
        routed = _post(world, user, path, router=True, body=sent, token=token, key="e1")
        assert fast.status_code == status, (path, fast.text)
        _same(fast, routed)
        assert fast.json()["error"]["message"]
    assert answered == ["TaskOut"]  # the first next task; every case after it was an error


def test_a_revoked_token_stops_working_at_once(world: World, answered: list[str]) -> None:
    owner, ann = world.user("owner"), world.user("ann")
    pid = world.project(owner, members={"annotator": (ann,)})
    world.import_records(owner, pid, [{"id": "t0", "text": "text"}])
    extra = world.runtime.db.run(lambda conn: tokens.create_token(conn, Actor.operator(), ann.id, "extra"))
    nxt = f"/api/projects/{pid}/tasks/next"
    assert _post(world, ann, nxt, router=False, token=extra.secret).status_code == 200
    world.runtime.db.run(lambda conn: tokens.revoke_token(conn, Actor.operator(), extra.info.id))
    fast = _post(world, ann, nxt, router=False, token=extra.secret)
    assert fast.status_code == 401, fast.text
    _same(fast, _post(world, ann, nxt, router=True, token=extra.secret))
    assert answered == ["TaskOut"]


@pytest.mark.parametrize("sent", [
    b'{"value": {"sentiment": "pos"}, "duration_ms": "soon"}',  # the model refuses it
    b'{"value": {"sentiment": "pos"',  # not JSON
    b'{"value": {"sentiment": "\\ud800"}}',  # an unpaired surrogate (api/json_body.py)
])
def test_bodies_out_of_the_common_form_get_the_routers_422(world: World, answered: list[str], sent: bytes) -> None:
    owner, ann = world.user("owner"), world.user("ann")
    pid = world.project(owner, members={"annotator": (ann,)})
    world.import_records(owner, pid, [{"id": "t0", "text": "text"}])
    item = world.next(ann, pid).json()["item_id"]
    path = f"/api/projects/{pid}/items/{item}/answers"
    headers = {**ann.headers, "Content-Type": "application/json"}
    fast = world.client.post(path, content=sent, headers=headers)
    routed = world.client.post(path, content=sent, headers=headers, params={"via": "router"})
    assert fast.status_code == 422, fast.text
    _same(fast, routed)
    assert answered == ["TaskOut"]  # the next task only


@pytest.mark.parametrize("streamed", [False, True])
def test_a_body_too_large_for_the_middleware_reaches_the_router_whole(
    world: World, answered: list[str], streamed: bool,
) -> None:
    owner, ann = world.user("owner"), world.user("ann")
    pid = world.project(owner, members={"annotator": (ann,)})
    world.import_records(owner, pid, [{"id": "t0", "text": "text"}])
    item = world.next(ann, pid).json()["item_id"]
    # A field the model ignores makes it large; streamed, the middleware stops reading part way.
    body = json.dumps({"value": {"sentiment": "neg"}, "padding": "x" * (hot_paths._MAX_BODY + 10)}).encode()
    pieces = [body[i:i + 65536] for i in range(0, len(body), 65536)]
    r = world.client.post(f"/api/projects/{pid}/items/{item}/answers",
                          content=iter(pieces) if streamed else body,
                          headers={**ann.headers, "Content-Type": "application/json", "Idempotency-Key": "big"})
    assert r.status_code == 201, r.text
    assert r.json()["value"] == {"sentiment": "neg"}
    assert answered == ["TaskOut"]  # the router stored it, from the whole body


def test_a_browser_session_goes_through_the_router(world: World, answered: list[str]) -> None:
    owner = world.user("owner", password="a long enough password")
    pid = world.project(owner)
    world.import_records(owner, pid, [{"id": "t0", "text": "text"}])
    session = world.client.post("/api/auth/session", json={"username": "owner",
                                                           "password": "a long enough password"})
    assert session.status_code == 201, session.text
    csrf = world.client.cookies.get("labelloop_csrf")
    assert world.client.post(f"/api/projects/{pid}/tasks/next").status_code == 403  # no CSRF header
    r = world.client.post(f"/api/projects/{pid}/tasks/next", headers={"X-CSRF-Token": str(csrf)})
    assert r.status_code == 200, r.text
    assert answered == []


def test_the_services_run_in_the_pool_for_the_database(
    world: World, answered: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: a few threads (one writer at a time); PostgreSQL: the wide pool."""
    owner, ann = world.user("owner"), world.user("ann")
    pid = world.project(owner, members={"annotator": (ann,)})
    world.import_records(owner, pid, [{"id": "t0", "text": "text"}])
    threads: list[str] = []
    real = hot_paths.queue.next_task

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(hot_paths.queue, "next_task", recording)
    assert _post(world, ann, f"/api/projects/{pid}/tasks/next", router=False).status_code == 200
    assert answered == ["TaskOut"]
    sqlite = world.runtime.db.is_sqlite
    assert len(threads) == 1 and threads[0].startswith(
        "labelloop-hot-sqlite_" if sqlite else "labelloop-hot_"), threads
    assert hot_paths._SQLITE_THREADS._max_workers == 4 and hot_paths._THREADS._max_workers == 40
