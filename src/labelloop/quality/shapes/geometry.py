r"""Overlap measures for shapes: box IoU (matrix and paired, vectorised), mask IoU, polygon masks, OKS.

Boxes are ``[x1, y1, x2, y2]`` in pixels (``docs/images.md``). Their intersection over union is

.. math:: \mathrm{IoU}(a, b) = \frac{|a \cap b|}{|a| + |b| - |a \cap b|},

0 when the union is empty (two degenerate boxes). Object keypoint similarity follows the COCO keypoint
evaluation (Lin et al., "Microsoft COCO: Common Objects in Context", ECCV 2014; cocodataset.org's
keypoint evaluation page and ``cocoeval.py``'s ``computeOks``):

.. math:: \mathrm{OKS} = \frac{1}{|V|} \sum_{i \in V} \exp\!\Big(-\frac{d_i^2}{2\,s^2 k_i^2}\Big),
          \qquad k_i = 2\sigma_i,

over the points :math:`V` labelled in the reference (visibility > 0), with :math:`d_i` the distance
between the two points, :math:`s^2` the object's area (COCO: the segment area; here the area of the
reference box, or of the reference points' bounding box when no box is given) and :math:`\sigma_i`
the per-point constants COCO measured for person keypoints. Points whose names are not COCO's get
:data:`DEFAULT_SIGMA` (the mean of COCO's, a middle-of-the-road tolerance).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

Floats: TypeAlias = NDArray[np.float64]
Bools: TypeAlias = NDArray[np.bool_]

# COCO person keypoints and their sigmas (cocoeval.py, Params.setKpParams / kpt_oks_sigmas).
COCO_SIGMAS: dict[str, float] = {
    "nose": 0.026,
    "left_eye": 0.025,
    "right_eye": 0.025,
    "left_ear": 0.035,
    "right_ear": 0.035,
    "left_shoulder": 0.079,
    "right_shoulder": 0.079,
    "left_elbow": 0.072,
    "right_elbow": 0.072,
    "left_wrist": 0.062,
    "right_wrist": 0.062,
    "left_hip": 0.107,
    "right_hip": 0.107,
    "left_knee": 0.087,
    "right_knee": 0.087,
    "left_ankle": 0.089,
    "right_ankle": 0.089,
}
DEFAULT_SIGMA = float(np.mean(list(COCO_SIGMAS.values())))


def as_boxes(boxes: ArrayLike, name: str = "boxes") -> Floats:
    """A ``(n, 4)`` float array of ``[x1, y1, x2, y2]`` boxes; an empty input gives ``(0, 4)``."""
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 4))
    if arr.ndim == 1 and arr.shape[0] == 4:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{name} must be [x1, y1, x2, y2] boxes, got an array of shape {arr.shape}")
    return arr


def box_area(boxes: ArrayLike) -> Floats:
    """Area of each box (0 for inverted or degenerate boxes)."""
    b = as_boxes(boxes)
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def _iou(a: Floats, b: Floats) -> Floats:
    """IoU of broadcastable box arrays ``(..., 4)``."""
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = w * h
    area_a = np.clip(a[..., 2] - a[..., 0], 0, None) * np.clip(a[..., 3] - a[..., 1], 0, None)
    area_b = np.clip(b[..., 2] - b[..., 0], 0, None) * np.clip(b[..., 3] - b[..., 1], 0, None)
    union = area_a + area_b - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64)


def box_iou(a: ArrayLike, b: ArrayLike) -> Floats:
    """``(len(a), len(b))`` matrix of the IoU of every box of *a* with every box of *b*."""
    aa, bb = as_boxes(a, "a"), as_boxes(b, "b")
    return _iou(aa[:, None, :], bb[None, :, :])


def paired_box_iou(a: ArrayLike, b: ArrayLike) -> Floats:
    """IoU of ``a[i]`` with ``b[i]`` for each i (equally long box arrays)."""
    aa, bb = as_boxes(a, "a"), as_boxes(b, "b")
    if aa.shape != bb.shape:
        raise ValueError(f"paired boxes need equal lengths, got {len(aa)} and {len(bb)}")
    return _iou(aa, bb)


def mask_iou(a: ArrayLike, b: ArrayLike) -> float:
    """IoU of two boolean masks of the same shape (0 when both are empty)."""
    ma, mb = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    if ma.shape != mb.shape:
        raise ValueError(f"masks must have the same shape, got {ma.shape} and {mb.shape}")
    union = int(np.logical_or(ma, mb).sum())
    return float(np.logical_and(ma, mb).sum() / union) if union else 0.0


def polygon_mask(points: ArrayLike, height: int, width: int) -> Bools:
    """Rasterise a polygon ``[[x, y], ...]``: a pixel is inside when its centre is (even-odd rule).

    Pixel ``(row, col)`` covers ``[col, col+1) x [row, row+1)``, so its centre is ``(col+0.5, row+0.5)``;
    rasterised this way, polygon IoU is the IoU of pixel sets, like a mask's.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
        raise ValueError("a polygon needs at least 3 [x, y] points")
    if height <= 0 or width <= 0:
        raise ValueError("height and width must be positive")
    ys = np.arange(height, dtype=np.float64) + 0.5
    xs = np.arange(width, dtype=np.float64) + 0.5
    x0, y0 = pts[:, 0], pts[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    inside = np.zeros((height, width), dtype=bool)
    for ax, ay, bx, by in zip(x0, y0, x1, y1, strict=True):
        if ay == by:
            continue  # a horizontal edge never crosses a scanline through pixel centres
        rows = (ys >= min(ay, by)) & (ys < max(ay, by))
        if not rows.any():
            continue
        cross = ax + (ys[rows] - ay) * (bx - ax) / (by - ay)  # x where the edge meets each scanline
        inside[rows] ^= xs[None, :] > cross[:, None]
    return inside


def polygon_iou(a: ArrayLike, b: ArrayLike, height: int, width: int) -> float:
    """IoU of two polygons rasterised on a ``height x width`` image (see :func:`polygon_mask`)."""
    return mask_iou(polygon_mask(a, height, width), polygon_mask(b, height, width))


def keypoint_sigmas(names: Sequence[str], default: float = DEFAULT_SIGMA) -> Floats:
    """Per-point OKS sigmas: COCO's for COCO's person keypoint names, *default* for any other name."""
    return np.array([COCO_SIGMAS.get(name, default) for name in names], dtype=np.float64)


def oks(
    points: ArrayLike,
    reference: ArrayLike,
    *,
    sigmas: ArrayLike | Mapping[str, float] | None = None,
    area: float | None = None,
) -> float:
    """Object keypoint similarity of *points* against *reference* (both ``(k, 3)``: x, y, visibility).

    Only points labelled in the reference (v > 0) count, as in COCO; NaN when it has none. A point of
    *points* with NaN coordinates scores 0. *sigmas*: one per point
    (default :data:`DEFAULT_SIGMA`); *area*: the object's area :math:`s^2` (default: the area of the
    reference points' bounding box, at least 1).
    """
    p = np.asarray(points, dtype=np.float64)
    r = np.asarray(reference, dtype=np.float64)
    if p.shape != r.shape or p.ndim != 2 or p.shape[1] != 3:
        raise ValueError(f"keypoints must both be (k, 3) arrays of x, y, v; got {p.shape} and {r.shape}")
    k = r.shape[0]
    sig = np.full(k, DEFAULT_SIGMA) if sigmas is None else np.asarray(sigmas, dtype=np.float64)
    if sig.shape != (k,):
        raise ValueError(f"need one sigma per keypoint ({k}), got {sig.shape}")
    labelled = r[:, 2] > 0
    if not labelled.any():
        return float("nan")
    if area is None:
        xy = r[labelled, :2]
        span = xy.max(axis=0) - xy.min(axis=0)
        area = float(max(span[0] * span[1], 1.0))
    if area <= 0:
        raise ValueError("area must be positive")
    d2 = ((p[:, :2] - r[:, :2]) ** 2).sum(axis=1)
    e = d2 / (2.0 * area * (2.0 * sig) ** 2)
    e = np.where(np.isnan(e), np.inf, e)  # a point the reference has and *points* lacks scores 0
    return float(np.exp(-e[labelled]).mean())
