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
primary key, so even a bug elsewhere could not write two entries with one number. The cost is
three short statements per event, two round trips on PostgreSQL (bench/core.py measures it as
`audit_overhead_ms_per_cycle`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from labelloop.services.policy import Actor
from labelloop.store.models import audit_head, audit_log, utcnow

GENESIS = "0" * 64
HEAD_ID = 1
# An engine or connection execution option: False turns the log off (LABELLOOP_AUDIT_LOG=false).
ENABLED_OPTION = "labelloop_audit"


@dataclass(frozen=True)
class _Dialect:
    """The append's statements in the driver's own parameter style: read (and lock) the head,
    insert the entry, move the head; `move_head` None when `insert` moves it too (its last two
    parameters, the new seq and hash)."""

    read_head: str
    insert: str
    move_head: str | None
    time: Callable[[datetime], Any]


_COLUMNS = ("seq, at, actor_id, actor_name, action, project_id, object_type, object_id, details, "
            "prev_hash, hash")
_READ_HEAD = f"SELECT seq + 1, hash FROM audit_head WHERE id = {HEAD_ID}"
_MOVE_HEAD = f"UPDATE audit_head SET seq = {{p}}, hash = {{p}} WHERE id = {HEAD_ID}"
_SQL = {
    # SQLAlchemy's SQLite DateTime keeps naive UTC text with microseconds: the same here.
    # The transaction already holds SQLite's write lock (BEGIN IMMEDIATE): a plain read will do.
    "sqlite": _Dialect(
        _READ_HEAD,
        f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        _MOVE_HEAD.format(p="?"),
        lambda at: at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
    ),
    # One round trip fewer: the insert and the head's new hash in one statement.
    # FOR UPDATE: a second writer waits here until the first commits, then reads its head.
    "postgresql": _Dialect(
        _READ_HEAD + " FOR UPDATE",
        f"WITH appended AS (INSERT INTO audit_log ({_COLUMNS}) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)) " + _MOVE_HEAD.format(p="%s"),
        None,
        lambda at: at,
    ),
}
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


def enabled(conn: Connection) -> bool:
    return bool(conn.get_execution_options().get(ENABLED_OPTION, True))


@dataclass(frozen=True)
class Recorded:
    seq: int
    hash: str


def _init_head(conn: Connection) -> None:
    """Recreate the head row from the last entry (a fresh or emptied database has none)."""
    last = conn.execute(_LAST).first()
    values = {"id": HEAD_ID, "seq": last.seq if last else 0, "hash": last.hash if last else GENESIS}
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(dialect_insert(audit_head).values(values).on_conflict_do_nothing(index_elements=["id"]))


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
) -> Recorded | None:
    """Append one entry in the caller's transaction (it commits or rolls back with the action).

    `actor` is who did it; `actor_id`/`actor_name` override it where there is no Actor yet
    (a sign-in). `details` holds JSON values (strings, integers, booleans, lists, objects; no
    floats, so that any JSON library re-serialises them identically). None when the log is off.
    """
    if not enabled(conn):
        return None
    # Straight on the driver's connection (the same transaction): SQLAlchemy's per-statement
    # machinery costs several times what SQLite spends on these three statements.
    sql = _SQL[conn.dialect.name]
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.execute(sql.read_head)
        found = cur.fetchone()
        if found is None:
            _init_head(conn)
            cur.execute(sql.read_head)
            found = cur.fetchone()
        seq, prev_hash = int(found[0]), str(found[1])
        at = utcnow()
        fields: dict[str, Any] = {
            "seq": seq,
            "at": at,
            "actor_id": actor_id if actor_id is not None else (actor.user_id if actor else None),
            "actor_name": actor_name if actor_name is not None else (actor.username if actor else "(system)"),
            "action": action,
            "project_id": project_id,
            "object_type": object_type,
            "object_id": None if object_id is None else str(object_id),
            "prev_hash": prev_hash,
        }
        details_json = orjson.dumps(details or {}, option=orjson.OPT_SORT_KEYS)
        digest = entry_hash(fields, details_json)
        row = (seq, sql.time(at), fields["actor_id"], fields["actor_name"], action, project_id,
               object_type, fields["object_id"], details_json.decode(), prev_hash, digest)
        if sql.move_head is None:
            cur.execute(sql.insert, (*row, seq, digest))
        else:
            cur.execute(sql.insert, row)
            cur.execute(sql.move_head, (seq, digest))
    finally:
        cur.close()
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
