"""Input checks done once at the public boundary of :mod:`labelloop.learn`.

Conventions shared by every function of the package:

- ``proba`` is an ``(n_items, n_classes)`` array of class probabilities: finite, in ``[0, 1]``, rows
  summing to one (within ``1e-3``; used as given, not renormalised);
- ``labels`` are integer class indices ``0 .. n_classes - 1`` (columns of ``proba``), one per item;
- ``embeddings`` is an ``(n_items, dim)`` array of finite floats;
- a set of items (``labelled``) is a boolean mask of length ``n_items`` or an array of item indices.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

Floats: TypeAlias = NDArray[np.float64]
Indices: TypeAlias = NDArray[np.intp]
Mask: TypeAlias = NDArray[np.bool_]


def as_proba(proba: ArrayLike, *, name: str = "proba") -> Floats:
    """A checked float64 copy of *proba*."""
    arr = np.array(proba, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValueError(f"{name} must be a 2-d array (n_items, n_classes), got shape {arr.shape}")
    if not np.isfinite(arr).all() or (arr < 0).any() or (arr > 1 + 1e-9).any():
        raise ValueError(f"{name} must hold finite probabilities in [0, 1]")
    sums = arr.sum(axis=1)
    if arr.shape[0] and np.abs(sums - 1).max() > 1e-3:
        worst = sums[np.abs(sums - 1).argmax()]
        raise ValueError(f"each row of {name} must sum to 1 (worst row sums to {worst:.4f})")
    return arr


def as_labels(labels: ArrayLike, n_items: int, n_classes: int, *, name: str = "labels") -> Indices:
    """Integer class indices, one per item, each in ``0 .. n_classes - 1``."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n_items:
        raise ValueError(f"{name} must be a 1-d array of {n_items} class indices, got shape {arr.shape}")
    whole = np.issubdtype(arr.dtype, np.floating) and bool(np.all(arr == np.round(arr)))
    if arr.size and not np.issubdtype(arr.dtype, np.integer) and not whole:
        raise ValueError(f"{name} must be integer class indices (encode class names first)")
    out = arr.astype(np.intp)
    if out.size and (out.min() < 0 or out.max() >= n_classes):
        raise ValueError(f"{name} must lie in 0..{n_classes - 1}")
    return out


def as_embeddings(embeddings: ArrayLike, *, name: str = "embeddings") -> Floats:
    """A float64 ``(n_items, dim)`` array of finite values."""
    arr = np.asarray(embeddings, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-d array (n_items, dim), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite")
    return arr


def as_mask(items: Any, n_items: int, *, name: str = "labelled") -> Mask:
    """A boolean mask from ``None`` (no item), a boolean mask, or an array of item indices."""
    mask = np.zeros(n_items, dtype=bool)
    if items is None:
        return mask
    arr = np.asarray(items)
    if arr.dtype == np.bool_:
        if arr.shape != (n_items,):
            raise ValueError(f"{name} as a mask must have length {n_items}, got shape {arr.shape}")
        return arr.copy()
    if arr.size == 0:
        return mask
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be a boolean mask or a 1-d array of item indices")
    if arr.min() < -n_items or arr.max() >= n_items:
        raise ValueError(f"{name} holds an index outside 0..{n_items - 1}")
    mask[arr] = True
    return mask


def check_fraction(value: float, name: str, *, open_low: bool = True, open_high: bool = True) -> None:
    low_ok = value > 0 if open_low else value >= 0
    high_ok = value < 1 if open_high else value <= 1
    if not (low_ok and high_ok):
        low, high = "(" if open_low else "[", ")" if open_high else "]"
        raise ValueError(f"{name} must lie in {low}0, 1{high}, got {value}")
