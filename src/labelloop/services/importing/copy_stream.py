"""PostgreSQL: an import of items without files as one COPY, streamed as the file is read.

An import on PostgreSQL is one transaction (services/importing/writer.py). Where its batches
each ran a lookup and a COPY on that transaction's connection, the reading process and the
database took turns: the reader waited on every COPY, the database sat idle while the next
batch was read. Here the transaction's connection runs a single COPY from the first batch to
the last (a new one every COPY_ROWS rows), and the database parses and stores rows while the
file is still being read.

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
# Rows a COPY takes before it ends and the next begins, in the same transaction: PostgreSQL keeps
# one foreign-key check per row until the COPY ends, and tells a broken unique key only then.
COPY_ROWS = 250_000

WriteBatch = Callable[[Connection, list[ItemRow]], bool]


class IdsCollide(Exception):
    """The COPY met an id the lookups could not see: import the file batch by batch."""


def collided(error: BaseException) -> bool:
    """Whether a database error is an id taken meanwhile (or two imports waiting on each other)."""
    orig = error.orig if isinstance(error, DBAPIError) else error
    return getattr(orig, "sqlstate", None) in (UNIQUE_VIOLATION, DEADLOCK)


class SeenIds:
    """The ids met so far, as Bloom filters: `False` for an id surely not met, `True` for one met
    or (rarely) not. Each filter takes up to its capacity of ids at 32 bits an id, 4 bit positions
    an id from Python's hash of it by multiply-shift; a full one is joined by one twice as large,
    so no count has to be known up front (a Hugging Face dataset's is not). A million new ids
    read 225 as met (three filters, 7 MB): those rows are held back for nothing, and written
    correctly all the same. About 0.2-0.3 µs an id."""

    MULTIPLIERS = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                            0xD6E8FEB86659FD93], dtype=np.uint64)
    BITS_PER_ID = 32

    def __init__(self, capacity: int = 1 << 18) -> None:
        self.filters: list[_Bloom] = [_Bloom(capacity * self.BITS_PER_ID)]
        self.capacity, self.count = capacity, 0

    def met(self, ids: list[str]) -> np.ndarray:
        """For each id, whether it may have been met before; then all of them are met."""
        hashes = np.fromiter((hash(i) for i in ids), dtype=np.int64, count=len(ids)).view(np.uint64)
        with np.errstate(over="ignore"):
            mixed = hashes[:, None] * self.MULTIPLIERS[None, :]
        found = np.zeros(len(ids), dtype=bool)
        for bloom in self.filters:
            found |= bloom.has(mixed)
        self.filters[-1].add(mixed)
        self.count += len(ids)
        if self.count >= self.capacity:  # full: the next ids go to one twice as large
            self.capacity, self.count = 2 * self.capacity, 0
            self.filters.append(_Bloom(self.capacity * self.BITS_PER_ID))
        return found


class _Bloom:
    def __init__(self, bits: int) -> None:
        self.shift = np.uint64(64 - (bits - 1).bit_length())  # the top bits of a mixed hash
        self.bits = np.zeros((1 << (64 - int(self.shift))) // 8, dtype=np.uint8)

    def _where(self, mixed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        positions = mixed >> self.shift
        return positions >> np.uint64(3), (positions & np.uint64(7)).astype(np.uint8)

    def has(self, mixed: np.ndarray) -> np.ndarray:
        byte, bit = self._where(mixed)
        found: np.ndarray = ((self.bits[byte] >> bit) & 1).all(axis=1)
        return found

    def add(self, mixed: np.ndarray) -> None:
        byte, bit = self._where(mixed)
        np.bitwise_or.at(self.bits, byte.ravel(), (np.uint8(1) << bit).ravel())


class StreamWrites:
    """The writes of one import as one COPY, with the interface of writer.BatchWrites: `submit`
    each batch, `drain` (the COPY ends, rows held back are written), then `commit` with the
    import's commit point, or `abandon`."""

    def __init__(self, db: Database, common: ItemBatch, *, stats: Any, write: WriteBatch,
                 batch_size: int) -> None:
        self.db, self.common, self.stats, self.write, self.batch_size = db, common, stats, write, batch_size
        self.seal = sealer(db.engine.dialect)
        self.seen = SeenIds()
        self.held: list[ItemRow] = []  # rows whose id an earlier batch may have had
        self.refused = False  # a batch had problems: the import is refused, nothing more is written
        self.tx: AbstractContextManager[Connection] | None = db.write(bulk=True)
        self.conn = self.tx.__enter__()
        self.copying: AbstractContextManager[Copy] | None = None
        self.copied = 0  # rows in the COPY under way
        try:
            self._start_copy()
        except BaseException as e:
            self._end(e)
            raise

    def _start_copy(self) -> None:
        self.copying = copy_stream(self.conn, "items", ITEM_COLUMNS)
        self.copy = self.copying.__enter__()
        self.copied = 0

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
        self.copied += len(rows)
        if self.copied >= COPY_ROWS:
            self._end_copy()
            self._write_held()
            self._start_copy()

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
        self._end(Abandoned())

    def _end(self, error: BaseException) -> None:
        for step in ("copying", "tx"):
            cm = getattr(self, step)
            setattr(self, step, None)
            if cm is not None:
                with suppress(BaseException):  # rolling back: what it meets changes nothing
                    cm.__exit__(type(error), error, error.__traceback__)


def _position(problem: Problem) -> int:
    return problem.line if problem.line is not None else problem.record or 0


class Abandoned(Exception):
    """Thrown into an import's COPY and transaction to end them with a rollback (here and in
    writer.BatchWrites)."""
