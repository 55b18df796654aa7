"""Search by meaning inside PostgreSQL, with the `pgvector` extension, when the database has it.

Each (project, model version) gets a table of its own, `item_vectors_<project>_<version>`
(`item_id bigint primary key, embedding vector(dim)`, an HNSW index with `vector_cosine_ops`):
a derived index like the in-process one (`labelloop.curation.vector_index`), rebuildable from the
round's embedding cache at any time, but built once for every API worker and kept across restarts.
One builder at a time per project (a transaction-scoped advisory lock); the table, its rows
(binary COPY) and its index are committed together, so a reader sees a whole table or none. The
table's comment names the round it holds (encoder and the model version's creation time): a table
whose comment differs (a database restored or renumbered since) is rebuilt. Building a version drops
the project's tables of older versions.

A query is `ORDER BY embedding <=> q LIMIT n` over the index with `hnsw.ef_search` set for recall,
then, of those candidates, the items still published in the project, best first (ties: the
smaller id). Vectors are stored at length 1, so `1 - distance` is the cosine similarity the
exact search gives.

The extension is used when it is installed in the database, or when the connected role may create
it (`CREATE EXTENSION IF NOT EXISTS vector`, tried once per process); otherwise, and for vectors
wider than an HNSW index takes, search stays in process (`services/curation/search.py`).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from psycopg import sql
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Connection,
    Float,
    any_,
    bindparam,
    cast,
    column,
    func,
    select,
    table,
    text,
)
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.types import UserDefinedType

from labelloop.curation.vector_index import Found
from labelloop.store.db import Database
from labelloop.store.models import items, published_in

log = logging.getLogger(__name__)

# Candidates the HNSW search keeps: recall@10 0.975-0.993 on 100,000 clustered embeddings, 0.94
# with 100 (bench/curation_search_pg.py; the index has pgvector's defaults, m 16, ef_construction
# 64, which build twice as fast as ef_construction 128).
EF_SEARCH = 200
MAX_INDEXED_DIM = 2000  # pgvector's HNSW index takes vectors of at most 2,000 dimensions
MIN_VERSION = (0, 5)  # HNSW came with pgvector 0.5.0
BUILD_LOCK = 0x6C6C_7663  # with the project id: pg_advisory_xact_lock(int, int)
# Memory the index build may use: a graph that fits builds 4 times faster than one that spills
# (measured at 30,000 rows). pgvector 0.6 took 2,361 bytes a row of 384 dimensions: the vector and
# about 825 bytes of neighbour lists (m = 16); a quarter more for safety, capped.
_BUILD_BYTES_PER_ROW = 900
_BUILD_MEMORY_MB = (64, 8192)
_PREFIX = "item_vectors_"
_INSTALLED = text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")

Batches = Iterable[tuple[np.ndarray, np.ndarray]]  # (ids int64, vectors float32) a batch at a time

_lock = threading.Lock()
_available: dict[str, bool] = {}


class _Vector(UserDefinedType[str]):
    """pgvector's type, for casting the query's text form (`[x, y, ...]`)."""

    cache_ok = True

    def get_col_spec(self, **_kw: object) -> str:
        return "vector"


@dataclass(frozen=True)
class VectorTable:
    """A project round's vectors in PostgreSQL, searchable like a `VectorIndex`."""

    db: Database
    project_id: int
    model_version_id: int
    stamp: str
    dim: int
    batches: Callable[[], Batches] = field(compare=False, repr=False)

    @property
    def name(self) -> str:
        return f"{_PREFIX}{self.project_id}_{self.model_version_id}"

    def search(self, vector: ArrayLike, k: int) -> Found:
        """The `k` items still in the project nearest to `vector` by cosine, best first."""
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.dim:
            raise ValueError(f"the query has {q.shape[0]} dimensions, the index {self.dim}")
        norm = float(np.linalg.norm(q))
        if k < 1 or not np.isfinite(norm) or norm == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        try:
            return self._search(q / norm, k)
        except ProgrammingError as e:
            if getattr(e.orig, "sqlstate", None) != "42P01":
                raise
        # The table was dropped since (drop_tables): built again, as on a first search.
        again = vector_table(self.db, self.project_id, self.model_version_id, self.stamp, self.dim,
                             self.batches)
        if again is None:
            raise RuntimeError(f"the search table {self.name} was dropped and could not be built again")
        return again._search(q / norm, k)

    def _search(self, q: np.ndarray, k: int) -> Found:
        ef = max(EF_SEARCH, k)
        vectors = table(self.name, column("item_id"), column("embedding"))
        distance = vectors.c.embedding.op("<=>", return_type=Float)(
            cast(bindparam("q", _text(q)), _Vector())).label("d")
        with self.db.read() as conn:
            conn.execute(select(func.set_config("hnsw.ef_search", str(ef), True)))
            # The index answers ORDER BY distance alone, a query on the table alone; the project's
            # items are then looked up by id (a plan that needs no statistics), the candidates
            # beyond k standing in for items deleted since the round.
            near = conn.execute(select(vectors.c.item_id, distance).order_by(distance).limit(ef)).all()
            found = cast(bindparam("ids", [r.item_id for r in near]), ARRAY(BigInteger))
            kept = set(conn.execute(select(items.c.id).where(
                items.c.id == any_(found), published_in(self.project_id))).scalars())
        best = sorted((r.d, r.item_id) for r in near if r.item_id in kept)[:k]  # ties: the smaller id
        return (np.array([i for _d, i in best], dtype=np.int64),
                np.array([1.0 - d for d, _i in best], dtype=np.float32))


def available(db: Database) -> bool:
    """Whether `db` can keep vector tables: PostgreSQL with pgvector (0.5 or later) installed,
    or created now by a role allowed to. Decided once per process and database."""
    if db.is_sqlite:
        return False
    with _lock:
        known = _available.get(db.url)
    if known is None:
        known = _extension_ready(db)
        with _lock:
            _available[db.url] = known
    return known


def forget() -> None:
    """Decide again whether databases have the extension (tests; after installing it)."""
    with _lock:
        _available.clear()


def vector_table(db: Database, project_id: int, model_version_id: int, stamp: str, dim: int,
                 batches: Callable[[], Batches]) -> VectorTable | None:
    """The table of the project's round `model_version_id`, built from `batches()` unless one
    with the same `stamp` is there already; None when it cannot be built here (vectors too wide,
    or the build failed: the caller searches in process)."""
    if dim > MAX_INDEXED_DIM:
        return None
    found = VectorTable(db, project_id, model_version_id, stamp, dim, batches)
    name = found.name
    with db.read() as conn:
        if _stamp_of(conn, name) == stamp:
            return found
    try:
        with db.write() as conn:
            conn.execute(select(func.pg_advisory_xact_lock(BUILD_LOCK, project_id % 2**31)))
            if _stamp_of(conn, name) == stamp:  # another process built it while this one waited
                return found
            _build(conn, project_id, model_version_id, name, stamp, dim, batches())
    except DBAPIError as e:
        log.warning("search of project %s stays in process: building %s failed: %s",
                    project_id, name, e.orig)
        return None
    return found


def forget_project(conn: Connection, project_id: int) -> list[str]:
    """Drop the project's vector tables in the caller's transaction (an erasure, a retention run,
    the project's deletion: the vectors are derived from content that goes); none off PostgreSQL."""
    return drop_tables(conn, project_id) if conn.dialect.name == "postgresql" else []


def drop_tables(conn: Connection, project_id: int | None = None) -> list[str]:
    """Drop the vector tables of one project (every project when None); their names."""
    names = [n for n, p, _v in _tables(conn) if project_id is None or p == project_id]
    for n in names:
        conn.execute(text(f"DROP TABLE IF EXISTS {_quoted(n)}"))
    return names


def _build(conn: Connection, project_id: int, version: int, name: str, stamp: str, dim: int,
           batches: Batches) -> None:
    conn.execute(text(f"DROP TABLE IF EXISTS {_quoted(name)}"))  # one of another round's stamp
    conn.execute(text(f"CREATE TABLE {_quoted(name)} "
                      f"(item_id bigint PRIMARY KEY, embedding vector({dim}) NOT NULL)"))
    rows = _copy(conn, name, dim, batches)
    memory_mb = rows * (4 * dim + _BUILD_BYTES_PER_ROW) * 5 // 4 // 2**20
    lo, hi = _BUILD_MEMORY_MB
    conn.execute(select(func.set_config("maintenance_work_mem", f"{min(max(memory_mb, lo), hi)}MB", True)))
    conn.execute(text(f"CREATE INDEX ON {_quoted(name)} USING hnsw (embedding vector_cosine_ops)"))
    driver = conn.connection.driver_connection  # a utility statement takes no bound parameters
    assert driver is not None
    driver.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(sql.Identifier(name), sql.Literal(stamp)))
    for old, p, v in _tables(conn):  # last: searches of the older rounds' tables wait no longer
        if p == project_id and v < version:
            conn.execute(text(f"DROP TABLE {_quoted(old)}"))
    log.info("built %s: %d vectors of %d dimensions", name, rows, dim)


def _copy(conn: Connection, name: str, dim: int, batches: Batches) -> int:
    """Binary COPY of the rows with an embedding, at length 1; the number written."""
    driver = conn.connection.driver_connection
    if driver is None:
        raise RuntimeError("the connection has no driver connection (closed?)")
    # COPY's binary tuple: 2 fields; an int8; a vector (int16 dim, int16 unused, float4 each).
    row = np.dtype([("fields", ">i2"), ("id_len", ">i4"), ("id", ">i8"), ("vec_len", ">i4"),
                    ("dim", ">i2"), ("unused", ">i2"), ("x", ">f4", (dim,))])
    statement = sql.SQL("COPY {} (item_id, embedding) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(name))
    written = 0
    with driver.cursor() as cur, cur.copy(statement) as copy:
        copy.write(b"PGCOPY\n\xff\r\n\x00" + bytes(8))  # signature, flags, no header extension
        for ids, vectors in batches:
            x = np.asarray(vectors, dtype=np.float32)
            norms = np.linalg.norm(np.where(np.isfinite(x), x, 0), axis=1)
            keep = np.isfinite(x).all(axis=1) & (norms > 0)  # no embedding: nothing to compare
            out = np.zeros(int(keep.sum()), dtype=row)
            out["fields"], out["id_len"], out["vec_len"], out["dim"] = 2, 8, 4 + 4 * dim, dim
            out["id"] = np.asarray(ids, dtype=np.int64)[keep]
            out["x"] = x[keep] / norms[keep, None]
            copy.write(out.tobytes())
            written += len(out)
        copy.write(b"\xff\xff")
    return written


def _extension_ready(db: Database) -> bool:
    try:
        with db.read() as conn:
            version = conn.execute(_INSTALLED).scalar()
            offered = conn.execute(text("SELECT 1 FROM pg_available_extensions "
                                        "WHERE name = 'vector'")).first()
        if version is None and offered is not None:
            try:
                with db.write() as conn:
                    conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
            except DBAPIError as e:  # only a superuser may create it: search stays in process
                log.info("search by meaning stays in process: CREATE EXTENSION vector: %s", e.orig)
            with db.read() as conn:  # created here, by another process meanwhile, or not at all
                version = conn.execute(_INSTALLED).scalar()
    except DBAPIError as e:
        log.warning("search by meaning stays in process: %s", e.orig)
        return False
    if version is None:
        return False
    if tuple(int(p) for p in re.findall(r"\d+", str(version))[:2]) < MIN_VERSION:
        log.info("search by meaning stays in process: pgvector %s has no HNSW index", version)
        return False
    return True


def _stamp_of(conn: Connection, name: str) -> str | None:
    """The table's comment, '' for a table without one, None for no table. Read from the catalog
    by a query, whose snapshot sees a table committed while this transaction waited for the lock
    (`to_regclass` would go through this backend's catalog cache, which may not yet)."""
    stamp = conn.execute(text(
        "SELECT coalesce(d.description, '') FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() "
        "LEFT JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass "
        "AND d.objsubid = 0 WHERE c.relname = :name AND c.relkind = 'r'"), {"name": name}).scalar()
    return None if stamp is None else str(stamp)


def _tables(conn: Connection) -> list[tuple[str, int, int]]:
    """The vector tables in the current schema: (name, project id, model version id)."""
    names = conn.execute(text("SELECT c.relname FROM pg_class c "
                              "JOIN pg_namespace n ON n.oid = c.relnamespace "
                              "WHERE c.relkind = 'r' AND n.nspname = current_schema() "
                              "AND starts_with(c.relname, :prefix)"), {"prefix": _PREFIX}).scalars()
    out = []
    for n in names:
        if m := re.fullmatch(rf"{_PREFIX}(\d+)_(\d+)", n):
            out.append((n, int(m[1]), int(m[2])))
    return out


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(q: np.ndarray) -> str:
    """pgvector's text form; repr of each float32 reads back as the same float4."""
    return "[" + ",".join(repr(float(v)) for v in q.astype(np.float32)) + "]"
