"""PostgreSQL: an import of items without files as one COPY, streamed as the file is read.

An import on PostgreSQL is one transaction (services/importing/writer.py). Where its batches
each ran a lookup and a COPY on that transaction's connection, the reading process and the
database took turns: the reader waited on every COPY, the database sat idle while the next
batch was read. Here the transaction's connection runs a single COPY from the first batch to
the last, and the database parses and stores rows while the file is still being read.

Which ids the project holds already is asked batch by batch on another connection, which sees
what is committed: rows with those ids are checked against them (the same content: unchanged;
other content: a problem) and not copied. That connection cannot see this import's own rows, so
a row whose id an earlier batch may have had (`SeenIds`) is held back, and written once the COPY
has ended, batch by batch on the import's connection, which sees them (writer._write_batch).
What neither can see, an id that an import running at the same time copied, ends the COPY on the
unique index: `IdsCollide` is raised, the transaction rolled back, and the importer runs the file
again batch by batch (writer.import_file).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from typing import Any

import numpy as np
from psycopg import Copy
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from labelloop.errors import Problem
from labelloop.services.importing.known_ids import conflicts, split_new, stored_of
from labelloop.services.importing.records import ItemRow
from labelloop.store.bulk import ITEM_COLUMNS, ItemBatch, copy_lines, sealer
from labelloop.store.db import Database
from labelloop.store.pg_copy import copy_stream

UNIQUE_VIOLATION = "23505"
DEADLOCK = "40P01"
MAX_HELD = 100_000  # rows held back past this: the file repeats ids a lot, import it batch by batch

WriteBatch = Callable[[Connection, list[ItemRow]], bool]


class IdsCollide(Exception):
    """The COPY met an id the lookups could not see: import the file batch by batch."""


def collided(error: BaseException) -> bool:
    """Whether a database error is an id taken meanwhile (or two imports waiting on each other)."""
    orig = error.orig if isinstance(error, DBAPIError) else error
    return getattr(orig, "sqlstate", None) in (UNIQUE_VIOLATION, DEADLOCK)


class SeenIds:
    """The ids met so far, as a Bloom filter: `False` for an id surely not met, `True` for one
    met or (rarely) not. Sized from the file: 16 bits for every 32 bytes of it, at most 128 MiB;
    3 bit positions an id, from Python's hash of it by multiply-shift. A million ids in a file
    of 100 bytes a record read 23 new ids as met (40 bytes a record: 160): those rows are held
    back for nothing, and written correctly all the same. About 0.2 µs an id."""

    HASHES = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], dtype=np.uint64)

    def __init__(self, file_bytes: int) -> None:
        wanted = max(1 << 20, min(1 << 30, file_bytes // 2))
        self.shift = np.uint64(64 - (wanted - 1).bit_length())
        self.bits = np.zeros((1 << (64 - int(self.shift))) // 8, dtype=np.uint8)

    def met(self, ids: list[str]) -> np.ndarray:
        """For each id, whether it may have been met before; then all of them are met."""
        h = np.fromiter((hash(i) for i in ids), dtype=np.int64, count=len(ids)).view(np.uint64)
        with np.errstate(over="ignore"):
            positions = (h[:, None] * self.HASHES[None, :]) >> self.shift
        byte, bit = positions >> np.uint64(3), (positions & np.uint64(7)).astype(np.uint8)
        found: np.ndarray = ((self.bits[byte] >> bit) & 1).all(axis=1)
        np.bitwise_or.at(self.bits, byte.ravel(), (np.uint8(1) << bit).ravel())
        return found


class StreamWrites:
    """The writes of one import as one COPY, with the interface of writer.BatchWrites: `submit`
    each batch, `drain` (the COPY ends, rows held back are written), then `commit` with the
    import's commit point, or `abandon`."""

    def __init__(self, db: Database, common: ItemBatch, *, file_bytes: int, stats: Any, write: WriteBatch,
                 batch_size: int) -> None:
        self.db, self.common, self.stats, self.write, self.batch_size = db, common, stats, write, batch_size
        self.seal = sealer(db.engine.dialect)
        self.seen = SeenIds(file_bytes)
        self.held: list[ItemRow] = []  # rows whose id an earlier batch may have had
        self.refused = False  # a batch had problems: the import is refused, nothing more is written
        self.tx: AbstractContextManager[Connection] | None = db.write(bulk=True)
        self.conn = self.tx.__enter__()
        self.copying: AbstractContextManager[Copy] | None = None
        try:
            self.copying = copy_stream(self.conn, "items", ITEM_COLUMNS)
            self.copy = self.copying.__enter__()
        except BaseException as e:
            self._end(e)
            raise

    def submit(self, batch: list[ItemRow]) -> None:
        if self.refused:
            return
        met = self.seen.met([r.external_id for r in batch])
        if met.any():
            self.held.extend(r for r, m in zip(batch, met, strict=True) if m)
            if len(self.held) > MAX_HELD:
                raise IdsCollide()
            batch = [r for r, m in zip(batch, met, strict=True) if not m]
        project_id, job_id = self.common.project_id, self.common.import_job_id
        with self.db.read() as reader:
            existing = stored_of(reader, project_id, batch)
        rows, known = split_new(batch, existing, job_id)
        problems: list[Problem] = []
        self.stats.unchanged += len(known) - conflicts(known, existing, job_id, problems)
        if problems:  # refused: the rows held back are checked too, and the problems told in order
            self._end_copy()
            first = len(self.stats.problems)
            self._write_held()
            self.stats.problems.extend(problems)
            self.stats.problems[first:] = sorted(self.stats.problems[first:], key=_position)
            self.refused = True
            return
        try:
            self.copy.write(copy_lines(self.common, rows, self.seal))
        except BaseException as e:
            if collided(e):
                raise IdsCollide() from e
            raise
        self.stats.created += len(rows)

    def drain(self) -> None:
        """End the COPY (the database has every row it was sent), then write the rows held back."""
        self._end_copy()
        self._write_held()

    def _end_copy(self) -> None:
        copying, self.copying = self.copying, None
        try:
            if copying is not None:
                copying.__exit__(None, None, None)
        except BaseException as e:
            if collided(e):
                raise IdsCollide() from e
            raise

    def _write_held(self) -> None:
        """The rows held back, batch by batch on the import's connection (which sees its rows),
        all of them: in a refused import, for their problems."""
        held, self.held = self.held, []
        for start in range(0, len(held), self.batch_size):
            if self.write(self.conn, held[start:start + self.batch_size]):
                self.refused = True

    def commit(self, finish: Callable[[Connection], None]) -> None:
        """Write `finish` (the commit point) in the import's transaction, and commit."""
        if self.copying is not None:
            raise RuntimeError("drain() ends the COPY before the commit")
        finish(self.conn)
        tx, self.tx = self.tx, None
        if tx is not None:
            tx.__exit__(None, None, None)

    def abandon(self) -> None:
        """Roll back what is not committed: the COPY ends with an error, then the transaction."""
        self._end(_Abandoned())

    def _end(self, error: BaseException) -> None:
        for step in ("copying", "tx"):
            cm = getattr(self, step)
            setattr(self, step, None)
            if cm is not None:
                with suppress(BaseException):  # rolling back: what it meets changes nothing
                    cm.__exit__(type(error), error, error.__traceback__)


def _position(problem: Problem) -> int:
    return problem.line if problem.line is not None else problem.record or 0


class _Abandoned(Exception):
    """Ends the COPY with an error, so the transaction is rolled back."""
