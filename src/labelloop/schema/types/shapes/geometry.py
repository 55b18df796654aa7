"""Plane geometry of shape labels: box IoU, rotated boxes, polygon areas and IoU, polyline distance.

Coordinates are image pixels, origin top-left, x to the right, y down (docs/images.md). Every
function takes and returns plain numbers or numpy arrays; nothing here knows a schema.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]

# Memory bound of the vectorised polygon sweep: at most this many (slab, edge) cells at once.
_CELLS = 1 << 20


def box_iou(a: Floats, b: Floats) -> Floats:
    """IoU of every box of `a` (n, 4) with every box of `b` (m, 4), boxes as [x1, y1, x2, y2];
    1 for equal boxes, even those too small for their area to be a float."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(w, 0, None) * np.clip(h, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    out: Floats = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    out[(a[:, None, :] == b[None, :, :]).all(axis=2)] = 1.0
    return out


def rotated_corners(cx: float, cy: float, w: float, h: float, angle: float) -> Floats:
    """The four corners (4, 2) of a w x h box centred on (cx, cy), turned `angle` degrees clockwise
    on screen (y points down, so the usual rotation matrix turns clockwise), in the order
    top-left, top-right, bottom-right, bottom-left of the unturned box."""
    t = math.radians(angle)
    c, s = math.cos(t), math.sin(t)
    dx = np.array([-w / 2, w / 2, w / 2, -w / 2])
    dy = np.array([-h / 2, -h / 2, h / 2, h / 2])
    return np.stack([cx + dx * c - dy * s, cy + dx * s + dy * c], axis=1)


def shoelace_area(points: Floats) -> float:
    """Signed area of a polygon by the shoelace formula (positive when clockwise on screen)."""
    p = np.asarray(points, dtype=np.float64)
    x, y = p[:, 0], p[:, 1]
    return float(0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def bounds(points: Floats) -> Floats:
    """[x_min, y_min, x_max, y_max] of a point set (n, 2)."""
    p = np.asarray(points, dtype=np.float64)
    return np.concatenate([p.min(axis=0), p.max(axis=0)])


def polygon_areas(a: Floats, b: Floats) -> tuple[float, float, float]:
    """(area of a, area of b, area of their intersection), exactly, for any two polygons.

    Areas follow the even-odd rule, so self-intersecting outlines are measured as drawn. The
    plane is cut into vertical slabs at every vertex and every crossing of two edges (of either
    polygon, or of one with itself). Inside a slab no edge starts, ends or crosses another, so
    the length of a vertical cut through A, through B and through both is linear in x, and the
    midpoint rule integrates it exactly: area = sum over slabs of width x length(mid-slab cut).
    Degenerate cases (shared or collinear edges, touching vertices) need no special handling,
    because no cut passes through a vertex. Cost: O((V + K) * E) for V vertices, K crossings
    and E edges, vectorised in blocks.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    starts = np.concatenate([a, b])
    ends = np.concatenate([np.roll(a, -1, axis=0), np.roll(b, -1, axis=0)])
    in_b = np.arange(len(starts)) >= len(a)
    xs = np.unique(np.concatenate([starts[:, 0], _crossing_xs(starts, ends)]))
    if len(xs) < 2:
        return 0.0, 0.0, 0.0
    mids, widths = (xs[:-1] + xs[1:]) / 2, np.diff(xs)
    totals = np.zeros(3)
    step = max(1, _CELLS // len(starts))
    for i in range(0, len(mids), step):
        lengths = _cut_lengths(starts, ends, in_b, mids[i : i + step])
        totals += widths[i : i + step] @ lengths
    return float(totals[0]), float(totals[1]), float(totals[2])


def polygon_iou(a: Floats, b: Floats) -> float:
    """Intersection over union of two polygons (even-odd rule); 1 for identical outlines."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape == b.shape and np.array_equal(a, b):
        return 1.0
    ba, bb = bounds(a), bounds(b)
    if ba[2] <= bb[0] or bb[2] <= ba[0] or ba[3] <= bb[1] or bb[3] <= ba[1]:
        return 0.0
    area_a, area_b, inter = polygon_areas(a, b)
    union = area_a + area_b - inter
    return inter / union if union > 0 else 0.0


def _crossing_xs(starts: Floats, ends: Floats) -> Floats:
    """x of every point where two edges cross inside both (endpoints are vertices already)."""
    d = ends - starts
    n = len(starts)
    found: list[Floats] = []
    step = max(1, _CELLS // n)
    for i in range(0, n, step):
        r = d[i : i + step, None, :]
        q = starts[None, :, :] - starts[i : i + step, None, :]
        denom = r[..., 0] * d[None, :, 1] - r[..., 1] * d[None, :, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (q[..., 0] * d[None, :, 1] - q[..., 1] * d[None, :, 0]) / denom
            u = (q[..., 0] * r[..., 1] - q[..., 1] * r[..., 0]) / denom
        later = np.arange(n)[None, :] > np.arange(i, min(i + step, n))[:, None]
        hit = later & (denom != 0) & (t > 0) & (t < 1) & (u > 0) & (u < 1)
        rows, _ = np.nonzero(hit)
        found.append(starts[i + rows, 0] + t[hit] * d[i + rows, 0])
    return np.concatenate(found) if found else np.empty(0)


def _cut_lengths(starts: Floats, ends: Floats, in_b: npt.NDArray[np.bool_], xm: Floats) -> Floats:
    """(slabs, 3): length of the vertical cut at each x in `xm` through A, through B, through both."""
    x0, x1 = starts[:, 0], ends[:, 0]
    spans = (np.minimum(x0, x1)[None, :] < xm[:, None]) & (xm[:, None] < np.maximum(x0, x1)[None, :])
    dx = np.where(x1 == x0, 1.0, x1 - x0)  # vertical edges never span a slab's midpoint
    y = starts[None, :, 1] + (xm[:, None] - x0[None, :]) / dx[None, :] * (ends - starts)[None, :, 1]
    y = np.where(spans, y, np.inf)
    order = np.argsort(y, axis=1, kind="stable")
    ys = np.take_along_axis(y, order, axis=1)
    owner = in_b[order]
    odd_a = np.cumsum(~owner, axis=1) % 2 == 1
    odd_b = np.cumsum(owner, axis=1) % 2 == 1
    with np.errstate(invalid="ignore"):  # inf - inf past the last crossing
        gaps = np.diff(ys, axis=1)
    gaps = np.where(np.isfinite(gaps), gaps, 0.0)
    oa, ob = odd_a[:, :-1], odd_b[:, :-1]
    return np.stack(
        [(gaps * oa).sum(axis=1), (gaps * ob).sum(axis=1), (gaps * (oa & ob)).sum(axis=1)], axis=1
    )


def polyline_length(points: Floats) -> float:
    p = np.asarray(points, dtype=np.float64)
    return float(np.hypot(*np.diff(p, axis=0).T).sum())


def resample(points: Floats, n: int) -> Floats:
    """`n` points spread evenly by arc length along a polyline, both ends included."""
    p = np.asarray(points, dtype=np.float64)
    seg = np.hypot(*np.diff(p, axis=0).T)
    at = np.concatenate([[0.0], np.cumsum(seg)])
    if at[-1] <= 0:
        return np.repeat(p[:1], n, axis=0)
    want = np.linspace(0.0, at[-1], n)
    return np.stack([np.interp(want, at, p[:, 0]), np.interp(want, at, p[:, 1])], axis=1)


def point_line_distance(points: Floats, line: Floats) -> Floats:
    """Distance from each point (k, 2) to the nearest point of a polyline (n, 2)."""
    p = np.asarray(points, dtype=np.float64)[:, None, :]
    a = np.asarray(line, dtype=np.float64)
    s, d = a[:-1][None], np.diff(a, axis=0)[None]
    dd = (d * d).sum(axis=2)
    t = np.clip(((p - s) * d).sum(axis=2) / np.where(dd > 0, dd, 1.0), 0.0, 1.0)
    gap = p - (s + t[..., None] * d)
    out: Floats = np.sqrt((gap * gap).sum(axis=2)).min(axis=1)
    return out


def polyline_distance(a: Floats, b: Floats, samples: int = 32) -> float:
    """Symmetric mean distance between two polylines: the mean distance from points spread evenly
    along each to the other, averaged over both directions (0 for identical lines)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape == b.shape and np.array_equal(a, b):
        return 0.0
    there = point_line_distance(resample(a, samples), b).mean()
    back = point_line_distance(resample(b, samples), a).mean()
    return float((there + back) / 2)


def weighted_median(values: Sequence[float], weights: Sequence[float]) -> float:
    """The lower weighted median: the smallest value with at least half the weight at or below it."""
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if w.sum() <= 0:
        w = np.ones_like(v)
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    return values[int(order[np.searchsorted(cum, cum[-1] / 2)])]  # the value itself, as given
