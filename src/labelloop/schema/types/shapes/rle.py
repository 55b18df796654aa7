"""COCO run-length encoding of binary masks, and set operations done on the runs themselves.

A mask of `height x width` pixels is read in column-major order (down the first column, then
the next: COCO's and Fortran's order) and stored as the lengths of alternating runs, zeros
first: `[3, 2, 5]` is 3 background pixels, 2 mask pixels, 5 background. COCO's *compressed*
form writes those counts as text (`rleToString` in cocoapi's maskApi.c): from the third count
on, each is replaced by its difference from the count two before; each number is then written
in 5-bit groups, least significant first, one character (48 + group) per group, with 0x20
set on every group but the last and 0x10 of the last group giving the sign.

Masks are never expanded to pixels here: area, intersection, bounds and the weighted vote of
several masks work on the run boundaries, so a 24-megapixel image costs what its outline costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]

# Digits per number: seven 5-bit groups hold the 35-bit signed differences of counts below 2**33.
_MAX_DIGITS = 7


class RleError(ValueError):
    """Text that is not COCO compressed RLE."""


def decode_counts(text: str) -> Ints:
    """The run lengths that a compressed RLE string stands for (not checked against a size)."""
    if not text.isascii():
        raise RleError("counts holds characters outside COCO's RLE alphabet")
    c = np.frombuffer(text.encode("ascii"), dtype=np.uint8).astype(np.int64) - 48
    if len(c) == 0:
        return np.empty(0, dtype=np.int64)
    if c.min() < 0 or c.max() > 63:
        raise RleError("counts holds characters outside COCO's RLE alphabet")
    more = (c & 0x20) != 0
    if more[-1]:
        raise RleError("counts ends in the middle of a number")
    last = np.flatnonzero(~more)
    first = np.concatenate([[0], last[:-1] + 1])
    if (last - first).max() >= _MAX_DIGITS:
        raise RleError("counts holds a number too large for a mask")
    group = np.repeat(np.arange(len(last)), last - first + 1)
    digit = np.arange(len(c)) - first[group]
    x = np.add.reduceat((c & 0x1F) << (5 * digit), first)
    negative = (c[last] & 0x10) != 0
    x = np.where(negative, x | (np.int64(-1) << (5 * (last - first + 1))), x)
    # Undo the differences: from the third count on, each was stored minus the one two before.
    counts = x.copy()
    counts[2::2] = np.cumsum(x[2::2])
    counts[3::2] = x[1] + np.cumsum(x[3::2]) if len(x) > 3 else x[3::2]
    return counts


def encode_counts(counts: Sequence[int] | Ints) -> str:
    """The compressed RLE string of run lengths (inverse of `decode_counts`)."""
    cnt = np.asarray(counts, dtype=np.int64)
    x = cnt.copy()
    x[3:] -= cnt[1:-2]  # the first three are written as they are
    digits = np.zeros((len(x), _MAX_DIGITS), dtype=np.int64)
    used = np.zeros(len(x), dtype=np.int64)
    active = np.ones(len(x), dtype=bool)
    for k in range(_MAX_DIGITS):
        c = x & 0x1F
        x = x >> 5  # arithmetic shift: negative numbers end in all ones
        more = np.where((c & 0x10) != 0, x != -1, x != 0)
        digits[:, k] = np.where(more, c | 0x20, c) + 48
        used += active
        active &= more
        if not active.any():
            break
    keep = np.arange(_MAX_DIGITS)[None, :] < used[:, None]
    return digits[keep].astype(np.uint8).tobytes().decode("ascii")


def canonical(counts: Ints, total: int) -> Ints:
    """The run lengths cocoapi would write for the same pixels: zero-length runs merged away
    (only the first, background run may be empty) and no empty run at the end."""
    starts, ends = intervals(counts)
    return from_intervals(starts, ends, total)


def intervals(counts: Ints) -> tuple[Ints, Ints]:
    """[start, end) of each non-empty run of mask pixels, in column-major pixel indices, merged
    where two runs touch."""
    at = np.concatenate([[0], np.cumsum(counts)])
    n = len(counts) // 2
    starts, ends = at[1 : 2 * n : 2], at[2 : 2 * n + 1 : 2]
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    if len(starts) > 1:
        gap = starts[1:] > ends[:-1]
        starts = starts[np.concatenate([[True], gap])]
        ends = ends[np.concatenate([gap, [True]])]
    return starts, ends


def from_intervals(starts: Ints, ends: Ints, total: int) -> Ints:
    """Run lengths (zeros first) of the mask made of disjoint, sorted, non-touching [start, end)."""
    if len(starts) == 0:
        return np.array([total], dtype=np.int64)
    edges = np.empty(2 * len(starts), dtype=np.int64)
    edges[0::2], edges[1::2] = starts, ends
    counts = np.diff(np.concatenate([[0], edges, [total]]))
    return counts[:-1] if counts[-1] == 0 else counts


def area(counts: Ints) -> int:
    return int(np.asarray(counts)[1::2].sum())


def intersection(a: Ints, b: Ints) -> int:
    """Pixels in both masks, from their runs."""
    sa, ea = intervals(a)
    sb, eb = intervals(b)
    pos = np.concatenate([sa, ea, sb, eb])
    step = np.concatenate([np.ones(len(sa)), -np.ones(len(ea)), np.ones(len(sb)), -np.ones(len(eb))])
    order = np.argsort(pos, kind="stable")
    depth = np.cumsum(step[order])[:-1]
    return int((np.diff(pos[order]) * (depth == 2)).sum())


def iou(a: Ints, b: Ints) -> float:
    inter = intersection(a, b)
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def vote(masks: Sequence[Ints], weights: Sequence[float], total: int) -> Ints:
    """Per-pixel weighted vote: the pixels whose masks carry more than half of the weight."""
    pos_parts, step_parts = [], []
    for counts, w in zip(masks, weights, strict=True):
        s, e = intervals(counts)
        pos_parts += [s, e]
        step_parts += [np.full(len(s), float(w)), np.full(len(e), -float(w))]
    pos = np.concatenate(pos_parts)
    at, where = np.unique(pos, return_inverse=True)
    depth = np.cumsum(np.bincount(where, weights=np.concatenate(step_parts), minlength=len(at)))
    inside = depth[:-1] > sum(float(w) for w in weights) / 2
    if not inside.any():
        return np.array([total], dtype=np.int64)
    # Runs of inside slabs become the kept intervals.
    edge = np.diff(np.concatenate([[False], inside, [False]]).astype(np.int8))
    return from_intervals(at[np.flatnonzero(edge == 1)], at[np.flatnonzero(edge == -1)], total)


def bounds(counts: Ints, height: int) -> tuple[int, int, int, int]:
    """[x1, y1, x2, y2] of the pixels a non-empty mask covers, as pixel edges (x2, y2 exclusive)."""
    s, e = intervals(counts)
    last = e - 1
    x1, x2 = int(s[0] // height), int(last[-1] // height) + 1
    one_column = s // height == last // height
    y1 = int(np.where(one_column, s % height, 0).min())
    y2 = int(np.where(one_column, last % height, height - 1).max()) + 1
    return x1, y1, x2, y2


def encode_mask(mask: npt.NDArray[Any]) -> dict[str, Any]:
    """COCO compressed RLE `{"size": [h, w], "counts": str}` of a (h, w) boolean array."""
    m = np.asarray(mask, dtype=bool)
    h, w = m.shape
    flat = m.ravel(order="F")
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    edges = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(edges)
    if flat.size and flat[0]:
        counts = np.concatenate([[0], counts])
    return {"size": [int(h), int(w)], "counts": encode_counts(counts)}


def decode_mask(rle: dict[str, Any]) -> npt.NDArray[np.bool_]:
    """The (h, w) boolean array of a COCO RLE (compressed string or list of counts)."""
    h, w = (int(v) for v in rle["size"])
    raw = rle["counts"]
    counts = decode_counts(raw) if isinstance(raw, str) else np.asarray(raw, dtype=np.int64)
    values = np.arange(len(counts)) % 2 == 1
    flat = np.repeat(values, counts)
    if flat.size != h * w:
        raise RleError(f"counts cover {flat.size} pixels, not {h} x {w}")
    return flat.reshape((h, w), order="F")
