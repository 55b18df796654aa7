"""Users, passwords, tokens and project membership rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from labelloop.api.app import create_app
from labelloop.cli.main import app as cli_app
from labelloop.config import get_settings
from labelloop.errors import Forbidden, Invalid
from labelloop.services.accounts import tokens
from labelloop.services.policy import Action, Actor, Role, check
from labelloop.store.models import api_tokens, users, utcnow
from tests.platform.world import OPERATOR, World

PASSWORD = "the-old-password"


def test_login_issues_a_token_and_secrets_are_stored_only_as_hashes(world: World) -> None:
    admin = world.user("root", admin=True)
    r = world.client.post("/api/users", json={"username": "alice", "password": "s3cret-pass"},
                          headers=admin.headers)
    assert r.status_code == 201
    login = world.client.post("/api/auth/login", json={"username": "alice", "password": "s3cret-pass"})
    assert login.status_code == 200
    token = login.json()["token"]
    assert world.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()["username"] == "alice"
    with world.runtime.db.read() as conn:
        stored_pw = conn.execute(select(users.c.password_hash).where(users.c.username == "alice")).scalar_one()
        hashes = [h for (h,) in conn.execute(select(api_tokens.c.token_hash))]
    assert stored_pw.startswith("$argon2id$") and "s3cret-pass" not in stored_pw
    assert token not in hashes and all(len(h) == 64 for h in hashes)
    bad = world.client.post("/api/auth/login", json={"username": "alice", "password": "wrong-pass"})
    nobody = world.client.post("/api/auth/login", json={"username": "nobody", "password": "wrong-pass"})
    assert bad.status_code == nobody.status_code == 401
    assert bad.json() == nobody.json()  # no hint which usernames exist


def test_revoked_expired_and_deactivated_tokens_stop_working(world: World) -> None:
    admin = world.user("root", admin=True)
    u = world.user("bob")
    assert world.client.get("/api/me", headers=u.headers).status_code == 200
    with world.runtime.db.write() as conn:
        conn.execute(update(api_tokens).where(api_tokens.c.user_id == u.id)
                     .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert world.client.get("/api/me", headers=u.headers).status_code == 401
    fresh = world.client.post("/api/tokens", json={"name": "x", "user_id": u.id}, headers=admin.headers)
    headers = {"Authorization": f"Bearer {fresh.json()['token']}"}
    assert world.client.get("/api/me", headers=headers).status_code == 200
    world.client.patch(f"/api/users/{u.id}", json={"is_active": False}, headers=admin.headers)
    assert world.client.get("/api/me", headers=headers).status_code == 401
    world.client.patch(f"/api/users/{u.id}", json={"is_active": True}, headers=admin.headers)
    assert world.client.delete(f"/api/tokens/{fresh.json()['info']['id']}", headers=admin.headers).status_code == 204
    r = world.client.get("/api/me", headers=headers)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_malformed_authorization_headers(world: World) -> None:
    for header in ("Basic abc", "Bearer", "Bearer    ", "llt_x"):
        r = world.client.get("/api/me", headers={"Authorization": header})
        assert r.status_code == 401


def test_users_manage_only_their_own_tokens_and_profile(world: World) -> None:
    a, b = world.user("a"), world.user("b")
    b_token = world.client.get("/api/tokens", headers=b.headers).json()[0]["id"]
    assert world.client.delete(f"/api/tokens/{b_token}", headers=a.headers).status_code == 404
    r = world.client.post("/api/tokens", json={"name": "x", "user_id": b.id}, headers=a.headers)
    assert r.status_code == 403
    r = world.client.patch(f"/api/users/{a.id}", json={"display_name": "A"}, headers=a.headers)
    assert r.status_code == 200
    r = world.client.patch(f"/api/users/{a.id}", json={"is_admin": True}, headers=a.headers)
    assert r.status_code == 403


def test_user_input_is_checked(world: World) -> None:
    admin = world.user("root", admin=True)
    short = world.client.post("/api/users", json={"username": "c", "password": "short"}, headers=admin.headers)
    assert short.status_code == 422 and short.json()["error"]["problems"][0]["field"] == "password"
    bad = world.client.post("/api/users", json={"username": " spaced"}, headers=admin.headers)
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["field"] == "username"
    world.client.post("/api/users", json={"username": "dup"}, headers=admin.headers)
    dup = world.client.post("/api/users", json={"username": "dup"}, headers=admin.headers)
    assert dup.status_code == 409


def test_membership_rules(world: World) -> None:
    owner, manager, other = world.user("o"), world.user("m"), world.user("x")
    pid = world.project(owner, members={"manager": (manager,)})
    url = f"/api/projects/{pid}/members"
    r = world.client.put(f"{url}/{other.id}", json={"role": "owner"}, headers=manager.headers)
    assert r.status_code == 403  # managers do not make owners
    assert world.client.put(f"{url}/{other.id}", json={"role": "reviewer"}, headers=manager.headers).status_code == 200
    r = world.client.put(f"{url}/{other.id}", json={"role": "boss"}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "role"
    assert world.client.delete(f"{url}/{owner.id}", headers=manager.headers).status_code == 403
    last = world.client.delete(f"{url}/{owner.id}", headers=owner.headers)
    assert last.status_code == 409 and "at least one owner" in last.json()["error"]["message"]
    members = {m["username"]: m["role"] for m in world.client.get(url, headers=owner.headers).json()}
    assert members == {"o": "owner", "m": "manager", "x": "reviewer"}


def test_project_settings_and_schema_changes(world: World) -> None:
    owner, ann = world.user("o"), world.user("a")
    pid = world.project(owner, members={"annotator": (ann,)})
    r = world.client.patch(f"/api/projects/{pid}", json={"overlap": 0, "lease_seconds": 0}, headers=owner.headers)
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["error"]["problems"]} == {"overlap", "lease_seconds"}
    bad_schema = {"fields": [{"name": "text"}], "questions": [{"name": "q", "type": "choice", "options": []}]}
    r = world.client.patch(f"/api/projects/{pid}", json={"label_schema": bad_schema}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "questions[0].options"
    world.import_records(owner, pid, [{"text": "t"}])
    t = world.next(ann, pid).json()
    world.submit(ann, pid, t["item_id"], {"sentiment": "pos"})
    good = {"fields": [{"name": "text"}], "questions": [{"name": "q", "type": "text"}]}
    r = world.client.patch(f"/api/projects/{pid}", json={"label_schema": good}, headers=owner.headers)
    assert r.status_code == 409
    r = world.client.post("/api/projects", json={"name": "p2", "label_schema": "fields: [{name: text}]\nquestions: [{name: q, type: text}]\n"},
                          headers=ann.headers)
    assert r.status_code == 201 and r.json()["role"] == "owner"
    dup = world.client.post("/api/projects", json={"name": "p2", "label_schema": good}, headers=ann.headers)
    assert dup.status_code == 409


def test_actions_are_distinct_and_a_refusal_names_the_action_refused() -> None:
    # Members with equal values were aliases: "edit project" was refused as "view quality".
    assert len(list(Action)) == len(Action.__members__)  # an alias is in __members__ only
    for action in Action:
        assert action.value[0] == action.name and Action[action.name] is action
        if action.least_role == Role.annotator:
            continue  # every member may do it: nobody is refused by role
        below = SimpleNamespace(role=Role(action.least_role - 1).name)
        with pytest.raises(Forbidden) as refused:
            check(below, Actor(7, "someone"), 1, action)
        assert refused.value.message.endswith(f"does not allow: {action.name.replace('_', ' ')}")
        check(SimpleNamespace(role=action.least_role.name), Actor(7, "someone"), 1, action)


def test_a_403_from_the_api_names_the_action(world: World) -> None:
    owner, reviewer, manager = world.user("o"), world.user("r"), world.user("m")
    pid = world.project(owner, members={"reviewer": (reviewer,), "manager": (manager,)})
    r = world.client.patch(f"/api/projects/{pid}", json={"description": "d"}, headers=reviewer.headers)
    assert r.status_code == 403 and r.json()["error"]["message"].endswith("does not allow: edit project")
    r = world.client.delete(f"/api/projects/{pid}", headers=manager.headers)
    assert r.status_code == 403 and r.json()["error"]["message"].endswith("does not allow: delete project")


# --- passwords ------------------------------------------------------------------------------


def browser(world: World, username: str, password: str = PASSWORD) -> tuple[TestClient, dict[str, str]]:
    """A signed-in browser of its own (its own cookie jar), and the CSRF header it must send."""
    c = TestClient(create_app(world.runtime))
    r = c.post("/api/auth/session", json={"username": username, "password": password})
    assert r.status_code == 201, r.text
    return c, {"X-CSRF-Token": r.json()["csrf_token"]}


def signs_in(world: World, username: str, password: str) -> bool:
    r = world.client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code in (200, 401), r.text
    return r.status_code == 200


def change(client: TestClient, headers: dict[str, str], current: str, new: str, **extra: object) -> int:
    body = {"current_password": current, "new_password": new, **extra}
    return client.post("/api/me/password", json=body, headers=headers).status_code


def test_changing_your_own_password_needs_the_current_one(world: World) -> None:
    a = world.user("a", password=PASSWORD)
    admin = world.user("root", admin=True, password=PASSWORD)
    for who in (a, admin):  # an admin too: a stolen session must not be enough
        r = world.client.patch(f"/api/users/{who.id}", json={"password": "a-new-password"}, headers=who.headers)
        assert r.status_code == 403 and "current password" in r.json()["error"]["message"]
    r = world.client.post("/api/me/password", headers=a.headers,
                          json={"current_password": "not-it-at-all", "new_password": "a-new-password"})
    assert r.status_code == 422
    assert r.json()["error"]["problems"] == [{"field": "current_password", "message": "does not match"}]
    r = world.client.post("/api/me/password", headers=a.headers,
                          json={"current_password": PASSWORD, "new_password": "short"})
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "password"
    assert change(world.client, a.headers, PASSWORD, "a-new-password") == 204
    assert signs_in(world, "a", "a-new-password") and not signs_in(world, "a", PASSWORD)


def test_a_password_change_ends_your_other_sessions_and_tokens_if_asked(world: World) -> None:
    a = world.user("a", password=PASSWORD)  # a.headers: an API token
    here, here_csrf = browser(world, "a")
    there, _ = browser(world, "a")
    with here, there:
        assert change(here, here_csrf, PASSWORD, "second-password") == 204
        assert here.get("/api/me").status_code == 200  # the session that asked stays
        assert there.get("/api/me").status_code == 401  # the other one ended
        assert world.client.get("/api/me", headers=a.headers).status_code == 200  # tokens kept
        assert change(here, here_csrf, "second-password", "third-password", revoke_tokens=True) == 204
        assert world.client.get("/api/me", headers=a.headers).status_code == 401
        assert here.get("/api/me").status_code == 200
    # With a token: that token stays, the browser sessions end.
    b = world.user("b", password=PASSWORD)
    other_token = world.client.post("/api/tokens", json={"name": "ci"}, headers=b.headers).json()["token"]
    session, _ = browser(world, "b")
    with session:
        assert change(world.client, b.headers, PASSWORD, "second-password", revoke_tokens=True) == 204
        assert session.get("/api/me").status_code == 401
    assert world.client.get("/api/me", headers=b.headers).status_code == 200
    assert world.client.get("/api/me", headers={"Authorization": f"Bearer {other_token}"}).status_code == 401


def test_guessing_the_current_password_is_limited_like_signing_in(world: World) -> None:
    a = world.user("a", password=PASSWORD)
    for _ in range(10):
        assert change(world.client, a.headers, "a-wrong-guess", "a-new-password") == 422
    r = world.client.post("/api/me/password", headers=a.headers,
                          json={"current_password": PASSWORD, "new_password": "a-new-password"})
    assert r.status_code == 429 and r.json()["error"]["type"] == "too_many_attempts"
    assert int(r.headers["retry-after"]) > 0


def test_an_admin_reset_ends_the_users_sessions_and_by_default_their_tokens(world: World) -> None:
    admin = world.user("root", admin=True)
    a = world.user("a", password=PASSWORD)
    session, _ = browser(world, "a")
    with session:
        r = world.client.patch(f"/api/users/{a.id}", json={"password": "reset-password", "revoke_tokens": False},
                               headers=admin.headers)
        assert r.status_code == 200
        assert session.get("/api/me").status_code == 401
        assert world.client.get("/api/me", headers=a.headers).status_code == 200
    r = world.client.patch(f"/api/users/{a.id}", json={"password": "reset-again"}, headers=admin.headers)
    assert r.status_code == 200
    assert world.client.get("/api/me", headers=a.headers).status_code == 401
    assert world.client.get("/api/me", headers=admin.headers).status_code == 200
    assert signs_in(world, "a", "reset-again")


@pytest.fixture
def cli(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_the_operator_resets_a_password_without_the_old_one(world: World, cli: CliRunner) -> None:
    a = world.user("a", password=PASSWORD)
    r = cli.invoke(cli_app, ["user", "set-password", "a", "--password-stdin", "--keep-tokens"],
                   input="operator-set-1\n")
    assert r.exit_code == 0, r.output
    assert world.client.get("/api/me", headers=a.headers).status_code == 200
    r = cli.invoke(cli_app, ["user", "set-password", "a", "--password-stdin"], input="operator-set-2\n")
    assert r.exit_code == 0 and "API tokens revoked" in r.output
    assert world.client.get("/api/me", headers=a.headers).status_code == 401
    assert signs_in(world, "a", "operator-set-2")


# --- token expiry -----------------------------------------------------------------------------


def test_a_token_expiry_of_zero_or_less_is_refused_not_taken_as_never(world: World, cli: CliRunner) -> None:
    a = world.user("a")
    for days in (0, -1, 3651):
        with pytest.raises(Invalid) as refused:
            world.runtime.db.run(lambda c, d=days: tokens.create_token(c, OPERATOR, a.id, "x", expires_in_days=d))
        assert refused.value.problems[0].field == "expires_in_days"
        r = world.client.post("/api/tokens", json={"name": "x", "expires_in_days": days}, headers=a.headers)
        assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "expires_in_days"
        r = cli.invoke(cli_app, ["token", "create", "a", "--expires-in-days", str(days)])
        assert r.exit_code == 1 and "between 1 and 3650 days" in r.output, r.output
    r = cli.invoke(cli_app, ["token", "create", "a", "--expires-in-days", "1"])
    assert r.exit_code == 0, r.output
    with world.runtime.db.read() as conn:
        expiries = list(conn.execute(select(api_tokens.c.expires_at).where(api_tokens.c.user_id == a.id)
                                     .order_by(api_tokens.c.id)).scalars())
    assert expiries[0] is None  # the test token, made without an expiry
    assert len(expiries) == 2 and expiries[1] is not None
    assert timedelta(hours=23) < expiries[1] - utcnow() <= timedelta(days=1)
