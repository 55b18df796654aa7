"""The annotator's hot path on PostgreSQL: statements per cycle, the audit append in one round trip
with the database hashing it exactly as documented, and a connection pool that keeps what it opens."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from labelloop.services.audit import GENESIS, record
from labelloop.services.audit.chain import _around_link, canonical, entry_hash
from labelloop.services.audit.verify import verify
from labelloop.services.policy import Actor
from labelloop.services.runtime import Runtime
from labelloop.store import db as db_module
from labelloop.store.db import PG_OVERFLOW, Database
from labelloop.store.models import audit_log
from tests.platform.conftest import PG_URL
from tests.platform.world import World

needs_pg = pytest.mark.skipif(not PG_URL, reason="PostgreSQL's round trips, backends and pool")
# Statements (not counting BEGIN and COMMIT) one next + submit may send, token and access checks
# included; bench/scale_cycles.py measures what they cost. Was 25 before the hot path was trimmed.
CYCLE_BUDGET = 17


@contextmanager
def driver_statements() -> Iterator[list[str]]:
    """Every statement sent through psycopg while the block runs (SQLAlchemy's and the audit
    log's own, which bypass SQLAlchemy), whitespace collapsed."""
    import psycopg

    seen: list[str] = []
    original = psycopg.Cursor.execute

    def execute(self: Any, query: Any, params: Any = None, **kw: Any) -> Any:
        seen.append(re.sub(r"\s+", " ", str(query)).strip())
        return original(self, query, params, **kw)

    psycopg.Cursor.execute = execute  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        psycopg.Cursor.execute = original  # type: ignore[method-assign]


@needs_pg
def test_a_cycle_costs_one_audit_append_per_request_and_one_store_statement(world: World) -> None:
    owner, ann = world.user("owner"), world.user("ann")
    pid = world.project(owner, members={"annotator": (ann,)})
    world.import_records(owner, pid, [{"text": f"t{i}"} for i in range(3)])
    first = world.next(ann, pid).json()["item_id"]  # warm: the audit head exists from here on
    assert world.submit(ann, pid, first, {"sentiment": "pos"}, key="k0").status_code == 201
    with driver_statements() as seen:
        r = world.next(ann, pid)
        assert r.status_code == 200
        assert world.submit(ann, pid, r.json()["item_id"], {"sentiment": "neg"}, key="k1").status_code == 201
    listing = "\n".join(seen)
    audit = [i for i, s in enumerate(seen) if "audit_head" in s]
    assert len(audit) == 2, listing  # task.serve, answer.submit: one statement each
    # ... each sent with its transaction's COMMIT (one pipeline: store/db.py send_with_commit)
    assert [seen[i + 1] for i in audit] == ["COMMIT", "COMMIT"], listing
    seen = [s for s in seen if s != "COMMIT"]
    writes = [s for s in seen if re.search(r"\b(INSERT INTO answers|UPDATE assignments)\b", s)]
    assert len(writes) == 1 and writes[0].startswith("WITH marked AS"), listing
    # The pick reserves its slot and returns the item: no separate read of the item's content.
    assert not [s for s in seen if s.startswith("SELECT items.external_id")], listing
    assert not [s for s in seen if s == ";"], listing  # no ping of a connection just returned
    assert len(seen) <= CYCLE_BUDGET, f"{len(seen)} statements:\n{listing}"


@needs_pg
def test_the_audit_append_is_one_round_trip(runtime: Runtime) -> None:
    alice = Actor(7, "alice")
    with runtime.db.write() as conn:
        record(conn, alice, "test.first")  # makes the head row
    with runtime.db.write() as conn, driver_statements() as seen:
        got = record(conn, alice, "test.second", details={"n": 1})
    assert got is not None and got.seq == 2
    assert len(seen) == 1, seen


def test_an_entry_for_the_commit_goes_with_a_rollback(runtime: Runtime) -> None:
    """`at_commit`: appended with the COMMIT on PostgreSQL (at once on SQLite); a transaction that
    rolls back takes its entry with it, and none is left over for the connection's next one."""
    alice = Actor(7, "alice")

    class Boom(Exception):
        pass

    with pytest.raises(Boom), runtime.db.write() as conn:
        record(conn, alice, "test.dropped", at_commit=True)
        raise Boom
    with runtime.db.write() as conn:
        record(conn, alice, "test.kept", at_commit=True)
    with runtime.db.write() as conn:
        record(conn, alice, "test.after", object_id=1)
    with runtime.db.read() as conn:
        rows = conn.execute(select(audit_log.c.seq, audit_log.c.action).order_by(audit_log.c.seq)).all()
        assert [tuple(r) for r in rows] == [(1, "test.kept"), (2, "test.after")]
        assert verify(conn).ok


@needs_pg
def test_an_entry_for_the_commit_without_a_head_fails_the_commit(runtime: Runtime) -> None:
    """Its result is never read, so a missing head must stop the commit, not drop the entry."""
    alice = Actor(7, "alice")
    for action in ("test.first", "test.then"):  # the second finds the head the first made
        with runtime.db.write() as conn:
            record(conn, alice, action, at_commit=True)
    with runtime.db.write() as conn:
        conn.execute(text("DELETE FROM audit_head"))
    with pytest.raises(IntegrityError, match="seq"), runtime.db.write() as conn:
        conn.execute(text("UPDATE audit_log SET actor_name = 'changed' WHERE seq = 1"))
        record(conn, alice, "test.second", at_commit=True)
    with runtime.db.read() as conn:  # rolled back, the action with it
        assert conn.execute(select(audit_log.c.actor_name)).scalars().all() == ["alice", "alice"]


# Fields whose canonical JSON has every awkward part: a `prev_hash` key and quotes inside the
# details, text that must be escaped, non-ASCII, nulls, and big numbers.
AWKWARD = [
    {"project_id": None, "object_type": None, "object_id": None, "details": {}},
    {"project_id": 2**62, "object_type": 'it"em', "object_id": "a\\b\n", "details": {
        "prev_hash": '","seq":1}', "é ✓": [1, None, True, {"z": "\u2028", "a": ""}]}},
    {"project_id": 0, "object_type": "item", "object_id": "42", "details": {"answer": -1}},
]


@pytest.mark.parametrize("fields", AWKWARD)
def test_the_database_hashes_entries_as_documented(runtime: Runtime, fields: dict[str, Any]) -> None:
    """On PostgreSQL the hash is taken in SQL: it must be the SHA-256 `verify` recomputes."""
    actor = Actor(3, 'mal"lory ✓')
    with runtime.db.write() as conn:
        record(conn, actor, "test.before")
    with runtime.db.write() as conn:
        got = record(conn, actor, "test.awkward", project_id=fields["project_id"],
                     object_type=fields["object_type"], object_id=fields["object_id"], details=fields["details"])
    assert got is not None
    with runtime.db.read() as conn:
        before, row = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(2)).all()[::-1]
        assert verify(conn).ok
    assert (row.seq, row.hash, row.prev_hash) == (got.seq, got.hash, before.hash)
    stored = {c: getattr(row, c) for c in ("seq", "at", "actor_id", "actor_name", "action", "project_id",
                                             "object_type", "object_id", "details", "prev_hash")}
    assert entry_hash(stored) == row.hash
    assert (row.actor_name, row.details) == ('mal"lory ✓', fields["details"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@given(
    project_id=st.none() | st.integers(0, 2**63 - 1),
    object_id=st.none() | st.text(max_size=20),
    actor_name=st.text(max_size=20),
    details=st.dictionaries(st.text(max_size=10), json_values, max_size=4),
    prev_hash=st.sampled_from([GENESIS, "ab" * 32]),
    seq=st.integers(1, 2**62),
)
def test_the_hashed_bytes_split_around_the_link(
    project_id: int | None, object_id: str | None, actor_name: str, details: dict[str, Any], prev_hash: str,
    seq: int,
) -> None:
    """What PostgreSQL is handed (`_around_link`) rebuilds the canonical bytes for any link."""
    from datetime import UTC, datetime

    fields = {"at": datetime(2026, 11, 30, 5, 0, 1, 123456, tzinfo=UTC), "actor_id": 9, "actor_name": actor_name,
              "action": "answer.submit", "project_id": project_id, "object_type": "item", "object_id": object_id}
    details_json = orjson.dumps(details, option=orjson.OPT_SORT_KEYS)
    before, after = _around_link(fields, details_json)
    rebuilt = before + prev_hash.encode() + after.encode() + str(seq).encode() + b"}"
    assert rebuilt == canonical({**fields, "seq": seq, "prev_hash": prev_hash}, details_json)


@needs_pg
def test_the_pool_keeps_the_connections_it_opened(runtime: Runtime) -> None:
    """More requests at once than the pool's size: the connections opened for them stay open for
    the next burst (opening one forks a PostgreSQL backend)."""
    assert PG_URL is not None
    db = Database(PG_URL, pool_size=2)
    opened: list[int] = []
    event.listen(db.engine, "connect", lambda *_: opened.append(1))
    start = threading.Barrier(6)

    def burst() -> None:
        def one() -> None:
            start.wait()
            with db.write() as conn:
                conn.execute(text("SELECT pg_sleep(0.05)"))

        threads = [threading.Thread(target=one) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    try:
        burst()
        assert len(opened) == 6
        burst()
        assert len(opened) == 6  # none closed on return, none opened again
        assert db.engine.pool.size() == 2 + PG_OVERFLOW  # type: ignore[attr-defined]
    finally:
        db.dispose()


@needs_pg
@pytest.mark.parametrize("ping_after_s", [0.0, 3600.0])
def test_a_connection_cut_while_idle_is_replaced_after_a_ping(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, ping_after_s: float
) -> None:
    """Idle longer than PING_AFTER_IDLE_S: pinged, and replaced if the database cut it; a
    connection back from a request a moment ago is used without a ping."""
    assert PG_URL is not None
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_S", ping_after_s)
    db = Database(PG_URL, pool_size=1)
    killer = create_engine(PG_URL)
    try:
        with db.read() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with killer.connect() as k:
            assert k.execute(text("SELECT pg_terminate_backend(:p)"), {"p": first}).scalar_one() is True
        if ping_after_s > 0:  # not idle long enough to be pinged: the cut shows on first use
            with pytest.raises(DBAPIError), db.read() as conn:
                conn.execute(text("SELECT 1"))
            return
        with db.read() as conn:
            second = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert second != first
    finally:
        killer.dispose()
        db.dispose()
