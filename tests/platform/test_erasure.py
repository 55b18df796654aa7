"""Erasure (GDPR article 17) end to end: import items that hold a data subject's e-mail and name
(and an image whose file holds a marker), answer them, run a loop round (embeddings and
predictions), export, erase; then search every file of the data folder (SQLite's database and
WAL among them) and every table (through SQL: on PostgreSQL the server's files are not ours)
for the erased strings. Also: dry runs, a source file, an annotator, roles, and retention."""

from __future__ import annotations

import base64
import io
import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image, PngImagePlugin
from pydantic import SecretStr
from sqlalchemy import Text, cast, func, select, text

from labelloop.api.app import create_app
from labelloop.services.protection import retention
from labelloop.services.runtime import Runtime
from labelloop.store.models import Base, answers, audit_log, blobs, consensus, items, predictions, utcnow
from tests.platform.conftest import make_settings
from tests.platform.pictures import SCHEMA as IMAGE_SCHEMA
from tests.platform.pictures import sha, zipped
from tests.platform.world import OPERATOR, World

EMAIL = "quintessa.vandermolen@example.org"
NAME = "Quintessa Vandermolen"
MARK = "PIXELMARK-Vandermolen-4471"  # inside the PNG file only
WORDS = ["lorem", "ipsum", "dolor", "amet", "sit", "consectetur", "adipiscing", "elit"]


def marked_png() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", MARK)
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 30)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def everywhere(rt: Runtime, data_dir: Path, needles: list[str]) -> list[str]:
    """Where any needle still is: files of the data folder (bytes) and tables (as SQL text)."""
    found = []
    for f in sorted(data_dir.rglob("*")):
        if f.is_file():
            raw = f.read_bytes()
            found += [f"{f.relative_to(data_dir)}: {n}" for n in needles if n.encode() in raw]
    with rt.db.read() as conn:
        for table in Base.metadata.sorted_tables:
            if conn.dialect.name == "postgresql":
                rows = conn.execute(text(f"SELECT t::text FROM {table.name} t")).scalars()
            else:
                rows = (tuple(r) for r in conn.execute(select(*[cast(c, Text) for c in table.c])))
            for row in rows:
                found += [f"table {table.name}: {n}" for n in needles if n.casefold() in str(row).casefold()]
    return found


def label(world: World, pid: int, user: Any, n: int, rng: random.Random, note: str | None = None) -> None:
    for _ in range(n):
        task = world.next(user, pid)
        if task.status_code != 200:
            return
        value: dict[str, Any] = {"sentiment": rng.choice(["pos", "neg"])}
        if note:
            value["note"], note = note, None
        r = world.submit(user, pid, task.json()["item_id"], value)
        assert r.status_code == 201, r.text


@pytest.fixture(params=["plain", "encrypted"])
def any_world(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Iterator[World]:
    """A world with encryption at rest off, and one with it on (the erased bytes must go either way)."""
    key = SecretStr(base64.b64encode(bytes(32)).decode()) if request.param == "encrypted" else None
    rt = Runtime(make_settings(tmp_path, database_url, encryption_key=key))
    with TestClient(create_app(rt)) as client:
        yield World(rt, client)
    rt.close()


def test_erasing_a_data_subject_leaves_no_trace(any_world: World, tmp_path: Path) -> None:
    world, runtime = any_world, any_world.runtime
    owner, ann, ann2 = world.user("owner"), world.user("ann"), world.user("ann2")
    pid = world.project(owner, overlap=1, members={"annotator": (ann, ann2)})
    rng = random.Random(4)
    records = [{"id": f"r{i}", "text": " ".join(rng.choice(WORDS) for _ in range(8))} for i in range(40)]
    records[3]["text"] = f"Please write to {EMAIL} about the refund"
    records[17]["text"] = f"{NAME} called twice on Tuesday"
    records[25]["id"] = f"ticket-{EMAIL}"
    world.import_records(owner, pid, records)
    label(world, pid, ann, 30, rng, note=f"customer is {NAME.upper()}")  # an answer that names them
    label(world, pid, ann2, 10, rng)
    round_ = world.client.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    assert round_.json()["status"] == "succeeded", round_.text

    ipid = world.project(owner, schema=IMAGE_SCHEMA)
    photo = marked_png()
    assert world.upload(owner, ipid, zipped({"subject.png": photo}), "subject-photos.zip").status_code == 201

    export = world.client.get(f"/api/projects/{pid}/export", params={"format": "jsonl"}, headers=owner.headers)
    assert export.status_code == 200 and EMAIL in export.text
    with runtime.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(predictions)).scalar_one() > 0
    assert (tmp_path / "embeddings" / "embeddings.sqlite").is_file()
    needles = [EMAIL, NAME, MARK]
    assert set(everywhere(runtime, tmp_path, needles)) != set()

    url = f"/api/projects/{pid}/erasure"
    dry = world.client.post(url, json={"subject": [EMAIL, NAME], "dry_run": True}, headers=owner.headers)
    assert dry.status_code == 200, dry.text
    doomed = dry.json()
    assert doomed["dry_run"] and len(doomed["item_ids"]) == 4  # three mention them, one answer does
    assert f"ticket-{EMAIL}" in doomed["external_ids"]
    assert everywhere(runtime, tmp_path, [EMAIL]) != []  # a dry run changes nothing

    annotator_try = world.client.post(url, json={"subject": [EMAIL]}, headers=ann.headers)
    assert annotator_try.status_code == 403

    done = world.client.post(url, json={"subject": [f"  {EMAIL.upper()} ", NAME]}, headers=owner.headers)
    assert done.status_code == 200 and done.json()["item_ids"] == doomed["item_ids"], done.text
    assert done.json()["checkpoint"] in ("done", "postgresql")
    source = world.client.post(f"/api/projects/{ipid}/erasure", json={"source_file": "subject-photos.zip"},
                               headers=owner.headers)
    assert source.status_code == 200 and source.json()["files"] >= 1, source.text

    assert everywhere(runtime, tmp_path, needles) == []
    with runtime.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(items).where(items.c.project_id == pid)).scalar_one() == 36
        assert conn.execute(select(blobs.c.sha256).where(blobs.c.sha256 == sha(photo))).first() is None
        tombstones = conn.execute(select(audit_log.c.details).where(audit_log.c.action == "erasure")
                                  .order_by(audit_log.c.seq)).scalars().all()
    assert [(t["kind"], t["items"]) for t in tombstones] == [("subject", 4), ("source", 1)]
    assert tombstones[0]["identifiers"] == 2 and EMAIL not in str(tombstones)
    assert not world.runtime.blobs.exists(sha(photo))
    again = world.client.get(f"/api/projects/{pid}/export", params={"format": "jsonl"}, headers=owner.headers)
    assert again.status_code == 200 and len(again.text.splitlines()) == 36


def test_erasing_an_annotator_recomputes_consensus(world: World, runtime: Runtime) -> None:
    owner, a, b = world.user("owner"), world.user("a"), world.user("b")
    pid = world.project(owner, overlap=2, members={"annotator": (a, b)})
    world.import_records(owner, pid, [{"id": f"r{i}", "text": f"text {i}"} for i in range(3)])
    for user, choice in ((a, "pos"), (b, "neg")):
        for _ in range(3):
            task = world.next(user, pid).json()
            assert world.submit(user, pid, task["item_id"], {"sentiment": choice}).status_code == 201
    dry = world.client.post(f"/api/projects/{pid}/erasure", json={"annotator_id": a.id, "dry_run": True},
                            headers=owner.headers)
    assert dry.json()["answers"] == 3 and dry.json()["item_ids"] == []
    r = world.client.post(f"/api/projects/{pid}/erasure", json={"annotator_id": a.id}, headers=owner.headers)
    assert r.status_code == 200, r.text
    with runtime.db.read() as conn:
        left = conn.execute(select(answers.c.user_id).where(answers.c.project_id == pid)).scalars().all()
        settled = conn.execute(select(consensus.c.value).where(consensus.c.project_id == pid)).scalars().all()
        state = conn.execute(select(items.c.answer_count, items.c.reserved, items.c.is_open)
                             .where(items.c.project_id == pid)).all()
    assert left == [b.id] * 3
    assert [v["sentiment"] for v in settled] == ["neg"] * 3  # only b's answers count now
    assert all((n, res, op) == (1, 1, True) for n, res, op in state)  # open again for one more answer
    task = world.next(a, pid)  # a may be given the items again
    assert task.status_code == 200 and task.json()["item_id"] is not None


@pytest.mark.parametrize("body", [{}, {"items": [1], "annotator_id": 1}, {"subject": ["ab"]}])
def test_an_unclear_request_is_refused_and_changes_nothing(world: World, body: dict[str, Any]) -> None:
    owner = world.user()
    pid = world.project(owner)
    world.import_records(owner, pid, [{"id": "x", "text": "ab cd"}])
    r = world.client.post(f"/api/projects/{pid}/erasure", json=body, headers=owner.headers)
    assert r.status_code == 422, r.text
    missing = world.client.post(f"/api/projects/{pid}/erasure", json={"items": [999999]}, headers=owner.headers)
    assert missing.status_code == 404 and "999999" in missing.json()["error"]["message"]


def test_retention_deletes_old_raw_content_and_keeps_labels(world: World, runtime: Runtime) -> None:
    owner, ann = world.user("owner"), world.user("ann")
    pid = world.project(owner, members={"annotator": (ann,)})
    ipid = world.project(owner, schema=IMAGE_SCHEMA)
    world.import_records(owner, pid, [{"id": f"r{i}", "text": f"{NAME} {i}"} for i in range(3)])
    photo = marked_png()
    assert world.upload(owner, ipid, zipped({"p.png": photo}), "p.zip").status_code == 201
    label(world, pid, ann, 3, random.Random(1))
    for p in (pid, ipid):
        r = world.client.put(f"/api/projects/{p}/retention", json={"days": 30}, headers=owner.headers)
        assert r.status_code == 200 and r.json() == {"days": 30}
    assert world.client.put(f"/api/projects/{pid}/retention", json={"days": 30}, headers=ann.headers).status_code == 403
    assert world.client.put(f"/api/projects/{pid}/retention", json={"days": 0}, headers=owner.headers).status_code == 422

    assert retention.run(runtime.db, runtime.blobs, OPERATOR) == []  # nothing is 30 days old yet
    later = utcnow() + timedelta(days=31)
    done = retention.run(runtime.db, runtime.blobs, OPERATOR, now=later)
    assert sorted((r.project_id, r.items) for r in done) == [(pid, 3), (ipid, 1)]
    assert not runtime.blobs.exists(sha(photo))
    with runtime.db.read() as conn:
        rows = conn.execute(select(items.c.data, items.c.content_deleted_at, items.c.answer_count)
                            .where(items.c.project_id == pid)).all()
        kept = conn.execute(select(func.count()).select_from(answers).where(answers.c.project_id == pid)).scalar_one()
        settled = conn.execute(select(func.count()).select_from(consensus).where(consensus.c.project_id == pid)).scalar_one()
        logged = conn.execute(select(audit_log.c.details).where(audit_log.c.action == "retention.run")).scalars().all()
    assert all(r.data == {} and r.content_deleted_at is not None and r.answer_count == 1 for r in rows)
    assert kept == 3 and settled == 3
    assert sorted(d["items"] for d in logged) == [1, 3]
    assert retention.run(runtime.db, runtime.blobs, OPERATOR, now=later) == []  # done once


def test_the_cli_erases_with_a_dry_run_and_sets_and_runs_retention(
    world: World, runtime: Runtime, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from labelloop.cli.main import app
    from labelloop.config import get_settings

    owner = world.user("owner")
    pid = world.project(owner, name="tickets")
    world.import_records(owner, pid, [{"id": "a", "text": f"from {EMAIL}"}, {"id": "b", "text": "other"}])
    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    try:
        cli = CliRunner()
        dry = cli.invoke(app, ["erase", "tickets", "--subject", EMAIL, "--dry-run"])
        assert dry.exit_code == 0 and "would erase: 1 items" in dry.output and "item " in dry.output, dry.output
        with runtime.db.read() as conn:
            assert conn.execute(select(func.count()).select_from(items)).scalar_one() == 2
        done = cli.invoke(app, ["erase", "tickets", "--subject", EMAIL])
        assert done.exit_code == 0 and "erased: 1 items" in done.output, done.output
        unclear = cli.invoke(app, ["erase", "tickets"])
        assert unclear.exit_code == 1 and "exactly one of" in unclear.output
        assert cli.invoke(app, ["retention", "set", "tickets", "--days", "7"]).exit_code == 0
        ran = cli.invoke(app, ["retention", "run"])
        assert ran.exit_code == 0 and "nothing due" in ran.output, ran.output
    finally:
        get_settings.cache_clear()
    with runtime.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(items)).scalar_one() == 1
