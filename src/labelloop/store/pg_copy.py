"""PostgreSQL's COPY for the bulk paths: rows in through `COPY ... FROM STDIN`.

COPY sends a batch as one stream that the server parses in bulk: no statement per row and
no per-parameter handling on either side, which made the import's row writes about two
thirds of its time with a multi-row INSERT. It runs on the SQLAlchemy connection's own
psycopg connection, so it belongs to the caller's transaction (a rollback takes it back).

Rows go in COPY's text format through psycopg's row writer, which escapes tabs, newlines,
backslashes and carriage returns in text and writes None as NULL. JSON columns are handed
over as JSON text (already encoded), which the server parses into `jsonb` itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from psycopg import sql
from sqlalchemy import Connection


def copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY `rows` (tuples in the order of `columns`) into `table`; the number written."""
    driver = conn.connection.driver_connection
    if driver is None:
        raise RuntimeError("the connection has no driver connection (closed?)")
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    written = 0
    with driver.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written
