"""The import's bulk row writes (store/bulk.py: COPY on PostgreSQL, executemany on SQLite) give
exactly the rows SQLAlchemy's own INSERT gives, and a refused or failed import leaves nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from labelloop.errors import Invalid
from labelloop.services.importing import writer
from labelloop.services.jobs import create_job
from labelloop.services.policy import Actor
from labelloop.store import bulk
from labelloop.store.models import items
from tests.platform.world import World

OPERATOR = Actor.operator()
# Every column an import writes or defaults, but the ones that name the project and the job.
COLUMNS = [c for c in items.c if c.name not in ("id", "project_id", "import_job_id")]
TRICKY = [
    "plain",
    "ünïcödé — 日本語 🙂 \u200b",
    'quotes " and \' and `',
    "back\\slash \\N \\t \\\\",
    "tab\there",
    "new\nline and cr\r\nand lone cr\r",
    "controls \x01\x02\x08\x0b\x0c\x1b\x1f\x7f",
    "",
    "  leading and trailing  ",
    "\\.",
]


def ident(k: int, text: str) -> str:
    return f"#{k} {text[:12]}\t\n\\"


def records() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for k, text in enumerate(TRICKY * 3):
        rec: dict[str, Any] = {"id": ident(k, text), "text": f"{text} {k}",
                               "meta": {"k": k, "text": text, "nested": {"list": [1, 2.5, None, True]}},
                               "priority": k / 7}
        if k % 4 == 0:
            rec["gold"] = {"sentiment": "pos"}
        out.append(rec)
    out.append({"text": "no id \t\\ at all"})
    out.append(dict(out[3]))  # the same record again: unchanged, not duplicated
    return out


def write_file(path: Path, recs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=k % 2 == 0) + "\n" for k, r in enumerate(recs)),
                    encoding="utf-8")
    return path


def new_project(world: World, name: str) -> int:
    owner = world.user(f"owner-{name}")
    return world.project(owner, overlap=2)


def import_into(world: World, pid: int, path: Path, *, batch_size: int = 7) -> dict[str, Any]:
    job = world.runtime.db.run(lambda c: create_job(c, OPERATOR, pid, "import", {}))
    return writer.import_file(world.runtime.db, OPERATOR, pid, path, job_id=job.id, batch_size=batch_size)


def rows_of(world: World, pid: int) -> list[tuple[Any, ...]]:
    with world.runtime.db.read() as conn:
        return [tuple(r) for r in conn.execute(
            select(*COLUMNS).where(items.c.project_id == pid).order_by(items.c.external_id))]


def plain_insert(conn: Connection, rows: list[dict[str, Any]], *, skip_existing: bool = False) -> int:
    """SQLAlchemy's INSERT, every value through its column type: the reference."""
    if not rows:
        return 0
    if skip_existing:  # SQLite's INSERT ... ON CONFLICT DO NOTHING
        statement = sqlite_insert(items).on_conflict_do_nothing(index_elements=["project_id", "external_id"])
        return int(conn.execute(statement, rows).rowcount)
    conn.execute(items.insert(), rows)
    return len(rows)


def test_bulk_write_gives_the_rows_an_insert_gives(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_file(tmp_path / "tricky.jsonl", records())
    fast, slow = new_project(world, "fast"), new_project(world, "slow")
    started = datetime.now(UTC)
    got = import_into(world, fast, path)
    monkeypatch.setattr(writer, "insert_items", plain_insert)
    want = import_into(world, slow, path)
    assert got == want == {"created": 31, "unchanged": 1, "records": 32}
    fast_rows, slow_rows = rows_of(world, fast), rows_of(world, slow)
    created_at = COLUMNS.index(items.c.created_at)
    for row in fast_rows:
        assert started - timedelta(seconds=1) <= row[created_at] <= datetime.now(UTC)
    strip = [[v for i, v in enumerate(r) if i != created_at] for r in (*fast_rows, *slow_rows)]
    assert strip[:len(fast_rows)] == strip[len(fast_rows):]
    # And the values are the file's, not only the same on both paths.
    by_id = {r[COLUMNS.index(items.c.external_id)]: r for r in fast_rows}
    for k, text in enumerate(TRICKY * 3):
        row = by_id[ident(k, text)]
        assert row[COLUMNS.index(items.c.data)] == {"text": f"{text} {k}"}
        assert row[COLUMNS.index(items.c.meta)] == {
            "k": k, "text": text, "nested": {"list": [1, 2.5, None, True]}}
        assert row[COLUMNS.index(items.c.priority)] == k / 7
        assert row[COLUMNS.index(items.c.gold)] == ({"sentiment": "pos"} if k % 4 == 0 else None)
        assert row[COLUMNS.index(items.c.is_open)] is (k % 4 != 0)
        assert row[COLUMNS.index(items.c.staged)] is False
        assert row[COLUMNS.index(items.c.needed)] == 2


def test_ids_already_taken_are_told_apart_in_every_batch(world: World, tmp_path: Path) -> None:
    """Rows skipped for a taken id (stored before, earlier in the file, earlier in the batch) are
    counted unchanged when their content is the same, refused with their line when it is not."""
    pid = new_project(world, "taken")
    before = [{"id": f"old{k}", "text": f"old {k}"} for k in range(5)]
    assert import_into(world, pid, write_file(tmp_path / "before.jsonl", before)) == {
        "created": 5, "unchanged": 0, "records": 5}
    again = [
        {"id": "new0", "text": "new 0"}, {"id": "old0", "text": "old 0"},  # batch 1: new, stored
        {"id": "new0", "text": "new 0"}, {"id": "new1", "text": "new 1"},  # same batch, same content
        {"id": "old1", "text": "old 1"}, {"text": "no id"}, {"text": "no id"},
        {"id": "new2", "text": "new 2"}, {"id": "new1", "text": "new 1"},  # batch 2: from batch 1
        {"id": "old2", "text": "old 2"}, {"id": "new3", "text": "new 3"},
    ]
    result = import_into(world, pid, write_file(tmp_path / "again.jsonl", again))
    assert result == {"created": 5, "unchanged": 6, "records": 11}
    assert count(world, pid) == 10

    pid = new_project(world, "taken-refused")
    import_into(world, pid, write_file(tmp_path / "before.jsonl", before))
    bad = [
        {"id": "a", "text": "one"}, {"id": "b", "text": "b"}, {"id": "b", "text": "b"},
        {"id": "old1", "text": "old 1"}, {"id": "c", "text": "c"}, {"id": "d", "text": "d"},
        {"id": "e", "text": "e"},
        {"id": "a", "text": "two"}, {"id": "old0", "text": "edited"}, {"id": "c", "text": "c"},  # batch 2
        {"id": "f", "text": "one"}, {"id": "f", "text": "two"},
    ]
    with pytest.raises(Invalid) as refused:
        import_into(world, pid, write_file(tmp_path / "bad.jsonl", bad))
    assert [(p["line"], p["message"]) for p in refused.value.detail] == [
        (8, "item 'a' appears earlier in this file with different content"),
        (9, "item 'old0' already exists in the project with different content"),
        (12, "item 'f' appears earlier in this file with different content"),
    ]
    assert count(world, pid) == 5


def count(world: World, pid: int) -> int:
    with world.runtime.db.read() as conn:
        return int(conn.execute(select(func.count()).where(items.c.project_id == pid)).scalar_one())


def test_a_refused_import_leaves_nothing(world: World, tmp_path: Path) -> None:
    pid = new_project(world, "refused")
    recs = records()
    recs.append({**recs[5], "text": "other content"})  # after several batches were written
    with pytest.raises(Invalid) as refused:
        import_into(world, pid, write_file(tmp_path / "bad.jsonl", recs))
    assert [(p["line"], p["field"]) for p in refused.value.detail] == [(len(recs), "id")]
    assert count(world, pid) == 0


def test_a_failed_write_leaves_nothing(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pid = new_project(world, "failed")
    real = bulk.insert_items
    calls = 0

    def third_fails(conn: Connection, rows: list[dict[str, Any]], **options: bool) -> int:
        nonlocal calls
        calls += 1
        inserted = real(conn, rows, **options)
        if calls == 3:
            raise OSError("the connection dropped")
        return inserted

    monkeypatch.setattr(writer, "insert_items", third_fails)
    with pytest.raises(OSError, match="dropped"):
        import_into(world, pid, write_file(tmp_path / "items.jsonl", records()))
    assert calls == 3
    assert count(world, pid) == 0


def test_a_large_import_refreshes_the_planners_statistics(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Else plans over `items` (an export's chunks) take the published rows for staged ones."""
    if world.runtime.db.is_sqlite:
        pytest.skip("PostgreSQL's statistics")
    monkeypatch.setattr(writer, "ANALYZE_AFTER", 20)
    pid = new_project(world, "analyzed")
    import_into(world, pid, write_file(tmp_path / "items.jsonl", records()))
    with world.runtime.db.read() as conn:
        staged = conn.exec_driver_sql(
            "SELECT most_common_vals::text FROM pg_stats WHERE tablename = 'items' AND attname = 'staged'"
        ).scalar_one()
    assert staged == "{f}"
