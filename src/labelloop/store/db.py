"""Engines and transactions for SQLite (WAL, one writer at a time) and PostgreSQL.

Services get a `Connection` inside a transaction from `Database.write()` or `Database.read()`.
On SQLite a write transaction starts with BEGIN IMMEDIATE, so two writers never both read
and then race to write: the second waits (busy timeout) until the first commits. Reads use a
deferred BEGIN and see a consistent snapshot without blocking writers.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

from labelloop.store.prepared import PreparedConnection

T = TypeVar("T")
# PostgreSQL connections a process may open beyond its pool size, kept open like the rest.
PG_OVERFLOW = 32
# A pooled PostgreSQL connection idle longer than this is pinged before use.
PING_AFTER_IDLE_S = 5.0
_IDLE_SINCE = "labelloop_idle_since"
_WITH_COMMIT = "labelloop_with_commit"


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def create_db_engine(url: str, *, pool_size: int = 8) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=pool_size,
            max_overflow=64,
            # Last in, first out: a connection's page cache stays valid only while no other
            # connection writes, so the one that wrote last is the one worth handing out again.
            pool_use_lifo=True,
        )
        _configure_sqlite(engine)
        # Repeated Core statements straight to the driver (store/prepared.py).
        engine._connection_cls = PreparedConnection
        return engine
    # Every connection is kept once opened, up to `pool_size` + PG_OVERFLOW: opening one forks a
    # PostgreSQL backend, which costs more than the request that needed it, and a pool that
    # closed its overflow on return did that many times a second under load. Last in, first
    # out: the connections a quiet hour needs stay warm, the rest stay idle (and unpinged).
    engine = create_engine(
        url,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        pool_size=pool_size + PG_OVERFLOW,
        max_overflow=0,
        pool_use_lifo=True,
    )
    _ping_when_idle(engine)
    _commit_in_one_round_trip(engine)
    engine._connection_cls = PreparedConnection  # as on SQLite: psycopg takes the plans' named parameters
    return engine


def send_with_commit(conn: Connection, sql: str, params: tuple[Any, ...]) -> None:
    """PostgreSQL: run `sql` (the driver's own parameter style) as this transaction's last
    statement, sent with its COMMIT in one round trip; dropped if the transaction rolls back.

    For a statement whose locks would otherwise be held from its own round trip to the
    commit's (the audit chain's head, services/audit/chain.py). It must raise, not return
    nothing, when it cannot do its work: its result is never read."""
    if conn.dialect.name != "postgresql":  # only PostgreSQL engines send it (create_db_engine)
        raise ValueError(f"send_with_commit needs PostgreSQL, not {conn.dialect.name}")
    conn.info.setdefault(_WITH_COMMIT, []).append((sql, params))


def _commit_in_one_round_trip(engine: Engine) -> None:
    plain_commit = engine.dialect.do_commit

    def do_commit(dbapi_conn: Any) -> None:
        pending = dbapi_conn.info.pop(_WITH_COMMIT, None)
        if not pending:
            plain_commit(dbapi_conn)
            return
        driver = dbapi_conn.driver_connection
        # One pipeline, one sync: the statements and a COMMIT of its own (the driver's commit()
        # would sync once more); an error in a statement skips the COMMIT and is raised here,
        # and the caller's transaction rolls back as on any error.
        cur = driver.cursor()
        try:
            with driver.pipeline():
                for sql, params in pending:
                    cur.execute(sql, params)
                cur.execute("COMMIT")
        finally:
            cur.close()

    # SQLAlchemy calls the dialect's do_commit inside its error handling (DBAPI errors come
    # out as its own, disconnects invalidate the connection), which a commit event would not.
    engine.dialect.do_commit = do_commit  # type: ignore[method-assign, assignment]

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Connection) -> None:
        if not conn.invalidated:  # an invalidated connection's info is cleared with it
            conn.info.pop(_WITH_COMMIT, None)


def _ping_when_idle(engine: Engine) -> None:
    """Check a connection before use only when it has been idle a while: a connection back from
    a request a moment ago is alive, and pinging it (SQLAlchemy's pool_pre_ping) would cost a
    round trip per request; one left idle may have been cut (a database restart, a firewall)."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as e:
            # The pool discards this connection and checks out (or opens) another.
            raise DisconnectionError(f"a pooled connection idle for {time.monotonic() - since:.0f}s "
                                     f"is gone: {e}") from e


# SQLite's automatic checkpoint, in pages of write-ahead log (SQLite's default is 1,000). A commit
# that takes the log past it copies the log into the database file: a page written by many commits
# is copied once per checkpoint, so fewer, larger checkpoints copy the hot pages (the queue's index,
# the audit chain's head) less often. The annotator's cycle spent about 6% less CPU with 8,192 than
# with 1,000 (in process, alternating blocks of cycles); the log grows to about 32 MiB.
CHECKPOINT_PAGES = 8192
# The page cache per connection (KiB): SQLite's default, and what a bulk write (an import's batch) has.
CACHE_KIB = 2000
BULK_CACHE_KIB = 32768
_BEGIN = {"IMMEDIATE": "BEGIN IMMEDIATE", "DEFERRED": "BEGIN DEFERRED"}


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite would defer it).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
        # The default 2 MiB page cache per connection: the OS caches the file anyway, and a
        # larger one makes a long export's memory grow with the project.
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("labelloop_begin", "IMMEDIATE")
        begin = _BEGIN.get(mode) or f"BEGIN {mode}"
        if conn.dispatch.before_cursor_execute:  # someone records statements: let them see it
            conn.exec_driver_sql(begin)
            return
        try:  # straight to the driver: SQLAlchemy's statement machinery costs more than BEGIN
            conn.connection.driver_connection.execute(begin)  # type: ignore[union-attr]
        except conn.dialect.loaded_dbapi.Error as e:
            raise DBAPIError.instance(begin, (), e, conn.dialect.loaded_dbapi.Error,
                                      dialect=conn.dialect) from e


def _is_transient(err: DBAPIError) -> bool:
    """Lock timeouts, deadlocks and serialization failures: safe to retry the whole transaction."""
    code = getattr(err.orig, "sqlstate", None)
    if code in {"40001", "40P01", "55P03"}:
        return True
    return isinstance(err, OperationalError) and "database is locked" in str(err.orig)


class Database:
    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = url
        self.engine = create_db_engine(url, pool_size=pool_size)
        self.dialect = self.engine.dialect.name
        # SQLite admits one writer at a time. Threads of this process queue on a lock and wake
        # the moment it is free, instead of in SQLite's busy handler, which sleeps in growing
        # steps and lets a writer starve for seconds under load. Other processes still wait
        # on SQLite's own lock (BEGIN IMMEDIATE).
        self._write_lock: threading.RLock | None = threading.RLock() if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def write(self, *, bulk: bool = False) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any error.

        `bulk` (an import's batches): on SQLite the transaction has a page cache of BULK_CACHE_KIB.
        A batch rewrites pages all over an index whose keys come in no order (content hashes, for
        records without ids): in the default 2 MiB cache it evicted and read back its own pages.
        The cache is SQLite's default again when the transaction ends (it gives its pages back);
        `checkpoint()` brings the log in once the import is done."""
        if self._write_lock is None:
            with self.engine.connect() as conn, conn.begin():
                yield conn
            return
        with self._write_lock, self.engine.connect() as conn:
            if not bulk:
                with conn.begin():
                    yield conn
                return
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
            try:
                with conn.begin():
                    yield conn
            finally:
                driver.execute(f"PRAGMA cache_size=-{CACHE_KIB}")

    def checkpoint(self) -> None:
        """SQLite: copy the write-ahead log into the database now, as far as readers allow, without
        waiting for anyone (PASSIVE): after a bulk write, so that the next small commit does not
        pay for it. Nothing on PostgreSQL."""
        if not self.is_sqlite:
            return
        with self.engine.connect() as conn:
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    @contextmanager
    def read(self, *, snapshot: bool = False) -> Iterator[Connection]:
        """A read transaction that never takes SQLite's write lock.

        `snapshot=True` makes every statement see the same data on PostgreSQL too (REPEATABLE
        READ), for reads that span many statements such as an export; SQLite always does.
        """
        with self.engine.connect() as conn:
            conn.execution_options(labelloop_begin="DEFERRED")
            if snapshot and not self.is_sqlite:
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def run(self, fn: Callable[[Connection], T], *, attempts: int = 5, bulk: bool = False) -> T:
        """`fn` in a write transaction (`bulk`: see `write`), retried whole on a transient conflict."""
        for attempt in range(attempts):
            try:
                with self.write(bulk=bulk) as conn:
                    return fn(conn)
            except DBAPIError as e:
                if attempt == attempts - 1 or not _is_transient(e):
                    raise
                time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()
