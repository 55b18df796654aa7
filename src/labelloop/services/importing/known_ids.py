"""Which of a batch's ids the project holds already, and whether their content is the same.

An import skips a row whose id is stored with the same content (re-imports change nothing) and
refuses one whose id is stored with other content, or came earlier in the same file with other
content (writer.py, copy_stream.py).
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import ARRAY, Connection, String, any_, bindparam, func, literal_column, select

from labelloop.errors import Problem
from labelloop.services.importing.records import ItemRow
from labelloop.store.models import items

Stored = dict[str, tuple[str, int]]  # external id -> (content hash, import job)


def stored_of(conn: Connection, project_id: int, batch: list[ItemRow]) -> Stored:
    """(content hash, import job) of the stored items with the batch's ids."""
    ids = list({r.external_id for r in batch})
    return {r.external_id: (r.content_hash, r.import_job_id) for r in _existing(conn, project_id, ids)}


def split_new(batch: list[ItemRow], stored: Stored, job_id: int) -> tuple[list[ItemRow], list[ItemRow]]:
    """The batch's rows with new ids, and those with an id stored or earlier in the batch (to be
    checked against it); each new row's id is added to `stored`, as this import's."""
    new: list[ItemRow] = []
    known: list[ItemRow] = []
    for r in batch:
        if r.external_id in stored:
            known.append(r)
        else:
            stored[r.external_id] = (r.content_hash, job_id)
            new.append(r)
    return new, known


def conflicts(batch: list[ItemRow], stored: Stored, job_id: int, problems: list[Problem]) -> int:
    """How many of the batch's rows have an id stored with other content; a problem for each."""
    found = 0
    for r in batch:
        content, by_job = stored[r.external_id]
        if content != r.content_hash:
            message = (
                "appears earlier in this file with different content"
                if by_job == job_id
                else "already exists in the project with different content"
            )
            problems.append(r.where.problem(f"item {r.external_id!r} {message}", "id"))
            found += 1
    return found


_EXISTING_COLUMNS = (items.c.external_id, items.c.content_hash, items.c.import_job_id)
# The batch's ids as one parameter, not one per id (a statement of thousands of placeholders costs
# SQLAlchemy more to expand, and the driver more to bind, than the lookups cost the database):
# PostgreSQL `= ANY(array)`; SQLite `IN (SELECT value FROM json_each(?))` of a JSON array.
_EXISTING = {
    "postgresql": select(*_EXISTING_COLUMNS).where(
        items.c.project_id == bindparam("pid"),
        items.c.external_id == any_(bindparam("ids", type_=ARRAY(String)))),
    "sqlite": select(*_EXISTING_COLUMNS).where(
        items.c.project_id == bindparam("pid"),
        items.c.external_id.in_(select(literal_column("value")).select_from(func.json_each(bindparam("ids"))))),
}


def _existing(conn: Connection, project_id: int, ids: list[str]) -> Any:
    """(external_id, content_hash, import_job_id) of the project's items with one of these ids."""
    if conn.dialect.name == "postgresql":
        return conn.execute(_EXISTING["postgresql"], {"pid": project_id, "ids": ids})
    return conn.execute(_EXISTING["sqlite"], {"pid": project_id, "ids": orjson.dumps(ids).decode()})
