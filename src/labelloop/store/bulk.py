"""Bulk writes for imports, the one place that bypasses SQLAlchemy's per-row processing.

On SQLite, SQLAlchemy's parameter handling costs more than the insert itself (about 60% of
an import), so rows go to the driver's executemany as plain tuples, with JSON already
encoded and datetimes in the exact text form SQLAlchemy stores. PostgreSQL keeps the
regular path (its driver needs typed JSON parameters).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import orjson
from sqlalchemy import Connection

from labelloop.store.models import KEYRING_ATTR, items

ITEM_COLUMNS = (
    "project_id", "external_id", "content_hash", "data", "meta", "priority", "needed",
    "reserved", "answer_count", "is_open", "gold", "import_job_id", "staged", "created_at",
)
_JSON = ("data", "meta", "gold")
_SQLITE_INSERT = (
    f"INSERT INTO items ({', '.join(ITEM_COLUMNS)}) VALUES ({', '.join('?' for _ in ITEM_COLUMNS)})"
)


def insert_items(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert item rows (dicts with every column of ITEM_COLUMNS)."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(items.insert(), rows)
        return
    # SQLAlchemy stores SQLite datetimes as naive UTC text: 'YYYY-MM-DD HH:MM:SS.ffffff'.
    created = rows[0]["created_at"].astimezone(UTC).replace(tzinfo=None).isoformat(
        sep=" ", timespec="microseconds"
    )
    dumps = orjson.dumps
    keyring = getattr(conn.dialect, KEYRING_ATTR, None)  # encryption at rest (store/crypto.py)
    seal: Any = (lambda d: d) if keyring is None else (lambda d: keyring.seal_json(d, purpose="items.data"))
    tuples = [
        (
            r["project_id"], r["external_id"], r["content_hash"], dumps(seal(r["data"])).decode(),
            dumps(r["meta"]).decode(), r["priority"], r["needed"], r["reserved"],
            r["answer_count"], int(r["is_open"]),
            None if r["gold"] is None else dumps(r["gold"]).decode(),
            r["import_job_id"], int(r["staged"]), created,
        )
        for r in rows
    ]
    conn.exec_driver_sql(_SQLITE_INSERT, tuples)
