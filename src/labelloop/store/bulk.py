"""Bulk writes for imports, the one place that bypasses SQLAlchemy's per-row processing.

SQLAlchemy's parameter handling costs more than the insert itself (about 60% of an import on
SQLite), so rows go to the driver as plain tuples with JSON already encoded: on SQLite through
the driver's executemany, with datetimes in the exact text form SQLAlchemy stores; on
PostgreSQL through COPY (store/pg_copy.py), which also spares a statement per row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

import orjson
from sqlalchemy import Connection

from labelloop.store.models import KEYRING_ATTR
from labelloop.store.pg_copy import copy_rows

ITEM_COLUMNS = (
    "project_id", "external_id", "content_hash", "data", "meta", "priority", "needed",
    "reserved", "answer_count", "is_open", "gold", "import_job_id", "staged", "created_at",
)
_SQLITE_INSERT = (
    f"INSERT INTO items ({', '.join(ITEM_COLUMNS)}) VALUES ({', '.join('?' for _ in ITEM_COLUMNS)})"
)
# Rows whose id is taken are left out, not refused: the importer checks their content afterwards.
_SQLITE_SKIPPING = _SQLITE_INSERT + " ON CONFLICT (project_id, external_id) DO NOTHING"


def insert_items(conn: Connection, rows: list[dict[str, Any]], *, skip_existing: bool = False) -> int:
    """Insert item rows (dicts with every column of ITEM_COLUMNS); how many were inserted.

    `skip_existing` (SQLite only: COPY has no such option): a row whose (project, external id)
    is taken is left out, as is a later row of the list with an id an earlier one took."""
    if not rows:
        return 0
    dumps = orjson.dumps
    keyring = getattr(conn.dialect, KEYRING_ATTR, None)  # encryption at rest (store/crypto.py)
    seal: Callable[[Any], Any] = (
        (lambda d: d) if keyring is None else (lambda d: keyring.seal_json(d, purpose="items.data"))
    )
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        # SQLAlchemy stores SQLite datetimes as naive UTC text: 'YYYY-MM-DD HH:MM:SS.ffffff'.
        created: Any = rows[0]["created_at"].astimezone(UTC).replace(tzinfo=None).isoformat(
            sep=" ", timespec="microseconds"
        )
    else:
        created = rows[0]["created_at"]
    tuples = [
        (
            r["project_id"], r["external_id"], r["content_hash"], dumps(seal(r["data"])).decode(),
            dumps(r["meta"]).decode(), r["priority"], r["needed"], r["reserved"],
            r["answer_count"], int(r["is_open"]) if sqlite else bool(r["is_open"]),
            None if r["gold"] is None else dumps(r["gold"]).decode(),
            r["import_job_id"], int(r["staged"]) if sqlite else bool(r["staged"]), created,
        )
        for r in rows
    ]
    if sqlite:
        statement = _SQLITE_SKIPPING if skip_existing else _SQLITE_INSERT
        return int(conn.exec_driver_sql(statement, tuples).rowcount)
    if skip_existing:
        raise ValueError("skip_existing is for SQLite: COPY cannot skip a row")
    copy_rows(conn, "items", ITEM_COLUMNS, tuples)
    return len(tuples)
