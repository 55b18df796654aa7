r"""Aggregating several annotators' masks of one object: weighted per-pixel vote and STAPLE.

Masks are boolean arrays of one shape (``(n_annotators, height, width)``, or any trailing shape); a
mask stored as COCO RLE (``docs/images.md``) is decoded to an array before it comes here.

Weighted vote: pixel x is in the consensus when :math:`\sum_w \omega_w m_{wx} \ge \tfrac12 \sum_w \omega_w`
(exactly half counts as in, so two equally weighted annotators give their union; ``threshold`` sets
another share).

STAPLE (Warfield, Zou & Wells, "Simultaneous Truth and Performance Level Estimation", IEEE TMI
23(7):903-921, 2004): the true mask :math:`T` is hidden; annotator w has sensitivity :math:`p_w`
(:math:`P(m_w=1 \mid T=1)`) and specificity :math:`q_w` (:math:`P(m_w=0 \mid T=0)`). EM:

.. math:: W_x = \frac{\gamma \prod_w p_w^{m_{wx}}(1-p_w)^{1-m_{wx}}}
                     {\gamma \prod_w p_w^{m_{wx}}(1-p_w)^{1-m_{wx}} +
                      (1-\gamma) \prod_w q_w^{1-m_{wx}}(1-q_w)^{m_{wx}}},\qquad
          p_w = \frac{\sum_x W_x m_{wx}}{\sum_x W_x},\quad
          q_w = \frac{\sum_x (1-W_x)(1-m_{wx})}{\sum_x (1-W_x)}.

The prior :math:`\gamma` is the mean foreground share of the annotators' masks (Warfield et al.'s
choice), fixed. Pixels every annotator agrees on are taken as decided (posterior 1 or 0: exact in the
limit of annotators better than chance, and what every vote gives them), so only the disputed pixels
are iterated and the cost is proportional to the boundary region, not the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Floats = NDArray[np.float64]
_EPS = 1e-9


def _stack(masks: ArrayLike) -> NDArray[np.bool_]:
    arr = np.asarray(masks)
    if arr.ndim < 2 or arr.shape[0] == 0:
        raise ValueError("masks must be an array (n_annotators, ...) with at least one mask")
    return arr.astype(bool, copy=False)


def mask_vote(
    masks: ArrayLike, *, weights: ArrayLike | None = None, threshold: float = 0.5
) -> NDArray[np.bool_]:
    """Pixels whose weighted share of votes is at least *threshold* (see the module docstring)."""
    m = _stack(masks)
    n = m.shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"weights must be {n} non-negative numbers with a positive sum")
    if not 0 <= threshold <= 1:
        raise ValueError("threshold must be in [0, 1]")
    share = np.tensordot(w / w.sum(), m.astype(np.float64), axes=1)
    return np.asarray(share >= threshold - 1e-12)


@dataclass(frozen=True)
class StapleResult:
    """STAPLE's output: per-pixel P(in the true mask), the consensus at 0.5, and each annotator's rates."""

    probability: Floats
    mask: NDArray[np.bool_]
    sensitivity: Floats
    specificity: Floats
    n_iter: int


def staple(
    masks: ArrayLike, *, n_iter: int = 100, tol: float = 1e-7, prior: float | None = None
) -> StapleResult:
    """STAPLE of binary masks (see the module docstring); *prior* overrides :math:`\\gamma`."""
    m = _stack(masks)
    n = m.shape[0]
    flat = m.reshape(n, -1)
    votes = flat.sum(axis=0)
    disputed = (votes > 0) & (votes < n)
    gamma = float(flat.mean()) if prior is None else float(prior)
    gamma = min(max(gamma, _EPS), 1 - _EPS)
    d = flat[:, disputed].astype(np.float64)
    all_in = votes == n
    n_in, n_out = int(all_in.sum()), int((votes == 0).sum())
    p = np.full(n, 0.9)
    q = np.full(n, 0.9)
    w = d.mean(axis=0) if d.size else np.zeros(0)
    done = 0
    for step in range(n_iter):
        done = step + 1
        # M-step: agreed pixels count with their (fixed-point) posteriors, all-in ~ 1, all-out ~ 0.
        fg = w.sum() + n_in
        bg = (1 - w).sum() + n_out
        p_new = (d @ w + n_in) / max(fg, _EPS)
        q_new = ((1 - d) @ (1 - w) + n_out) / max(bg, _EPS)
        p, q = np.clip(p_new, _EPS, 1 - _EPS), np.clip(q_new, _EPS, 1 - _EPS)
        a = np.log(gamma) + np.log(p) @ d + np.log1p(-p) @ (1 - d)
        b = np.log1p(-gamma) + np.log(q) @ (1 - d) + np.log1p(-q) @ d
        w_new = 1.0 / (1.0 + np.exp(np.clip(b - a, -700, 700)))
        change = float(np.abs(w_new - w).max()) if w.size else 0.0
        w = w_new
        if change < tol:
            break
    prob = all_in.astype(np.float64)
    prob[disputed] = w
    prob = prob.reshape(m.shape[1:])
    return StapleResult(prob, prob >= 0.5, p, q, done)
