"""Semantic neighbours: pairs of items whose embeddings have cosine similarity >= a threshold.

Exact and blocked (`labelloop.learn.near_duplicate_pairs`: a block of rows against another at a
time, never the whole similarity matrix). A row of zeros, or one with a non-finite value, is an
item without an embedding: skipped with the reason.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from labelloop.curation.groups import Pairs


def semantic_neighbours(vectors: ArrayLike, *, threshold: float = 0.95, chunk_size: int = 2048) -> Pairs:
    """Pairs of rows at cosine >= `threshold` (the score); rows without an embedding skipped."""
    from labelloop.learn.near_duplicates import near_duplicate_pairs

    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"vectors must be a 2-D array, got shape {x.shape}")
    finite: np.ndarray = np.asarray(np.isfinite(x).all(axis=1))
    usable = finite & (np.abs(np.where(np.isfinite(x), x, 0)).sum(axis=1) > 0)
    skipped = {int(k): ("no embedding" if finite[k] else "an embedding with a non-finite value")
               for k in np.flatnonzero(~usable)}
    rows = np.flatnonzero(usable)
    if len(rows) < 2:
        return Pairs.empty(skipped)
    found = near_duplicate_pairs(x[rows], threshold=threshold, chunk_size=chunk_size)
    return Pairs(rows[found.i].astype(np.intp), rows[found.j].astype(np.intp),
                 np.minimum(found.similarity, 1).astype(np.float32), skipped)
