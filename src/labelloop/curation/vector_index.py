"""Nearest neighbours by cosine similarity over item embeddings: "items like this one".

Small sets (fewer than `EXACT_BELOW` vectors) are searched exactly with numpy: a query is one
matrix-vector product. Larger ones go to an HNSW graph (`usearch`, the `curation` extra), which
answers in milliseconds over millions of vectors at the cost of a little recall; `exact=True`
forces the exact search (tests compare the two). Rows of zeros or with a non-finite value (items
without an embedding) are left out: cosine means nothing for them.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

EXACT_BELOW = 20_000
EXPANSION_SEARCH = 128  # the search width up to 128,000 vectors; wider for larger graphs (below)
Found = tuple[np.ndarray, np.ndarray]  # ids (int64) and cosine similarities (float32), best first


class VectorIndex:
    """Ids with their unit vectors, searchable by cosine similarity."""

    def __init__(self, ids: np.ndarray, vectors: np.ndarray | None, ann: Any, dim: int) -> None:
        self._ids = ids  # exact search: the row's id; ANN: the ids are the graph's keys
        self._vectors = vectors
        self._ann = ann
        self.dim = dim

    @classmethod
    def build(cls, ids: ArrayLike, vectors: ArrayLike, *, exact: bool | None = None,
              threads: int = 0) -> VectorIndex:
        """An index of the rows that have an embedding; ANN when there are `EXACT_BELOW` or more
        (or `exact=False`). Ids must be distinct non-negative integers."""
        key = np.asarray(ids, dtype=np.int64).reshape(-1)
        x = np.asarray(vectors, dtype=np.float32)
        if x.ndim != 2 or x.shape[0] != len(key):
            raise ValueError(f"vectors must be a ({len(key)}, dim) array, got shape {x.shape}")
        if len(key) and (key.min() < 0 or len(np.unique(key)) != len(key)):
            raise ValueError("ids must be distinct non-negative integers")
        x, keep = _unit_rows(x)
        key = key[keep]
        if exact is None:
            exact = len(key) < EXACT_BELOW
        if exact:
            return cls(key, x, None, x.shape[1])
        from usearch.index import Index

        # Half-precision vectors: half the memory, a faster build and the same recall as f32
        # (bench/curation_search.py); 8-bit ones lose recall (0.90 at 50,000).
        ann = Index(ndim=x.shape[1], metric="cos", dtype="f16", connectivity=16,
                    expansion_add=128, expansion_search=expansion_for(len(key)))
        if len(key):
            ann.add(key.astype(np.uint64), x, threads=threads)
        return cls(key, None, ann, x.shape[1])

    @property
    def expansion_search(self) -> int | None:
        """How wide the HNSW graph is searched (candidates kept): recall against latency."""
        return int(self._ann.expansion_search) if self._ann is not None else None

    @expansion_search.setter
    def expansion_search(self, value: int | None) -> None:
        if self._ann is not None and value is not None:
            self._ann.expansion_search = int(value)

    def __len__(self) -> int:
        return len(self._ann) if self._ann is not None else len(self._ids)

    @property
    def memory_bytes(self) -> int:
        """What the index holds in memory (the graph and its vectors, or the vectors)."""
        if self._ann is not None:
            return int(self._ann.memory_usage)
        assert self._vectors is not None
        return int(self._vectors.nbytes + self._ids.nbytes)

    @property
    def exact(self) -> bool:
        return self._ann is None

    def search(self, vector: ArrayLike, k: int) -> Found:
        """The `k` ids most similar to `vector` (fewer when the index holds fewer), best first.
        A vector of zeros is like nothing: no ids."""
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.dim:
            raise ValueError(f"the query has {q.shape[0]} dimensions, the index {self.dim}")
        norm = float(np.linalg.norm(q))
        if k < 1 or len(self) == 0 or not np.isfinite(norm) or norm == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        q = q / norm
        if self._ann is not None:
            m = self._ann.search(q, k)
            return (np.asarray(m.keys, dtype=np.int64),
                    (1 - np.asarray(m.distances, dtype=np.float32)).astype(np.float32))
        assert self._vectors is not None
        sims = self._vectors @ q
        k = min(k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.lexsort((self._ids[top], -sims[top]))]  # ties: the smaller id first
        return self._ids[top], sims[top].astype(np.float32)

    def save(self, path: Path) -> None:
        """Write the index to one file (`load` reads it back)."""
        if self._ann is not None:
            self._ann.save(str(path))
            return
        assert self._vectors is not None
        with open(path, "wb") as f:
            np.savez(f, ids=self._ids, vectors=self._vectors)

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        if zipfile.is_zipfile(path):  # numpy's .npz: an exact index
            with np.load(path) as z:
                ids, vectors = z["ids"].astype(np.int64), z["vectors"].astype(np.float32)
            return cls(ids, vectors, None, vectors.shape[1])
        from usearch.index import Index

        ann: Any = Index.restore(str(path))
        if ann is None:
            raise ValueError(f"{path} is not a saved vector index")
        ann.expansion_search = expansion_for(len(ann))  # not kept in the file
        return cls(np.zeros(0, np.int64), None, ann, int(ann.ndim))


def expansion_for(n: int) -> int:
    """How many candidates a search of a graph of `n` vectors keeps: wider than the library's
    default, and wider still as the graph grows, since finding the true neighbours takes more of
    a larger graph. On clustered 384-dimension vectors (bench/curation_search.py) 128 gives
    recall@10 0.99 at 100,000 but 0.57 at a million, where 512 gives 0.94 and 1,024 0.985 at a
    p95 of 14 ms: one candidate per thousand vectors, at most 1,024."""
    return max(EXPANSION_SEARCH, min(1024, n // 1000))


def _unit_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows with an embedding scaled to length 1, and which rows they were."""
    finite = np.isfinite(x).all(axis=1)
    norms = np.linalg.norm(np.where(finite[:, None], x, 0), axis=1)
    keep: np.ndarray = finite & (norms > 0)
    return (x[keep] / norms[keep, None]).astype(np.float32), keep
