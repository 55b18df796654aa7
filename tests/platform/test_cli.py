"""The `labelloop` command: each subcommand end to end against a real database."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelloop.cli.main import app
from labelloop.config import get_settings
from labelloop.services.demo import DEMO_NAME, ensure_demo_project
from labelloop.services.runtime import Runtime

SCHEMA = """
fields: [{name: text}]
questions:
  - {name: sentiment, type: choice, options: [pos, neg]}
"""


@pytest.fixture
def cli(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")  # tables as on a wide terminal
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def run(cli: CliRunner, *args: str, input: str | None = None, code: int = 0) -> str:
    result = cli.invoke(app, list(args), input=input)
    assert result.exit_code == code, result.output
    return result.output


def test_users_tokens_projects_import_export_status(cli: CliRunner, tmp_path: Path) -> None:
    run(cli, "user", "create", "ann", "--password-stdin", input="a-long-password\n")
    assert "ann" in run(cli, "user", "list")
    token = run(cli, "token", "create", "ann", "--name", "laptop").strip().splitlines()[-1]
    assert token.startswith("llt_")
    assert "laptop" in run(cli, "token", "list", "ann")

    schema = tmp_path / "schema.yaml"
    schema.write_text(SCHEMA)
    assert "created project" in run(cli, "project", "create", "Reviews", "--schema", str(schema),
                                    "--overlap", "2", "--owner", "ann")
    assert "at least one owner" in run(cli, "project", "add-member", "Reviews", "ann", "manager", code=1)
    run(cli, "user", "create", "bob", "--no-password")
    assert "bob is reviewer" in run(cli, "project", "add-member", "Reviews", "bob", "reviewer")
    shown = run(cli, "project", "show", "Reviews")
    assert "ann" in shown and "bob" in shown and "sentiment" in shown

    data = tmp_path / "items.jsonl"
    data.write_text("".join(json.dumps({"id": f"i{n}", "text": f"t{n}"}) + "\n" for n in range(30)))
    assert "imported 30 new items" in run(cli, "import", "Reviews", str(data))
    assert "imported 0 new items (30 already there)" in run(cli, "import", "Reviews", str(data))

    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("first")
    (folder / "sub" / "b.txt").write_text("second")
    assert "imported 2 new items" in run(cli, "import", "1", str(folder))

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "z", "text": "ok"}\n{"id": "y"}\n')
    out = run(cli, "import", "Reviews", str(bad), code=1)
    assert "nothing was imported" in out and "line 2 field 'text': missing required field" in out

    target = tmp_path / "out.jsonl"
    run(cli, "export", "Reviews", "-o", str(target))
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(rows) == 32 and {r["id"] for r in rows} >= {"i0", "sub/b"}
    status = run(cli, "status", "Reviews")
    assert "Reviews" in status and "0/64" in status

    run(cli, "project", "set", "Reviews", "--overlap", "1")
    assert "0/32" in run(cli, "status")
    run(cli, "user", "deactivate", "ann")
    run(cli, "token", "revoke", "1")
    out = run(cli, "project", "show", "nope", code=1)
    assert "project 'nope' not found" in out


def test_every_command_explains_itself(cli: CliRunner) -> None:
    for command in ("serve", "user", "token", "project", "import", "export", "status"):
        out = run(cli, command, "--help")
        assert "Usage" in out and len(out.splitlines()) > 5


def test_demo_project_has_real_snippets_and_some_gold(runtime: Runtime) -> None:
    pid = ensure_demo_project(runtime.db, items=40)
    assert pid is not None
    assert ensure_demo_project(runtime.db) is None  # created once
    from labelloop.services import items as item_service
    from labelloop.services.policy import Actor

    with runtime.db.read() as conn:
        found = item_service.list_items(conn, Actor.operator(), pid, limit=100)
    assert len(found) == 40 and all(len(i.data["text"]) > 10 for i in found)
    assert sum(i.gold is not None for i in found) == 4
    assert {i.gold["category"] for i in found if i.gold} <= {"fresh", "rotten", "plot"}
    assert DEMO_NAME


def test_quality_commands(cli: CliRunner, tmp_path: Path, world: object) -> None:
    from tests.platform.world import World

    assert isinstance(world, World)
    owner, a, b = world.user("qo"), world.user("qa"), world.user("qb")
    pid = world.project(owner, overlap=2, members={"annotator": (a, b)}, name="Q")
    world.import_records(owner, pid, [{"id": f"x{i}", "text": f"t{i}"} for i in range(6)]
                         + [{"id": "g", "text": "gold", "gold": {"sentiment": "pos"}}])
    for u in (a, b):
        while (r := world.next(u, pid)).status_code == 200:
            world.submit(u, pid, r.json()["item_id"], {"sentiment": "pos" if u is a else "neg"})
    out = run(cli, "quality", "recompute", "Q")
    assert "consensus for 6 items from 2 annotators" in out
    report = run(cli, "quality", "report", "Q")
    assert "sentiment" in report and "review pending" in report
    people = run(cli, "quality", "annotators", "Q")
    assert "qa" in people and "1/1" in people and "0/1" in people


def test_status_fits_80_columns_and_an_empty_project_is_not_done(
    cli: CliRunner, world: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import update

    from labelloop.store.models import items
    from tests.platform.world import World

    assert isinstance(world, World)
    monkeypatch.setenv("COLUMNS", "80")
    owner, ann = world.user("so"), world.user("sa")
    name = "Customer support tickets, second batch"
    pid = world.project(owner, overlap=2, members={"annotator": (ann,)}, name=name)
    empty = world.project(owner, name="Nothing imported")
    world.import_records(owner, pid, [{"id": f"c{i}", "text": f"ticket {i}"} for i in range(1000, 1012)])
    for _ in range(3):
        world.submit(ann, pid, world.next(ann, pid).json()["item_id"], {"sentiment": "pos"})
    # one item settled by the model (an auto-label needs no answers): done, and not "not started"
    world.runtime.db.run(lambda c: c.execute(update(items).where(
        items.c.project_id == pid, items.c.answer_count == 0, items.c.reserved == 0, items.c.external_id == "c1011",
    ).values(needed=0, is_open=False)))

    out = run(cli, "status")
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, out
    # the name wraps between words, never inside one (it was folded letter by letter: "Custo|mer")
    row = next(line for line in lines if line.split()[:1] == [str(pid)])
    assert row.split()[1] == "Customer", out
    for word in name.split():
        assert re.search(rf"(^|\s){re.escape(word)}(\s|$)", out, re.M), (word, out)
    #                       items done in-progress not-started answers   % done
    assert row.split()[-6:] == ["12", "1", "3", "8", "3/22", "13.6"], out
    empty_row = next(line for line in lines if line.split()[:1] == [str(empty)])
    assert empty_row.split()[-6:] == ["0", "0", "0", "0", "0/0", "0.0"], out
    assert "No items yet (0% done): Nothing imported" in out

    single = run(cli, "status", "Nothing imported")
    assert "0.0 (no items yet)" in single and "100" not in single
    assert max(len(line) for line in single.splitlines()) <= 80
    one = run(cli, "status", str(pid))
    assert name in one and "not started   8" in one and "annotators    1" in one

    # the API says the same
    api = {p: world.client.get(f"/api/projects/{p}/status", headers=owner.headers).json() for p in (pid, empty)}
    assert (api[empty]["items"], api[empty]["percent_done"]) == (0, 0.0)
    assert (api[pid]["done"], api[pid]["in_progress"], api[pid]["untouched"]) == (1, 3, 8)
    assert api[pid]["percent_done"] == pytest.approx(100 * 3 / 22)
