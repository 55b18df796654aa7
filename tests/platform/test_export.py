"""Exports: JSONL, CSV and Parquet hold items, every answer, gold and the consensus slot."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import insert

from labelloop.services import exports
from labelloop.services.policy import Actor
from labelloop.store.models import consensus, utcnow
from tests.platform.world import User, World


@pytest.fixture
def labelled(world: World) -> tuple[World, User, int]:
    owner, a, b = world.user("owner"), world.user("a"), world.user("b")
    pid = world.project(owner, overlap=2, members={"annotator": (a, b)}, name="Reviews / 2026")
    world.import_records(owner, pid, [
        {"id": "r1", "text": "great, \"really\"", "meta": {"src": "x"}, "gold": {"sentiment": "pos"}},
        {"id": "r2", "text": "line\nbreak"},
        {"id": "r3", "text": "untouched"},
    ])
    for u, value in ((a, {"sentiment": "pos", "topics": ["b", "a"]}), (b, {"sentiment": "neg", "stars": 2})):
        for _ in range(2):
            t = world.next(u, pid).json()
            world.submit(u, pid, t["item_id"], value, duration_ms=1500)
    with world.runtime.db.write() as conn:  # a consensus as a reviewer or a recompute would set it
        conn.execute(insert(consensus).values(item_id=1, project_id=pid, value={"sentiment": "pos", "topics": ["a"]},
                                              confidence=0.9, method="test", updated_at=utcnow()))
    return world, owner, pid


def get(world: World, user: User, pid: int, fmt: str) -> Any:
    r = world.client.get(f"/api/projects/{pid}/export", params={"format": fmt}, headers=user.headers)
    assert r.status_code == 200, r.text
    return r


def test_jsonl_export(labelled: tuple[World, User, int]) -> None:
    world, owner, pid = labelled
    r = get(world, owner, pid, "jsonl")
    assert r.headers["content-type"].startswith("application/x-ndjson")
    assert 'filename="Reviews___2026.jsonl"' in r.headers["content-disposition"]
    rows = [json.loads(line) for line in r.text.splitlines()]
    assert [x["id"] for x in rows] == ["r1", "r2", "r3"]
    r1 = rows[0]
    assert r1["data"] == {"text": 'great, "really"'} and r1["meta"] == {"src": "x"}
    assert r1["gold"] == {"sentiment": "pos"} and r1["status"] == "done"
    assert [a["annotator"] for a in r1["answers"]] == ["a", "b"]
    assert r1["answers"][0]["value"] == {"sentiment": "pos", "topics": ["a", "b"]}
    assert r1["answers"][0]["duration_ms"] == 1500 and r1["answers"][0]["created_at"].endswith("Z")
    assert r1["consensus"] == {"value": {"sentiment": "pos", "topics": ["a"]}, "confidence": 0.9, "method": "test",
                               "final": False}
    assert rows[2]["answers"] == [] and rows[2]["consensus"] is None and rows[2]["gold"] is None


def test_csv_export(labelled: tuple[World, User, int]) -> None:
    world, owner, pid = labelled
    rows = list(csv.DictReader(io.StringIO(get(world, owner, pid, "csv").text)))
    assert [r["id"] for r in rows] == ["r1", "r2", "r3"]
    assert rows[0]["text"] == 'great, "really"' and rows[1]["text"] == "line\nbreak"
    assert rows[0]["consensus.sentiment"] == "pos" and rows[0]["consensus.topics"] == "a"
    assert rows[0]["consensus_confidence"] == "0.9"
    assert rows[1]["consensus.sentiment"] == "pos"  # a said pos, b said neg: the tie goes to the first option
    assert rows[2]["consensus.sentiment"] == "" and rows[2]["consensus"] == ""
    assert len(json.loads(rows[0]["answers"])) == 2 and json.loads(rows[0]["gold"]) == {"sentiment": "pos"}
    assert rows[2]["gold"] == ""


def test_parquet_export(labelled: tuple[World, User, int]) -> None:
    world, owner, pid = labelled
    table = pq.read_table(io.BytesIO(get(world, owner, pid, "parquet").content))
    d = table.to_pylist()
    assert [r["id"] for r in d] == ["r1", "r2", "r3"]
    assert d[0]["data.text"] == 'great, "really"'
    assert [a["annotator"] for a in d[0]["answers"]] == ["a", "b"]
    assert json.loads(d[0]["answers"][1]["value"]) == {"sentiment": "neg", "stars": 2}
    assert d[0]["consensus_confidence"] == 0.9 and d[2]["answers"] == []


def test_unknown_format_is_refused(labelled: tuple[World, User, int]) -> None:
    world, owner, pid = labelled
    r = world.client.get(f"/api/projects/{pid}/export", params={"format": "xml"}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "format"


def test_export_is_streamed_in_chunks(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = world.user()
    pid = world.project(owner)
    world.import_records(owner, pid, [{"id": str(i), "text": f"t{i}"} for i in range(25)])
    monkeypatch.setattr(exports, "CHUNK", 10)
    with world.runtime.db.read() as conn:
        plan = exports.plan_export(conn, Actor.operator(), pid, "jsonl")
    parts = list(exports.stream_export(world.runtime.db, plan))
    assert [p.count(b"\n") for p in parts] == [10, 10, 5]
