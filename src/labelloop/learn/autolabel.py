r"""Auto-labelling with a guarantee: label only what the model is sure of, with a bound on its accuracy.

Given the model's probabilities on human-labelled validation items and on the unlabelled pool, and a
target accuracy :math:`a^*`, choose a confidence threshold :math:`\hat t` such that, with probability at
least :math:`1 - \alpha` over the validation sample,

.. math:: \mathrm{acc}(\hat t) = P(\hat y = y \mid \max_k p_k \ge \hat t,\ \hat y \in E) \ge a^*,

where :math:`E` is the set of *eligible* classes. The guarantee is about items drawn like the
validation items (exchangeable with them: a random sample of the pool, or gold items drawn at random),
scored by a model that was not trained on them.

**One threshold.** With :math:`n_t` validation items above :math:`t`, :math:`c_t` of them right,
:math:`H_t: \mathrm{acc}(t) < a^*` is rejected when the exact binomial p-value
:math:`P(\mathrm{Bin}(n_t, a^*) \ge c_t) \le \alpha`, i.e. when the one-sided Clopper-Pearson lower bound
:math:`\mathrm{Beta}^{-1}(\alpha;\, c_t,\, n_t - c_t + 1) \ge a^*` (Clopper & Pearson, Biometrika 1934).
Given :math:`n_t`, the items above :math:`t` are a sample of the items above :math:`t`, so
:math:`c_t \sim \mathrm{Bin}(n_t, \mathrm{acc}(t))`.

**Many thresholds: fixed-sequence testing** (Maurer, Hothorn & Lehmacher 1995; the same device as
"Learn then Test", Angelopoulos, Bates, Candès, Jordan & Lei, 2021). The candidate thresholds are fixed
*before* looking at the validation labels: the pool's confidence quantiles at coverages
:math:`\frac{1}{G}, \frac{2}{G}, \dots, 1` (``steps`` = G), starting at the first coverage :math:`q` whose
expected number of validation items above it, :math:`q\,n_{\mathrm{val}}`, reaches ``start_items``
(by default :math:`2\lceil \log\alpha / \log a^* \rceil`, twice the fewest items with which even a
perfect record could pass: 118 at :math:`a^* = 0.95, \alpha = 0.05`; starting lower would let one early
error end the sequence, starting higher gives up the most confident items). They are tested from the
highest threshold down, each at the full level :math:`\alpha`, stopping at the first that is not
rejected; :math:`\hat t` is the last one rejected. A true null is rejected only if the first true null
in the order is, so the family-wise error is at most :math:`\alpha` and no Bonferroni split is needed
(the order depends on the pool and on how many validation items there are, not on their labels or
confidences). The reported ``lower_bound`` is the
Clopper-Pearson bound at level :math:`\alpha` at :math:`\hat t`.

**Eligible classes.** A class is never auto-labelled unless it has at least ``min_per_class``
human-labelled validation items and, when ``train_counts`` are given, as many training items. Items
predicted as an ineligible class are left out of the validation counts too (they are never
auto-labelled, so the bound is not about them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import beta, binom

from labelloop.learn._checks import Floats, Indices, as_labels, as_proba, check_fraction


def clopper_pearson_lower(correct: int, n: int, level: float) -> float:
    """One-sided lower confidence bound (confidence ``1 - level``) of a binomial proportion."""
    if n <= 0 or correct <= 0:
        return 0.0
    return float(beta.ppf(level, correct, n - correct + 1))


def binomial_p_value(correct: int, n: int, target: float) -> float:
    """``P(Bin(n, target) >= correct)``: evidence against "accuracy < target"."""
    return float(binom.sf(correct - 1, n, target))


def default_start_items(target: float, alpha: float) -> int:
    """``2 * ceil(log(alpha) / log(target))``: twice the fewest items with which a perfect record passes."""
    return 2 * int(np.ceil(np.log(alpha) / np.log(target) - 1e-9))


@dataclass(frozen=True)
class AutoLabelPolicy:
    """The chosen threshold and its evidence.

    ``threshold`` is ``None`` when nothing may be auto-labelled. ``lower_bound`` is the one-sided
    Clopper-Pearson bound (confidence ``1 - alpha``) on the accuracy above the threshold;
    ``accuracy`` and ``n_validation`` describe the validation items above it; ``classes`` are the
    eligible class indices; ``tested`` counts the thresholds tested.
    """

    threshold: float | None
    lower_bound: float
    accuracy: float
    n_validation: int
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


def candidate_thresholds(pool_confidence: Floats, n_validation: int, start_items: int, steps: int) -> Floats:
    """Pool-confidence quantiles at coverages 1/steps .. 1, highest first, from the first usable coverage."""
    if pool_confidence.size == 0:
        return np.zeros(0)
    coverage = np.arange(1, steps + 1) / steps
    usable = coverage * n_validation >= start_items
    if not usable.any():
        return np.zeros(0)
    ranked = np.sort(pool_confidence)[::-1]
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
    steps: int = 50,
) -> AutoLabelPolicy:
    """The lowest confidence threshold whose accuracy is at least *target* with probability ``1 - alpha``.

    *proba*: the model's probabilities for human-labelled validation items, *labels* their human
    labels (class indices); *pool_proba*: the items that may be auto-labelled (they fix the candidate
    thresholds). See the module docstring for the procedure and what it guarantees.
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
    if start_items < 1 or min_per_class < 0 or steps < 1:
        raise ValueError("start_items and steps must be >= 1, min_per_class >= 0")
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
    chosen = AutoLabelPolicy(None, 0.0, float("nan"), 0, target, alpha, classes, 0)
    if not classes:
        return chosen
    tested = 0
    for t in candidate_thresholds(pool.max(axis=1), y.size, start_items, steps):
        tested += 1
        above = conf >= t
        n = int(above.sum())
        c = int(right[above].sum())
        if n == 0 or binomial_p_value(c, n, target) > alpha:
            break
        bound = clopper_pearson_lower(c, n, alpha)
        chosen = AutoLabelPolicy(float(t), bound, c / n, n, target, alpha, classes, tested)
    return chosen if chosen.threshold is not None else AutoLabelPolicy(
        None, 0.0, float("nan"), 0, target, alpha, classes, tested
    )


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
    steps: int = 50,
) -> AutoLabels:
    """Choose the threshold on the validation items (*proba*, *labels*) and apply it to *pool_proba*."""
    policy = choose_threshold(
        proba, labels, pool_proba=pool_proba, target=target, alpha=alpha, start_items=start_items,
        min_per_class=min_per_class, train_counts=train_counts, steps=steps,
    )
    return apply_policy(pool_proba, policy)


def apply_policy(pool_proba: ArrayLike, policy: AutoLabelPolicy) -> AutoLabels:
    """The items of *pool_proba* that *policy* auto-labels, with their labels and the coverage."""
    p = as_proba(pool_proba, name="pool_proba")
    idx = policy.accepts(p)
    coverage = idx.size / p.shape[0] if p.shape[0] else 0.0
    return AutoLabels(idx, p[idx].argmax(axis=1).astype(np.intp), p[idx].max(axis=1), coverage, policy)
