"""Bulk writes for imports, the one place that bypasses SQLAlchemy's per-row processing.

SQLAlchemy's parameter handling costs more than the insert itself (about 60% of an import on
SQLite), so rows go to the driver with JSON already encoded: on SQLite as plain tuples through
the driver's executemany, with datetimes in the exact text form SQLAlchemy stores; on PostgreSQL
through COPY (store/pg_copy.py), which also spares a statement per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import Connection

from labelloop.store.models import KEYRING_ATTR
from labelloop.store.pg_copy import copy_text, escaped, escaped_json

ITEM_COLUMNS = (
    "project_id", "external_id", "content_hash", "data", "meta", "priority", "needed",
    "reserved", "answer_count", "is_open", "gold", "import_job_id", "staged", "created_at",
)
_SQLITE_INSERT = (
    f"INSERT INTO items ({', '.join(ITEM_COLUMNS)}) VALUES ({', '.join('?' for _ in ITEM_COLUMNS)})"
)
# Rows whose id is taken are left out, not refused: the importer checks their content afterwards.
_SQLITE_SKIPPING = _SQLITE_INSERT + " ON CONFLICT (project_id, external_id) DO NOTHING"


class NewItem(Protocol):
    """What an imported item brings (services/importing/records.py's ItemRow)."""

    external_id: str
    content_hash: str
    data: dict[str, Any]
    canonical: bytes  # `data` as JSON with sorted keys (what content_hash hashes)
    meta: dict[str, Any]
    priority: float
    gold: dict[str, Any] | None


@dataclass(frozen=True)
class ItemBatch:
    """What the rows of one import have in common."""

    project_id: int
    import_job_id: int
    needed: int
    created_at: datetime
    staged: bool  # in no queue, list or export until published (services/importing/writer.py)


def insert_items(
    conn: Connection, batch: ItemBatch, rows: Sequence[NewItem], *, skip_existing: bool = False
) -> int:
    """Insert item rows; how many were inserted. A row is open (in the queue) when it is not
    staged, not gold, and needs an answer.

    `skip_existing` (SQLite only: COPY has no such option): a row whose (project, external id)
    is taken is left out, as is a later row of the list with an id an earlier one took."""
    if not rows:
        return 0
    seal = sealer(conn.dialect)  # encryption at rest
    if conn.dialect.name != "sqlite":
        if skip_existing:
            raise ValueError("skip_existing is for SQLite: COPY cannot skip a row")
        return _copy_items(conn, batch, rows, seal)
    dumps = orjson.dumps
    # SQLAlchemy stores SQLite datetimes as naive UTC text: 'YYYY-MM-DD HH:MM:SS.ffffff'.
    created = batch.created_at.astimezone(UTC).replace(tzinfo=None)
    created_text = created.isoformat(sep=" ", timespec="microseconds")
    opens = not batch.staged and batch.needed > 0
    tuples = [
        (
            batch.project_id, r.external_id, r.content_hash,
            dumps(r.data if seal is None else seal(r.data)).decode(), dumps(r.meta).decode(),
            r.priority, batch.needed, 0, 0, int(opens and r.gold is None),
            None if r.gold is None else dumps(r.gold).decode(),
            batch.import_job_id, int(batch.staged), created_text,
        )
        for r in rows
    ]
    statement = _SQLITE_SKIPPING if skip_existing else _SQLITE_INSERT
    return int(conn.exec_driver_sql(statement, tuples).rowcount)


def _copy_items(
    conn: Connection, batch: ItemBatch, rows: Sequence[NewItem], seal: Callable[[Any], Any] | None
) -> int:
    copy_text(conn, "items", ITEM_COLUMNS, copy_lines(batch, rows, seal))
    return len(rows)


def sealer(dialect: Any) -> Callable[[Any], Any] | None:
    """How items' data is sealed with encryption at rest on (store/crypto.py); None when off."""
    keyring = getattr(dialect, KEYRING_ATTR, None)
    return None if keyring is None else (lambda d: keyring.seal_json(d, purpose="items.data"))


def copy_lines(batch: ItemBatch, rows: Sequence[NewItem], seal: Callable[[Any], Any] | None) -> bytes:
    """The rows in COPY's text format (store/pg_copy.py) for the columns ITEM_COLUMNS, each line
    made by one bytes formatting over what is common to the batch: psycopg's row writer cost
    about a third of the import's Python time (its per-value dumpers), and the data's JSON is
    the canonical one already made for the content hash (jsonb keeps no key order of its own)."""
    line = b"%d\t%%b\t%%b\t%%b\t%%b\t%%r\t%d\t0\t0\t%%b\t%%b\t%d\t%b\t%b\n" % (
        batch.project_id, batch.needed, batch.import_job_id, b"t" if batch.staged else b"f",
        batch.created_at.isoformat().encode(),
    )
    opens = b"t" if not batch.staged and batch.needed > 0 else b"f"
    dumps = orjson.dumps
    return b"".join([
        line % (
            escaped(r.external_id), r.content_hash.encode(),
            escaped_json(r.canonical if seal is None else dumps(seal(r.data))),
            escaped_json(dumps(r.meta)) if r.meta else b"{}", r.priority,
            opens if r.gold is None else b"f",
            b"\\N" if r.gold is None else escaped_json(dumps(r.gold)),
        )
        for r in rows
    ])
