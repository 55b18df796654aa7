r"""Auto-labelling with a guarantee: label only what the model is sure of, with a bound on its accuracy.

Given the model's probabilities on human-labelled validation items and on the unlabelled pool, and a
target accuracy :math:`a^*`, choose a confidence threshold :math:`\hat t` such that, with probability at
least :math:`1 - \alpha`, **the items auto-labelled** (pool items whose top probability is at least
:math:`\hat t` and whose predicted class is eligible) **are right at least a fraction** :math:`a^*` **of
the time**. The statement is about the realised accuracy of those very items, not about an expected
accuracy, and holds when the validation items are a random sample of validation + pool (exchangeable
with the pool: sample them at random, or use gold items drawn at random), scored by a model that was
not trained on them.

**One threshold** (a transductive, finite-population test). Above a threshold :math:`t` there are
:math:`N_t = n_t + m_t` items, :math:`n_t` of them validation items with :math:`e_t` errors and
:math:`m_t` pool items with an unknown number :math:`E` of errors; the realised accuracy is below the
target iff :math:`E \ge E^* = \lfloor (1 - a^*) m_t \rfloor + 1`. With :math:`K` errors among all
:math:`N_t`, the validation errors are hypergeometric, :math:`e_t \sim \mathrm{Hyp}(N_t, K, n_t)`, so
the p-value of ":math:`E \ge E^*`" is

.. math:: p_t = \max_{E^* \le K \le E^* + e_t} P\big(\mathrm{Hyp}(N_t, K, n_t) \le K - E^*\big)

(the least favourable :math:`K`; for larger :math:`K` the probability only falls), and the threshold
passes when :math:`p_t \le \alpha`. For a large pool this is the exact binomial test of
:math:`\mathrm{acc} \ge a^*` (Clopper & Pearson 1934); for a pool not much larger than the validation
set it also covers the luck of the draw among the pool items themselves. ``lower_bound`` is the
matching bound: the realised accuracy above :math:`\hat t` is at least it with probability
:math:`1 - \alpha`.

**Many thresholds: fixed-sequence testing** (Maurer, Hothorn & Lehmacher 1995; the same device as
"Learn then Test", Angelopoulos, Bates, Candès, Jordan & Lei, 2021). The candidate thresholds are the
confidence quantiles of validation + pool together at coverages :math:`\frac{1}{G}, \frac{2}{G}, \dots,
1` (``steps`` = G), so they do not depend on which items happen to be the validation ones nor on any
label, starting at the first coverage :math:`q` whose expected number of validation items above it,
:math:`q\,n_{\mathrm{val}}`, reaches ``start_items`` (by default
:math:`2\lceil \log\alpha / \log a^* \rceil`, twice the fewest items with which even a perfect record
could pass: 118 at :math:`a^* = 0.95, \alpha = 0.05`; starting lower would let one early error end the
sequence, starting higher gives up the most confident items). They are tested from the highest down,
each at the full level :math:`\alpha`, stopping at the first that does not pass; :math:`\hat t` is the
last one that passed. A false "pass" can happen only if the first threshold in the order whose
hypothesis is true passes, so the chance of any false pass is at most :math:`\alpha`, with no
Bonferroni split.

**Eligible classes.** A class is never auto-labelled unless it has at least ``min_per_class``
human-labelled validation items and, when ``train_counts`` are given, at least ``min_train_per_class``
training items. Items predicted as an ineligible class are left out of every count (they are never
auto-labelled, so the guarantee is not about them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import hypergeom

from labelloop.learn._checks import Floats, Indices, as_labels, as_proba, check_fraction


def pool_errors_p_value(val_errors: int, n_val: int, n_pool: int, pool_errors: int) -> float:
    """p-value of "the *n_pool* pool items hold at least *pool_errors* errors", given the validation record.

    The validation items are a uniformly random *n_val* of the ``n_val + n_pool`` (see the module
    docstring); maximised over the unknown total number of errors.
    """
    if pool_errors <= 0:
        return 1.0
    if pool_errors > n_pool:
        return 0.0
    total = n_val + n_pool
    k = np.arange(pool_errors, min(pool_errors + val_errors, total) + 1)
    return float(np.max(hypergeom.cdf(k - pool_errors, total, k, n_val)))


def realised_accuracy_bound(val_errors: int, n_val: int, n_pool: int, alpha: float) -> float:
    """Lower bound (confidence ``1 - alpha``) on the accuracy of the *n_pool* pool items."""
    if n_pool == 0:
        return 1.0
    # The smallest E rejected as "at least E errors"; the p-value falls as E grows.
    lo, hi = 1, n_pool + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if pool_errors_p_value(val_errors, n_val, n_pool, mid) <= alpha:
            hi = mid
        else:
            lo = mid + 1
    return 1.0 - (lo - 1) / n_pool


def default_start_items(target: float, alpha: float) -> int:
    """``2 * ceil(log(alpha) / log(target))``: twice the fewest items with which a perfect record passes."""
    return 2 * int(np.ceil(np.log(alpha) / np.log(target) - 1e-9))


@dataclass(frozen=True)
class AutoLabelPolicy:
    """The chosen threshold and its evidence.

    ``threshold`` is ``None`` when nothing may be auto-labelled. ``lower_bound``: with probability
    ``1 - alpha`` the pool items above the threshold are right at least this often; ``accuracy`` and
    ``n_validation`` describe the validation items above it, ``n_pool`` counts the pool items it
    auto-labels; ``classes`` are the eligible class indices; ``tested`` counts the thresholds tested.
    """

    threshold: float | None
    lower_bound: float
    accuracy: float
    n_validation: int
    n_pool: int
    target: float
    alpha: float
    classes: tuple[int, ...]
    tested: int

    def accepts(self, proba: ArrayLike) -> Indices:
        """Indices of the rows of *proba* this policy auto-labels."""
        p = as_proba(proba)
        if self.threshold is None or p.shape[0] == 0:
            return np.zeros(0, dtype=np.intp)
        eligible = np.isin(p.argmax(axis=1), np.array(self.classes, dtype=np.intp))
        return np.flatnonzero((p.max(axis=1) >= self.threshold) & eligible).astype(np.intp)


@dataclass(frozen=True)
class AutoLabels:
    """Items auto-labelled: indices into the pool, predicted class indices, confidences, coverage."""

    indices: Indices
    labels: Indices
    confidence: Floats
    coverage: float
    policy: AutoLabelPolicy


def candidate_thresholds(confidence: Floats, n_validation: int, start_items: int, steps: int) -> Floats:
    """Quantiles of *confidence* at coverages 1/steps .. 1, highest first, from the first usable coverage."""
    if confidence.size == 0:
        return np.zeros(0)
    coverage = np.arange(1, steps + 1) / steps
    usable = coverage * n_validation >= start_items
    if not usable.any():
        return np.zeros(0)
    ranked = np.sort(confidence)[::-1]
    at = np.maximum(np.ceil(coverage[usable] * ranked.size).astype(int) - 1, 0)
    thresholds = ranked[at]
    return np.asarray(thresholds[np.r_[True, np.diff(thresholds) < 0]], dtype=np.float64)


def choose_threshold(
    proba: ArrayLike,
    labels: ArrayLike,
    *,
    pool_proba: ArrayLike,
    target: float = 0.95,
    alpha: float = 0.05,
    start_items: int | None = None,
    min_per_class: int = 10,
    train_counts: ArrayLike | None = None,
    min_train_per_class: int = 5,
    steps: int = 50,
) -> AutoLabelPolicy:
    """The lowest threshold whose auto-labels are right at least *target* of the time (w.p. ``1 - alpha``).

    *proba*: the model's probabilities for human-labelled validation items, *labels* their human
    labels (class indices); *pool_proba*: the items that may be auto-labelled. See the module
    docstring for the procedure and what it guarantees.
    """
    p = as_proba(proba, name="proba")
    y = as_labels(labels, p.shape[0], p.shape[1])
    pool = as_proba(pool_proba, name="pool_proba")
    if pool.shape[1] != p.shape[1]:
        raise ValueError("proba and pool_proba must have the same classes (columns)")
    check_fraction(target, "target")
    check_fraction(alpha, "alpha")
    if start_items is None:
        start_items = default_start_items(target, alpha)
    if start_items < 1 or min_per_class < 0 or min_train_per_class < 0 or steps < 1:
        raise ValueError("start_items and steps must be >= 1, min_per_class and min_train_per_class >= 0")
    k = p.shape[1]
    eligible = np.bincount(y, minlength=k) >= min_per_class
    if train_counts is not None:
        tc = np.asarray(train_counts)
        if tc.shape != (k,):
            raise ValueError(f"train_counts must have one count per class ({k})")
        eligible &= tc >= min_train_per_class
    classes = tuple(int(c) for c in np.flatnonzero(eligible))
    predicted = p.argmax(axis=1)
    keep = eligible[predicted]
    conf = p.max(axis=1)[keep]
    wrong = (predicted != y)[keep]
    pool_conf = pool.max(axis=1)[eligible[pool.argmax(axis=1)]]
    chosen = AutoLabelPolicy(None, 0.0, float("nan"), 0, 0, target, alpha, classes, 0)
    if not classes:
        return chosen
    tested = 0
    grid = candidate_thresholds(np.concatenate([conf, pool_conf]), y.size, start_items, steps)
    for t in grid:
        tested += 1
        above = conf >= t
        n, e = int(above.sum()), int(wrong[above].sum())
        m = int((pool_conf >= t).sum())
        worst = int(np.floor((1 - target) * m + 1e-9)) + 1  # this many pool errors = below target
        if n == 0 or pool_errors_p_value(e, n, m, worst) > alpha:
            break
        bound = realised_accuracy_bound(e, n, m, alpha)
        chosen = AutoLabelPolicy(float(t), bound, 1 - e / n, n, m, target, alpha, classes, tested)
    if chosen.threshold is None:
        return AutoLabelPolicy(None, 0.0, float("nan"), 0, 0, target, alpha, classes, tested)
    return chosen


def autolabel(
    pool_proba: ArrayLike,
    proba: ArrayLike,
    labels: ArrayLike,
    *,
    target: float = 0.95,
    alpha: float = 0.05,
    start_items: int | None = None,
    min_per_class: int = 10,
    train_counts: ArrayLike | None = None,
    min_train_per_class: int = 5,
    steps: int = 50,
) -> AutoLabels:
    """Choose the threshold on the validation items (*proba*, *labels*) and apply it to *pool_proba*."""
    policy = choose_threshold(
        proba, labels, pool_proba=pool_proba, target=target, alpha=alpha, start_items=start_items,
        min_per_class=min_per_class, train_counts=train_counts, min_train_per_class=min_train_per_class,
        steps=steps,
    )
    return apply_policy(pool_proba, policy)


def apply_policy(pool_proba: ArrayLike, policy: AutoLabelPolicy) -> AutoLabels:
    """The items of *pool_proba* that *policy* auto-labels, with their labels and the coverage."""
    p = as_proba(pool_proba, name="pool_proba")
    idx = policy.accepts(p)
    coverage = idx.size / p.shape[0] if p.shape[0] else 0.0
    return AutoLabels(idx, p[idx].argmax(axis=1).astype(np.intp), p[idx].max(axis=1), coverage, policy)
