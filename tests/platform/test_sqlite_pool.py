"""SQLite's connection pool (store/db.py): the connection returned last is handed out next, so
a request runs on the connection whose page cache the last write left valid. A SQLite file of its
own (whichever database the suite runs on)."""

from __future__ import annotations

from pathlib import Path

from labelloop.store.db import Database


def test_the_connection_returned_last_is_handed_out_next(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'pool.db'}", pool_size=4)
    try:
        first, second = db.engine.connect(), db.engine.connect()
        first_driver = first.connection.driver_connection
        second_driver = second.connection.driver_connection
        assert first_driver is not second_driver
        first.close()
        second.close()  # returned last
        for _ in range(3):  # one request after another keeps to it
            with db.write() as conn:
                assert conn.connection.driver_connection is second_driver
            with db.read() as conn:
                assert conn.connection.driver_connection is second_driver
    finally:
        db.dispose()
