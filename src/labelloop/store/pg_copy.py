"""PostgreSQL's COPY for the bulk paths: rows in through `COPY ... FROM STDIN`.

COPY sends a batch as one stream that the server parses in bulk: no statement per row and
no per-parameter handling on either side, which made the import's row writes about two
thirds of its time with a multi-row INSERT. It runs on the SQLAlchemy connection's own
psycopg connection, so it belongs to the caller's transaction (a rollback takes it back).

Rows go in COPY's text format, made by the caller (store/bulk.py): columns split by tabs, lines
by newlines, `\\N` for NULL, and in text a backslash, tab, newline or carriage return written
as a backslash escape (`escaped`). JSON columns are handed over as JSON text, which the server
parses into `jsonb` itself; JSON text has no raw control characters, only backslashes to double.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from psycopg import Copy, sql
from sqlalchemy import Connection

_SPECIAL = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def escaped(value: str) -> bytes:
    """A text value in COPY's text format, UTF-8 encoded."""
    if "\\" in value or not value.isprintable():  # tabs, newlines and returns are not printable
        value = value.translate(_SPECIAL)
    return value.encode()


def escaped_json(document: bytes) -> bytes:
    """JSON text (as orjson writes it: control characters escaped) in COPY's text format."""
    return document.replace(b"\\", b"\\\\")


def copy_text(conn: Connection, table: str, columns: Sequence[str], text: bytes) -> None:
    """COPY `text` (lines in COPY's text format, in the order of `columns`) into `table`."""
    with copy_stream(conn, table, columns) as copy:
        copy.write(text)


@contextmanager
def copy_stream(conn: Connection, table: str, columns: Sequence[str]) -> Iterator[Copy]:
    """One COPY into `table` that takes text as it comes (`write`, UTF-8 whatever the
    connection's encoding), the server parsing what it has meanwhile; it ends with the block (a
    failure in the block ends it with an error). The connection runs no other statement until
    then."""
    driver = conn.connection.driver_connection
    if driver is None:
        raise RuntimeError("the connection has no driver connection (closed?)")
    statement = sql.SQL("COPY {} ({}) FROM STDIN (ENCODING 'UTF8')").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    with driver.cursor() as cur, cur.copy(statement) as copy:
        yield copy
