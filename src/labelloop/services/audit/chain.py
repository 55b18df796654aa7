"""Appending to the audit log: one hash-chained entry per event, in the event's own transaction.

Each entry's hash is SHA-256 over a canonical serialisation of its fields and of the previous
entry's hash (docs/audit.md, "Hash format"):

    hash_n = SHA-256( JSON_sorted({seq, at, actor_id, actor_name, action, project_id,
                                   object_type, object_id, details, prev_hash = hash_{n-1}}) )

with hash_0 = 64 zeros. Changing, removing, inserting or reordering entries therefore breaks the
chain at that place unless every later hash is recomputed too, which an anchor (a head kept
elsewhere) then exposes. This is the linked-timestamping construction of Haber and Stornetta
("How to time-stamp a digital document", J. Cryptology 3(2), 1991).

Concurrency: the sequence number and the previous hash come from the one row of `audit_head`,
read and updated in the writer's transaction. On PostgreSQL it is read FOR UPDATE, which takes
that row's lock, so a second writer waits until the first commits (or rolls back) and then reads
its head; on SQLite write transactions run one at a time anyway (BEGIN IMMEDIATE). `seq` is the
primary key, so even a bug elsewhere could not write two entries with one number.

Cost: on SQLite three short statements in process. On PostgreSQL one statement, one round trip:
the database itself takes the head, hashes and appends (`_PG_APPEND_NOW`). That works because `seq`
and `prev_hash` sort last in the canonical JSON, so the hashed bytes are `before + prev_hash +
after + seq + "}"` with `before` and `after` known to the writer (`_around_link`); the hash is the
same SHA-256 over the same bytes, checked by the same `verify`. The head's lock is held from that
statement to the commit, which serialises every writer: on the hot path (`at_commit`) the
statement goes with the COMMIT in one round trip (bench/core.py measures the cost as
`audit_overhead_ms_per_cycle`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from labelloop.services.policy import Actor
from labelloop.store.db import send_with_commit
from labelloop.store.models import audit_head, audit_log, utcnow

GENESIS = "0" * 64
HEAD_ID = 1
# An engine or connection execution option: False turns the log off (LABELLOOP_AUDIT_LOG=false).
ENABLED_OPTION = "labelloop_audit"


_COLUMNS = ("seq, at, actor_id, actor_name, action, project_id, object_type, object_id, details, "
            "prev_hash, hash")
# SQLite, in the driver's parameter style. The transaction already holds SQLite's write lock
# (BEGIN IMMEDIATE): a plain read of the head will do.
_SQLITE_READ_HEAD = f"SELECT seq + 1, hash FROM audit_head WHERE id = {HEAD_ID}"
_SQLITE_INSERT = f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_SQLITE_MOVE_HEAD = f"UPDATE audit_head SET seq = ?, hash = ? WHERE id = {HEAD_ID}"
# PostgreSQL: lock the head (FOR UPDATE: a second writer waits here until the first commits, then
# gets the row as committed), hash the entry onto it, move it, append. Parameters: the hashed
# bytes before the previous hash, the text between it and the seq, then the entry's fields from
# `at` to `details`.
_PG_APPEND = f"""
WITH head AS (
    SELECT seq + 1 AS seq, hash AS prev FROM audit_head WHERE id = {HEAD_ID} FOR UPDATE
), moved AS (
    UPDATE audit_head
    SET seq = head.seq,
        hash = encode(sha256(
            %s::bytea || convert_to(head.prev || %s::text || head.seq::text || '}}', 'UTF8')), 'hex')
    FROM head WHERE audit_head.id = {HEAD_ID}
    RETURNING audit_head.seq, audit_head.hash, head.prev
)
INSERT INTO audit_log ({_COLUMNS})
SELECT moved.seq, %s::timestamptz, %s::bigint, %s::text, %s::text, %s::bigint, %s::text, %s::text,
       %s::jsonb, moved.prev, moved.hash
"""
_PG_APPEND_NOW = _PG_APPEND + "FROM moved RETURNING seq, hash"
# Sent with the COMMIT, its result unread: without a head it must fail, not append nothing, so
# it appends a row without a seq, which the primary key refuses (and the action rolls back).
_PG_APPEND_AT_COMMIT = _PG_APPEND + "FROM (SELECT 1) AS one LEFT JOIN moved ON true"
_HEAD_CHECKED = "labelloop_audit_head_checked"
_LAST = select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)


def format_time(at: datetime) -> str:
    """The time as hashed: UTC, microseconds, `Z` (`2026-11-29T22:30:00.123456Z`)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: dict[str, Any], details: bytes | None = None) -> bytes:
    """The bytes an entry's hash is taken over: its fields as JSON, keys sorted at every level,
    no whitespace, UTF-8 (orjson). `details` may be given already serialised the same way."""
    body = {
        "seq": fields["seq"],
        "at": format_time(fields["at"]),
        "actor_id": fields["actor_id"],
        "actor_name": fields["actor_name"],
        "action": fields["action"],
        "project_id": fields["project_id"],
        "object_type": fields["object_type"],
        "object_id": fields["object_id"],
        "details": orjson.Fragment(details) if details is not None else fields["details"],
        "prev_hash": fields["prev_hash"],
    }
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def entry_hash(fields: dict[str, Any], details: bytes | None = None) -> str:
    return hashlib.sha256(canonical(fields, details)).hexdigest()


_PREV_KEY = b'"prev_hash":"'


def _around_link(fields: dict[str, Any], details: bytes) -> tuple[bytes, str]:
    """(before, after) such that canonical(fields) == before + prev_hash + after + seq + "}" for
    any `prev_hash` (64 hex digits) and `seq`: the keys sort as ..., prev_hash, project_id, seq."""
    after = b'","project_id":' + orjson.dumps(fields["project_id"]) + b',"seq":'
    body = canonical({**fields, "seq": 0, "prev_hash": ""}, details)
    tail = _PREV_KEY + after + b"0}"
    if not body.endswith(tail):  # only a change of the hashed fields could do this
        raise AssertionError(f"the canonical entry does not end with prev_hash, project_id, seq: {body!r}")
    return body[: len(body) - len(tail) + len(_PREV_KEY)], after.decode()


def enabled(conn: Connection) -> bool:
    return bool(conn.get_execution_options().get(ENABLED_OPTION, True))


@dataclass(frozen=True)
class Recorded:
    seq: int
    hash: str


def _init_head(conn: Connection) -> bool:
    """Recreate the head row from the last entry (a fresh or emptied database has none); whether
    it was missing."""
    last = conn.execute(_LAST).first()
    values = {"id": HEAD_ID, "seq": last.seq if last else 0, "hash": last.hash if last else GENESIS}
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = (dialect_insert(audit_head).values(values).on_conflict_do_nothing(index_elements=["id"])
            .returning(audit_head.c.id))
    return conn.execute(stmt).first() is not None


def record(
    conn: Connection,
    actor: Actor | None,
    action: str,
    *,
    project_id: int | None = None,
    object_type: str | None = None,
    object_id: int | str | None = None,
    details: dict[str, Any] | None = None,
    actor_id: int | None = None,
    actor_name: str | None = None,
    at_commit: bool = False,
) -> Recorded | None:
    """Append one entry in the caller's transaction (it commits or rolls back with the action).

    `at_commit` (the annotators' hot path): on PostgreSQL the entry is appended with the COMMIT,
    in its round trip (store/db.py send_with_commit), so the chain's head is locked for no
    longer than the database takes to append and commit; returns None then.

    `actor` is who did it; `actor_id`/`actor_name` override it where there is no Actor yet
    (a sign-in). `details` holds JSON values (strings, integers, booleans, lists, objects; no
    floats, so that any JSON library re-serialises them identically). None when the log is off.
    """
    if not enabled(conn):
        return None
    at = utcnow()
    fields: dict[str, Any] = {
        "at": at,
        "actor_id": actor_id if actor_id is not None else (actor.user_id if actor else None),
        "actor_name": actor_name if actor_name is not None else (actor.username if actor else "(system)"),
        "action": action,
        "project_id": project_id,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
    }
    details_json = orjson.dumps(details or {}, option=orjson.OPT_SORT_KEYS)
    # Straight on the driver's connection (the same transaction): SQLAlchemy's per-statement
    # machinery costs several times what the database spends on these statements.
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name != "postgresql":
            return _append_sqlite(conn, cur, fields, details_json)
        before, after = _around_link(fields, details_json)
        params = (before, after, fields["at"], fields["actor_id"], fields["actor_name"], fields["action"],
                  fields["project_id"], fields["object_type"], fields["object_id"], details_json.decode())
        if not at_commit:
            return _append_pg(conn, cur, params)
        # A fresh database has no head: checked until one is seen that this transaction did not
        # make (it could roll back), then never again on this connection.
        if not conn.info.get(_HEAD_CHECKED) and not _init_head(conn):
            conn.info[_HEAD_CHECKED] = True
        send_with_commit(conn, _PG_APPEND_AT_COMMIT, params)
        return None
    finally:
        cur.close()


def _append_pg(conn: Connection, cur: Any, params: tuple[Any, ...]) -> Recorded:
    cur.execute(_PG_APPEND_NOW, params)
    found = cur.fetchone()
    if found is None:  # no head row yet (a fresh or emptied database)
        _init_head(conn)
        cur.execute(_PG_APPEND_NOW, params)
        found = cur.fetchone()
    return Recorded(int(found[0]), str(found[1]))


def _append_sqlite(conn: Connection, cur: Any, fields: dict[str, Any], details_json: bytes) -> Recorded:
    cur.execute(_SQLITE_READ_HEAD)
    found = cur.fetchone()
    if found is None:
        _init_head(conn)
        cur.execute(_SQLITE_READ_HEAD)
        found = cur.fetchone()
    seq, prev_hash = int(found[0]), str(found[1])
    entry = {**fields, "seq": seq, "prev_hash": prev_hash}
    digest = entry_hash(entry, details_json)
    # SQLAlchemy's SQLite DateTime keeps naive UTC text with microseconds: the same here.
    at = fields["at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    cur.execute(_SQLITE_INSERT, (seq, at, entry["actor_id"], entry["actor_name"], entry["action"],
                                 entry["project_id"], entry["object_type"], entry["object_id"],
                                 details_json.decode(), prev_hash, digest))
    cur.execute(_SQLITE_MOVE_HEAD, (seq, digest))
    return Recorded(seq, digest)


def head(conn: Connection) -> tuple[int, str]:
    """The chain's head as `audit_head` records it: (seq, hash); (0, GENESIS) for an empty log."""
    row = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == HEAD_ID)).first()
    if row is None:
        last = conn.execute(_LAST).first()
        return (last.seq, last.hash) if last else (0, GENESIS)
    return int(row.seq), str(row.hash)


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())
