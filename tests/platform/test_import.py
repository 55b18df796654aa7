"""Importing items: every format, idempotent re-import, and bad input that changes nothing."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from sqlalchemy import func, select

from labelloop.store.models import items, jobs
from tests.platform.world import World


def jsonl(records: list[Any]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def item_count(world: World) -> int:
    with world.runtime.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(items)).scalar_one())


def all_items(world: World, user: Any, pid: int) -> list[dict[str, Any]]:
    r = world.client.get(f"/api/projects/{pid}/items", params={"limit": 1000}, headers=user.headers)
    assert r.status_code == 200, r.text
    return list(r.json())


@pytest.fixture
def setup(world: World) -> tuple[World, Any, int]:
    owner = world.user("owner")
    return world, owner, world.project(owner, overlap=2)


def test_jsonl_keeps_id_metadata_and_hashes_content(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    r = world.upload(owner, pid, jsonl([
        {"id": "r1", "text": "good film", "meta": {"src": "web"}, "lang": "en", "priority": 2},
        {"id": 7, "text": "bad film", "gold": {"sentiment": "neg"}},
        {"text": "no id at all"},
    ]), "a.jsonl")
    assert r.status_code == 201, r.text
    assert r.json()["result"] == {"created": 3, "unchanged": 0, "records": 3}
    got = {i["external_id"]: i for i in all_items(world, owner, pid)}
    assert got["r1"]["meta"] == {"src": "web", "lang": "en"} and got["r1"]["priority"] == 2.0
    assert got["7"]["gold"] == {"sentiment": "neg"}
    no_id = next(i for k, i in got.items() if k not in ("r1", "7"))
    assert no_id["external_id"] == no_id["content_hash"] and len(no_id["content_hash"]) == 64
    assert all(i["needed"] == 2 and i["status"] == "open" for i in got.values())


def test_importing_the_same_file_twice_does_not_duplicate(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    body = jsonl([{"id": f"x{i}", "text": f"t{i}"} for i in range(50)] + [{"text": "anonymous"}])
    assert world.upload(owner, pid, body, "a.jsonl").json()["result"]["created"] == 51
    again = world.upload(owner, pid, body, "a.jsonl").json()["result"]
    assert again == {"created": 0, "unchanged": 51, "records": 51}
    assert item_count(world) == 51


def test_json_array_csv_tsv_and_zip_of_txt(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    arr = json.dumps([{"id": "j1", "text": "from json"}, {"id": "j2", "text": "second"}]).encode()
    assert world.upload(owner, pid, arr, "a.json").json()["result"]["created"] == 2
    csv_body = 'id,text,meta.source,priority,gold\nc1,"quoted, with comma",crawl,1.5,"{""sentiment"": ""pos""}"\nc2,"multi\nline",,,\n'
    assert world.upload(owner, pid, csv_body.encode(), "a.csv").json()["result"]["created"] == 2
    tsv = b"id\ttext\tlang\nt1\ttab separated\tfr\n"
    assert world.upload(owner, pid, tsv, "a.tsv").json()["result"]["created"] == 1
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("docs/one.txt", "first document\n")
        z.writestr("docs/two.txt", "\ufeffsecond document")
        z.writestr("readme.md", "ignored")
    assert world.upload(owner, pid, buf.getvalue(), "docs.zip").json()["result"]["created"] == 2
    got = {i["external_id"]: i for i in all_items(world, owner, pid)}
    assert got["c1"]["data"]["text"] == "quoted, with comma"
    assert got["c1"]["meta"] == {"source": "crawl"} and got["c1"]["priority"] == 1.5
    assert got["c1"]["gold"] == {"sentiment": "pos"}
    assert got["c2"]["data"]["text"] == "multi\nline"
    assert got["t1"]["meta"] == {"lang": "fr"}
    assert got["docs/two"]["data"]["text"] == "second document"


def failed(world: World, owner: Any, pid: int, body: bytes, filename: str, **params: Any) -> list[dict[str, Any]]:
    before = item_count(world)
    r = world.upload(owner, pid, body, filename, **params)
    assert r.status_code == 422, r.text
    assert ": nothing was imported" in r.json()["error"]["message"]
    assert item_count(world) == before, "a rejected file must leave nothing behind"
    problems: list[dict[str, Any]] = r.json()["error"]["problems"]
    return problems


def test_bad_json_on_line_40017_names_the_line_and_imports_nothing(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    lines = [json.dumps({"id": f"i{n}", "text": f"text {n}"}) for n in range(1, 40_020)]
    lines[40_016] = '{"id": "i40017", "text": "unterminated}'
    body = ("\n".join(lines) + "\n").encode()
    problems = failed(world, owner, pid, body, "big.jsonl")
    assert problems == [{"line": 40017, "message": problems[0]["message"]}]
    assert problems[0]["message"].startswith("invalid JSON:")
    with world.runtime.db.read() as conn:
        job = conn.execute(select(jobs).order_by(jobs.c.id.desc())).first()
    assert job is not None and job.status == "failed"


@pytest.mark.parametrize(
    ("body", "filename", "expected"),
    [
        (b'{"id": "a", "text": "ok"}\n{"id": "b"}\n', "m.jsonl",
         [{"line": 2, "field": "text", "message": "missing required field"}]),
        (b'{"id": "a", "text": 42}\n', "t.jsonl",
         [{"line": 1, "field": "text", "message": "expected a string, got number"}]),
        (b'{"id": "a", "text": "caf\xe9"}\n', "e.jsonl",
         [{"line": 1, "message": "not valid UTF-8 (byte 0xe9 at column 25); save the file as UTF-8"}]),
        (b'["not", "an object"]\n', "o.jsonl", [{"line": 1, "message": "expected a JSON object, got list"}]),
        (b'{"id": "a", "text": "x", "meta": [1]}\n', "meta.jsonl",
         [{"line": 1, "field": "meta", "message": "must be an object, got list"}]),
        (b'{"id": "a", "text": "x", "priority": "high"}\n', "p.jsonl",
         [{"line": 1, "field": "priority", "message": "must be a finite number"}]),
        (b'{"id": "a", "text": "x", "gold": {"sentiment": "great"}}\n', "g.jsonl",
         [{"line": 1, "field": "gold.sentiment", "message": "'great' is not an option (options: pos, neg, neu)"}]),
        (b'{"id": true, "text": "x"}\n', "i.jsonl",
         [{"line": 1, "field": "id", "message": "must be a string or an integer, got bool"}]),
        (b'{"id": "a", "text": "   "}\n', "blank.jsonl", [{"line": 1, "field": "text", "message": "is empty"}]),
        (b'{"id": "a", "text": "one"}\n{"id": "a", "text": "two"}\n', "dup.jsonl",
         [{"line": 2, "field": "id", "message": "item 'a' appears earlier in this file with different content"}]),
        (b"id,text\na,one\nb,two,three\n", "c.csv",
         [{"line": 3, "message": "3 values, but the header has 2 columns"}]),
        (b"id,text\na,ok\nb,caf\xe9\n", "enc.csv",
         [{"line": 3, "message": "not valid UTF-8 (byte 0xe9 at column 6); save the file as UTF-8"}]),
        (b"id,body\na,one\n", "nofield.csv", [{"line": 1, "message": "no column 'text' (found: id, body)"}]),
        (b"id,text,text\n", "hdr.csv", [{"line": 1, "message": "the header names text more than once"}]),
        (b'[{"id": "a", "text": "ok"}, {"id": "b", "text": 3}]', "arr.json",
         [{"record": 2, "field": "text", "message": "expected a string, got number"}]),
        (b"", "empty.jsonl", [{"message": "the file holds no records"}]),
    ],
)
def test_bad_input_is_rejected_with_the_exact_place(
    setup: tuple[World, Any, int], body: bytes, filename: str, expected: list[dict[str, Any]]
) -> None:
    world, owner, pid = setup
    world.upload(owner, pid, jsonl([{"id": "existing", "text": "already here"}]), "first.jsonl")
    assert failed(world, owner, pid, body, filename) == expected


def test_truncated_json_array_names_the_record(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    problems = failed(world, owner, pid, b'[{"id": "a", "text": "ok"}, {"id": "b", "te', "cut.json")
    assert problems[0]["record"] == 2 and problems[0]["message"].startswith("invalid JSON after record 1")


def test_id_reused_with_different_content_is_refused(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    world.upload(owner, pid, jsonl([{"id": "a", "text": "original"}]), "one.jsonl")
    problems = failed(world, owner, pid, jsonl([{"id": "b", "text": "new"}, {"id": "a", "text": "edited"}]),
                      "two.jsonl")
    assert problems == [{"line": 2, "field": "id",
                         "message": "item 'a' already exists in the project with different content"}]


def test_zip_member_with_bad_encoding_names_file_and_line(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "fine")
        z.writestr("b.txt", b"line one\nbad \xff here")
    problems = failed(world, owner, pid, buf.getvalue(), "t.zip")
    assert problems == [{"file": "b.txt", "line": 2,
                         "message": "not valid UTF-8 (byte 0xff at column 5); save the file as UTF-8"}]


def test_many_problems_are_reported_together_up_to_a_limit(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    problems = failed(world, owner, pid, jsonl([{"id": i} for i in range(200)]), "many.jsonl")
    assert len(problems) == 50 and problems[0]["line"] == 1 and problems[-1]["line"] == 50


def test_unknown_format_and_unnamed_file(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    r = world.upload(owner, pid, b"x", "data.xlsx")
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "format"
    r = world.upload(owner, pid, b"x", "data.txt", format="parquet")
    assert r.status_code == 422 and "parquet" in r.json()["error"]["problems"][0]["message"]
    assert item_count(world) == 0


def test_import_without_wait_returns_a_job_to_poll(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    r = world.client.post(f"/api/projects/{pid}/imports", params={"filename": "a.jsonl"},
                          content=jsonl([{"text": f"t{i}"} for i in range(3000)]), headers=owner.headers)
    assert r.status_code == 202
    job_id = r.json()["id"]
    for _ in range(200):
        job = world.client.get(f"/api/jobs/{job_id}", headers=owner.headers).json()
        if job["status"] in ("succeeded", "failed"):
            break
        import time

        time.sleep(0.05)
    assert job["status"] == "succeeded" and job["result"]["created"] == 3000
    assert job["progress_done"] == job["progress_total"] > 0
    listed = world.client.get(f"/api/projects/{pid}/jobs", headers=owner.headers).json()
    assert listed[0]["id"] == job_id
