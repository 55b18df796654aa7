"""SQLite's write-ahead log and bulk writes (store/db.py): every connection lets the log grow to
CHECKPOINT_PAGES, past SQLite's own 1,000, before a commit copies it into the database; a bulk
write (an import's batch) has a larger page cache while it runs, SQLite's own again on the
connection afterwards whatever happened; `checkpoint()` brings the log into the database.
Each test has a SQLite file of its own (whichever database the suite runs on)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from labelloop.store.db import BULK_CACHE_KIB, CACHE_KIB, CHECKPOINT_PAGES, Database

SQLITE_CHECKPOINT_PAGES = 1000  # SQLite's default

meta = MetaData()
rows = Table("rows", meta, Column("id", Integer, primary_key=True), Column("text", String(2000)))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'bulk.db'}", pool_size=1)
    meta.create_all(database.engine)
    yield database
    database.dispose()


def _settings(conn: object) -> tuple[int, int]:
    """(wal_autocheckpoint pages, cache_size: negative for KiB) of the connection."""
    driver = conn.connection.driver_connection  # type: ignore[attr-defined]
    return (int(driver.execute("PRAGMA wal_autocheckpoint").fetchone()[0]),
            int(driver.execute("PRAGMA cache_size").fetchone()[0]))


def test_the_log_grows_past_sqlites_default_and_a_bulk_write_puts_its_cache_back(
        db: Database, tmp_path: Path) -> None:
    with db.write() as conn:
        assert _settings(conn) == (CHECKPOINT_PAGES, -CACHE_KIB)
        conn.execute(insert(rows), [{"text": "x" * 1500} for _ in range(1500)])  # about 750 pages
    with db.write(bulk=True) as conn:
        assert _settings(conn) == (CHECKPOINT_PAGES, -BULK_CACHE_KIB)
        conn.execute(insert(rows), [{"text": "x" * 1500} for _ in range(1500)])
    # More pages than SQLite's own threshold stayed in the log: no checkpoint ran at a commit,
    # so the database file itself has not grown yet (a checkpoint would have copied them there).
    assert CHECKPOINT_PAGES > 2 * SQLITE_CHECKPOINT_PAGES
    assert (tmp_path / "bulk.db-wal").stat().st_size > SQLITE_CHECKPOINT_PAGES * 4096
    assert (tmp_path / "bulk.db").stat().st_size < SQLITE_CHECKPOINT_PAGES * 4096
    with db.write() as conn:  # the same pooled connection, back to SQLite's default cache
        assert _settings(conn) == (CHECKPOINT_PAGES, -CACHE_KIB)
    with pytest.raises(RuntimeError), db.write(bulk=True):
        raise RuntimeError("a failed batch")
    with db.write() as conn:
        assert _settings(conn) == (CHECKPOINT_PAGES, -CACHE_KIB)


def test_checkpoint_brings_the_log_into_the_database(db: Database, tmp_path: Path) -> None:
    with db.write(bulk=True) as conn:
        conn.execute(insert(rows), [{"text": "y" * 1500} for _ in range(2000)])
    assert (tmp_path / "bulk.db").stat().st_size < 2000 * 1500  # all of it still in the log
    db.checkpoint()
    assert (tmp_path / "bulk.db").stat().st_size > 2000 * 1500  # now in the database file
    with db.read() as conn:
        assert len(conn.execute(select(rows.c.id)).all()) == 2000
