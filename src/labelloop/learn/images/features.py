r"""Features of small images without a neural network: downscaled intensities and gradient histograms.

No registry package ships a CLIP-style image embedder, so small images (digits, thumbnails, crops)
get two deterministic, hand-made feature blocks, each scaled to unit L2 norm and then weighted so the
whole vector has unit norm:

1. **intensities**: the grey image (colour channels averaged; values scaled by the image's maximum)
   resized to ``size x size`` by area averaging, mean-centred;
2. **gradient histograms** (HOG-like; Dalal & Triggs, CVPR 2005): central-difference gradients of the
   resized image, their magnitudes binned by unsigned orientation into ``orientations`` bins, over a
   ``cells x cells`` grid, plus the whole image, with bilinear interpolation between neighbouring bins.

``dim = size**2 + orientations * (cells**2 + 1)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from labelloop.learn._checks import Floats
from labelloop.learn.encoder_base import Encoder, Vectors


def to_grey(image: NDArray[np.generic]) -> Floats:
    """A ``(H, W)`` float image in [0, 1] (by the image's own maximum) from grey or colour input."""
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] in (1, 3, 4):
        arr = arr[:, :, :3].astype(np.float64).mean(axis=2)
    if arr.ndim != 2 or min(arr.shape) < 1:
        raise ValueError(f"an image must be (H, W) or (H, W, 1|3|4), got shape {np.shape(image)}")
    grey = arr.astype(np.float64)
    if not np.isfinite(grey).all():
        raise ValueError("image values must be finite")
    grey -= min(0.0, float(grey.min()))
    top = float(grey.max())
    return grey / top if top > 0 else grey


def resize_area(grey: Floats, size: int) -> Floats:
    """Area-average (box filter) resampling of a 2-d array to ``size x size``."""
    h, w = grey.shape
    # Sample each output pixel's box on a fine grid: exact area averaging for integer ratios.
    fine = 4
    ys = (np.arange(size * fine) + 0.5) * h / (size * fine)
    xs = (np.arange(size * fine) + 0.5) * w / (size * fine)
    sampled = grey[np.minimum(ys.astype(int), h - 1)][:, np.minimum(xs.astype(int), w - 1)]
    return np.asarray(sampled.reshape(size, fine, size, fine).mean(axis=(1, 3)), dtype=np.float64)


def gradient_histograms(img: Floats, orientations: int, cells: int) -> Floats:
    """Magnitude-weighted histograms of unsigned gradient orientation per cell, and for the whole image."""
    gy, gx = np.gradient(img)
    mag = np.hypot(gx, gy)
    angle = np.mod(np.arctan2(gy, gx), np.pi) / np.pi * orientations  # [0, orientations)
    low = np.floor(angle).astype(int) % orientations
    frac = angle - np.floor(angle)
    high = (low + 1) % orientations
    n = img.shape[0]
    cell_of = np.minimum(np.arange(n) * cells // n, cells - 1)
    cell = (cell_of[:, None] * cells + cell_of[None, :]).ravel()
    hist = np.zeros((cells * cells, orientations))
    np.add.at(hist, (cell, low.ravel()), (mag * (1 - frac)).ravel())
    np.add.at(hist, (cell, high.ravel()), (mag * frac).ravel())
    return np.concatenate([hist.ravel(), hist.sum(axis=0)])


def _unit(v: Floats) -> Floats:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


class ImageFeatureEncoder(Encoder[NDArray[np.generic]]):
    """Deterministic features of small images (see the module docstring)."""

    def __init__(
        self, *, size: int = 8, orientations: int = 8, cells: int = 2, hog_weight: float = 0.5
    ) -> None:
        if size < 2 or orientations < 2 or cells < 1 or cells > size:
            raise ValueError("need size >= 2, orientations >= 2 and 1 <= cells <= size")
        if not 0 <= hog_weight <= 1:
            raise ValueError("hog_weight must lie in [0, 1]")
        self.size = size
        self.orientations = orientations
        self.cells = cells
        self.hog_weight = hog_weight
        self.dim = size * size + orientations * (cells * cells + 1)
        self.name = f"image-features-s{size}-o{orientations}-c{cells}-w{hog_weight:g}"

    def content(self, item: NDArray[np.generic]) -> bytes:
        arr = np.ascontiguousarray(item)
        return f"{arr.dtype.str}{arr.shape}".encode() + arr.tobytes()

    def features(self, image: NDArray[np.generic]) -> Floats:
        small = resize_area(to_grey(image), self.size)
        pixels = _unit((small - small.mean()).ravel())
        hog = _unit(gradient_histograms(small, self.orientations, self.cells))
        w = self.hog_weight
        return np.concatenate([np.sqrt(1 - w) * pixels, np.sqrt(w) * hog])

    def encode_batch(self, items: Sequence[NDArray[np.generic]]) -> Vectors:
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.features(item) for item in items]).astype(np.float32)
