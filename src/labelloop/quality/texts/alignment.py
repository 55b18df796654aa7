"""Word-level Levenshtein distances and alignments of many pairs of sequences at once.

Each pair ``(a, b)`` of word-code sequences (rows of two padded matrices, padding -1) gets the classic
edit distance (Levenshtein 1966; unit costs for substitution, insertion, deletion) and, if asked, one
optimal alignment. The dynamic programme ``D[i, j] = min(D[i-1, j-1] + [a_i != b_j], D[i-1, j] + 1,
D[i, j-1] + 1)`` is run row by row for *all pairs together*: the diagonal and vertical moves are one
numpy operation per row, and the horizontal (insertion) chain, which is sequential within a row, is a
running minimum, because with unit costs ``D[i, j] = min_{k <= j} (T[k] + j - k)`` where ``T`` is the
row before insertions: ``D[i] = cummin(T - j) + j``. So the Python loop runs over the length of the
longest sequence only, never over pairs or cells. Pairs are processed in chunks sorted by length so
that padding costs little and memory stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

Codes: TypeAlias = NDArray[np.intp]
Words: TypeAlias = NDArray[np.int64]
IntArray: TypeAlias = NDArray[np.signedinteger[Any]]
CHUNK_CELLS = 8_000_000  # cells of the full DP tensor held at once when aligning (int16: 16 MB)


@dataclass(frozen=True, eq=False)
class Alignment:
    """One optimal alignment per pair.

    ``a_to_b[p, i]``: the position in ``b`` that ``a``'s word ``i`` is aligned with (a match or a
    substitution), or -1 when it is inserted; then ``a_gap[p, i]`` is the position in ``b`` before which
    it is inserted (``len(b)``: at the end). ``b_deleted[p, j]``: ``b``'s word ``j`` has no partner in
    ``a``. ``distance[p]``: the edit distance.
    """

    a_to_b: Codes
    a_gap: Codes
    b_deleted: NDArray[np.bool_]
    distance: Codes


def _dp_type(wa: int, wb: int) -> type[np.signedinteger[Any]]:
    """int16 halves the memory traffic; distances never exceed the longer sequence."""
    return np.int16 if max(wa, wb) < 32_000 else np.int32


def _row_step(prev: IntArray, i: int, ai: Words, b: Words, jr: IntArray) -> IntArray:
    t = np.empty_like(prev)
    t[:, 0] = i
    np.minimum(prev[:, :-1] + (ai[:, None] != b).astype(prev.dtype), prev[:, 1:] + 1, out=t[:, 1:])
    t -= jr
    np.minimum.accumulate(t, axis=1, out=t)
    t += jr
    return t


def _distance_chunk(a: Words, la: Codes, b: Words, lb: Codes) -> Codes:
    n = a.shape[0]
    order = np.argsort(la, kind="stable")  # the pairs still running at row i are a suffix
    la_s, lb_s = la[order], lb[order]
    a_s, b_s = a[order], b[order]
    res = lb_s.copy()
    width = b.shape[1]
    dt = _dp_type(a.shape[1], width)
    prev = np.broadcast_to(np.arange(width + 1, dtype=dt), (n, width + 1)).copy()
    jr = np.arange(width + 1, dtype=dt)
    first = 0
    for i in range(1, a.shape[1] + 1):
        new_first = int(np.searchsorted(la_s, i, side="left"))
        prev = prev[new_first - first :]
        first = new_first
        prev = _row_step(prev, i, a_s[first:, i - 1], b_s[first:], jr)
        done = np.flatnonzero(la_s[first:] == i)
        res[first + done] = prev[done, lb_s[first + done]]
    out = np.empty(n, dtype=np.intp)
    out[order] = res
    return out


def _chunks(la: Codes, lb: Codes, cells: int) -> list[Codes]:
    """Pairs in order of length, cut into chunks whose padded ``rows x (la + 1) x (lb + 1)`` <= *cells*."""
    order = np.argsort(np.maximum(la, lb) * 1.0 + 1e-3 * np.minimum(la, lb), kind="stable")
    # the running maxima along the sorted order bound each chunk's padded size from above
    out: list[Codes] = []
    start, n = 0, len(order)
    while start < n:
        ma = np.maximum.accumulate(la[order[start:]] + 1)
        mb = np.maximum.accumulate(lb[order[start:]] + 1)
        size = np.arange(1, n - start + 1) * ma * mb
        stop = start + max(int(np.searchsorted(size, cells, side="right")), 1)
        out.append(order[start:stop])
        start = stop
    return out


def edit_distances(a: Words, la: Codes, b: Words, lb: Codes) -> Codes:
    """Levenshtein distance of each pair of rows ``a[p, :la[p]]``, ``b[p, :lb[p]]``."""
    out = np.zeros(a.shape[0], dtype=np.intp)
    for idx in _chunks(la, lb, CHUNK_CELLS):
        ca, cb = max(int(la[idx].max()), 1), max(int(lb[idx].max()), 1)  # >= 1: padding is -1
        out[idx] = _distance_chunk(a[idx, :ca], la[idx], b[idx, :cb], lb[idx])
    return out


def _align_chunk(a: Words, la: Codes, b: Words, lb: Codes) -> Alignment:
    n, wa = a.shape
    wb = b.shape[1]
    dt = _dp_type(wa, wb)
    jr = np.arange(wb + 1, dtype=dt)
    dp = np.empty((n, wa + 1, wb + 1), dtype=dt)
    dp[:, 0] = jr
    for row in range(1, wa + 1):
        dp[:, row] = _row_step(dp[:, row - 1], row, a[:, row - 1], b, jr)
    rows = np.arange(n)
    distance = dp[rows, la, lb].astype(np.intp)
    a_to_b = np.full((n, wa), -1, dtype=np.intp)
    a_gap = np.full((n, wa), -1, dtype=np.intp)
    b_deleted = np.zeros((n, wb), dtype=bool)
    i, j = la.astype(np.intp).copy(), lb.astype(np.intp).copy()
    # trace back all pairs together; preference on ties: match/substitute, then insert, then delete
    while True:
        live = np.flatnonzero((i > 0) | (j > 0))
        if live.size == 0:
            break
        ii, jj = i[live], j[live]
        d = dp[live, ii, jj]
        im, jm = np.maximum(ii - 1, 0), np.maximum(jj - 1, 0)
        cost = (a[live, im] != b[live, jm]).astype(dt)
        diag = (ii > 0) & (jj > 0) & (d == dp[live, im, jm] + cost)
        up = ~diag & (ii > 0) & (d == dp[live, im, jj] + 1)
        left = ~diag & ~up
        p = live[diag]
        a_to_b[p, ii[diag] - 1] = jj[diag] - 1
        p = live[up]
        a_gap[p, ii[up] - 1] = jj[up]
        p = live[left]
        b_deleted[p, jj[left] - 1] = True
        i[live] = ii - (diag | up)
        j[live] = jj - (diag | left)
    return Alignment(a_to_b, a_gap, b_deleted, distance)


def align(a: Words, la: Codes, b: Words, lb: Codes) -> Alignment:
    """Edit distance and one optimal alignment of each pair of rows (see :class:`Alignment`)."""
    n = a.shape[0]
    wa, wb = a.shape[1], b.shape[1]
    a_to_b = np.full((n, wa), -1, dtype=np.intp)
    a_gap = np.full((n, wa), -1, dtype=np.intp)
    b_deleted = np.zeros((n, wb), dtype=bool)
    distance = np.zeros(n, dtype=np.intp)
    for idx in _chunks(la, lb, CHUNK_CELLS):
        ca, cb = max(int(la[idx].max()), 1), max(int(lb[idx].max()), 1)  # >= 1: padding is -1
        part = _align_chunk(a[idx, :ca], la[idx], b[idx, :cb], lb[idx])
        a_to_b[idx, :ca] = part.a_to_b
        a_gap[idx, :ca] = part.a_gap
        b_deleted[idx, :cb] = part.b_deleted
        distance[idx] = part.distance
    return Alignment(a_to_b, a_gap, b_deleted, distance)
