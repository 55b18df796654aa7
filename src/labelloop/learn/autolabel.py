r"""Auto-labelling with a guarantee: label only what the model is sure of, with a bound on its accuracy.

Given human-labelled validation items (their model probabilities and true labels) and a target
accuracy :math:`a^*`, choose a confidence threshold :math:`\hat t` such that, with probability at least
:math:`1 - \alpha` over the validation sample,

.. math:: \mathrm{acc}(\hat t) = P(\hat y = y \mid \max_k p_k \ge \hat t,\ \hat y \in E) \ge a^*,

where :math:`E` is the set of *eligible* classes. The guarantee is about items drawn like the
validation items (exchangeable with them): hold out a random sample, or use gold items.

**Test per threshold.** For a threshold :math:`t` with :math:`n_t` validation items above it, of which
:math:`c_t` are right, :math:`H_t: \mathrm{acc}(t) < a^*` is rejected at level :math:`\gamma` when the
exact binomial p-value :math:`P(\mathrm{Bin}(n_t, a^*) \ge c_t) \le \gamma`; equivalently when the
one-sided Clopper-Pearson lower bound :math:`B_{\gamma}(c_t, n_t) = \mathrm{Beta}^{-1}(\gamma;\,
c_t,\, n_t - c_t + 1)` is at least :math:`a^*` (Clopper & Pearson, Biometrika 1934).

**Many thresholds.** A fixed, data-independent grid :math:`t_1 > t_2 > \dots > t_m` (``grid``) is
tested in that order by the *fallback procedure* (Wiens, "A fixed sequence Bonferroni procedure for
testing multiple endpoints", Pharmaceutical Statistics 2003): each :math:`H_{t_i}` gets
:math:`\alpha/m`, and a rejected hypothesis passes its level on to the next one, so :math:`H_{t_i}` is
tested at :math:`\gamma_i = \alpha/m + \gamma_{i-1}\,[H_{t_{i-1}} \text{ rejected}]`. This controls the
family-wise error rate at :math:`\alpha` (a weighted Bonferroni-Holm chain) without stopping at the
first threshold with too few items, unlike plain fixed-sequence testing; the same framing is "Learn
then Test" (Angelopoulos, Bates, Candès, Jordan & Lei, 2021). The chosen threshold is the lowest
rejected one, so it is wrong only if some true null was rejected: probability at most :math:`\alpha`.
A threshold also needs ``min_items`` validation items above it.

**Eligible classes.** A class is never auto-labelled unless it has at least ``min_per_class``
human-labelled validation items and, when ``train_counts`` are given, as many training items. Items
predicted as an ineligible class are left out of the validation counts as well (they are never
auto-labelled, so they are not part of the population the bound is about).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import beta, binom

from labelloop.learn._checks import Floats, Indices, as_labels, as_proba, check_fraction


def default_grid() -> Floats:
    """Thresholds from 0.5 to 0.9999, closer together near 1: ``1 - geomspace(0.5, 1e-4, 60)``."""
    return np.asarray(1.0 - np.geomspace(0.5, 1e-4, 60), dtype=np.float64)


def clopper_pearson_lower(correct: int, n: int, level: float) -> float:
    """One-sided lower confidence bound, level ``1 - level``, of a binomial proportion (0 when no success)."""
    if n <= 0 or correct <= 0:
        return 0.0
    return float(beta.ppf(level, correct, n - correct + 1))


@dataclass(frozen=True)
class AutoLabelPolicy:
    """The chosen threshold and its evidence.

    ``threshold`` is ``None`` when nothing may be auto-labelled. ``lower_bound`` is the Clopper-Pearson
    lower bound on the accuracy above the threshold at the level the procedure used there
    (``test_level``); ``accuracy`` and ``n_validation`` are the validation items above it.
    ``classes`` are the eligible class indices.
    """

    threshold: float | None
    lower_bound: float
    accuracy: float
    n_validation: int
    test_level: float
    target: float
    alpha: float
    classes: tuple[int, ...]

    def accepts(self, proba: ArrayLike) -> Indices:
        """Indices of the rows of *proba* this policy auto-labels."""
        p = as_proba(proba)
        if self.threshold is None or p.shape[0] == 0:
            return np.zeros(0, dtype=np.intp)
        predicted = p.argmax(axis=1)
        ok = (p.max(axis=1) >= self.threshold) & np.isin(predicted, np.array(self.classes, dtype=np.intp))
        return np.flatnonzero(ok).astype(np.intp)


@dataclass(frozen=True)
class AutoLabels:
    """Items auto-labelled: their indices, predicted class indices and confidences, and the coverage."""

    indices: Indices
    labels: Indices
    confidence: Floats
    coverage: float
    policy: AutoLabelPolicy


def choose_threshold(
    proba: ArrayLike,
    labels: ArrayLike,
    *,
    target: float = 0.95,
    alpha: float = 0.05,
    min_items: int = 30,
    min_per_class: int = 10,
    train_counts: ArrayLike | None = None,
    grid: ArrayLike | None = None,
) -> AutoLabelPolicy:
    """The lowest confidence threshold whose accuracy is at least *target* with probability ``1 - alpha``.

    *proba* are the model's probabilities for human-labelled validation items and *labels* their
    human labels (class indices). See the module docstring for the procedure and what it guarantees.
    """
    p = as_proba(proba, name="proba")
    y = as_labels(labels, p.shape[0], p.shape[1])
    check_fraction(target, "target")
    check_fraction(alpha, "alpha")
    if min_items < 1 or min_per_class < 0:
        raise ValueError("min_items must be >= 1 and min_per_class >= 0")
    thresholds = default_grid() if grid is None else np.asarray(grid, dtype=np.float64)
    if thresholds.ndim != 1 or thresholds.size == 0 or not np.isfinite(thresholds).all():
        raise ValueError("grid must be a non-empty 1-d array of thresholds")
    thresholds = np.sort(np.unique(thresholds))[::-1]
    k = p.shape[1]
    eligible = np.bincount(y, minlength=k) >= min_per_class
    if train_counts is not None:
        tc = np.asarray(train_counts)
        if tc.shape != (k,):
            raise ValueError(f"train_counts must have one count per class ({k})")
        eligible &= tc >= min_per_class
    classes = tuple(int(c) for c in np.flatnonzero(eligible))
    predicted = p.argmax(axis=1)
    keep = eligible[predicted]
    conf = p.max(axis=1)[keep]
    right = (predicted == y)[keep]
    none = AutoLabelPolicy(None, 0.0, float("nan"), 0, 0.0, target, alpha, classes)
    if not classes:
        return none
    share = alpha / thresholds.size
    level = 0.0
    chosen: AutoLabelPolicy | None = None
    for t in thresholds:
        level += share
        above = conf >= t
        n = int(above.sum())
        c = int(right[above].sum())
        # P(Bin(n, target) >= c): the exact one-sided p-value of "accuracy < target".
        rejected = n >= min_items and float(binom.sf(c - 1, n, target)) <= level
        if rejected:
            bound = clopper_pearson_lower(c, n, level)
            chosen = AutoLabelPolicy(float(t), bound, c / n, n, level, target, alpha, classes)
        else:
            level = 0.0
    return chosen if chosen is not None else none


def autolabel(proba: ArrayLike, policy: AutoLabelPolicy) -> AutoLabels:
    """Apply *policy* to unlabelled items' probabilities: which get a label, which label, and the coverage."""
    p = as_proba(proba)
    idx = policy.accepts(p)
    coverage = idx.size / p.shape[0] if p.shape[0] else 0.0
    return AutoLabels(idx, p[idx].argmax(axis=1).astype(np.intp), p[idx].max(axis=1), coverage, policy)
