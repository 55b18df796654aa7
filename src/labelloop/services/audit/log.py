"""Reading the audit log: filtered pages for the console and the API, and exports for an auditor."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, select

from labelloop.errors import Invalid, Problem
from labelloop.services.audit.chain import format_time
from labelloop.services.audit.verify import Report, verify
from labelloop.services.policy import Actor, audit_access
from labelloop.store.db import Database
from labelloop.store.models import audit_log

EXPORT_BATCH = 5000
FORMATS = ("jsonl", "csv")
COLUMNS = ("seq", "at", "actor_id", "actor_name", "action", "project_id", "object_type", "object_id",
           "details", "prev_hash", "hash")


@dataclass(frozen=True)
class AuditFilter:
    project_id: int | None = None
    actor: str | None = None  # a username, as recorded
    action: str | None = None  # an action (`answer.submit`) or its family (`answer`)
    since: datetime | None = None
    until: datetime | None = None
    object_type: str | None = None
    object_id: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    project_id: int | None
    object_type: str | None
    object_id: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(row.seq, row.at, row.actor_id, row.actor_name, row.action, row.project_id,
                      row.object_type, row.object_id, row.details, row.prev_hash, row.hash)


def _where(stmt: Any, f: AuditFilter) -> Any:
    c = audit_log.c
    if f.since is not None and f.until is not None and f.since > f.until:
        raise Invalid("the time range is empty", [Problem("'since' is after 'until'", field="since")])
    if f.project_id is not None:
        stmt = stmt.where(c.project_id == f.project_id)
    if f.actor:
        stmt = stmt.where(c.actor_name == f.actor)
    if f.action:
        stmt = stmt.where((c.action == f.action) | c.action.startswith(f.action + ".", autoescape=True))
    if f.since is not None:
        stmt = stmt.where(c.at >= f.since)
    if f.until is not None:
        stmt = stmt.where(c.at < f.until)
    if f.object_type:
        stmt = stmt.where(c.object_type == f.object_type)
    if f.object_id:
        stmt = stmt.where(c.object_id == f.object_id)
    return stmt


def list_entries(
    conn: Connection, actor: Actor, f: AuditFilter, *, before: int | None = None, limit: int = 100,
) -> list[AuditEntry]:
    """Entries matching `f`, newest first; `before` (a seq) pages back. Admins see every entry,
    a project's managers that project's (services/policy.audit_access)."""
    audit_access(conn, actor, f.project_id)
    stmt = _where(select(audit_log), f)
    if before is not None:
        stmt = stmt.where(audit_log.c.seq < before)
    rows = conn.execute(stmt.order_by(audit_log.c.seq.desc()).limit(limit)).all()
    return [_entry(r) for r in rows]


def verify_log(conn: Connection, actor: Actor, project_id: int | None = None,
               anchor: dict[str, Any] | None = None) -> Report:
    """The whole chain checked; anyone who may read some of the log may see whether it holds."""
    audit_access(conn, actor, project_id)
    return verify(conn, anchor)


def _row_dict(row: Any) -> dict[str, Any]:
    return {k: (format_time(row.at) if k == "at" else getattr(row, k)) for k in COLUMNS}


def export_entries(db: Database, actor: Actor, f: AuditFilter, fmt: str = "jsonl") -> Iterator[bytes]:
    """The matching entries, oldest first, as JSONL or CSV (with hashes, to re-check the chain).

    Read in one snapshot, in batches, so memory stays flat in the size of the log."""
    if fmt not in FORMATS:
        raise Invalid("unknown format", [Problem(f"one of {', '.join(FORMATS)}", field="format")])
    with db.read() as conn:
        audit_access(conn, actor, f.project_id)
    return _export(db, f, fmt)


def _export(db: Database, f: AuditFilter, fmt: str) -> Iterator[bytes]:
    with db.read(snapshot=True) as conn:
        if fmt == "csv":
            yield (",".join(COLUMNS) + "\r\n").encode()
        after = 0
        while True:
            stmt = _where(select(audit_log), f).where(audit_log.c.seq > after)
            rows = conn.execute(stmt.order_by(audit_log.c.seq).limit(EXPORT_BATCH)).all()
            if not rows:
                return
            if fmt == "jsonl":
                yield b"".join(orjson.dumps(_row_dict(r), option=orjson.OPT_SORT_KEYS) + b"\n" for r in rows)
            else:
                buf = io.StringIO()
                w = csv.writer(buf, lineterminator="\r\n")
                for r in rows:
                    d = _row_dict(r)
                    d["details"] = orjson.dumps(d["details"], option=orjson.OPT_SORT_KEYS).decode()
                    w.writerow(["" if d[k] is None else d[k] for k in COLUMNS])
                yield buf.getvalue().encode()
            after = rows[-1].seq
