"""CSV exports neutralise spreadsheet formulas (OWASP's CSV-injection rule); JSONL and Parquet
stay exact."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import update

from labelloop.services.exports import neutralised
from labelloop.store.models import consensus, utcnow
from tests.platform.world import User, World

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [
        {"name": "label", "type": "choice", "options": ["=cmd", "-1", "1"]},
        {"name": "tags", "type": "multi_choice", "options": ["@a", "b"], "required": False},
        {"name": "note", "type": "text", "required": False},
    ],
}
FORMULA = "=HYPERLINK(\"http://evil.example\",\"click\")"
NOTE = "-2+3+cmd|' /C calc'!A0"
ITEMS = [
    {"id": "=1+1", "text": FORMULA, "meta": {"m": "@SUM(A1)"}},
    {"id": "+plus", "text": "\tTAB", "gold": {"label": "=cmd", "note": "@x"}},
    {"id": "-3", "text": "\rCR"},
    {"id": "plain", "text": "-42", "priority": -3},
]


@pytest.fixture
def exported(world: World) -> tuple[World, User, int]:
    owner, a = world.user("owner"), world.user("a")
    pid = world.project(owner, schema=SCHEMA, members={"annotator": (a,)})
    world.import_records(owner, pid, ITEMS)
    first = None
    while first is None:  # the gold item comes first
        t = world.next(a, pid).json()
        if t["external_id"] == "=1+1":
            first = t["item_id"]
            value: dict[str, Any] = {"label": "=cmd", "tags": ["@a", "b"], "note": NOTE}
        else:
            value = {"label": "1"}
        r = world.submit(a, pid, t["item_id"], value)
        assert r.status_code == 201, r.text
    with world.runtime.db.write() as conn:  # as a reviewer's decision might set it
        conn.execute(update(consensus).where(consensus.c.item_id == first).values(
            value={"label": "-1", "tags": ["@a"], "note": NOTE}, confidence=0.5, method="test",
            updated_at=utcnow()))
    return world, owner, pid


def export(world: World, owner: User, pid: int, fmt: str) -> bytes:
    r = world.client.get(f"/api/projects/{pid}/export", params={"format": fmt}, headers=owner.headers)
    assert r.status_code == 200, r.text
    return r.content


def test_csv_cells_that_start_a_formula_get_a_quote(exported: tuple[World, User, int]) -> None:
    world, owner, pid = exported
    rows = list(csv.DictReader(io.StringIO(export(world, owner, pid, "csv").decode())))
    assert [r["id"] for r in rows] == ["'=1+1", "'+plus", "-3", "plain"]  # "-3" is a plain number
    first = rows[0]
    assert first["text"] == "'" + FORMULA
    assert first["consensus.label"] == "-1"  # a number as text: a spreadsheet reads -1, runs nothing
    assert first["consensus.tags"] == "'@a" and first["consensus.note"] == "'" + NOTE
    assert rows[3]["priority"] == "-3.0"  # a number the exporter writes: not user text
    assert json.loads(first["meta"]) == {"m": "@SUM(A1)"}  # JSON cells start with { or [
    assert json.loads(first["answers"])[0]["value"]["note"] == NOTE
    assert [r["text"] for r in rows[1:]] == ["'\tTAB", "'\rCR", "-42"]
    assert json.loads(rows[1]["gold"]) == {"label": "=cmd", "note": "@x"}
    for row in rows:
        for cell in row.values():
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r") or neutralised(cell) == cell


def test_jsonl_and_parquet_stay_exact(exported: tuple[World, User, int]) -> None:
    world, owner, pid = exported
    lines = [json.loads(line) for line in export(world, owner, pid, "jsonl").splitlines()]
    assert [x["id"] for x in lines] == [i["id"] for i in ITEMS]
    assert [x["data"]["text"] for x in lines] == [i["text"] for i in ITEMS]
    assert lines[0]["meta"] == {"m": "@SUM(A1)"} and lines[3]["priority"] == -3.0
    assert lines[0]["answers"][0]["value"]["note"] == NOTE
    assert lines[0]["consensus"]["value"] == {"label": "-1", "tags": ["@a"], "note": NOTE}
    table = pq.read_table(io.BytesIO(export(world, owner, pid, "parquet"))).to_pylist()
    assert [x["id"] for x in table] == [i["id"] for i in ITEMS]
    assert [x["data.text"] for x in table] == [i["text"] for i in ITEMS]
    assert json.loads(table[0]["answers"][0]["value"])["note"] == NOTE
    assert json.loads(table[1]["gold"]) == {"label": "=cmd", "note": "@x"}


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"), ("+1+1", "'+1+1"), ("-1+1", "'-1+1"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"), ("\rx", "'\rx"), ("-", "'-"), ("-inf", "'-inf"), ("- 3", "'- 3"), ("-3 ", "'-3 "),
        ("-3", "-3"), ("+2.5", "+2.5"), ("-1e-5", "-1e-5"), ("-.5", "-.5"),
        ("", ""), ("safe", "safe"), (" =x", " =x"), ("'=x", "'=x"),
    ],
)
def test_which_text_is_neutralised(cell: str, expected: str) -> None:
    assert neutralised(cell) == expected
