r"""Fusing a cluster's boxes into one, and each annotator's localisation error.

A cluster's box is the **inverse-variance weighted mean** of its members, coordinate by coordinate,
each annotator weighted by their localisation precision :math:`\tau_w = 1/\sigma_w^2`: the maximum-
likelihood location when annotator w's coordinates are off by Gaussian noise of standard deviation
proportional to :math:`\sigma_w` (and the minimum-variance unbiased combination of independent
estimates, whatever their distribution). A sloppy annotator's box moves the result little because
their learned :math:`\sigma_w` is large. The weighted *median* (``fusion="median"``) is the
alternative for heavy-tailed noise: the lower weighted median, or the mean of the two middle values
when the cumulative weight is exactly half, so that equal weights give the ordinary median. Either way
identical boxes fuse to themselves.

Localisation error is scale-free: a member box :math:`b` of a cluster whose box is :math:`f` (width
:math:`w_f`, height :math:`h_f`) is off by
:math:`e_b = \tfrac14 \sum_j (\Delta_j / s_j)^2` with :math:`\Delta = b - f_{-b}`,
:math:`s = (w_f, h_f, w_f, h_f)`, where :math:`f_{-b}` leaves :math:`b` out (its cluster's weighted mean
without it), so that a box is not compared with itself. Then

.. math:: \sigma_w^2 = \frac{\sum_{b \in w} r_b\, e_b + \lambda \bar\sigma^2}{\sum_{b \in w} r_b + \lambda},

over the boxes in clusters of two or more, weighted by their cluster's probability :math:`r_b` of being
real, shrunk towards the crowd's pooled :math:`\bar\sigma^2` with :math:`\lambda` pseudo-boxes.

**Bias and outliers** (:func:`robust_fusion`, the default aggregator's last step). Annotators differ not
only in noise but in habit: some draw loose boxes, some cut the feet off. Each annotator's box is modelled
as :math:`b = f + s \odot (\beta_w + \varepsilon_b)`, with a systematic, scale-relative offset
:math:`\beta_w` per edge and a Student-t error :math:`\varepsilon_b \sim t_\nu(0, c\,\sigma_w^2 I_4)`
(heavy tails: a box around the wrong person, or a slip of the mouse, is not averaged in as if it were
Gaussian noise). Fitted by iteratively reweighted least squares, the EM of the t model (Lange, Little &
Taylor, JASA 84(408), 1989): each box gets the weight
:math:`u_b = (\nu + 4) / (\nu + \lVert\varepsilon_b\rVert^2 / (c\,\sigma_w^2))`, :math:`c` calibrating
the crowd's squared errors to their expectation; :math:`\beta_w` is the shrunk mean of w's residuals
(:math:`\lambda` pseudo-boxes at 0) in clusters of two or more; and the fused box is the
:math:`u_b/\sigma_w^2`-weighted mean of the bias-corrected boxes :math:`b - s \odot \beta_w`. Only
offsets between annotators are identifiable, so the offsets are centred on the precision-weighted
annotator, :math:`\sum_w \tau_w \beta_w = 0`: where the precise annotators put an edge is where it is.
"""

from __future__ import annotations

import numpy as np

from labelloop.quality.shapes._input import Codes, Floats

_EPS = 1e-12


def weighted_median(values: Floats, group: Codes, weights: Floats, n_groups: int) -> Floats:
    """Per group, the weighted median of each column of *values* (``(n, d)``); NaN for empty groups.

    The lower weighted median, or the mean of the two middle values when the cumulative weight hits
    exactly half (so equal weights give the ordinary median).
    """
    n, d = values.shape
    out = np.full((n_groups, d), np.nan)
    if n == 0:
        return out
    total = np.bincount(group, weights, n_groups)
    for j in range(d):
        order = np.lexsort((values[:, j], group))
        g, v, w = group[order], values[order, j], weights[order]
        cum = np.cumsum(w)
        start = np.concatenate([[0.0], np.cumsum(np.bincount(g, w, n_groups))[:-1]])
        within = cum - start[g]  # cumulative weight inside the group, this element included
        half = total[g] / 2.0
        tol = 1e-9 * np.maximum(total[g], 1.0)
        reach = within >= half - tol
        idx = np.flatnonzero(reach)
        first_g, first = np.unique(g[idx], return_index=True)
        pick = idx[first]
        value = v[pick].copy()
        exact = np.abs(within[pick] - half[pick]) <= tol[pick]
        nxt = np.minimum(pick + 1, n - 1)
        both = exact & (nxt != pick) & (g[nxt] == g[pick])
        value[both] = (v[pick][both] + v[nxt][both]) / 2.0
        out[first_g, j] = value
    return out


def weighted_mean(values: Floats, group: Codes, weights: Floats, n_groups: int) -> Floats:
    """Per group, the weighted mean of each column of *values* (``(n, d)``); NaN for empty groups.

    Computed around each group's first value, so that identical members give exactly themselves
    whatever their weights (a plain sum of w*x over sum of w is off in the last bits)."""
    n, d = values.shape
    first = np.full(n_groups, n, dtype=np.intp)
    np.minimum.at(first, group, np.arange(n, dtype=np.intp))
    ref = np.zeros((n_groups, d))
    has = first < n
    ref[has] = values[first[has]]
    centred = values - ref[group]
    total = np.bincount(group, weights, n_groups)
    sums = np.stack([np.bincount(group, weights * centred[:, j], n_groups) for j in range(d)], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(ref + sums / total[:, None], dtype=np.float64)


def fuse_boxes(boxes: Floats, cluster: Codes, weights: Floats, n_clusters: int, how: str = "mean") -> Floats:
    """``(n_clusters, 4)``: each cluster's weighted mean (or median) box (see the module docstring)."""
    if how == "mean":
        return weighted_mean(boxes, cluster, weights, n_clusters)
    if how == "median":
        return weighted_median(boxes, cluster, weights, n_clusters)
    raise ValueError(f"fusion must be 'mean' or 'median', got {how!r}")


def localisation_variance(
    boxes: Floats,
    cluster: Codes,
    worker: Codes,
    weights: Floats,
    real: Floats,
    n_workers: int,
    shrinkage: float,
) -> Floats:
    """Per worker, the shrunk mean squared scale-free error :math:`\\sigma_w^2` of the module docstring."""
    n_cl = len(real)
    size = np.bincount(cluster, minlength=n_cl)
    keep = size[cluster] >= 2
    if not keep.any():
        return np.ones(n_workers)
    w = weights
    sums = np.stack([np.bincount(cluster, w * boxes[:, j], n_cl) for j in range(4)], axis=1)
    total = np.bincount(cluster, w, n_cl)
    rest = np.maximum(total[cluster] - w, _EPS)
    loo = (sums[cluster] - w[:, None] * boxes) / rest[:, None]  # the cluster's mean without this box
    width, height = loo[:, 2] - loo[:, 0], loo[:, 3] - loo[:, 1]
    scale = np.maximum(np.abs(np.stack([width, height, width, height], axis=1)), 1.0)
    err = (((boxes - loo) / scale) ** 2).mean(axis=1)
    r = np.where(keep, real[cluster], 0.0)
    num = np.bincount(worker, r * err, n_workers)
    den = np.bincount(worker, r, n_workers)
    pooled = num.sum() / max(den.sum(), _EPS)
    pooled = max(pooled, _EPS)
    return np.asarray((num + shrinkage * pooled) / (den + shrinkage), dtype=np.float64)


def _scale(fused: Floats) -> Floats:
    """Per box, its cluster's (width, height, width, height), at least one pixel."""
    width, height = fused[:, 2] - fused[:, 0], fused[:, 3] - fused[:, 1]
    return np.maximum(np.abs(np.stack([width, height, width, height], axis=1)), 1.0)


def robust_fusion(
    boxes: Floats,
    cluster: Codes,
    worker: Codes,
    precision: Floats,
    real: Floats,
    n_workers: int,
    *,
    shrinkage: float,
    dof: float,
    n_iter: int = 20,
    tol: float = 1e-3,
) -> tuple[Floats, Floats]:
    r"""Fused boxes ``(n_clusters, 4)`` and each worker's offset ``(n_workers, 4)``, by the bias and
    Student-t model of the module docstring (*precision*: per worker, :math:`1/\sigma_w^2`; *real*: per
    cluster, the probability that it is a real object; ``dof=inf`` is the Gaussian model). Stops when no
    fused edge moves by more than *tol* of its box's width or height (a thousandth: under a pixel for
    boxes under a thousand pixels), or after *n_iter* rounds."""
    n_clusters = len(real)
    box_precision = precision[worker]
    fused = weighted_mean(boxes, cluster, box_precision, n_clusters)
    bias = np.zeros((n_workers, 4))
    in_pair = np.bincount(cluster, minlength=n_clusters)[cluster] >= 2
    if not in_pair.any():
        return fused, bias
    informative = in_pair * real[cluster]
    u = np.ones(len(boxes))
    anchor = precision / max(float(precision.sum()), _EPS)
    noise = 1.0 / box_precision
    for _ in range(n_iter):
        around = fused[cluster]
        scale = _scale(around)
        residual = (boxes - around) / scale
        weight = informative * u
        seen = np.bincount(worker, weight, n_workers) + shrinkage
        bias = np.stack([np.bincount(worker, weight * residual[:, j], n_workers) for j in range(4)], axis=1)
        bias = bias / np.maximum(seen, _EPS)[:, None]
        bias -= anchor @ bias
        corrected = boxes - bias[worker] * scale
        err = (((corrected - around) / scale) ** 2).sum(axis=1)
        if np.isfinite(dof):
            c = float((weight * err).sum()) / max(float((weight * noise).sum()) * 4, _EPS)
            u = (dof + 4) / (dof + err / np.maximum(c * noise, _EPS))
        previous, fused = fused, weighted_mean(corrected, cluster, box_precision * u, n_clusters)
        if np.nanmax(np.abs(fused - previous) / _scale(previous), initial=0.0) < tol:
            break
    return fused, bias
