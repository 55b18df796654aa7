"""The audit log: what each action leaves, the chain under concurrency, and tampering found where it is."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from typer.testing import CliRunner

from labelloop.cli.main import app
from labelloop.config import get_settings
from labelloop.services.audit import GENESIS, record
from labelloop.services.audit.chain import canonical, entry_hash
from labelloop.services.audit.verify import anchor_of, verify
from labelloop.services.policy import Actor
from labelloop.services.runtime import Runtime
from labelloop.store.db import Database
from labelloop.store.models import audit_head, audit_log
from tests.platform.conftest import PG_URL, make_settings
from tests.platform.pictures import SCHEMA as IMAGE_SCHEMA
from tests.platform.pictures import png, sha, zipped
from tests.platform.world import World

ALICE = Actor(7, "alice")
DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"


def entries(world: World, **where: Any) -> list[Any]:
    with world.runtime.db.read() as conn:
        stmt = select(audit_log).order_by(audit_log.c.seq)
        for k, v in where.items():
            stmt = stmt.where(audit_log.c[k] == v)
        return list(conn.execute(stmt).all())


def last(world: World, action: str) -> Any:
    found = entries(world, action=action)
    assert found, f"no {action} entry"
    return found[-1]


def test_every_action_leaves_its_entry(world: World) -> None:
    admin = world.user("root", admin=True)
    owner = world.user("olivia", password="a-long-password")
    ann = world.user("ann")
    rev = world.user("rex")
    c = world.client

    # Sign-ins (a token, a browser session) and a failure; a sign-out.
    assert c.post("/api/auth/login", json={"username": "olivia", "password": "a-long-password"}).status_code == 200
    e = last(world, "sign_in")
    assert (e.actor_id, e.actor_name, e.object_type, e.object_id) == (owner.id, "olivia", "user", str(owner.id))
    assert e.details["method"] == "password"
    assert c.post("/api/auth/login", json={"username": "olivia", "password": "wrong-password"}).status_code == 401
    e = last(world, "sign_in.failed")
    assert (e.actor_id, e.actor_name, e.details["reason"]) == (owner.id, "olivia", "wrong username or password")
    assert c.post("/api/auth/login", json={"username": "hunter2-typo", "password": "x"}).status_code == 401
    e = last(world, "sign_in.failed")
    assert e.actor_id is None and e.actor_name == "(unknown)" and "hunter2" not in json.dumps(e.details)
    s = c.post("/api/auth/session", json={"username": "olivia", "password": "a-long-password"})
    assert s.status_code == 201
    assert c.delete("/api/auth/session", headers={"X-CSRF-Token": s.json()["csrf_token"]}).status_code == 204
    c.cookies.clear()
    e = last(world, "sign_out")
    assert (e.actor_id, e.actor_name, e.object_type) == (owner.id, "olivia", "token")

    # Tokens.
    t = c.post("/api/tokens", json={"name": "ci", "expires_in_days": 5}, headers=owner.headers)
    assert t.status_code == 201
    tid = t.json()["info"]["id"]
    e = last(world, "token.create")
    assert (e.actor_id, e.object_id, e.details["name"], e.details["expires_in_days"]) == (owner.id, str(tid), "ci", 5)
    assert c.delete(f"/api/tokens/{tid}", headers=owner.headers).status_code == 204
    assert last(world, "token.revoke").object_id == str(tid)

    # Projects, settings, members.
    p = c.post("/api/projects", json={"name": "audited", "label_schema": {
        "fields": [{"name": "text"}],
        "questions": [{"name": "sentiment", "type": "choice", "options": ["pos", "neg"]}]}},
        headers=owner.headers)
    pid = p.json()["id"]
    e = last(world, "project.create")
    assert (e.actor_id, e.project_id, e.details["name"]) == (owner.id, pid, "audited")
    r = c.patch(f"/api/projects/{pid}", json={"overlap": 1, "quality": {"review_below": 0.5},
                                            "loop": {"strategy": "margin"}}, headers=owner.headers)
    assert r.status_code == 200, r.text
    e = last(world, "project.update")
    assert e.details["quality_sent"] == {"review_below": 0.5} and e.details["loop_sent"] == {"strategy": "margin"}
    for user, role in ((ann, "annotator"), (rev, "reviewer")):
        assert c.put(f"/api/projects/{pid}/members/{user.id}", json={"role": role}, headers=owner.headers).status_code == 200
    e = last(world, "member.set")
    assert (e.project_id, e.object_id, e.details["role"], e.details["previous"]) == (pid, str(rev.id), "reviewer", None)

    # Work: a task served, an answer, a revision; an item opened; a review; an export.
    world.import_records(owner, pid, [{"id": "a", "text": "one"}, {"id": "b", "text": "two"}])
    task = world.next(ann, pid).json()
    iid = task["item_id"]
    e = last(world, "task.serve")
    assert (e.actor_id, e.actor_name, e.project_id, e.object_type, e.object_id) == (ann.id, "ann", pid, "item", str(iid))
    answer = world.submit(ann, pid, iid, {"sentiment": "pos"}, key="k1").json()
    e = last(world, "answer.submit")
    assert (e.actor_id, e.object_id, e.details) == (ann.id, str(iid), {"answer": answer["id"]})
    assert world.submit(ann, pid, iid, {"sentiment": "pos"}, key="k1").status_code == 200  # a replay
    assert len(entries(world, action="answer.submit")) == 1
    rv = c.post(f"/api/projects/{pid}/answers/{answer['id']}/revisions", json={"value": {"sentiment": "neg"}},
                headers=ann.headers)
    assert rv.status_code == 201, rv.text
    assert last(world, "answer.revise").details == {"answer": rv.json()["id"], "supersedes": answer["id"]}
    assert c.get(f"/api/projects/{pid}/items/{iid}", headers=rev.headers).status_code == 200
    e = last(world, "item.view")
    assert (e.actor_id, e.object_id) == (rev.id, str(iid))
    assert c.post(f"/api/projects/{pid}/items/{iid}/flag", headers=rev.headers).status_code == 204
    assert c.get(f"/api/projects/{pid}/review/next", headers=rev.headers).status_code == 200
    assert c.post(f"/api/projects/{pid}/items/{iid}/review", json={"value": {"sentiment": "neg"}},
                  headers=rev.headers).status_code == 200
    assert last(world, "review.flag").object_id == last(world, "review.decide").object_id == str(iid)
    assert c.get(f"/api/projects/{pid}/export?format=csv", headers=owner.headers).status_code == 200
    e = last(world, "export")
    assert (e.actor_id, e.project_id, e.details["format"], e.details["source"]) == (owner.id, pid, "csv", "consensus")

    # Pauses, removal, deletion; an admin's changes to an account.
    assert c.put(f"/api/projects/{pid}/annotators/{ann.id}/pause", json={"paused": True, "reason": "check"},
                 headers=owner.headers).status_code == 200
    assert last(world, "annotator.pause").details == {"reason": "check"}
    assert c.delete(f"/api/projects/{pid}/members/{rev.id}", headers=owner.headers).status_code == 204
    assert last(world, "member.remove").details == {"previous": "reviewer"}
    assert c.patch(f"/api/users/{ann.id}", json={"is_active": False}, headers=admin.headers).status_code == 200
    e = last(world, "user.update")
    assert (e.actor_id, e.object_id, e.details["is_active"]) == (admin.id, str(ann.id), False)
    assert c.delete(f"/api/projects/{pid}", headers=owner.headers).status_code == 204
    assert last(world, "project.delete").details == {"name": "audited"}
    # The project is gone; its entries are not (no foreign keys), and the chain holds.
    assert len(entries(world, project_id=pid)) >= 10
    with world.runtime.db.read() as conn:
        assert verify(conn).ok


def test_a_served_file_is_a_read_the_log_keeps(world: World) -> None:
    owner = world.user("owner")
    ann = world.user("ann")
    pid = world.project(owner, schema=IMAGE_SCHEMA, members={"annotator": (ann,)})
    picture = png()
    assert world.upload(owner, pid, zipped({"a.png": picture}), "photos.zip").status_code == 201
    digest = sha(picture)
    r = world.client.get(f"/api/projects/{pid}/blobs/{digest}?variant=thumb", headers=ann.headers)
    assert r.status_code == 200
    e = last(world, "blob.serve")
    assert (e.actor_id, e.project_id, e.object_type, e.object_id, e.details) == (
        ann.id, pid, "blob", digest, {"variant": "thumb"})


def test_an_action_rolled_back_leaves_no_entry(world: World) -> None:
    owner = world.user("owner")
    ann = world.user("ann")
    pid = world.project(owner, members={"annotator": (ann,)})
    world.import_records(owner, pid, [{"text": "x"}])
    before = entries(world)
    iid = world.next(ann, pid).json()["item_id"]
    served = entries(world)
    assert len(served) == len(before) + 1
    # A refused answer, a refused export: their transactions roll back, entries with them.
    assert world.submit(ann, pid, iid, {"sentiment": "maybe"}).status_code == 422
    r = world.client.get(f"/api/projects/{pid}/export?format=coco", headers=owner.headers)
    assert r.status_code == 422
    assert entries(world) == served

    class Boom(Exception):
        pass

    with pytest.raises(Boom), world.runtime.db.write() as conn:
        record(conn, ALICE, "test.event")
        raise Boom
    assert entries(world) == served
    with world.runtime.db.read() as conn:
        assert conn.execute(select(audit_head.c.seq)).scalar() == served[-1].seq
        assert verify(conn).ok


def test_the_log_can_be_turned_off_for_measuring(tmp_path: Path, database_url: str) -> None:
    rt = Runtime(make_settings(tmp_path, database_url, audit_log=False))
    try:
        with rt.db.write() as conn:
            assert record(conn, ALICE, "test.event") is None
        with rt.db.read() as conn:
            assert conn.execute(select(audit_log)).first() is None
    finally:
        rt.close()


# --- the chain ---------------------------------------------------------------------------------

def chain(db: Database, n: int) -> None:
    for i in range(n):
        db.run(lambda conn, i=i: record(conn, ALICE, "test.event", project_id=1, object_type="item",
                                        object_id=i, details={"i": i, "text": "é ✓"}))


def check(db: Database, anchor: dict[str, Any] | None = None) -> list[tuple[int, str]]:
    with db.read() as conn:
        return [(p.seq, p.kind) for p in verify(conn, anchor).problems]


def sql(db: Database, *statements: str, **params: Any) -> None:
    with db.write() as conn:
        for s in statements:
            conn.execute(text(s), params)


def row(db: Database, seq: int) -> Any:
    with db.read() as conn:
        return conn.execute(select(audit_log).where(audit_log.c.seq == seq)).one()


def test_hashes_follow_the_documented_format(runtime: Runtime) -> None:
    db = runtime.db
    chain(db, 3)
    prev = GENESIS
    for seq in (1, 2, 3):
        r = row(db, seq)
        # docs/audit.md: the bytes, as an auditor would build them with the standard library.
        body = {"seq": r.seq, "at": r.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "actor_id": r.actor_id,
                "actor_name": r.actor_name, "action": r.action, "project_id": r.project_id,
                "object_type": r.object_type, "object_id": r.object_id, "details": r.details, "prev_hash": prev}
        data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        assert hashlib.sha256(data).hexdigest() == r.hash
        assert r.prev_hash == prev
        prev = r.hash
    assert check(db) == []


def test_a_changed_entry_is_found(runtime: Runtime) -> None:
    db = runtime.db
    chain(db, 10)
    sql(db, "UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 5")
    assert check(db) == [(5, "changed")]


def test_a_changed_and_rehashed_entry_breaks_the_link_after_it(runtime: Runtime) -> None:
    db = runtime.db
    chain(db, 10)
    r = row(db, 5)
    fields = dict(r._mapping) | {"actor_name": "mallory"}
    forged = entry_hash(fields)
    sql(db, "UPDATE audit_log SET actor_name = 'mallory', hash = :h WHERE seq = 5", h=forged)
    assert check(db) == [(6, "unlinked")]


def test_a_deleted_entry_is_found(runtime: Runtime) -> None:
    db = runtime.db
    chain(db, 10)
    sql(db, "DELETE FROM audit_log WHERE seq = 5")
    assert check(db) == [(5, "missing")]
    sql(db, "DELETE FROM audit_log WHERE seq IN (7, 8)")
    problems = check(db)
    assert (7, "missing") in problems and (5, "missing") in problems


def test_a_deleted_entry_with_the_rest_renumbered_is_found(runtime: Runtime) -> None:
    db = runtime.db
    chain(db, 10)
    sql(db, "DELETE FROM audit_log WHERE seq = 5",
        "UPDATE audit_log SET seq = seq + 1000 WHERE seq > 5",
        "UPDATE audit_log SET seq = seq - 1001 WHERE seq > 1000",
        "UPDATE audit_head SET seq = 9")
    problems = check(db)
    assert problems[0] == (5, "missing"), problems


def test_an_inserted_entry_is_found(runtime: Runtime) -> None:
    db = runtime.db
    chain(db, 10)
    # A forged entry between 4 and 5 that links to 4 and hashes right; the rest moved up one.
    r = row(db, 4)
    fields = dict(r._mapping) | {"seq": 5, "prev_hash": r.hash, "actor_name": "mallory"}
    forged = entry_hash(fields)
    sql(db, "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 5",
        "UPDATE audit_log SET seq = seq - 999 WHERE seq > 1000")
    with db.write() as conn:
        conn.execute(audit_log.insert().values({**fields, "hash": forged}))
    problems = check(db)
    assert problems[0] == (5, "inserted"), problems
    assert (11, "inserted") in problems  # after the head, too


def test_an_entry_appended_behind_the_writer_is_found(runtime: Runtime) -> None:
    db = runtime.db
    chain(db, 5)
    r = row(db, 5)
    fields = dict(r._mapping) | {"seq": 6, "prev_hash": r.hash}
    with db.write() as conn:
        conn.execute(audit_log.insert().values({**fields, "hash": entry_hash(fields)}))
    assert check(db) == [(6, "inserted")]


def test_reordered_entries_are_found(runtime: Runtime) -> None:
    db = runtime.db
    chain(db, 10)
    sql(db, "UPDATE audit_log SET seq = 1004 WHERE seq = 4",
        "UPDATE audit_log SET seq = 4 WHERE seq = 8",
        "UPDATE audit_log SET seq = 8 WHERE seq = 1004")
    problems = check(db)
    assert (4, "reordered") in problems and (8, "reordered") in problems, problems
    assert min(p[0] for p in problems) == 4


def test_a_log_cut_short_after_an_anchor_is_found(runtime: Runtime) -> None:
    db = runtime.db
    chain(db, 12)
    with db.read() as conn:
        anchor = anchor_of(conn)
    assert anchor["seq"] == 12
    assert check(db, anchor) == []
    # Truncated, and the head rewound to match: only the anchor can tell.
    last = row(db, 8)
    sql(db, "DELETE FROM audit_log WHERE seq > 8", "UPDATE audit_head SET seq = 8, hash = :h", h=last.hash)
    assert check(db) == []
    assert check(db, anchor) == [(9, "truncated")]
    # Cut without rewinding the head: the head tells.
    sql(db, "DELETE FROM audit_log WHERE seq > 6")
    assert (7, "truncated") in check(db)


def test_a_log_rewritten_under_an_anchor_is_found(runtime: Runtime) -> None:
    db = runtime.db
    chain(db, 6)
    with db.read() as conn:
        anchor = anchor_of(conn)
    # Every hash recomputed after a change to entry 2: self-consistent, but not what was anchored.
    with db.write() as conn:
        prev = conn.execute(select(audit_log.c.hash).where(audit_log.c.seq == 1)).scalar_one()
        for r in conn.execute(select(audit_log).where(audit_log.c.seq >= 2).order_by(audit_log.c.seq)).all():
            fields = dict(r._mapping) | {"prev_hash": prev}
            if r.seq == 2:
                fields["actor_name"] = "mallory"
            new = entry_hash(fields)
            conn.execute(audit_log.update().where(audit_log.c.seq == r.seq).values(
                actor_name=fields["actor_name"], prev_hash=prev, hash=new))
            prev = new
        conn.execute(audit_head.update().values(hash=prev))
    assert check(db) == []
    assert check(db, anchor) == [(6, "anchor")]


def appenders(dbs: list[Database], threads_per_db: int, each: int) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(len(dbs) * threads_per_db)

    def work(db: Database, who: int) -> None:
        try:
            start.wait()
            for i in range(each):
                db.run(lambda conn, i=i: record(conn, Actor(who, f"u{who}"), "test.event", details={"i": i}),
                       attempts=50)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(db, k * 100 + j))
               for k, db in enumerate(dbs) for j in range(threads_per_db)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_concurrent_appends_keep_one_chain(runtime: Runtime, database_url: str) -> None:
    # Several engines (separate pools and, on SQLite, separate in-process locks: only the
    # database's own locking keeps them apart), several threads each.
    dbs = [runtime.db, Database(database_url), Database(database_url)]
    try:
        appenders(dbs, threads_per_db=3, each=15)
    finally:
        for db in dbs[1:]:
            db.dispose()
    with runtime.db.read() as conn:
        report = verify(conn)
        seqs = [r.seq for r in conn.execute(select(audit_log.c.seq).order_by(audit_log.c.seq))]
    assert report.ok, report.problems
    assert seqs == list(range(1, 9 * 15 + 1))
    assert (report.head_seq, report.entries) == (135, 135)


# --- who may read it, through the API and the CLI -----------------------------------------------

def test_the_api_lists_filters_and_verifies_for_admins_and_managers(world: World) -> None:
    admin = world.user("root", admin=True)
    owner = world.user("owner")
    manager = world.user("mia")
    ann = world.user("ann")
    reviewer = world.user("rev")
    pid = world.project(owner, members={"manager": (manager,), "annotator": (ann,), "reviewer": (reviewer,)})
    other = world.project(owner)
    world.import_records(owner, pid, [{"text": "x"}, {"text": "y"}])
    world.next(ann, pid)
    c = world.client
    for user in (ann, reviewer):
        for params in ({}, {"project": pid}):
            assert c.get("/api/audit", params=params, headers=user.headers).status_code == 403
            assert c.get("/api/audit/verify", params=params, headers=user.headers).status_code == 403
            assert c.get("/api/audit/export", params=params, headers=user.headers).status_code == 403
    assert c.get("/api/audit", headers=manager.headers).status_code == 403  # the whole log: admins only
    assert c.get("/api/audit", params={"project": other}, headers=manager.headers).status_code == 404
    mine = c.get("/api/audit", params={"project": pid}, headers=manager.headers).json()["entries"]
    assert mine and {e["project_id"] for e in mine} == {pid}
    assert [e["seq"] for e in mine] == sorted((e["seq"] for e in mine), reverse=True)
    served = c.get("/api/audit", params={"project": pid, "action": "task", "actor": "ann"},
                   headers=manager.headers).json()["entries"]
    assert [e["action"] for e in served] == ["task.serve"]
    everything = c.get("/api/audit", params={"limit": 2}, headers=admin.headers).json()
    assert len(everything["entries"]) == 2
    older = c.get("/api/audit", params={"limit": 1000, "before": everything["next_before"]},
                  headers=admin.headers).json()
    assert older["next_before"] is None and older["entries"][0]["seq"] == everything["entries"][-1]["seq"] - 1
    when = everything["entries"][0]["at"]
    assert c.get("/api/audit", params={"since": when}, headers=admin.headers).json()["entries"]
    bad = c.get("/api/audit", params={"since": "2026-01-02", "until": "2026-01-01"}, headers=admin.headers)
    assert bad.status_code == 422
    ok = c.get("/api/audit/verify", params={"project": pid}, headers=manager.headers).json()
    assert ok["ok"] and ok["problems"] == [] and ok["entries"] == ok["head_seq"] > 0
    exported = c.get("/api/audit/export", params={"project": pid}, headers=manager.headers)
    assert exported.status_code == 200
    lines = [orjson.loads(x) for x in exported.content.splitlines()]
    assert [x["seq"] for x in lines] == sorted(x["seq"] for x in reversed(mine))
    csv_text = c.get("/api/audit/export", params={"format": "csv"}, headers=admin.headers).text
    assert csv_text.splitlines()[0].startswith("seq,at,actor_id")

    # Tampered with: the API says where.
    db = world.runtime.db
    sql(db, "UPDATE audit_log SET action = 'nothing' WHERE seq = 2")
    broken = c.get("/api/audit/verify", headers=admin.headers).json()
    assert not broken["ok"] and broken["first_break"] == 2 and broken["problems"][0]["kind"] == "changed"
    head = broken["head_seq"]
    held = c.get("/api/audit/verify", params={"anchor_seq": head + 5, "anchor_hash": "0" * 64},
                 headers=admin.headers).json()
    assert {"seq": head + 1, "kind": "truncated"}.items() <= held["problems"][-1].items()
    assert c.get("/api/audit/verify", params={"anchor_seq": 3}, headers=admin.headers).status_code == 422


@pytest.fixture
def cli(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_the_cli_anchors_verifies_and_exports(cli: CliRunner, tmp_path: Path, database_url: str) -> None:
    db = Database(database_url)
    try:
        chain(db, 8)
        anchor = tmp_path / "anchor.json"
        out = cli.invoke(app, ["audit", "anchor", "--output", str(anchor)])
        assert out.exit_code == 0, out.output
        doc = json.loads(anchor.read_text())
        assert doc["seq"] == 8 and len(doc["hash"]) == 64 and doc["at"].endswith("Z")
        done = cli.invoke(app, ["audit", "verify", "--anchor", str(anchor)])
        assert done.exit_code == 0 and "ok: 8 entries" in done.output, done.output

        exported = tmp_path / "log.jsonl"
        assert cli.invoke(app, ["audit", "export", "--output", str(exported)]).exit_code == 0
        lines = [json.loads(x) for x in exported.read_text().splitlines()]
        assert [x["seq"] for x in lines] == list(range(1, 9)) and lines[0]["prev_hash"] == GENESIS
        # docs/audit.md's recipe, run as written, re-checks the export.
        recipe = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
        assert recipe is not None
        space: dict[str, Any] = {}
        exec(recipe.group(1), space)
        assert space["verify"](exported.read_text().splitlines()) == f"ok, head 8 {lines[-1]['hash']}"
        as_csv = cli.invoke(app, ["audit", "export", "--format", "csv", "--since", "2000-01-01"])
        assert as_csv.exit_code == 0 and as_csv.output.count("\n") == 9
        assert cli.invoke(app, ["audit", "export", "--format", "xml"]).exit_code == 1

        sql(db, "DELETE FROM audit_log WHERE seq = 3")
        broken = cli.invoke(app, ["audit", "verify"])
        assert broken.exit_code == 1
        assert "entry 3: missing" in broken.output, broken.output
        report = cli.invoke(app, ["audit", "verify", "--json", "--anchor", str(anchor)])
        assert report.exit_code == 1
        body = json.loads(report.output)
        assert body["ok"] is False and body["first_break"] == 3
        sql(db, "DELETE FROM audit_log WHERE seq > 5", "UPDATE audit_head SET seq = 5, hash = "
            "(SELECT hash FROM audit_log WHERE seq = 5)")
        cut = cli.invoke(app, ["audit", "verify", "--anchor", str(anchor)])
        assert cut.exit_code == 1 and "entry 6: truncated" in cut.output, cut.output
        bad = tmp_path / "bad.json"
        bad.write_text('{"seq": 1}')
        wrong = cli.invoke(app, ["audit", "verify", "--anchor", str(bad)])
        assert wrong.exit_code == 2 and "hash" in wrong.output
    finally:
        db.dispose()


@pytest.mark.skipif(not PG_URL, reason="the row lock of PostgreSQL (SQLite: one writer at a time)")
def test_on_postgresql_a_second_writer_waits_for_the_first(runtime: Runtime) -> None:
    db = runtime.db
    chain(db, 1)
    first = db.engine.connect()
    tx = first.begin()
    record(first, ALICE, "test.first")
    done: list[int] = []

    def second() -> None:
        with db.write() as conn:
            got = record(conn, ALICE, "test.second")
            assert got is not None
            done.append(got.seq)

    t = threading.Thread(target=second)
    t.start()
    t.join(0.5)
    assert done == []  # waiting on the head's row lock
    tx.commit()
    first.close()
    t.join(10)
    assert done == [3]
    assert check(db) == []


# --- properties --------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(details=st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=5),
       name=st.text(min_size=1, max_size=20), object_id=st.none() | st.text(max_size=20))
def test_the_canonical_bytes_are_what_the_standard_library_writes(
    details: dict[str, Any], name: str, object_id: str | None
) -> None:
    # docs/audit.md promises an auditor can rebuild the bytes with json.dumps; orjson must agree.
    fields = {"seq": 3, "at": datetime(2026, 11, 29, 22, 30, 0, 5, tzinfo=UTC), "actor_id": None,
              "actor_name": name, "action": "test.event", "project_id": 9, "object_type": "item",
              "object_id": object_id, "details": details, "prev_hash": GENESIS}
    expected = json.dumps({**fields, "at": "2026-11-29T22:30:00.000005Z"}, sort_keys=True,
                          separators=(",", ":"), ensure_ascii=False).encode()
    assert canonical(fields) == expected


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(2, 12), data=st.data())
def test_any_changed_field_of_any_entry_is_found_there(runtime: Runtime, n: int, data: st.DataObject) -> None:
    db = runtime.db
    sql(db, "DELETE FROM audit_log", "DELETE FROM audit_head")  # examples share the fixture's database
    chain(db, n)
    seq = data.draw(st.integers(1, n))
    column, value = data.draw(st.sampled_from([
        ("actor_name", "'mallory'"), ("action", "'nothing'"), ("object_id", "'999'"),
        ("project_id", "2"), ("actor_id", "8"), ("details", "'{\"i\": -1}'"),
    ]))
    sql(db, f"UPDATE audit_log SET {column} = {value} WHERE seq = {seq}")
    assert check(db) == [(seq, "changed")]
