"""Users, passwords, tokens and project membership rules."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from labelloop.store.models import api_tokens, users, utcnow
from tests.platform.world import World


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
    r = world.client.patch(f"/api/users/{a.id}", json={"password": "a-new-password"}, headers=a.headers)
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
