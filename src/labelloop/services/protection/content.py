"""What retention and erasure share: the files an item's content references, which of them no
project needs any more, and leaving no erased bytes behind in the database and caches."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, func, select

from labelloop.store.blobs import BlobStore
from labelloop.store.db import Database
from labelloop.store.models import blob_audio, blob_variants, blob_video, blobs, items, project_blobs

_REFERENCE = re.compile(r"blob:([0-9a-f]{64})")
EMBEDDINGS = "embeddings/embeddings.sqlite"  # services/loop/rounds.py's cache (learn/cache.py)


def references(value: Any) -> set[str]:
    """Hashes of the files `value` (an item's data, at any depth) references as `blob:<sha256>`."""
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, str):
            found.update(_REFERENCE.findall(v))
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(value)
    return found


def still_referenced(conn: Connection, project_id: int, candidates: set[str]) -> set[str]:
    """The candidates some other item of the project still shows (read, decrypted, in Python:
    with encryption at rest the database cannot search item content)."""
    if not candidates:
        return set()
    kept: set[str] = set()
    for data in conn.execute(select(items.c.data).where(items.c.project_id == project_id)).scalars():
        kept |= references(data) & candidates
        if kept == candidates:
            break
    return kept


def unlink_files(conn: Connection, project_id: int, candidates: set[str]) -> list[str]:
    """Remove the project's links to files none of its items show any more, then the rows of
    files no project links, with their variants and probes. The files to delete from the store
    (after the commit) are returned."""
    gone = candidates - still_referenced(conn, project_id, candidates)
    if not gone:
        return []
    conn.execute(delete(project_blobs).where(project_blobs.c.project_id == project_id,
                                             project_blobs.c.sha256.in_(sorted(gone))))
    linked = set(conn.execute(select(project_blobs.c.sha256).where(
        project_blobs.c.sha256.in_(sorted(gone)))).scalars())
    orphans = gone - linked
    if not orphans:
        return []
    variants = {r.variant_sha256 for r in conn.execute(
        select(blob_variants.c.variant_sha256).where(blob_variants.c.sha256.in_(sorted(orphans))))}
    conn.execute(delete(blob_variants).where(blob_variants.c.sha256.in_(sorted(orphans))))
    conn.execute(delete(blob_audio).where(blob_audio.c.sha256.in_(sorted(orphans))))
    conn.execute(delete(blob_video).where(blob_video.c.sha256.in_(sorted(orphans))))
    # A variant may be another file's original or variant too (equal bytes, one file): kept then.
    candidates_rows = orphans | variants
    busy = set(conn.execute(select(project_blobs.c.sha256).where(
        project_blobs.c.sha256.in_(sorted(candidates_rows)))).scalars())
    busy |= set(conn.execute(select(blob_variants.c.variant_sha256).where(
        blob_variants.c.variant_sha256.in_(sorted(candidates_rows)))).scalars())
    busy |= set(conn.execute(select(blob_variants.c.sha256).where(
        blob_variants.c.sha256.in_(sorted(candidates_rows)))).scalars())
    doomed = sorted(candidates_rows - busy)
    conn.execute(delete(blobs).where(blobs.c.sha256.in_(doomed)))
    return doomed


def delete_files(store: BlobStore, hashes: Iterable[str]) -> int:
    return sum(store.delete(h) for h in hashes)


def secure_deletes(conn: Connection) -> None:
    """On SQLite, make this connection overwrite deleted content with zeros (not leave it in free
    pages); `flush` then moves the pages out of the WAL file. The pooled connection keeps the
    setting, which only makes its later deletes write a few more bytes."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA secure_delete = ON")


def flush(db: Database) -> dict[str, Any]:
    """After an erasure's commit: on SQLite, checkpoint the WAL into the database file and
    truncate it, so no older copy of an erased page stays in the WAL. PostgreSQL keeps dead rows
    in its own files until autovacuum reuses the space (docs/data-protection.md)."""
    if db.engine.dialect.name != "sqlite":
        return {"checkpoint": "postgresql"}
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        busy, _, _ = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return {"checkpoint": "busy" if busy else "done"}


def clear_embedding_cache(data_dir: Path) -> int:
    """Empty the embedding cache (vectors of item content, by content hash): the next loop round
    computes again what it needs. Emptied whole, not per item: its keys are hashes of content
    as an encoder saw it, which erasure would have to recompute for every encoder."""
    path = data_dir / EMBEDDINGS
    if not path.is_file():
        return 0
    con = sqlite3.connect(path, timeout=30.0)
    try:
        con.execute("PRAGMA secure_delete = ON")
        n = int(con.execute("SELECT count(*) FROM vectors").fetchone()[0])
        with con:
            con.execute("DELETE FROM vectors")
        con.execute("VACUUM")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    return n


def count(conn: Connection, table: Any, *where: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())
