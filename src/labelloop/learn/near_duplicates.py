r"""Near-duplicate search over embeddings: cosine similarity, top-k neighbours, pairs above a threshold.

The cosine similarity of two vectors is :math:`\cos(a, b) = a \cdot b / (\lVert a \rVert\,\lVert b
\rVert)`; a zero vector is similar to nothing (its similarity is 0). Search is exact (brute force)
but **blocked**: rows are read, converted to float32 and normalised ``chunk_size`` at a time, and
only a ``chunk_size x chunk_size`` block of similarities exists at once, so a million 1280-d
vectors (a ``numpy.memmap`` will do) are never held as float64 nor their similarity matrix
materialised. Memory is about ``4 * chunk_size * (2 * dim + chunk_size)`` bytes; time is
quadratic in the number of vectors (for millions, first narrow candidates, e.g. by clustering).

Used by curation: :func:`near_duplicate_pairs` lists pairs above a threshold, and
:func:`duplicate_groups` joins them into groups (connected components), each named by its smallest
index.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["NearDuplicates", "duplicate_groups", "near_duplicate_pairs", "top_k_similar"]


@dataclass(frozen=True)
class NearDuplicates:
    """Pairs ``(i[p], j[p])`` with ``i < j`` and cosine ``similarity[p]``, ordered by ``(i, j)``."""

    i: NDArray[np.intp]
    j: NDArray[np.intp]
    similarity: NDArray[np.float32]

    def __len__(self) -> int:
        return int(self.i.shape[0])

    def pairs(self) -> set[tuple[int, int]]:
        """The pairs as a set of ``(i, j)`` tuples."""
        return set(zip(self.i.tolist(), self.j.tolist(), strict=True))


def _as_matrix(vectors: ArrayLike, name: str) -> np.ndarray:
    # np.asarray keeps a memmap lazy: rows are read block by block in _blocks.
    arr = vectors if isinstance(vectors, np.ndarray) else np.asarray(vectors)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValueError(f"{name} must be a 2-d array (n_items, dim), got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must hold numbers, not {arr.dtype}")
    return arr


def _unit_block(arr: np.ndarray, start: int, stop: int, name: str) -> NDArray[np.float32]:
    block = np.array(arr[start:stop], dtype=np.float32)
    if not np.isfinite(block).all():
        bad = start + int(np.flatnonzero(~np.isfinite(block).all(axis=1))[0])
        raise ValueError(f"{name}[{bad}] is not finite")
    norms = np.linalg.norm(block, axis=1, keepdims=True)
    return np.asarray(block / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def _blocks(arr: np.ndarray, chunk_size: int, name: str) -> Iterator[tuple[int, NDArray[np.float32]]]:
    for start in range(0, arr.shape[0], chunk_size):
        yield start, _unit_block(arr, start, min(start + chunk_size, arr.shape[0]), name)


_LOW = np.uint64(0xFFFFFFFF)
_SIGN = np.uint32(0x80000000)


def _rank_keys(sims: NDArray[np.float32], first_index: int) -> NDArray[np.uint64]:
    """One unsigned key per similarity that orders by (similarity, then smaller index) as integers.

    A float32's bits, with the sign bit flipped for positives and all bits flipped for negatives,
    sort as the floats do; the column index, subtracted from 2**32 - 1, fills the low 32 bits. The
    keys are distinct, so equal similarities always resolve by index, whatever the block order.
    """
    bits = np.ascontiguousarray(sims, dtype=np.float32).view(np.uint32)
    ordered = np.where(bits & _SIGN, ~bits, bits | _SIGN).astype(np.uint64)
    index = np.arange(first_index, first_index + sims.shape[1], dtype=np.uint64)
    return np.asarray((ordered << np.uint64(32)) | (_LOW - index)[None, :], dtype=np.uint64)


def _from_rank_keys(keys: NDArray[np.uint64]) -> tuple[NDArray[np.intp], NDArray[np.float32]]:
    ordered = (keys >> np.uint64(32)).astype(np.uint32)
    bits = np.where(ordered & _SIGN, ordered ^ _SIGN, ~ordered).astype(np.uint32)
    index = (_LOW - (keys & _LOW)).astype(np.intp)
    return index, bits.view(np.float32)


def _check_chunk(chunk_size: int) -> None:
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")


def near_duplicate_pairs(
    vectors: ArrayLike, *, threshold: float = 0.95, chunk_size: int = 2048
) -> NearDuplicates:
    """Every pair of rows of *vectors* whose cosine similarity is at least *threshold*.

    Only the upper triangle of blocks is computed (each pair once). ``threshold`` in ``(0, 1]``:
    a non-positive one would list almost every pair.
    """
    arr = _as_matrix(vectors, "vectors")
    _check_chunk(chunk_size)
    if not 0 < threshold <= 1:
        raise ValueError("threshold must lie in (0, 1]")
    found_i: list[NDArray[np.intp]] = []
    found_j: list[NDArray[np.intp]] = []
    found_s: list[NDArray[np.float32]] = []
    for a_start, a in _blocks(arr, chunk_size, "vectors"):
        for b_start in range(a_start, arr.shape[0], chunk_size):
            b = a if b_start == a_start else _unit_block(
                arr, b_start, min(b_start + chunk_size, arr.shape[0]), "vectors")
            sims = a @ b.T
            rows, cols = np.nonzero(sims >= np.float32(threshold))
            gi, gj = rows + a_start, cols + b_start
            keep = gi < gj
            found_i.append(gi[keep].astype(np.intp))
            found_j.append(gj[keep].astype(np.intp))
            found_s.append(sims[rows[keep], cols[keep]].astype(np.float32))
    if not found_i:
        empty = np.zeros(0, dtype=np.intp)
        return NearDuplicates(empty, empty.copy(), np.zeros(0, dtype=np.float32))
    i, j, s = np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_s)
    order = np.lexsort((j, i))
    return NearDuplicates(i[order], j[order], s[order])


def top_k_similar(
    queries: ArrayLike,
    vectors: ArrayLike | None = None,
    *,
    k: int = 10,
    chunk_size: int = 2048,
) -> tuple[NDArray[np.intp], NDArray[np.float32]]:
    """The *k* rows of *vectors* most cosine-similar to each query: ``(indices, similarities)``.

    Both are ``(n_queries, min(k, candidates))``, most similar first (equal similarities by
    index). Without *vectors*, the queries are searched among themselves and each row's own
    index is excluded.
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    _check_chunk(chunk_size)
    q_arr = _as_matrix(queries, "queries")
    self_search = vectors is None
    base = q_arr if vectors is None else _as_matrix(vectors, "vectors")
    if base.shape[1] != q_arr.shape[1]:
        raise ValueError(f"queries have {q_arr.shape[1]} columns but vectors have {base.shape[1]}")
    n_base = base.shape[0]
    k_eff = min(k, n_base - 1 if self_search else n_base)
    out_idx = np.full((q_arr.shape[0], max(k_eff, 0)), -1, dtype=np.intp)
    out_sim = np.full((q_arr.shape[0], max(k_eff, 0)), -np.inf, dtype=np.float32)
    if k_eff <= 0:
        return out_idx, out_sim
    for q_start, q in _blocks(q_arr, chunk_size, "queries"):
        rows = np.arange(q.shape[0])
        best = np.zeros((q.shape[0], 0), dtype=np.uint64)
        for b_start, b in _blocks(base, chunk_size, "vectors"):
            sims = q @ b.T
            if self_search:
                own = rows + q_start - b_start
                inside = (own >= 0) & (own < b.shape[0])
                sims[rows[inside], own[inside]] = -np.inf
            cand = np.concatenate([best, _rank_keys(sims, b_start)], axis=1)
            if cand.shape[1] > k_eff:
                top = np.argpartition(cand, cand.shape[1] - k_eff, axis=1)[:, cand.shape[1] - k_eff :]
                cand = np.take_along_axis(cand, top, axis=1)
            best = cand
        best = np.sort(best, axis=1)[:, ::-1]
        idx, sim = _from_rank_keys(best)
        out_idx[q_start : q_start + q.shape[0]] = idx
        out_sim[q_start : q_start + q.shape[0]] = sim
    return out_idx, out_sim
    for q_start, q in _blocks(q_arr, chunk_size, "queries"):
        rows = np.arange(q.shape[0])
        best_sim = np.full((q.shape[0], k_eff), -np.inf, dtype=np.float32)
        best_idx = np.full((q.shape[0], k_eff), -1, dtype=np.intp)
        for b_start, b in _blocks(base, chunk_size, "vectors"):
            sims = q @ b.T
            if self_search:
                own = rows + q_start - b_start
                inside = (own >= 0) & (own < b.shape[0])
                sims[rows[inside], own[inside]] = -np.inf
            cand_sim = np.concatenate([best_sim, sims], axis=1)
            cand_idx = np.concatenate(
                [best_idx, np.broadcast_to(np.arange(b_start, b_start + b.shape[0]), sims.shape)], axis=1)
            # Sort each row by (-similarity, index): equal similarities resolve by index, in every
            # block order, so results do not depend on chunk_size.
            order = np.lexsort((cand_idx, -cand_sim), axis=1)[:, :k_eff]
            best_sim = np.take_along_axis(cand_sim, order, axis=1)
            best_idx = np.take_along_axis(cand_idx, order, axis=1)
        out_idx[q_start : q_start + q.shape[0]] = best_idx
        out_sim[q_start : q_start + q.shape[0]] = best_sim
    return out_idx, out_sim


def duplicate_groups(n_items: int, duplicates: NearDuplicates) -> NDArray[np.intp]:
    """A group per item: the smallest index of its connected component in the duplicate graph.

    An item with no duplicate is its own group (``groups[i] == i``).
    """
    if n_items < 0:
        raise ValueError("n_items must be >= 0")
    if len(duplicates) and max(int(duplicates.i.max()), int(duplicates.j.max())) >= n_items:
        raise ValueError("a duplicate pair names an item beyond n_items")
    ones = np.ones(len(duplicates), dtype=np.int8)
    graph = coo_matrix((ones, (duplicates.i, duplicates.j)), shape=(n_items, n_items))
    _, component = connected_components(graph, directed=False)
    smallest = np.full(int(component.max()) + 1 if n_items else 0, n_items, dtype=np.intp)
    np.minimum.at(smallest, component, np.arange(n_items))
    return np.asarray(smallest[component], dtype=np.intp)
