r"""Label-error detection: confident learning, a mixture of self-confidences, and confident
disagreements between crowd and model.

Confident learning (Northcutt, Jiang & Chuang, "Confident Learning: Estimating Uncertainty in Dataset
Labels", JAIR 70:1373-1411, 2021) over out-of-fold probabilities :math:`\hat p(k \mid x)`:

1. **Per-class thresholds** :math:`t_k = \frac{1}{|X_k|}\sum_{x \in X_k} \hat p(k \mid x)`, the mean
   self-confidence of the items labelled :math:`k` (:math:`X_k`); a class nobody labelled gets 2, so
   nothing is counted in it.
2. **Confident joint** :math:`C[i][j]`: items labelled :math:`i` whose confident class is :math:`j`, where
   an item's confident classes are those with :math:`\hat p(j \mid x) \ge t_j`; with several, the most
   probable one counts. The diagonal is at least 1, then each row is rescaled to the number of items
   labelled :math:`i` and the whole to :math:`n` (calibration, section 3.1 of the paper), rounded so
   that row totals are kept.
3. **Prune by noise rate** (the paper's :math:`C_{\text{confusion}}`-free method 4, cleanlab's
   default): for each given label :math:`i` and other class :math:`j`, flag the :math:`C[i][j]` items
   labelled :math:`i` with the largest margin :math:`\hat p(j\mid x) - \hat p(i\mid x)`. ``prune_by_class``
   instead flags, per label :math:`i`, the :math:`\sum_{j \ne i} C[i][j]` items of lowest
   :math:`\hat p(i \mid x)`; ``both`` keeps items both flag; ``confident_learning`` flags the
   off-diagonal items of step 2; ``predicted_neq_given`` flags every item whose argmax differs;
   ``mixture``: see below.
4. An item the model predicts as its given label (ties count for the given label) is never flagged.

**A mixture of self-confidences** (``filter_by="mixture"``, what a loop round uses). Confident
learning counts only errors the model is confident about: a flipped label the model finds merely
unlikely is not counted, and annotators' real mistakes sit on exactly such hard items (with planted
"confusion" noise it finds a fifth to a half of them, ``make bench-label-errors``). The mixture
instead models the logit of each item's self-confidence, :math:`z = \log \hat p(y\mid x) -
\log(1 - \hat p(y\mid x))`, as two Gaussians with one shared variance: right labels high, wrong
ones low. Out-of-fold probabilities of a model trained on the given labels put a wrong label's
self-confidence roughly where a right label's would be mirrored, so the two groups have about the
same spread, and sharing it keeps a broad tail of hard but right items from becoming a group of its
own (the failure of a mixture over losses, which overcounts at low noise, as DivideMix-style
separation does). Items more likely in the low group are flagged, then step 4 applies. The logit is
taken of probabilities clipped to [0.001, 0.999]: a few thousand items cannot tell 0.9999 from
0.999, and unclipped tails would drag the fit. Under planted noise of five kinds on three data sets
(``make bench-label-errors``) its count is close to the right one where confident learning's is
not; the price: with clean labels it flags the model's own mistakes, which confident learning
mostly leaves alone.

Issues are ranked by a label-quality score, lowest first: ``self_confidence``
:math:`\hat p(y \mid x)` or ``normalized_margin``
:math:`(\hat p(y\mid x) - \max_{k\ne y}\hat p(k \mid x) + 1)/2`.
With the defaults, :func:`find_label_issues` returns what ``cleanlab.filter.find_label_issues`` returns
with ``return_indices_ranked_by="self_confidence"`` (an oracle test checks it).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.mixture import GaussianMixture  # type: ignore[import-untyped, unused-ignore]

from labelloop.learn._checks import Floats, Indices, Mask, as_labels, as_proba, check_fraction

FilterBy = Literal[
    "prune_by_noise_rate", "prune_by_class", "both", "confident_learning", "predicted_neq_given", "mixture"
]
RankBy = Literal["self_confidence", "normalized_margin"]
_EPS = 1e-6  # tolerance for comparisons with thresholds and for ties with the given label
_UNSEEN = 2.0  # threshold of a class without labelled items: no probability reaches it
_CLIP = 1e-3  # the mixture's self-confidences are clipped to [_CLIP, 1 - _CLIP] before the logit


def _check(labels: ArrayLike, pred_probs: ArrayLike) -> tuple[Indices, Floats]:
    p = as_proba(pred_probs, name="pred_probs")
    return as_labels(labels, p.shape[0], p.shape[1]), p


def confident_thresholds(labels: ArrayLike, pred_probs: ArrayLike) -> Floats:
    """:math:`t_k`, the mean predicted probability of class k over the items labelled k (2 if none)."""
    y, p = _check(labels, pred_probs)
    return _thresholds(y, p)


def _thresholds(y: Indices, p: Floats) -> Floats:
    k = p.shape[1]
    counts = np.bincount(y, minlength=k)
    sums = np.bincount(y, weights=p[np.arange(y.size), y], minlength=k)
    t = np.where(counts > 0, sums / np.maximum(counts, 1), _UNSEEN)
    return np.asarray(np.maximum(t, 2 * _EPS), dtype=np.float64)


def round_keeping_total(values: Floats) -> NDArray[np.int64]:
    """Round to integers whose sum is the rounded sum, adjusting the entries rounded furthest first."""
    ints = values.round()
    want = round(float(values.sum()))
    have = round(float(ints.sum()))
    while abs(have - want) > 0:
        step = 1 if want > have else -1
        changes = min(abs(want - have), values.size)
        order = np.argsort(values - ints)[::-step][:changes]
        ints[order] += step
        have = round(float(ints.sum()))
    return ints.astype(np.int64)


def _confident(y: Indices, p: Floats) -> tuple[NDArray[np.int64], Mask, Indices]:
    """Uncalibrated confident joint, which items are confident somewhere, and their confident class."""
    k = p.shape[1]
    above = p >= _thresholds(y, p) - _EPS
    n_above = above.sum(axis=1)
    guess = np.where(n_above > 1, p.argmax(axis=1), above.argmax(axis=1)).astype(np.intp)
    confident = n_above > 0
    joint = np.zeros((k, k), dtype=np.int64)
    np.add.at(joint, (y[confident], guess[confident]), 1)
    return joint, confident, guess


def confident_joint(labels: ArrayLike, pred_probs: ArrayLike, *, calibrate: bool = True) -> NDArray[np.int64]:
    """:math:`C[i][j]`: items labelled i whose confident class is j (rows: given label; calibrated)."""
    y, p = _check(labels, pred_probs)
    return _joint(y, p, calibrate=calibrate)


def _joint(y: Indices, p: Floats, *, calibrate: bool) -> NDArray[np.int64]:
    joint, _, _ = _confident(y, p)
    np.fill_diagonal(joint, np.maximum(joint.diagonal(), 1))
    if not calibrate:
        return joint
    counts = np.bincount(y, minlength=p.shape[1])
    # Computed in cleanlab's order and memory layout: float sums differ in the last bit otherwise, and
    # that decides which of several equal fractions is rounded up.
    joint = np.asfortranarray(joint)  # cleanlab's joint is a transposed confusion matrix
    cal = (joint.T / np.clip(joint.sum(axis=1), 1e-100, None) * counts).T
    cal = cal / np.clip(np.sum(cal), 1e-100, None) * int(counts.sum())
    return np.stack([round_keeping_total(row) for row in cal])


def _keep_at_least(prune: NDArray[np.int64], n: int, frac_noise: float) -> NDArray[np.int64]:
    """Per given label (column of ``prune[true, given]``): keep >= n items, scale the noise by frac_noise."""
    diag = prune.diagonal().astype(np.float64)
    new_diag = np.maximum(diag, n)
    spread = np.maximum(np.count_nonzero(prune, axis=0) - 1.0, 1.0)
    mat = prune - (new_diag - diag) / spread
    mat[mat < 0] = 0
    np.fill_diagonal(mat, new_diag)
    scaled = mat * frac_noise
    kept = np.where(np.eye(len(mat), dtype=bool), mat, scaled)
    np.fill_diagonal(scaled, mat.diagonal() + np.sum(mat - kept, axis=0))
    scaled = scaled.astype(np.int64).astype(np.float64)
    return np.stack([round_keeping_total(row) for row in scaled])


def label_quality_scores(
    labels: ArrayLike, pred_probs: ArrayLike, *, method: RankBy = "self_confidence"
) -> Floats:
    """Per item, how likely its label is right (lower = more suspect): see the module docstring."""
    y, p = _check(labels, pred_probs)
    return _scores(y, p, method)


def _scores(y: Indices, p: Floats, method: str) -> Floats:
    rows = np.arange(y.size)
    self_conf = p[rows, y]
    if method == "self_confidence":
        return self_conf
    if method == "normalized_margin":
        others = p.copy()
        others[rows, y] = -np.inf
        best_other = others.max(axis=1) if p.shape[1] > 1 else np.zeros(y.size)
        return np.asarray((self_conf - best_other + 1) / 2, dtype=np.float64)
    raise ValueError(f"unknown method {method!r}; use 'self_confidence' or 'normalized_margin'")


def find_label_issues(
    labels: ArrayLike,
    pred_probs: ArrayLike,
    *,
    filter_by: FilterBy = "prune_by_noise_rate",
    rank_by: RankBy = "self_confidence",
    frac_noise: float = 1.0,
    min_examples_per_class: int = 1,
) -> Indices:
    """Indices of items whose given label is likely wrong, most suspect first (confident learning by
    default; ``filter_by="mixture"``: the mixture of self-confidences).

    *labels*: given class indices; *pred_probs*: out-of-fold ``(n, K)`` probabilities. For the prune
    filters, ``frac_noise`` flags only that fraction of the estimated errors; a class with at most
    ``min_examples_per_class`` items is never pruned, and pruning keeps at least that many per class.
    """
    y, p = _check(labels, pred_probs)
    check_fraction(frac_noise, "frac_noise", open_low=False, open_high=False)
    if min_examples_per_class < 0:
        raise ValueError("min_examples_per_class must be >= 0")
    n, k = p.shape
    mask = np.zeros(n, dtype=bool)
    if filter_by == "confident_learning":
        _, confident, guess = _confident(y, p)
        mask = confident & (guess != y)
    elif filter_by == "predicted_neq_given":
        mask = p.argmax(axis=1) != y
    elif filter_by == "mixture":
        mask = _in_low_group(y, p)
    elif filter_by in ("prune_by_noise_rate", "prune_by_class", "both"):
        prune = _keep_at_least(_joint(y, p, calibrate=True).T, min_examples_per_class, frac_noise)
        by_rate = np.zeros(n, dtype=bool)
        by_class = np.zeros(n, dtype=bool)
        for given in range(k):
            members = np.flatnonzero(y == given)
            if members.size <= min_examples_per_class:
                continue
            pm = p[members]
            if filter_by != "prune_by_class":
                for true in range(k):
                    count = int(prune[true, given])
                    if true != given and count > 0:
                        order = np.argsort(-(pm[:, true] - pm[:, given]))
                        by_rate[members[order[:count]]] = True
            if filter_by != "prune_by_noise_rate":
                count = int(members.size - prune[given, given])
                if count >= 1:
                    by_class[members[np.argsort(pm[:, given])[:count]]] = True
        mask = {"prune_by_noise_rate": by_rate, "prune_by_class": by_class}.get(filter_by, by_rate & by_class)
    else:
        raise ValueError(f"unknown filter_by {filter_by!r}")
    tilted = p.copy()
    tilted[np.arange(n), y] += _EPS
    mask &= tilted.argmax(axis=1) != y
    issues = np.flatnonzero(mask)
    return issues[np.argsort(_scores(y, p, rank_by)[issues])].astype(np.intp)


def _in_low_group(y: Indices, p: Floats) -> Mask:
    """Items more likely in the lower of two equal-variance Gaussians over the logit of their
    self-confidence (see the module docstring); none when the logits do not vary."""
    s = np.clip(p[np.arange(y.size), y], _CLIP, 1 - _CLIP)
    z = (np.log(s) - np.log1p(-s))[:, None]
    if y.size < 2 or np.ptp(z) == 0:
        return np.zeros(y.size, dtype=bool)
    mixture = GaussianMixture(2, covariance_type="tied", random_state=0).fit(z)
    low = int(np.argmin(mixture.means_.ravel()))
    return np.asarray(mixture.predict_proba(z)[:, low] > 0.5)


def estimated_noise_rate(labels: ArrayLike, pred_probs: ArrayLike) -> float:
    """Share of items whose label is estimated wrong: off-diagonal mass of the calibrated confident joint."""
    y, p = _check(labels, pred_probs)
    joint = _joint(y, p, calibrate=True)
    total = joint.sum()
    return float((total - np.trace(joint)) / total) if total else 0.0


def consensus_disagreements(
    consensus: ArrayLike,
    pred_probs: ArrayLike,
    *,
    consensus_confidence: ArrayLike | None = None,
    min_model_confidence: float = 0.9,
    min_consensus_confidence: float = 0.0,
) -> Indices:
    """Items where the model confidently predicts another class than the crowd's consensus.

    Flags item i when ``argmax p_i != consensus_i``, ``max p_i >= min_model_confidence`` and (when given)
    ``consensus_confidence_i >= min_consensus_confidence``: either the crowd or the model is wrong, and
    both are sure, so a reviewer should look. Ranked by model confidence, then consensus confidence,
    highest first.
    """
    p = as_proba(pred_probs, name="pred_probs")
    y = as_labels(consensus, p.shape[0], p.shape[1], name="consensus")
    check_fraction(min_model_confidence, "min_model_confidence", open_low=False, open_high=False)
    check_fraction(min_consensus_confidence, "min_consensus_confidence", open_low=False, open_high=False)
    if consensus_confidence is None:
        cc = np.ones(p.shape[0])
    else:
        cc = np.asarray(consensus_confidence, dtype=np.float64)
        if cc.shape != (p.shape[0],) or not np.isfinite(cc).all():
            raise ValueError("consensus_confidence must hold one finite value per item")
    model_conf = p.max(axis=1)
    flagged = np.flatnonzero(
        (p.argmax(axis=1) != y) & (model_conf >= min_model_confidence) & (cc >= min_consensus_confidence)
    )
    return _by_confidence(flagged, model_conf, cc)


def order_disagreements(
    flagged: ArrayLike, pred_probs: ArrayLike, *, consensus_confidence: ArrayLike | None = None
) -> Indices:
    """*flagged* item indices in :func:`consensus_disagreements`' order: the flags of several
    batches of items (their indices into the whole set), ranked together as one call would."""
    p = as_proba(pred_probs, name="pred_probs")
    cc = np.ones(p.shape[0]) if consensus_confidence is None else np.asarray(consensus_confidence,
                                                                             dtype=np.float64)
    return _by_confidence(np.asarray(flagged, dtype=np.intp), p.max(axis=1), cc)


def _by_confidence(flagged: Indices, model_conf: Floats, cc: Floats) -> Indices:
    """Model confidence, then consensus confidence, highest first; ties to the lower index."""
    order = np.lexsort((flagged, -cc[flagged], -model_conf[flagged]))
    return flagged[order].astype(np.intp)
