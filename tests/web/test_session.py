"""Browser sessions: cookies, CSRF on unsafe methods, logout; bearer tokens stay as they were."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient
from sqlalchemy import select

from labelloop.api.app import create_app
from labelloop.services.runtime import Runtime
from labelloop.store.models import api_tokens
from tests.platform.world import World

PASSWORD = "a-long-password"


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    r = client.post("/api/auth/session", json={"username": username, "password": password})
    assert r.status_code == 201, r.text
    return str(r.json()["csrf_token"])


def set_cookie_headers(r: object) -> list[str]:
    return r.headers.get_list("set-cookie")  # type: ignore[attr-defined, no-any-return]


def test_login_sets_an_httponly_strict_session_cookie_and_a_readable_csrf_cookie(world: World) -> None:
    world.user("ann", password=PASSWORD)
    r = world.client.post("/api/auth/session", json={"username": "ann", "password": PASSWORD})
    assert r.status_code == 201
    body = r.json()
    assert body["user"]["username"] == "ann" and body["expires_at"]
    cookies = {c.split("=", 1)[0]: c for c in set_cookie_headers(r)}
    session, csrf = cookies["labelloop_session"], cookies["labelloop_csrf"]
    assert "HttpOnly" in session and "SameSite=strict" in session and "Path=/" in session
    assert "HttpOnly" not in csrf and "SameSite=strict" in csrf
    assert "Secure" not in session  # plain http on loopback: a Secure cookie would never come back
    assert csrf.startswith(f"labelloop_csrf={body['csrf_token']};")


def test_cookies_are_secure_over_https(runtime: Runtime) -> None:
    with TestClient(create_app(runtime), base_url="https://testserver") as c:
        world = World(runtime, c)
        world.user("ann", password=PASSWORD)
        r = c.post("/api/auth/session", json={"username": "ann", "password": PASSWORD})
        assert all("Secure" in h for h in set_cookie_headers(r))
        assert c.get("/api/me").json()["username"] == "ann"


def test_wrong_password_is_401_and_sets_nothing(world: World) -> None:
    world.user("ann", password=PASSWORD)
    r = world.client.post("/api/auth/session", json={"username": "ann", "password": "not-the-one"})
    assert r.status_code == 401 and not set_cookie_headers(r)


def test_the_cookie_authenticates_reads_without_csrf(world: World) -> None:
    world.user("ann", password=PASSWORD)
    log_in(world.client, "ann")
    assert world.client.get("/api/me").json()["username"] == "ann"
    assert world.client.get("/api/projects").status_code == 200


def test_unsafe_methods_with_the_cookie_need_the_csrf_header(world: World) -> None:
    world.user("ann", password=PASSWORD)
    csrf = log_in(world.client, "ann")
    new = {"name": "via cookie", "label_schema": {"fields": [{"name": "t"}],
                                                   "questions": [{"name": "q", "type": "text"}]}}
    r = world.client.post("/api/projects", json=new)
    assert r.status_code == 403 and "X-CSRF-Token" in r.json()["error"]["message"]
    r = world.client.post("/api/projects", json=new, headers={"X-CSRF-Token": "0" * 64})
    assert r.status_code == 403
    r = world.client.post("/api/projects", json=new, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert world.client.patch(f"/api/projects/{pid}", json={"overlap": 2}).status_code == 403
    assert world.client.patch(f"/api/projects/{pid}", json={"overlap": 2},
                              headers={"X-CSRF-Token": csrf}).json()["overlap"] == 2
    assert world.client.delete(f"/api/projects/{pid}").status_code == 403


def test_the_csrf_token_of_one_session_does_not_fit_another(runtime: Runtime, world: World) -> None:
    world.user("ann", password=PASSWORD)
    world.user("bob", password=PASSWORD)
    with TestClient(create_app(runtime)) as other:
        bob_csrf = log_in(other, "bob")
    log_in(world.client, "ann")
    r = world.client.post("/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": bob_csrf})
    assert r.status_code == 403


def test_a_bearer_token_needs_no_csrf_header_even_with_a_cookie(world: World) -> None:
    ann = world.user("ann", password=PASSWORD)
    log_in(world.client, "ann")
    r = world.client.post("/api/tokens", json={"name": "ci"}, headers=ann.headers)
    assert r.status_code == 201


def test_the_session_is_a_token_stored_only_as_a_hash_with_an_expiry(runtime: Runtime, world: World) -> None:
    world.user("ann", password=PASSWORD)
    log_in(world.client, "ann")
    secret = world.client.cookies["labelloop_session"]
    with runtime.db.read() as conn:
        rows = conn.execute(select(api_tokens).where(api_tokens.c.name == "browser session")).all()
    assert len(rows) == 1
    assert rows[0].token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert rows[0].expires_at is not None
    assert all(secret not in str(v) for v in rows[0])


def test_logout_revokes_the_session_and_clears_the_cookies(world: World) -> None:
    world.user("ann", password=PASSWORD)
    csrf = log_in(world.client, "ann")
    secret = world.client.cookies["labelloop_session"]
    assert world.client.delete("/api/auth/session").status_code == 403  # CSRF applies to logout too
    r = world.client.delete("/api/auth/session", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    cleared = set_cookie_headers(r)
    assert {c.split("=", 1)[0] for c in cleared} == {"labelloop_session", "labelloop_csrf"}
    assert all("Max-Age=0" in c for c in cleared)
    assert "labelloop_session" not in world.client.cookies
    # the secret itself is dead, not just forgotten by this browser
    world.client.cookies.set("labelloop_session", secret)
    assert world.client.get("/api/me").status_code == 401


def test_logout_with_a_bearer_token_revokes_that_token(world: World) -> None:
    ann = world.user("ann")
    assert world.client.delete("/api/auth/session", headers=ann.headers).status_code == 204
    assert world.client.get("/api/me", headers=ann.headers).status_code == 401


def test_logout_without_credentials_is_401(world: World) -> None:
    assert world.client.delete("/api/auth/session").status_code == 401


def test_a_deactivated_user_loses_their_session(world: World) -> None:
    admin = world.user("root", admin=True)
    ann = world.user("ann", password=PASSWORD)
    log_in(world.client, "ann")
    world.client.patch(f"/api/users/{ann.id}", json={"is_active": False}, headers=admin.headers)
    assert world.client.get("/api/me").status_code == 401
