"""An on-disk cache of vectors keyed by ``(encoder name, sha256 of the item's content)``.

One SQLite file (``embeddings.sqlite``) in a folder the caller names; no global state. Vectors are
stored as raw float32 bytes. Several processes may share a cache: SQLite's WAL mode lets readers
run beside the one writer, and a write of an existing key keeps the first vector (encoders are
deterministic, so both are the same).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import numpy as np

from labelloop.learn.encoder_base import Vectors

FILENAME = "embeddings.sqlite"
_CHUNK = 500  # keys per SELECT, under SQLite's default limit of bound parameters


class EmbeddingCache:
    """Vectors by encoder name and content hash, in ``<folder>/embeddings.sqlite``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / FILENAME
        self._db = sqlite3.connect(self.path, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors ("
            " encoder TEXT NOT NULL, key BLOB NOT NULL, vector BLOB NOT NULL,"
            " PRIMARY KEY (encoder, key)) WITHOUT ROWID"
        )
        self._db.commit()

    def get_many(self, encoder: str, keys: Sequence[bytes], *, dim: int) -> dict[bytes, Vectors]:
        """The stored vectors among *keys* as ``{key: vector}`` (a vector of another size is skipped)."""
        found: dict[bytes, Vectors] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = list(keys[start : start + _CHUNK])
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE encoder = ? AND key IN ({marks})", [encoder, *chunk]
            )
            for key, blob in rows:
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape == (dim,):
                    found[bytes(key)] = vec.copy()
        return found

    def put_many(self, encoder: str, keys: Sequence[bytes], vectors: Vectors) -> None:
        """Store ``vectors[i]`` under ``keys[i]`` in one transaction."""
        if len(keys) != len(vectors):
            raise ValueError("keys and vectors must have the same length")
        blobs = [np.asarray(v, dtype=np.float32).tobytes() for v in vectors]
        rows = [(encoder, k, b) for k, b in zip(keys, blobs, strict=True)]
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?, ?)", rows)

    def count(self, encoder: str | None = None) -> int:
        """How many vectors are stored (for one encoder, or in all)."""
        if encoder is None:
            row = self._db.execute("SELECT count(*) FROM vectors").fetchone()
        else:
            row = self._db.execute("SELECT count(*) FROM vectors WHERE encoder = ?", [encoder]).fetchone()
        return int(row[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
