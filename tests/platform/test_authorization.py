"""Every endpoint, called with no token and as every role: who is allowed and who is not.

The table below is the expected policy. The test fails when the API gains an endpoint
that the table does not list, so a new endpoint cannot ship without a decision here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from labelloop.services.jobs import create_job
from labelloop.services.policy import Actor
from tests.platform.pictures import stored_in
from tests.platform.world import User, World

ROLES = ("outsider", "annotator", "reviewer", "manager", "owner", "admin")
RANK = {r: i for i, r in enumerate(ROLES)}

# endpoint -> the least role allowed ("public", "user" = any signed-in user, "admin", or a role)
POLICY: dict[tuple[str, str], str] = {
    ("GET", "/api/health"): "public",
    ("POST", "/api/auth/login"): "public",
    ("POST", "/api/auth/session"): "public",
    # OpenID Connect sign-in: browser navigations that give a session, like the password's
    ("GET", "/api/auth/oidc/providers"): "public",
    ("GET", "/api/auth/oidc/{provider}/start"): "public",
    ("GET", "/api/auth/oidc/{provider}/callback"): "public",
    ("DELETE", "/api/auth/session"): "user",
    ("GET", "/api/me"): "user",
    ("POST", "/api/me/password"): "user",
    ("GET", "/api/users"): "admin",
    ("POST", "/api/users"): "admin",
    ("PATCH", "/api/users/{user_id}"): "admin",
    ("GET", "/api/tokens"): "user",
    ("POST", "/api/tokens"): "user",
    ("DELETE", "/api/tokens/{token_id}"): "user",
    ("GET", "/api/projects"): "user",
    ("POST", "/api/projects"): "user",
    ("POST", "/api/schemas/check"): "user",
    ("GET", "/api/projects/{project_id}"): "annotator",
    ("PATCH", "/api/projects/{project_id}"): "manager",
    ("DELETE", "/api/projects/{project_id}"): "owner",
    ("GET", "/api/projects/{project_id}/members"): "manager",
    ("PUT", "/api/projects/{project_id}/members/{user_id}"): "manager",
    ("POST", "/api/projects/{project_id}/members"): "manager",
    ("DELETE", "/api/projects/{project_id}/members/{user_id}"): "manager",
    ("GET", "/api/projects/{project_id}/status"): "reviewer",
    ("GET", "/api/projects/{project_id}/jobs"): "manager",
    ("GET", "/api/jobs/{job_id}"): "manager",
    ("POST", "/api/projects/{project_id}/imports"): "manager",
    ("GET", "/api/projects/{project_id}/items"): "reviewer",
    ("GET", "/api/projects/{project_id}/items/{item_id}"): "reviewer",
    ("PUT", "/api/projects/{project_id}/items/{item_id}/gold"): "manager",
    ("DELETE", "/api/projects/{project_id}/items/{item_id}/gold"): "manager",
    ("POST", "/api/projects/{project_id}/items/priorities"): "manager",
    ("GET", "/api/projects/{project_id}/answers"): "annotator",
    ("GET", "/api/projects/{project_id}/answers/{answer_id}"): "annotator",
    ("POST", "/api/projects/{project_id}/answers/{answer_id}/revisions"): "annotator",
    ("GET", "/api/projects/{project_id}/export"): "manager",
    ("GET", "/api/projects/{project_id}/blobs/{sha256}"): "annotator",
    ("GET", "/api/projects/{project_id}/blobs/{sha256}/info"): "annotator",
    ("POST", "/api/projects/{project_id}/tasks/next"): "annotator",
    ("GET", "/api/projects/{project_id}/tasks/progress"): "annotator",
    ("POST", "/api/projects/{project_id}/items/{item_id}/answers"): "annotator",
    ("POST", "/api/projects/{project_id}/items/{item_id}/skip"): "annotator",
    ("POST", "/api/projects/{project_id}/items/{item_id}/lease"): "annotator",
    ("POST", "/api/projects/{project_id}/items/{item_id}/segment"): "annotator",
    ("POST", "/api/projects/{project_id}/items/{item_id}/track"): "annotator",
    ("GET", "/api/projects/{project_id}/quality"): "manager",
    ("GET", "/api/projects/{project_id}/quality/annotators"): "manager",
    ("POST", "/api/projects/{project_id}/quality/recompute"): "manager",
    ("POST", "/api/projects/{project_id}/releases"): "manager",
    ("GET", "/api/projects/{project_id}/releases"): "manager",
    ("GET", "/api/projects/{project_id}/releases/diff"): "manager",
    ("GET", "/api/projects/{project_id}/releases/{name}"): "manager",
    ("GET", "/api/projects/{project_id}/releases/{name}/files/{file}"): "manager",
    ("PUT", "/api/projects/{project_id}/annotators/{user_id}/pause"): "manager",
    ("GET", "/api/projects/{project_id}/review/next"): "reviewer",
    ("GET", "/api/projects/{project_id}/review/count"): "reviewer",
    ("POST", "/api/projects/{project_id}/items/{item_id}/review"): "reviewer",
    ("POST", "/api/projects/{project_id}/items/{item_id}/flag"): "reviewer",
    ("POST", "/api/projects/{project_id}/duplicates"): "manager",
    ("GET", "/api/projects/{project_id}/duplicates"): "manager",
    ("POST", "/api/projects/{project_id}/duplicates/{group_id}/keep"): "manager",
    ("DELETE", "/api/projects/{project_id}/duplicates/{group_id}/keep"): "manager",
    ("GET", "/api/projects/{project_id}/search"): "reviewer",
    ("GET", "/api/projects/{project_id}/map"): "manager",
    ("GET", "/api/projects/{project_id}/slices"): "reviewer",
    ("POST", "/api/projects/{project_id}/slices"): "manager",
    ("POST", "/api/projects/{project_id}/slices/preview"): "reviewer",
    ("GET", "/api/projects/{project_id}/slices/{slice_id}"): "reviewer",
    ("PATCH", "/api/projects/{project_id}/slices/{slice_id}"): "manager",
    ("DELETE", "/api/projects/{project_id}/slices/{slice_id}"): "manager",
    ("POST", "/api/projects/{project_id}/slices/{slice_id}/priority"): "manager",
    ("POST", "/api/projects/{project_id}/loop/rounds"): "manager",
    ("GET", "/api/projects/{project_id}/loop/rounds"): "manager",
    ("POST", "/api/projects/{project_id}/loop/prelabel"): "manager",
    ("GET", "/api/projects/{project_id}/generation/settings"): "manager",
    ("PATCH", "/api/projects/{project_id}/generation/settings"): "manager",
    ("POST", "/api/projects/{project_id}/generation/jobs"): "manager",
    ("GET", "/api/projects/{project_id}/feedback/leaderboard"): "reviewer",
    # Personal data (docs/privacy.md): the policy is read by every member, changed by managers;
    # reviewers reveal (the policy may raise it to managers; annotators never: test_privacy_policy.py).
    ("GET", "/api/projects/{project_id}/privacy"): "annotator",
    ("PATCH", "/api/projects/{project_id}/privacy"): "manager",
    ("POST", "/api/projects/{project_id}/privacy/scan"): "manager",
    ("POST", "/api/projects/{project_id}/items/{item_id}/reveal"): "reviewer",
    # Erasure and retention (docs/data-protection.md).
    ("POST", "/api/projects/{project_id}/erasure"): "manager",
    ("PUT", "/api/projects/{project_id}/retention"): "manager",
    ("GET", "/api/projects/{project_id}/retention"): "manager",
    ("POST", "/api/projects/{project_id}/retention/run"): "manager",
    ("GET", "/api/projects/{project_id}/erasure/sources"): "manager",
    # The whole audit log (managers read their project's with ?project=: test_audit_log.py).
    ("GET", "/api/audit"): "admin",
    ("GET", "/api/audit/verify"): "admin",
    ("GET", "/api/audit/export"): "admin",
}


@dataclass
class Scene:
    world: World
    caller: User | None
    target: User  # another user, for user and member endpoints
    project_id: int
    item_id: int
    job_id: int
    token_id: int


def build(world: World, role: str) -> Scene:
    owner = world.user()
    caller: User | None = None
    if role == "admin":
        caller = world.user(admin=True)
    elif role == "owner":
        caller = owner
    elif role != "none":
        caller = world.user()
    target = world.user()
    members = {"annotator": (target,)}
    if caller is not None and role in ("annotator", "reviewer", "manager"):
        members[role] = (*members.get(role, ()), caller)
    pid = world.project(owner, members=members)
    world.import_records(owner, pid, [{"id": "x", "text": "hello"}, {"id": "y", "text": "again"}])
    item_id = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()[0]["id"]
    if caller is not None and role != "outsider":  # hold a lease so submit/skip/lease are meaningful
        world.next(caller, pid)
    job_id = world.runtime.db.run(lambda c: create_job(c, Actor.operator(), pid, "import", {}, foreground=True).id)
    who = caller or owner
    token_id = world.client.get("/api/tokens", headers=who.headers).json()[0]["id"]
    return Scene(world, caller, target, pid, item_id, job_id, token_id)


def call(scene: Scene, method: str, path: str) -> httpx.Response:
    c: TestClient = scene.world.client
    url = path.format(project_id=scene.project_id, item_id=scene.item_id, user_id=scene.target.id,
                      job_id=scene.job_id, token_id=scene.token_id,
                      sha256=stored_in(scene.world.runtime, scene.project_id) if "{sha256}" in path else "",
                      answer_id=10**6, provider="unconfigured", group_id=scene.item_id,
                      slice_id=10**6,  # no such slice: "not found" for members
                      name="v1", file="card.json")  # nobody's answer: "not found" for members, 404 project for others
    headers = scene.caller.headers if scene.caller else {}
    bodies: dict[tuple[str, str], Callable[[], dict[str, Any]]] = {
        ("POST", "/api/auth/login"): lambda: {"json": {"username": "nobody", "password": "wrongwrong"}},
        ("POST", "/api/auth/session"): lambda: {"json": {"username": "nobody", "password": "wrongwrong"}},
        ("POST", "/api/me/password"): lambda: {
            "json": {"current_password": "wrongwrong", "new_password": "longenough"}},
        ("POST", "/api/users"): lambda: {"json": {"username": "fresh", "password": "longenough"}},
        ("PATCH", "/api/users/{user_id}"): lambda: {"json": {"display_name": "X"}},
        ("POST", "/api/tokens"): lambda: {"json": {"name": "n"}},
        ("POST", "/api/projects"): lambda: {"json": {"name": "new one", "label_schema": {
            "fields": [{"name": "t"}], "questions": [{"name": "q", "type": "text"}]}}},
        ("POST", "/api/schemas/check"): lambda: {"json": {"label_schema": "fields: [{name: t}]\nquestions: [{name: q, type: text}]"}},
        ("PATCH", "/api/projects/{project_id}"): lambda: {"json": {"description": "d"}},
        ("PUT", "/api/projects/{project_id}/members/{user_id}"): lambda: {"json": {"role": "reviewer"}},
        ("POST", "/api/projects/{project_id}/members"): lambda: {
            "json": {"username": scene.target.name, "role": "reviewer"}},
        ("POST", "/api/projects/{project_id}/imports"): lambda: {
            "params": {"filename": "a.jsonl", "wait": "true"}, "content": b'{"text": "z"}\n'},
        ("PUT", "/api/projects/{project_id}/items/{item_id}/gold"): lambda: {
            "json": {"value": {"sentiment": "pos"}}},
        ("POST", "/api/projects/{project_id}/items/priorities"): lambda: {
            "json": {"priorities": [{"item_id": scene.item_id, "priority": 1}]}},
        ("POST", "/api/projects/{project_id}/items/{item_id}/answers"): lambda: {
            "json": {"value": {"sentiment": "pos"}}},
        ("POST", "/api/projects/{project_id}/answers/{answer_id}/revisions"): lambda: {
            "json": {"value": {"sentiment": "pos"}}},
        ("POST", "/api/projects/{project_id}/quality/recompute"): lambda: {"params": {"wait": "true"}},
        ("POST", "/api/projects/{project_id}/loop/rounds"): lambda: {"params": {"wait": "true"}},
        ("POST", "/api/projects/{project_id}/duplicates"): lambda: {"params": {"wait": "true"}},
        ("GET", "/api/projects/{project_id}/search"): lambda: {"params": {"q": "z"}},
        ("POST", "/api/projects/{project_id}/slices"): lambda: {"json": {"name": "s", "filter": {}}},
        ("POST", "/api/projects/{project_id}/slices/preview"): lambda: {"json": {"filter": {}}},
        ("PATCH", "/api/projects/{project_id}/slices/{slice_id}"): lambda: {"json": {"name": "t"}},
        ("POST", "/api/projects/{project_id}/slices/{slice_id}/priority"): lambda: {"json": {"priority": 1}},
        ("POST", "/api/projects/{project_id}/releases"): lambda: {"json": {"name": "v1"}},
        ("GET", "/api/projects/{project_id}/releases/diff"): lambda: {"params": {"from": "v1", "to": "v1"}},
        ("POST", "/api/projects/{project_id}/duplicates/{group_id}/keep"): lambda: {
            "json": {"item_id": scene.item_id}},
        ("POST", "/api/projects/{project_id}/loop/prelabel"): lambda: {"params": {"wait": "true"}},
        ("PATCH", "/api/projects/{project_id}/generation/settings"): lambda: {"json": {"temperature": 0.5}},
        ("PATCH", "/api/projects/{project_id}/privacy"): lambda: {"json": {"annotators": "masked"}},
        ("POST", "/api/projects/{project_id}/privacy/scan"): lambda: {"params": {"wait": "true"}},
        ("POST", "/api/projects/{project_id}/erasure"): lambda: {
            "json": {"items": [scene.item_id], "dry_run": True}},
        ("PUT", "/api/projects/{project_id}/retention"): lambda: {"json": {"days": 30}},
        ("POST", "/api/projects/{project_id}/retention/run"): lambda: {"json": {"dry_run": True}},
        ("POST", "/api/projects/{project_id}/generation/jobs"): lambda: {"params": {"wait": "true"}},
        ("POST", "/api/projects/{project_id}/items/{item_id}/segment"): lambda: {"json": {"box": [1, 1, 5, 5]}},
        ("POST", "/api/projects/{project_id}/items/{item_id}/track"): lambda: {
            "json": {"frame": 0, "box": [1, 1, 5, 5]}},
        ("PUT", "/api/projects/{project_id}/annotators/{user_id}/pause"): lambda: {
            "json": {"paused": True, "reason": "test"}},
        ("POST", "/api/projects/{project_id}/items/{item_id}/review"): lambda: {
            "json": {"value": {"sentiment": "neg"}}},
    }
    extra = bodies.get((method, path), dict)()
    return c.request(method, url, headers=headers, **extra)


def api_endpoints(client: TestClient) -> set[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    return {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}


def test_the_policy_table_covers_every_endpoint(world: World) -> None:
    assert api_endpoints(world.client) == set(POLICY)


def denied(r: httpx.Response) -> bool:
    if r.status_code in (401, 403):
        return True
    return r.status_code == 404 and "project" in r.json()["error"]["message"] and "item" not in r.json()["error"]["message"]


def expected_allowed(least: str, role: str) -> bool:
    if least == "public":
        return True
    if role == "none":
        return False
    if least == "user":
        return True
    if least == "admin":
        return role == "admin"
    return RANK[role] >= RANK[least]


@pytest.mark.parametrize(("method", "path"), sorted(POLICY))
def test_endpoint_allows_exactly_the_expected_roles(world: World, method: str, path: str) -> None:
    least = POLICY[(method, path)]
    for role in ("none", *ROLES):
        r = call(build(world, role), method, path)
        if least == "public":
            # login with wrong credentials is a 401 by design; it must never ask for a token
            assert (r.status_code in (200, 401) and "authentication required" not in r.text) or (
                r.status_code == 404 and "no OpenID Connect provider 'unconfigured'" in r.text)
        elif role == "none":
            assert r.status_code == 401, (role, r.status_code, r.text)
        elif expected_allowed(least, role):
            assert not denied(r), (role, r.status_code, r.text)
            assert r.status_code < 500
        else:
            assert denied(r), (role, r.status_code, r.text)
            if role == "outsider" and "{project_id}" in path:
                assert r.status_code == 404  # a project you are not in does not exist for you
