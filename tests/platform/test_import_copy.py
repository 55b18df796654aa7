"""The import's bulk row writes (store/bulk.py: COPY on PostgreSQL, executemany on SQLite) give
exactly the rows SQLAlchemy's own INSERT gives, and a refused or failed import leaves nothing."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from labelloop.errors import Invalid
from labelloop.services.importing import copy_stream, writer
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


def import_into(world: World, pid: int, path: Path, *, batch_size: int = 7,
                progress: Any = None) -> dict[str, Any]:
    # Run here (foreground): a queued job would be a worker's to claim.
    job = world.runtime.db.run(lambda c: create_job(c, OPERATOR, pid, "import", {}, foreground=True))
    return writer.import_file(world.runtime.db, OPERATOR, pid, path, job_id=job.id, batch_size=batch_size,
                              progress=progress)


def rows_of(world: World, pid: int) -> list[tuple[Any, ...]]:
    with world.runtime.db.read() as conn:
        return [tuple(r) for r in conn.execute(
            select(*COLUMNS).where(items.c.project_id == pid).order_by(items.c.external_id))]


def plain_insert(conn: Connection, batch: bulk.ItemBatch, rows: list[Any], *, skip_existing: bool = False) -> int:
    """SQLAlchemy's INSERT, every value through its column type: the reference."""
    if not rows:
        return 0
    values = [{
        "project_id": batch.project_id, "external_id": r.external_id, "content_hash": r.content_hash,
        "data": r.data, "meta": r.meta, "priority": r.priority, "needed": batch.needed, "reserved": 0,
        "answer_count": 0, "is_open": not batch.staged and batch.needed > 0 and r.gold is None,
        "gold": r.gold, "import_job_id": batch.import_job_id, "staged": batch.staged,
        "created_at": batch.created_at,
    } for r in rows]
    if skip_existing:  # SQLite's INSERT ... ON CONFLICT DO NOTHING
        statement = sqlite_insert(items).on_conflict_do_nothing(index_elements=["project_id", "external_id"])
        return int(conn.execute(statement, values).rowcount)
    conn.execute(items.insert(), values)
    return len(rows)


class BatchByBatch(copy_stream.StreamWrites):
    """Stands for a COPY that met an id it could not see: the import runs batch by batch."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise copy_stream.IdsCollide()


def test_bulk_write_gives_the_rows_an_insert_gives(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(copy_stream, "COPY_ROWS", 10)  # a new COPY every 10 rows, in the one transaction
    path = write_file(tmp_path / "tricky.jsonl", records())
    fast, slow = new_project(world, "fast"), new_project(world, "slow")
    started = datetime.now(UTC)
    got = import_into(world, fast, path)
    monkeypatch.setattr(writer, "insert_items", plain_insert)
    monkeypatch.setattr(writer, "StreamWrites", BatchByBatch)  # PostgreSQL's one COPY, compared too
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


@pytest.mark.parametrize("copy_rows", [copy_stream.COPY_ROWS, 6])
def test_ids_already_taken_are_told_apart_in_every_batch(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copy_rows: int
) -> None:
    """Rows skipped for a taken id (stored before, earlier in the file, earlier in the batch) are
    counted unchanged when their content is the same, refused with their line when it is not;
    on PostgreSQL also when the streamed COPY starts anew every few rows."""
    monkeypatch.setattr(copy_stream, "COPY_ROWS", copy_rows)
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
    """The third batch's write fails: batch by batch (insert_items) or as one COPY (copy_lines)."""
    pid = new_project(world, "failed")
    calls = 0

    def third_fails(real: Any) -> Any:
        def write(*args: Any, **options: Any) -> Any:
            nonlocal calls
            calls += 1
            written = real(*args, **options)
            if calls == 3:
                raise OSError("the connection dropped")
            return written
        return write

    monkeypatch.setattr(writer, "insert_items", third_fails(bulk.insert_items))
    monkeypatch.setattr(copy_stream, "copy_lines", third_fails(bulk.copy_lines))
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


def test_two_imports_of_the_same_ids_at_once_write_each_id_once(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second import starts while the first one is under way, its rows written and not
    committed: on PostgreSQL one COPY meets the other's rows on the unique index once that one
    commits, and its import runs again batch by batch, finding them there. Either may win."""
    pid = new_project(world, "twice")
    recs = [{"id": f"same{k}", "text": f"same {k}"} for k in range(60)]
    first, second = write_file(tmp_path / "first.jsonl", recs), write_file(tmp_path / "second.jsonl", recs)
    collisions: list[BaseException] = []
    real_collided = copy_stream.collided

    def spied(error: BaseException) -> bool:
        found = real_collided(error)
        if found:
            collisions.append(error)
        return found

    monkeypatch.setattr(copy_stream, "collided", spied)
    monkeypatch.setattr(writer, "collided", spied)
    results: dict[str, Any] = {}

    def run_second() -> None:
        results["second"] = import_into(world, pid, second)

    other = threading.Thread(target=run_second)

    def progress(done: int, total: int | None, message: str = "", **_: Any) -> None:
        if "records read" in message and not other.is_alive() and "second" not in results:
            other.start()
            time.sleep(1.0)  # the second reads its file and sends its rows meanwhile

    results["first"] = import_into(world, pid, first, progress=progress)
    other.join(60)
    first_result, second_result = results["first"], results["second"]
    assert first_result["records"] == second_result["records"] == 60
    assert first_result["created"] + second_result["created"] == 60
    assert first_result["unchanged"] + second_result["unchanged"] == 60
    assert count(world, pid) == 60
    if not world.runtime.db.is_sqlite:
        assert collisions, "the second import's COPY should have met the first one's rows"


def test_a_file_that_repeats_ids_a_lot_is_imported_batch_by_batch(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(copy_stream, "MAX_HELD", 5)
    pid = new_project(world, "repeats")
    recs = [{"id": f"r{k % 10}", "text": f"r {k % 10}"} for k in range(50)]
    assert import_into(world, pid, write_file(tmp_path / "repeats.jsonl", recs)) == {
        "created": 10, "unchanged": 40, "records": 50}
    assert count(world, pid) == 10


def test_seen_ids_tell_every_id_met_and_few_new_ones() -> None:
    seen = copy_stream.SeenIds(capacity=20_000)  # grows to 4 filters on the way
    ids = [f"id-{k}" for k in range(200_000)]
    wrongly = sum(int(seen.met(ids[k:k + 2000]).sum()) for k in range(0, len(ids), 2000))
    assert len(seen.filters) == 4
    assert wrongly < 200  # held back for nothing: 12 in this run
    assert seen.met(ids[::997]).all()  # never a met id taken for new
    assert seen.met(["id-0", "new-a", "new-a"]).tolist() == [True, False, False]  # met before this call
