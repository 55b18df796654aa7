"""The prepared path (store/prepared.py) gives what SQLAlchemy's own execution gives: the same rows
with the same Python types, rowcounts, errors as SQLAlchemy raises them, and every statement to
anyone who listens for them. On a SQLite file of each test's own, and on the PostgreSQL server
when the suite runs on one (a table of the test's own there)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Float,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError

from labelloop.store.db import Database
from labelloop.store.models import BigId, JSONType, NullableJSON, UTCDateTime
from labelloop.store.prepared import PreparedResult
from tests.platform.conftest import PG_URL

meta = MetaData()
things = Table(
    "things", meta,
    Column("id", BigId, primary_key=True),
    Column("name", String(50), unique=True, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("doc", JSONType, nullable=False),
    Column("extra", NullableJSON),
    Column("flag", Boolean, nullable=False),
    Column("score", Float),
)
BY_ID = select(things).where(things.c.id == bindparam("id"))
ADD = insert(things).returning(things.c.id, things.c.at, things.c.doc)
PLAIN_ADD = insert(things)
RENAME = update(things).where(things.c.flag.is_(True)).values(name=things.c.name + bindparam("suffix"))
BUMP = (update(things).where(things.c.id == bindparam("tid")).values(score=things.c.score + 1)
        .returning(things.c.score, things.c.flag))
AT = datetime(2026, 11, 30, 8, 30, 1, 123456, tzinfo=UTC)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'prepared.db'}")
    meta.create_all(database.engine)
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite"] + (["postgresql"] if PG_URL else []))
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'prepared.db'}" if request.param == "sqlite" else str(PG_URL))
    meta.drop_all(database.engine)
    meta.create_all(database.engine)
    yield database
    meta.drop_all(database.engine)
    database.dispose()


def _row(i: int, **over: Any) -> dict[str, Any]:
    return {"name": f"n{i}", "at": AT, "doc": {"k": [i, "é", None]}, "extra": None, "flag": i % 2 == 0,
            "score": 0.5, **over}


def _twice(db: Database, stmt: Any, params: dict[str, Any]) -> tuple[Any, Any]:
    """The statement run by SQLAlchemy (a per-call option takes its path) and then prepared."""
    with db.write() as conn:
        plain = conn.execute(stmt, params, execution_options={"labelloop_any": 1})
        plain_rows = plain.all() if plain.returns_rows else None
        plain_count = plain.rowcount
        conn.execute(stmt, params)  # seen once: SQLAlchemy's path, planned from now on
        prepared = conn.execute(stmt, params)
        assert isinstance(prepared, PreparedResult)
        return (plain_rows, plain_count), (prepared.all() if plain_rows is not None else None,
                                           prepared.rowcount)


def test_rows_types_and_rowcounts_are_sqlalchemys(db: Database) -> None:
    with db.write() as conn:
        for i in range(3):
            conn.execute(PLAIN_ADD, _row(i))
    (rows, _), (again, _) = _twice(db, BY_ID, {"id": 1})
    assert rows == again and len(again) == 1
    got = again[0]
    assert got.at == AT and got.at.tzinfo is not None  # UTCDateTime: aware, microseconds kept
    assert got.doc == {"k": [0, "é", None]} and got.extra is None and got.flag is True and got.score == 0.5
    assert got._mapping["name"] == "n0" and tuple(got) == tuple(rows[0])

    (_, count), (_, count_again) = _twice(db, RENAME, {"suffix": "x"})
    assert count == count_again == 2  # rows 1 and 3 (flag true) each time

    (bumped, _), (bumped_again, _) = _twice(db, BUMP, {"tid": 2})
    assert [tuple(r) for r in bumped] == [(1.5, False)] and [tuple(r) for r in bumped_again] == [(3.5, False)]

    with db.write() as conn:
        for i in range(3, 6):
            r = conn.execute(ADD, _row(i)).one()
            assert (r.id, r.at, r.doc) == (i + 1, AT, {"k": [i, "é", None]})
        assert isinstance(conn.execute(ADD, _row(9)), PreparedResult)
        assert conn.execute(select(things.c.name).where(things.c.id == 4)).scalar_one() == "n3"


def test_errors_reach_callers_as_sqlalchemy_raises_them(db: Database) -> None:
    with db.write() as conn:
        for i in range(2):
            conn.execute(ADD, _row(i))
    with pytest.raises(IntegrityError), db.write() as conn:
        conn.execute(ADD, _row(1))  # planned by now: the driver's error, wrapped
    with db.read() as conn:  # the failed transaction left nothing
        assert len(conn.execute(select(things.c.id)).all()) == 2
    with db.write() as conn:
        conn.execute(BY_ID, {"id": 1})
        conn.execute(BY_ID, {"id": 1})
        with pytest.raises(StatementError, match="id"):  # a required value left out
            conn.execute(BY_ID, {})


def test_a_locked_database_is_an_operational_error_that_run_retries(sqlite_db: Database, tmp_path: Path) -> None:
    db = sqlite_db
    other = Database(f"sqlite:///{tmp_path / 'prepared.db'}")
    try:
        with db.write() as conn:
            conn.execute(ADD, _row(0))
            conn.execute(ADD, _row(1))
        with other.engine.connect() as blocker:
            driver = blocker.connection.driver_connection
            assert driver is not None
            driver.execute("PRAGMA busy_timeout=0")
            driver.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            try:
                with db.engine.connect() as conn:
                    conn.connection.driver_connection.execute("PRAGMA busy_timeout=0")  # type: ignore[union-attr]
                    with pytest.raises(OperationalError, match="database is locked"), conn.begin():
                        pass
            finally:
                driver.execute("ROLLBACK")
    finally:
        other.dispose()


def test_whoever_listens_for_statements_sees_every_one(db: Database) -> None:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split()[0])

    with db.write() as conn:
        for i in range(3):
            conn.execute(ADD, _row(i))
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with db.write() as conn:
            for _ in range(3):
                assert not isinstance(conn.execute(BY_ID, {"id": 1}), PreparedResult)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    # SQLite's BEGIN is a statement of the engine's; psycopg opens the transaction itself
    assert seen == (["BEGIN"] if db.is_sqlite else []) + ["SELECT", "SELECT", "SELECT"]
