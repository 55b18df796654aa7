r"""Interactive masks: a box and/or scribbles in, a binary mask out, with GrabCut.

The platform's ``Segmenter`` interface (``services/loop/models.py``) wraps :func:`grabcut_mask`,
turning the mask into COCO compressed RLE (``docs/images.md``); a team's own segmenter can stand
in its place over HTTP.

GrabCut (Rother, Kolmogorov & Blake, "GrabCut: interactive foreground extraction using iterated
graph cuts", SIGGRAPH 2004) models the colours of the object and of the background as two Gaussian
mixtures (5 components each) and alternates between fitting them and a min-cut of the energy

.. math:: E(\alpha) = \sum_p -\log p(z_p \mid \alpha_p) + \gamma \sum_{(p, q)} [\alpha_p \ne \alpha_q]
          \, e^{-\beta \lVert z_p - z_q \rVert^2}

over the pixels' labels :math:`\alpha`. OpenCV's implementation runs offline with no weights.
The prompt seeds the labels: outside the box is background for sure, inside probably object;
foreground scribbles are object for sure, background scribbles background for sure (without a
box, the surroundings of the foreground scribbles start as probably object, the rest as probably
background).

Its cost grows with the pixel count, so (as in interactive tools) it runs in two passes:

1. **coarse**: on a copy whose long side is at most ``work_size`` (area-averaged), ``iterations``
   rounds;
2. **refine**: the coarse mask is upscaled (bilinear, cut at 1/2); only a band two coarse pixels
   wide each side of its edge is left undecided (inside it "probably" as the coarse mask says, eroded
   interior sure object, the rest sure background), and ``refine_iterations`` rounds of GrabCut
   run at full resolution on the bounding rectangle of that band, so the edge follows the real
   image; the cost follows the object's outline, not the photo's size (a rectangle over
   ``max_refine_pixels`` is refined at the largest scale that fits instead).

The prompt's certainties hold in the answer: nothing outside the box, every foreground scribble in,
every background scribble out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelloop.learn.images.inputs import ImageInput, require_cv2, to_rgb

__all__ = ["grabcut_mask"]

Point = Sequence[float]
# OpenCV's GrabCut labels.
BGD, FGD, PR_BGD, PR_FGD = 0, 1, 2, 3


def _check_box(box: Sequence[float], w: int, h: int) -> tuple[float, float, float, float]:
    vals = [float(v) for v in box]
    if len(vals) != 4 or not all(math.isfinite(v) for v in vals):
        raise ValueError("box must be [x1, y1, x2, y2], four finite numbers")
    x1, y1, x2, y2 = vals
    if not (x1 < x2 and y1 < y2):
        raise ValueError("box must have x1 < x2 and y1 < y2")
    x1, x2 = max(x1, 0.0), min(x2, float(w))
    y1, y2 = max(y1, 0.0), min(y2, float(h))
    if x2 - x1 < 1 or y2 - y1 < 1:
        raise ValueError(f"box must overlap the {w}x{h} image by at least one pixel")
    return x1, y1, x2, y2


def _check_points(points: Sequence[Point], w: int, h: int, name: str) -> NDArray[np.float64]:
    arr = np.asarray(points, dtype=np.float64).reshape(-1, 2) if len(points) else np.zeros((0, 2))
    for i, (x, y) in enumerate(arr):
        if not (math.isfinite(x) and math.isfinite(y) and 0 <= x <= w and 0 <= y <= h):
            raise ValueError(f"{name}[{i}] = [{x:g}, {y:g}] is not a point of the {w}x{h} image")
    return arr


def _pixel(v: float, limit: int) -> int:
    return min(max(math.floor(v), 0), limit - 1)


def _seed(shape: tuple[int, int], box: tuple[float, ...] | None, fg: NDArray[np.float64],
          bg: NDArray[np.float64], scale: float, radius: int) -> NDArray[np.uint8]:
    """GrabCut's starting labels on an image *scale* times the original."""
    cv2 = require_cv2()
    h, w = shape
    if box is None:
        # Only scribbles: the surroundings of the foreground points start as probably object, so
        # that the object's colour model is not learnt from a few brush dots alone (with
        # everything else "probably background", the cut would never move).
        seed = np.full(shape, PR_BGD, dtype=np.uint8)
        margin = max(h, w) / 8
        x1, y1 = _pixel(fg[:, 0].min() * scale - margin, w), _pixel(fg[:, 1].min() * scale - margin, h)
        x2, y2 = _pixel(fg[:, 0].max() * scale + margin, w), _pixel(fg[:, 1].max() * scale + margin, h)
        seed[y1 : y2 + 1, x1 : x2 + 1] = PR_FGD
    else:
        seed = np.full(shape, BGD, dtype=np.uint8)
        x1, y1 = _pixel(box[0] * scale, w), _pixel(box[1] * scale, h)
        x2, y2 = max(math.ceil(box[2] * scale), x1 + 1), max(math.ceil(box[3] * scale), y1 + 1)
        seed[y1:y2, x1:x2] = PR_FGD
        if (seed != PR_FGD).sum() == 0:  # a box over the whole image leaves nothing to learn from
            seed[[0, -1], :] = PR_BGD
            seed[:, [0, -1]] = PR_BGD
    for points, label in ((bg, BGD), (fg, FGD)):
        for x, y in points:
            cv2.circle(seed, (_pixel(x * scale, w), _pixel(y * scale, h)), radius, label, thickness=-1)
    return seed


def _run(cv2: Any, img: NDArray[np.uint8], seed: NDArray[np.uint8], iterations: int) -> NDArray[np.uint8]:
    labels = seed.copy()
    if not (((labels == BGD) | (labels == PR_BGD)).any() and ((labels == FGD) | (labels == PR_FGD)).any()):
        return labels  # one side is empty: GrabCut has nothing to tell apart
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    # GrabCut seeds its colour models by k-means from OpenCV's (per-thread) random generator: a
    # fixed seed makes the same prompt give the same mask, whatever ran before.
    cv2.setRNGSeed(0)
    cv2.grabCut(np.ascontiguousarray(img[:, :, ::-1]), labels, None, bgd, fgd, iterations,
                cv2.GC_INIT_WITH_MASK)
    return labels


def _is_object(labels: NDArray[np.uint8]) -> NDArray[np.bool_]:
    return np.asarray((labels == FGD) | (labels == PR_FGD))


def grabcut_mask(
    image: ImageInput,
    *,
    box: Sequence[float] | None = None,
    foreground: Sequence[Point] = (),
    background: Sequence[Point] = (),
    iterations: int = 5,
    work_size: int = 320,
    refine_iterations: int = 2,
    brush_radius: float = 3.0,
    max_refine_pixels: int = 1_000_000,
) -> NDArray[np.bool_]:
    """The ``(H, W)`` boolean object mask for a box and/or scribbles (module docstring).

    *box* is ``[x1, y1, x2, y2]`` and scribbles are ``[x, y]`` points in the image's pixels; each
    scribble point marks a disc of *brush_radius* pixels. A box or a foreground scribble is needed.
    """
    cv2 = require_cv2()
    rgb = to_rgb(image)
    h, w = rgb.shape[:2]
    if iterations < 1 or refine_iterations < 0 or work_size < 16 or brush_radius < 0 or max_refine_pixels < 1:
        raise ValueError("need iterations >= 1, refine_iterations >= 0, work_size >= 16, brush_radius >= 0, "
                         "max_refine_pixels >= 1")
    checked_box = None if box is None else _check_box(box, w, h)
    fg = _check_points(foreground, w, h, "foreground")
    bg = _check_points(background, w, h, "background")
    if checked_box is None and len(fg) == 0:
        raise ValueError("give a box or at least one foreground point")
    scale = min(1.0, work_size / max(h, w))
    if scale < 1:
        small_size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = cv2.resize(rgb, small_size, interpolation=cv2.INTER_AREA)
    else:
        small = rgb
    sy, sx = small.shape[0] / h, small.shape[1] / w
    factor = min(sx, sy)
    seed = _seed(small.shape[:2], checked_box, fg, bg, factor, max(0, round(brush_radius * factor)))
    coarse = _is_object(_run(cv2, small, seed, iterations))
    full_seed = _seed((h, w), checked_box, fg, bg, 1.0, round(brush_radius))
    if scale < 1:
        up = cv2.resize(coarse.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        mask = up >= 0.5
        if refine_iterations and mask.any():
            mask = _refine(cv2, rgb, coarse, mask, full_seed, iterations=refine_iterations,
                           max_pixels=max_refine_pixels)
    else:
        mask = coarse
    # The prompt's certainties win over anything the cut decided.
    mask = np.where(full_seed == BGD, False, np.where(full_seed == FGD, True, mask))
    return np.asarray(mask, dtype=bool)


def _refine(cv2: Any, rgb: NDArray[np.uint8], coarse: NDArray[np.bool_], mask: NDArray[np.bool_],
            seed: NDArray[np.uint8], *, iterations: int, max_pixels: int) -> NDArray[np.bool_]:
    """GrabCut at full resolution in a band two coarse pixels wide each side of *mask*'s edge.

    The band is found on the *coarse* mask (eroded and dilated there, then upscaled), so its cost
    does not grow with the photo; only the band's bounding rectangle is touched at full size.
    """
    h, w = mask.shape
    ch, cw = coarse.shape
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    c8 = coarse.astype(np.uint8)
    band_small = cv2.dilate(c8, kernel).astype(bool) & ~cv2.erode(c8, kernel).astype(bool)
    if not band_small.any():
        return mask
    ys, xs = np.nonzero(band_small)
    # The band's rectangle at full size, plus a margin of sure pixels (a coarse pixel and a half)
    # so that both colour models learn from what surrounds the edge.
    sy, sx = h / ch, w / cw
    margin = math.ceil(1.5 * max(sy, sx))
    y0, y1 = max(0, math.floor(ys.min() * sy) - margin), min(h, math.ceil((ys.max() + 1) * sy) + margin)
    x0, x1 = max(0, math.floor(xs.min() * sx) - margin), min(w, math.ceil((xs.max() + 1) * sx) + margin)
    inner = cv2.resize(cv2.erode(c8, kernel), (w, h), interpolation=cv2.INTER_NEAREST)[y0:y1, x0:x1]
    outer = cv2.resize(cv2.dilate(c8, kernel), (w, h), interpolation=cv2.INTER_NEAREST)[y0:y1, x0:x1]
    part = mask[y0:y1, x0:x1]
    # Outside the dilated mask BGD (0); in the band PR_BGD (2) or PR_FGD (3) as the upscaled mask
    # says; inside the eroded mask FGD (1).
    labels = (outer > 0).astype(np.uint8) * (np.uint8(PR_BGD) + part.astype(np.uint8))
    labels[inner > 0] = FGD
    sure = seed[y0:y1, x0:x1]
    labels[sure == BGD] = BGD
    labels[sure == FGD] = FGD
    img, lab = rgb[y0:y1, x0:x1], labels
    shrink = math.sqrt(max_pixels / lab.size)
    if shrink >= 1:
        found = _is_object(_run(cv2, img, lab, iterations))
    else:
        size = (max(1, round(lab.shape[1] * shrink)), max(1, round(lab.shape[0] * shrink)))
        small = _run(cv2, cv2.resize(img, size, interpolation=cv2.INTER_AREA),
                     cv2.resize(lab, size, interpolation=cv2.INTER_NEAREST), iterations)
        found = cv2.resize(_is_object(small).astype(np.float32), (lab.shape[1], lab.shape[0]),
                           interpolation=cv2.INTER_LINEAR) >= 0.5
    out = mask.copy()
    out[y0:y1, x0:x1] = found
    return out
