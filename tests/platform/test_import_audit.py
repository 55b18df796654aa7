"""Every import writes one audit entry in its own transaction: who, the project, the file's name and
SHA-256, what it became, and the outcome; a refused import too, with its number of problems.

Through the API (a records file, a COCO dataset as gold, as pre-labels) and the CLI (a file and a
folder); the chain still verifies, by the service and by `labelloop audit verify`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from labelloop.cli.main import app
from labelloop.config import get_settings
from labelloop.services.audit.verify import verify
from labelloop.services.runtime import Runtime
from labelloop.store.models import audit_log, items, jobs
from tests.platform.formats import imported, schema
from tests.platform.pictures import jpeg, png, zipped
from tests.platform.test_formats_coco import CVAT_STYLE, H, W, _foreign
from tests.platform.world import World


def entries(rt: Runtime, project_id: int | None = None) -> list[Any]:
    with rt.db.read() as c:
        q = select(audit_log).where(audit_log.c.action == "import").order_by(audit_log.c.seq)
        if project_id is not None:
            q = q.where(audit_log.c.project_id == project_id)
        return list(c.execute(q))


def chain_ok(rt: Runtime) -> None:
    with rt.db.read() as c:
        report = verify(c)
    assert report.ok, report


def lines(records: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def test_an_api_import_is_logged_with_its_file_digest_counts_and_job(world: World) -> None:
    owner = world.user("olga")
    pid = world.project(owner)
    body = lines([{"id": f"t{n}", "text": f"text {n}"} for n in range(5)])
    r = world.upload(owner, pid, body, "tickets.jsonl")
    assert r.status_code == 201, r.text
    again = world.upload(owner, pid, body + lines([{"id": "t9", "text": "new"}]), "tickets-2.jsonl")
    assert again.status_code == 201, again.text
    first, second = entries(world.runtime, pid)
    assert (first.actor_id, first.actor_name, first.project_id) == (owner.id, "olga", pid)
    assert (first.object_type, first.object_id) == ("job", str(r.json()["id"]))
    assert first.details == {"file": "tickets.jsonl", "sha256": hashlib.sha256(body).hexdigest(),
                             "format": "jsonl", "outcome": "imported", "created": 5, "unchanged": 0,
                             "records": 5}
    assert second.details["file"] == "tickets-2.jsonl"
    assert (second.details["created"], second.details["unchanged"], second.details["records"]) == (1, 5, 6)
    chain_ok(world.runtime)


def test_a_refused_import_is_logged_with_its_problem_count_and_imports_nothing(world: World) -> None:
    owner = world.user("olga")
    pid = world.project(owner)
    bad = lines([{"id": "a", "text": "fine"}, {"id": "b"}, {"id": "c", "text": "x", "sentiment": 3}]) + b"{oops\n"
    r = world.upload(owner, pid, bad, "broken.jsonl")
    assert r.status_code == 422, r.text
    shown = len(r.json()["error"]["problems"])
    (entry,) = entries(world.runtime, pid)
    assert entry.details == {"file": "broken.jsonl", "sha256": hashlib.sha256(bad).hexdigest(),
                             "format": "jsonl", "outcome": "refused", "problems": shown}
    assert shown >= 2
    # Nothing of the file is in the log: problems quote ids and values, so only their count is kept.
    assert "oops" not in json.dumps(entry.details)
    with world.runtime.db.read() as c:
        assert c.execute(select(func.count()).select_from(items).where(items.c.project_id == pid)).scalar() == 0
    chain_ok(world.runtime)


def test_every_problem_is_counted_where_the_error_lists_the_first_fifty(world: World) -> None:
    owner = world.user()
    pid = world.project(owner)
    bad = lines([{"id": f"x{n}"} for n in range(80)])  # every record lacks its text
    r = world.upload(owner, pid, bad, "many.jsonl")
    assert r.status_code == 422 and len(r.json()["error"]["problems"]) == 50
    (entry,) = entries(world.runtime, pid)
    assert entry.details["outcome"] == "refused" and entry.details["problems"] >= 50


@pytest.mark.parametrize("as_", ["gold", "prelabels"])
def test_a_dataset_imported_as_gold_or_prelabels_is_logged_with_what_it_became(world: World, as_: str) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox", attributes=[{"name": "note", "type": "text", "required": False}]))
    archive = _foreign({"images/one.png": png(W, H), "images/two.jpg": jpeg(W, H)}, CVAT_STYLE)
    r = imported(world, owner, pid, archive, "coco", **{"as": as_})
    assert r.status_code == 201, r.text
    (entry,) = entries(world.runtime, pid)
    assert entry.details == {"file": "dataset-coco.zip", "sha256": hashlib.sha256(archive).hexdigest(),
                             "format": "coco", "as": as_, "outcome": "imported", "created": 2,
                             "unchanged": 0, "records": 2}
    refused = imported(world, owner, pid, zipped({"one.png": png(W, H)}), "coco", **{"as": as_})
    assert refused.status_code == 422
    assert entries(world.runtime, pid)[-1].details["outcome"] == "refused"
    chain_ok(world.runtime)


@pytest.fixture
def cli(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_cli_imports_of_a_file_and_a_folder_are_logged_and_the_chain_verifies(
    cli: CliRunner, tmp_path: Path, runtime: Runtime, world: World
) -> None:
    owner = world.user()
    pid = world.project(owner, name="Tickets")
    data = tmp_path / "items.jsonl"
    data.write_bytes(lines([{"id": f"i{n}", "text": f"t{n}"} for n in range(3)]))
    assert "imported 3 new items" in run(cli, "import", "Tickets", str(data))
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"id": "z"}\n')
    run(cli, "import", "Tickets", str(bad), code=1)
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    (photos / "one.png").write_bytes(png(20, 10))
    (photos / "sub" / "two.png").write_bytes(png(10, 20))
    image_pid = world.project(owner, name="Photos", schema=schema("bbox"))
    assert "imported 2 new items" in run(cli, "import", "Photos", str(photos))

    good, refused = entries(runtime, pid)
    assert (good.actor_id, good.actor_name) == (None, "(operator)")
    assert good.details == {"file": "items.jsonl", "sha256": hashlib.sha256(data.read_bytes()).hexdigest(),
                            "format": "jsonl", "outcome": "imported", "created": 3, "unchanged": 0,
                            "records": 3}
    assert refused.details == {"file": "bad.jsonl", "sha256": hashlib.sha256(bad.read_bytes()).hexdigest(),
                               "format": "jsonl", "outcome": "refused", "problems": 1}
    (folder,) = entries(runtime, image_pid)
    listing = "".join(f"{hashlib.sha256(f.read_bytes()).hexdigest()}  {name}\n"
                      for name, f in (("one.png", photos / "one.png"), ("sub/two.png", photos / "sub" / "two.png")))
    assert folder.details["file"] == "photos" and folder.details["created"] == 2
    assert folder.details["sha256"] == hashlib.sha256(listing.encode()).hexdigest()
    with runtime.db.read() as c:  # each entry names its job
        job_ids = set(c.execute(select(jobs.c.id).where(jobs.c.kind == "import")).scalars())
    assert {int(e.object_id) for e in (good, refused, folder)} <= job_ids
    assert run(cli, "audit", "verify").startswith("ok:")
