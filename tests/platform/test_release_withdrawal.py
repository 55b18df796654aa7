"""An erasure reaches dataset releases (docs/data-protection.md): a release holding erased items, or
naming an erased annotator, is withdrawn whole — its files deleted from the blob store, reading it a
409 that says why, an audit entry — while releases without that content, and files another release
still uses, stay. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from labelloop.store.models import audit_log, items
from tests.platform.formats import answer_all
from tests.platform.world import User, World

SCHEMA = {"fields": [{"name": "text", "type": "text"}],
          "questions": [{"name": "c", "type": "choice", "options": ["a", "b"]}]}
TEXTS = {"x1": "first", "x2": "second, with a name in it", "x3": "third", "x4": "fourth"}


def _labelled_project(world: World, owner: User, annotator: User | None = None) -> int:
    members = {"annotator": (annotator,)} if annotator is not None else None
    pid = world.project(owner, schema=SCHEMA, members=members)
    r = world.import_records(owner, pid, [{"id": k, "text": v} for k, v in TEXTS.items()])
    assert r.status_code == 201, r.text
    answer_all(world, annotator or owner, pid, lambda name: {"c": "a" if name < "x3" else "b"})
    return pid


def _release(world: World, owner: User, pid: int, name: str) -> dict[str, Any]:
    r = world.client.post(f"/api/projects/{pid}/releases", json={"name": name, "split": None},
                          headers=owner.headers)
    assert r.status_code == 201, r.text
    r = world.client.get(f"/api/projects/{pid}/releases/{name}", headers=owner.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _item_id(world: World, pid: int, external_id: str) -> int:
    with world.runtime.db.read() as conn:
        return int(conn.execute(select(items.c.id).where(
            items.c.project_id == pid, items.c.external_id == external_id)).scalar_one())


def _erase(world: World, owner: User, pid: int, **body: Any) -> dict[str, Any]:
    r = world.client.post(f"/api/projects/{pid}/erasure", json=body, headers=owner.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_erasing_an_item_withdraws_the_releases_that_hold_it(world: World) -> None:
    owner = world.user()
    pid = _labelled_project(world, owner)
    v1 = _release(world, owner, pid, "v1")
    shas = [f["sha256"] for f in v1["files"]] + [v1["manifest_sha256"]]
    assert all(world.runtime.blobs.exists(s) for s in shas)
    later = world.import_records(owner, pid, [{"id": "x5", "text": "came after the release"}])
    assert later.status_code == 201, later.text

    dry = _erase(world, owner, pid, items=[_item_id(world, pid, "x2")], dry_run=True)
    assert dry["releases_withdrawn"] == ["v1"]
    assert world.client.get(f"/api/projects/{pid}/releases/v1", headers=owner.headers).status_code == 200

    assert _erase(world, owner, pid, items=[_item_id(world, pid, "x5")])["releases_withdrawn"] == []
    assert world.client.get(f"/api/projects/{pid}/releases/v1", headers=owner.headers).status_code == 200

    done = _erase(world, owner, pid, items=[_item_id(world, pid, "x2")])
    assert done["releases_withdrawn"] == ["v1"]
    for path in ("", "/files/items.parquet", "/files/card.json"):
        r = world.client.get(f"/api/projects/{pid}/releases/v1{path}", headers=owner.headers)
        assert r.status_code == 409, r.text
        assert "withdrawn" in r.json()["error"]["message"], r.text
    assert not any(world.runtime.blobs.exists(s) for s in shas)
    listed = world.client.get(f"/api/projects/{pid}/releases", headers=owner.headers).json()
    assert [(x["name"], x["withdrawn_reason"]) for x in listed] == [
        ("v1", f"erasure, audit entry {done['audit_seq']}")]
    assert listed[0]["withdrawn_at"] is not None
    with world.runtime.db.read() as conn:
        entries = conn.execute(select(audit_log.c.action, audit_log.c.object_id, audit_log.c.details)
                               .where(audit_log.c.action == "release.withdraw")).all()
    assert [(a, o, d["items"]) for a, o, d in entries] == [("release.withdraw", "v1", 4)]
    v2 = _release(world, owner, pid, "v2")  # a new release of what the project holds now
    assert v2["item_count"] == 3 and v2["withdrawn_at"] is None


def test_files_another_release_uses_stay(world: World) -> None:
    owner = world.user()
    first, second = _labelled_project(world, owner), _labelled_project(world, owner)
    a, b = _release(world, owner, first, "v1"), _release(world, owner, second, "v1")
    shared = {f["sha256"] for f in a["files"]} & {f["sha256"] for f in b["files"]}
    assert shared  # the same texts and labels: the same train.parquet bytes
    _erase(world, owner, first, items=[_item_id(world, first, "x1")])
    assert all(world.runtime.blobs.exists(s) for s in shared)
    for f in b["files"]:
        r = world.client.get(f"/api/projects/{second}/releases/v1/files/{f['name']}", headers=owner.headers)
        assert r.status_code == 200, (f["name"], r.text)


def test_erasing_an_annotator_withdraws_the_releases_naming_them(world: World) -> None:
    owner, annotator = world.user(), world.user()
    pid = _labelled_project(world, owner, annotator)
    _release(world, owner, pid, "v1")
    done = _erase(world, owner, pid, annotator_id=annotator.id)
    assert done["releases_withdrawn"] == ["v1"]
    r = world.client.get(f"/api/projects/{pid}/releases/v1/files/items.parquet", headers=owner.headers)
    assert r.status_code == 409, r.text
