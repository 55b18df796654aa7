"""What an import refuses: records nested too deeply, items or archives too large, NUL characters.

Each is refused with a problem naming the line (record, file) and the limit, and nothing of the
file is stored, the same on SQLite and PostgreSQL. Limits are checked while reading, so an
oversized line or archive member is never held in memory whole.
"""

from __future__ import annotations

import io
import json
import struct
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from labelloop.api.app import create_app
from labelloop.cli.main import app as cli_app
from labelloop.config import Settings, get_settings
from labelloop.errors import Problem
from labelloop.schema import parse_schema
from labelloop.services.importing.json_guard import ArrayGuard, Refused
from labelloop.services.importing.limits import ImportLimits
from labelloop.services.importing.readers import Source
from labelloop.services.importing.records import RecordReader
from labelloop.services.runtime import Runtime
from tests.platform.conftest import make_settings
from tests.platform.test_import import failed, item_count, jsonl
from tests.platform.world import SCHEMA, World

MiB = 1024 * 1024


@pytest.fixture
def setup(world: World) -> tuple[World, Any, int]:
    owner = world.user("owner")
    return world, owner, world.project(owner)


def nested(depth: int) -> Any:
    """A value whose containers nest `depth` levels: nested(1) == []."""
    value: Any = []
    for n in range(depth - 1):
        value = {"x": value} if n % 2 else [value]
    return value


def brackets(depth: int) -> str:
    """JSON text nested `depth` levels, built as text: json.dumps would hit Python's recursion limit."""
    return "[" * depth + "]" * depth


def zipped(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def read_all(path: Path, fmt: str, limits: ImportLimits) -> list[tuple[Any, Any]]:
    schema = parse_schema(SCHEMA)
    records = RecordReader(schema, text_cells=fmt in ("csv", "tsv"), limits=limits)
    out: list[tuple[Any, Any]] = []
    for where, record in Source(path, fmt, limits).records():
        out.append((where, record if isinstance(record, Problem) else records.to_row(where, record)))
    return out


def problems_of(rows: list[tuple[Any, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for _, row in rows:
        if isinstance(row, Problem):
            found.append(row.as_dict())
        elif isinstance(row, list):
            found.extend(p.as_dict() for p in row)
    return found


# Nesting


@pytest.mark.parametrize(("depth", "field"), [(300, {"field": "meta.deep"}), (5000, {})])  # 5000: too deep to parse
def test_deeply_nested_jsonl_names_the_line_and_field(
    setup: tuple[World, Any, int], depth: int, field: dict[str, str]
) -> None:
    world, owner, pid = setup
    body = jsonl([{"id": "a", "text": "fine", "meta": {"deep": nested(20)}}])
    body += f'{{"id": "b", "text": "deep", "meta": {{"deep": {brackets(depth)}}}}}\n'.encode()
    assert failed(world, owner, pid, body, "deep.jsonl") == [
        {"line": 2, **field, "message": "nested deeper than 64 levels (LABELLOOP_MAX_JSON_DEPTH)"}
    ]


@pytest.mark.parametrize("depth", [300, 5000])
def test_deeply_nested_json_array_names_the_record(setup: tuple[World, Any, int], depth: int) -> None:
    world, owner, pid = setup
    body = (f'[{{"id": "a", "text": "fine"}}, {{"id": "b", "text": "deep", "x": {brackets(depth)}}},'
            f' {{"id": "c", "text": "after"}}]').encode()
    assert failed(world, owner, pid, body, "deep.json") == [
        {"record": 2, "message": "nested deeper than 64 levels (LABELLOOP_MAX_JSON_DEPTH)"}
    ]


def test_nesting_up_to_the_limit_is_accepted(setup: tuple[World, Any, int]) -> None:
    """Fields, meta and gold are each stored as a document, counted from level 1."""
    world, owner, pid = setup
    record = {"id": "a", "text": "ok", "meta": {"deep": nested(63)}}  # meta, then 63 levels: 64
    r = world.upload(owner, pid, jsonl([record]), "a.jsonl")
    assert r.status_code == 201, r.text
    r = world.upload(owner, pid, json.dumps([record | {"id": "b"}]).encode(), "a.json")
    assert r.status_code == 201, r.text
    over = {"id": "c", "text": "ok", "meta": {"deep": nested(64)}}
    expected = {"field": "meta.deep", "message": "nested deeper than 64 levels (LABELLOOP_MAX_JSON_DEPTH)"}
    assert failed(world, owner, pid, jsonl([over]), "c.jsonl") == [{"line": 1, **expected}]
    assert failed(world, owner, pid, json.dumps([over]).encode(), "c.json") == [{"record": 1, **expected}]


def test_deeply_nested_conversation_names_the_field(world: World) -> None:
    owner = world.user("owner")
    pid = world.project(owner, schema={"fields": [{"name": "dialog", "type": "conversation"}],
                                       "questions": SCHEMA["questions"]})
    message = {"role": "user", "content": "hi", "extra": nested(100)}
    assert failed(world, owner, pid, jsonl([{"id": "a", "dialog": [message]}]), "d.jsonl") == [
        {"line": 1, "field": "dialog", "message": "nested deeper than 64 levels (LABELLOOP_MAX_JSON_DEPTH)"}
    ]
    message = {"role": "user", "content": "nul \u0000"}
    assert failed(world, owner, pid, jsonl([{"id": "a", "dialog": [message]}]), "d.jsonl") == [
        {"line": 1, "field": "dialog", "message": "contains a NUL character (\\u0000), which cannot be stored"}
    ]


def test_a_json_array_nested_a_hundred_thousand_deep_is_refused_at_once(tmp_path: Path) -> None:
    """ijson keeps a path per level, so such a file once took gigabytes; now it stops early."""
    path = tmp_path / "deep.json"
    path.write_bytes(b'[{"text": "x", "m": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]")
    tracemalloc.start()
    try:
        problems = problems_of(read_all(path, "json", ImportLimits()))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert problems == [{"record": 1, "message": "nested deeper than 64 levels (LABELLOOP_MAX_JSON_DEPTH)"}]
    assert peak < 4 * MiB


def test_deeply_nested_json_in_a_csv_cell_names_line_and_field(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    cell = json.dumps({"deep": nested(300)}).replace('"', '""')
    body = f'id,text,meta\na,fine,{{}}\nb,deep,"{cell}"\n'.encode()
    assert failed(world, owner, pid, body, "deep.csv") == [
        {"line": 3, "field": "meta.deep", "message": "nested deeper than 64 levels (LABELLOOP_MAX_JSON_DEPTH)"}
    ]


JSON_TEXT = st.text(alphabet='ab"\\[]{},:é \n', max_size=8)
JSON_VALUES = st.recursive(
    st.none() | st.integers(-5, 5) | JSON_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(JSON_TEXT, inner, max_size=3),
    max_leaves=12,
)


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(records=st.lists(JSON_VALUES, max_size=8), cuts=st.lists(st.integers(1, 40), max_size=30),
       max_depth=st.integers(1, 4), max_bytes=st.integers(2, 60))
def test_the_array_guard_names_the_first_record_over_a_limit(
    records: list[Any], cuts: list[int], max_depth: int, max_bytes: int
) -> None:
    """Against the parsed records, however the file is cut into pieces (escapes and strings too)."""
    encoded = [json.dumps(r, separators=(",", ":"), ensure_ascii=False).encode() for r in records]
    text = b"[" + b",".join(encoded) + b"]"
    over = [n for n, (r, e) in enumerate(zip(records, encoded, strict=True), 1)
            if depth_of(r) > max_depth or len(e) > max_bytes]
    pieces, at = [], 0
    for cut in cuts:
        pieces.append(text[at:at + cut])
        at += cut
    pieces.append(text[at:])
    for split in (pieces, [text[i:i + 1] for i in range(len(text))]):
        guard = ArrayGuard(max_depth=max_depth, max_record_bytes=max_bytes, too_deep="deep", too_large="large")
        refused: Refused | None = None
        try:
            for piece in split:
                guard.scan(piece)
        except Refused as e:
            refused = e
        assert (refused and refused.record) == (over[0] if over else None)
        if refused:
            n = refused.record - 1
            assert (refused.message == "deep" and depth_of(records[n]) > max_depth) or (
                refused.message == "large" and len(encoded[n]) > max_bytes)


# Size of one item


def test_a_jsonl_line_over_the_item_limit_is_refused(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    body = jsonl([{"id": "a", "text": "fine"}, {"id": "b", "text": "x" * (MiB + 10)}, {"id": "c", "text": "fine"}])
    assert failed(world, owner, pid, body, "big.jsonl") == [
        {"line": 2, "message": "the line is larger than 1 MiB, the limit for one item (LABELLOOP_MAX_ITEM_BYTES)"}
    ]


def test_a_json_array_record_over_the_item_limit_is_refused(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    body = json.dumps([{"id": "a", "text": "fine"}, {"id": "b", "text": "x" * (MiB + 10)}]).encode()
    assert failed(world, owner, pid, body, "big.json") == [
        {"record": 2, "message": "the record is larger than 1 MiB, the limit for one item (LABELLOOP_MAX_ITEM_BYTES)"}
    ]


def test_a_csv_row_over_the_item_limit_is_refused(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    big = "x\n" * (MiB // 2 + 10)  # one quoted cell over many physical lines
    body = f'id,text\na,fine\nb,"{big}"\nc,fine\n'.encode()
    assert failed(world, owner, pid, body, "big.csv") == [
        {"line": 3, "message": "the row is larger than 1 MiB, the limit for one item (LABELLOOP_MAX_ITEM_BYTES)"}
    ]


def test_a_cell_that_grows_when_stored_is_measured_as_stored(setup: tuple[World, Any, int]) -> None:
    """Control characters are six bytes each in stored JSON: the limit is on what is stored."""
    world, owner, pid = setup
    body = b"id,text\na," + b"\x01" * (MiB // 4) + b"\n"
    problems = failed(world, owner, pid, body, "grow.csv")
    assert problems == [{"line": 2, "field": "text", "message": problems[0]["message"]}]
    assert problems[0]["message"].startswith("the item is 1.5 MiB as stored (fields, meta and gold as JSON)")
    assert problems[0]["message"].endswith("over the 1 MiB limit for one item (LABELLOOP_MAX_ITEM_BYTES)")


def test_an_item_just_under_the_limit_is_accepted(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    r = world.upload(owner, pid, jsonl([{"id": "a", "text": "x" * (MiB - 100)}]), "a.jsonl")
    assert r.status_code == 201, r.text


def test_an_overlong_line_is_skipped_without_being_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(b'{"text": "a"}\n{"text": "' + b"x" * (8 * MiB) + b'"}\n{"text": "c"}\n')
    tracemalloc.start()
    try:
        rows = read_all(path, "jsonl", ImportLimits(max_item_bytes=4096))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert problems_of(rows) == [
        {"line": 2, "message": "the line is larger than 4 KiB, the limit for one item (LABELLOOP_MAX_ITEM_BYTES)"}
    ]
    assert [w.line for w, row in rows] == [1, 2, 3]
    assert peak < 2 * MiB


# Archives


def test_a_zip_member_over_the_item_limit_is_refused(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    body = zipped({"a.txt": b"fine", "b.txt": b"x" * (2 * MiB), "c.txt": b"fine too"})
    assert len(body) < 20_000
    assert failed(world, owner, pid, body, "big.zip") == [
        {"file": "b.txt", "message": "the file is larger than 1 MiB, the limit for one item (LABELLOOP_MAX_ITEM_BYTES)"}
    ]


def test_an_archive_over_its_total_limit_stops_at_the_file_that_crosses_it(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    path.write_bytes(zipped({f"{n:02}.txt": b"y" * 3000 for n in range(21)}))
    limits = ImportLimits(max_item_bytes=4096, max_archive_bytes=10_000)
    assert problems_of(read_all(path, "zip", limits)) == [
        {"file": "03.txt", "message": "the archive holds more than 10,000 bytes of .txt files uncompressed, "
                                      "the limit for one archive (LABELLOOP_MAX_ARCHIVE_BYTES)"}
    ]


def test_zip_members_are_read_in_bounded_pieces(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    path.write_bytes(zipped({f"{n}.txt": b"\0" * (8 * MiB) for n in range(3)}))
    tracemalloc.start()
    try:
        problems = problems_of(read_all(path, "zip", ImportLimits(max_item_bytes=4096)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [p["file"] for p in problems] == ["0.txt", "1.txt", "2.txt"]
    assert peak < 2 * MiB


def test_a_zip_that_lies_about_a_member_size_names_the_member(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    body = bytearray(zipped({"a.txt": b"z" * 5000}))
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # uncompressed size: 10
        at = body.index(signature) + offset
        body[at:at + 4] = struct.pack("<I", 10)
    problems = failed(world, owner, pid, bytes(body), "lies.zip")
    assert problems == [{"file": "a.txt", "message": problems[0]["message"]}]
    assert problems[0]["message"].startswith("cannot be read from the archive")


# NUL characters


@pytest.mark.parametrize(
    ("body", "filename", "expected"),
    [
        (b'{"id": "a", "text": "ok"}\n{"id": "b", "text": "nul \\u0000 here"}\n', "t.jsonl",
         [{"line": 2, "field": "text"}]),
        (b'{"id": "a", "text": "ok", "meta": {"k": ["x\\u0000"]}}\n', "m.jsonl", [{"line": 1, "field": "meta.k"}]),
        (b'{"id": "a", "text": "ok", "lang\\u0000": "en"}\n', "k.jsonl", [{"line": 1, "field": "meta.lang\\u0000"}]),
        (b'{"id": "a\\u0000", "text": "ok"}\n', "i.jsonl", [{"line": 1, "field": "id"}]),
        (b'{"id": "a", "text": "ok", "gold": {"sentiment": "pos", "note": "\\u0000"}}\n', "g.jsonl",
         [{"line": 1, "field": "gold.note"}]),
        (b'[{"id": "a", "text": "ok"}, {"id": "b", "text": "\\u0000"}]', "t.json", [{"record": 2, "field": "text"}]),
        (b"id,text\na,ok\nb,raw \x00 byte\n", "t.csv", [{"line": 3, "field": "text"}]),
        (zipped({"a.txt": b"ok", "b.txt": b"raw \x00 byte"}), "t.zip", [{"file": "b.txt", "field": "text"}]),
    ],
)
def test_nul_characters_are_refused_naming_the_field(
    setup: tuple[World, Any, int], body: bytes, filename: str, expected: list[dict[str, Any]]
) -> None:
    world, owner, pid = setup
    message = "contains a NUL character (\\u0000), which cannot be stored"
    assert failed(world, owner, pid, body, filename) == [e | {"message": message} for e in expected]


def test_a_json_escaped_backslash_before_u0000_is_not_a_nul(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    r = world.upload(owner, pid, b'{"id": "a", "text": "C:\\\\u0000"}\n', "a.jsonl")
    assert r.status_code == 201, r.text
    items = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()
    assert items[0]["data"]["text"] == "C:\\u0000"


# Every way in applies the limits


def test_the_cli_import_applies_the_limits(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, world: World
) -> None:
    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        owner = world.user("owner")
        pid = world.project(owner)
        path = tmp_path / "big.jsonl"
        path.write_bytes(jsonl([{"id": "a", "text": "fine"}, {"id": "b", "text": "x" * (MiB + 10)}]))
        result = CliRunner().invoke(cli_app, ["import", str(pid), str(path)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1, result.output
    assert "line 2: the line is larger than 1 MiB" in result.output
    assert item_count(world) == 0


@pytest.fixture
def small_limits(tmp_path: Path, database_url: str) -> Iterator[World]:
    settings = make_settings(tmp_path, database_url, max_item_bytes=2048, max_archive_bytes=5000, max_json_depth=8)
    rt = Runtime(settings)
    try:
        with TestClient(create_app(rt)) as client:
            yield World(rt, client)
    finally:
        rt.close()


def test_the_limits_are_settings(small_limits: World) -> None:
    world = small_limits
    owner = world.user("owner")
    pid = world.project(owner)
    assert failed(world, owner, pid, jsonl([{"id": "a", "text": "x" * 3000}]), "a.jsonl")[0]["line"] == 1
    assert failed(world, owner, pid, jsonl([{"id": "a", "text": "x", "meta": {"deep": nested(8)}}]), "a.jsonl") == [
        {"line": 1, "field": "meta.deep", "message": "nested deeper than 8 levels (LABELLOOP_MAX_JSON_DEPTH)"}
    ]
    body = zipped({f"{n}.txt": b"y" * 2000 for n in range(3)})
    assert failed(world, owner, pid, body, "a.zip")[0]["file"] == "2.txt"


def test_the_default_limits_are_the_settings_defaults() -> None:
    defaults = Settings.model_fields
    assert ImportLimits() == ImportLimits(
        max_item_bytes=defaults["max_item_bytes"].default,
        max_archive_bytes=defaults["max_archive_bytes"].default,
        max_json_depth=defaults["max_json_depth"].default,
    )
    assert ImportLimits.from_settings(Settings(_env_file=None, max_item_bytes=5)).max_item_bytes == 5  # type: ignore[call-arg]
