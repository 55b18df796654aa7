r"""Chance-corrected agreement between annotators: Fleiss' kappa, Cohen's kappa, percent agreement,
and the annotator x annotator agreement matrix. (Krippendorff's alpha lives in :mod:`.krippendorff`.)

Fleiss' kappa (Fleiss 1971), items :math:`i` with :math:`n_i \ge 2` ratings, :math:`n_{ij}` ratings in
category :math:`j`:

.. math:: P_i = \frac{\sum_j n_{ij}^2 - n_i}{n_i(n_i-1)},\quad \bar P = \operatorname{mean}_i P_i,\quad
          p_j = \frac{\sum_i n_{ij}}{\sum_i n_i},\quad \bar P_e = \sum_j p_j^2,\quad
          \kappa = \frac{\bar P - \bar P_e}{1 - \bar P_e}.

With the same number of raters per item this is exactly Fleiss' statistic; with unequal numbers each
item's :math:`P_i` uses its own :math:`n_i` (the usual generalisation).

Cohen's kappa (Cohen 1960) and weighted kappa (Cohen 1968) for two raters with confusion matrix
:math:`O` (proportions), chance matrix :math:`E = O\mathbf 1\,\mathbf 1^\top O` and disagreement weights
:math:`w_{ij}` = :math:`[i\ne j]`, :math:`|i-j|` (linear) or :math:`(i-j)^2` (quadratic) on the sorted
label ranks: :math:`\kappa = 1 - \sum w_{ij}O_{ij} / \sum w_{ij}E_{ij}` (same as scikit-learn's).

References: J. L. Fleiss, "Measuring nominal scale agreement among many raters", *Psychological
Bulletin* 76(5):378-382, 1971. J. Cohen, "A coefficient of agreement for nominal scales", *Educational
and Psychological Measurement* 20(1):37-46, 1960. J. Cohen, "Weighted kappa", *Psychological Bulletin*
70(4):213-220, 1968.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from labelloop.quality._input import AnswersLike, Floats, encode

KappaWeights = Literal["linear", "quadratic"] | None
_MAX_PAIR_CELLS = 400_000_000  # (workers * labels)^2 cells of the pairwise joint table


def _is_long(data: Any) -> bool:
    if isinstance(data, pd.DataFrame):
        return {"task", "worker", "label"} <= set(data.columns)
    return not (
        isinstance(data, np.ndarray) or (isinstance(data, list) and data and isinstance(data[0], list))
    )


def category_counts(answers: AnswersLike) -> pd.DataFrame:
    """Long table -> items x categories table of rating counts (the input of Fleiss' kappa)."""
    enc = encode(answers)
    return pd.DataFrame(
        enc.task_label_counts(), index=enc.tasks.rename("task"), columns=enc.labels.rename("label")
    )


def fleiss_kappa(data: AnswersLike | ArrayLike) -> float:
    """Fleiss' kappa of a long table, or of an items x categories count table (2-D array or DataFrame
    without task/worker/label columns). Items with fewer than two ratings are ignored; NaN when
    undefined (no item with two ratings, or a single category used throughout).
    """
    counts = category_counts(data).to_numpy() if _is_long(data) else np.asarray(data, dtype=np.float64)
    if counts.ndim != 2:
        raise ValueError("a count table must be 2-D: items x categories")
    if (counts < 0).any():
        raise ValueError("counts must be non-negative")
    n_i = counts.sum(axis=1)
    counts, n_i = counts[n_i >= 2], n_i[n_i >= 2]
    if counts.shape[0] == 0:
        return float("nan")
    p_i = ((counts**2).sum(axis=1) - n_i) / (n_i * (n_i - 1))
    p_j = counts.sum(axis=0) / n_i.sum()
    p_e = float(p_j @ p_j)
    if p_e >= 1.0:
        return float("nan")
    return (float(p_i.mean()) - p_e) / (1.0 - p_e)


def _kappa_weights(k: int, weights: KappaWeights) -> Floats:
    ranks = np.arange(k, dtype=np.float64)
    diff = np.abs(np.subtract.outer(ranks, ranks))
    if weights is None:
        return (diff > 0).astype(np.float64)
    if weights == "linear":
        return diff
    if weights == "quadratic":
        return diff**2
    raise ValueError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")


def _kappa_from_joint(joint: Floats, w: Floats) -> Floats:
    """Kappa from a ``(..., K, K)`` joint count table; NaN where chance disagreement is zero."""
    total = joint.sum(axis=(-2, -1))
    expected = joint.sum(axis=-1)[..., :, None] * joint.sum(axis=-2)[..., None, :]
    num = (joint * w).sum(axis=(-2, -1)) * total
    den = (expected * w).sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(1.0 - num / den, dtype=np.float64)


def cohen_kappa(
    rater_a: ArrayLike,
    rater_b: ArrayLike,
    *,
    weights: KappaWeights = None,
    labels: Sequence[Any] | None = None,
) -> float:
    """Cohen's kappa between two aligned sequences of labels (pairs with a missing value are dropped).

    ``weights``: None (plain), ``"linear"`` or ``"quadratic"`` (Cohen 1968) on label ranks; ranks follow
    ``labels`` when given, else the sorted union of both raters' labels. NaN when undefined.
    """
    a, b = pd.Series(np.asarray(rater_a, dtype=object)), pd.Series(np.asarray(rater_b, dtype=object))
    if len(a) != len(b):
        raise ValueError(f"raters have different lengths: {len(a)} and {len(b)}")
    both = a.notna() & b.notna()
    a, b = a[both], b[both]
    if len(a) == 0:
        raise ValueError("no item rated by both raters")
    vocab = pd.Index(labels) if labels is not None else pd.Index(pd.concat([a, b]).unique()).sort_values()
    ia, ib = vocab.get_indexer(a), vocab.get_indexer(b)
    if (ia < 0).any() or (ib < 0).any():
        raise ValueError("some answers are not in labels=")
    k = len(vocab)
    joint = np.bincount(ia * k + ib, minlength=k * k).reshape(k, k).astype(np.float64)
    return float(_kappa_from_joint(joint, _kappa_weights(k, weights)))


def percent_agreement(answers: AnswersLike) -> float:
    r"""Share of agreeing rater pairs, averaged over items with at least two answers:
    :math:`\operatorname{mean}_i \sum_j n_{ij}(n_{ij}-1) / (n_i(n_i-1))`. NaN when no item qualifies."""
    counts = encode(answers).task_label_counts()
    n_i = counts.sum(axis=1)
    keep = n_i >= 2
    if not keep.any():
        return float("nan")
    counts, n_i = counts[keep], n_i[keep]
    return float((((counts * (counts - 1)).sum(axis=1)) / (n_i * (n_i - 1))).mean())


def pairwise_agreement_matrix(
    answers: AnswersLike,
    *,
    metric: Literal["percent", "cohen"] = "percent",
    weights: KappaWeights = None,
    min_overlap: int = 1,
) -> pd.DataFrame:
    """Annotator x annotator DataFrame: agreement on the tasks both answered.

    ``metric="percent"``: share of shared tasks with the same label; ``"cohen"``: Cohen's kappa on the
    shared tasks (``weights`` as in :func:`cohen_kappa`). Pairs with fewer than ``min_overlap`` shared
    tasks are NaN. The diagonal is 1 for annotators with at least ``min_overlap`` answers.
    """
    if min_overlap < 1:
        raise ValueError("min_overlap must be >= 1")
    enc = encode(answers)
    n_w, k = enc.n_workers, enc.n_labels
    if (n_w * k) ** 2 > _MAX_PAIR_CELLS:
        raise ValueError(f"{n_w} annotators x {k} labels is too large for a dense pairwise table")
    indicator = enc.worker_label_matrix()
    joint = (indicator.T @ indicator).toarray().reshape(n_w, k, n_w, k).transpose(0, 2, 1, 3)
    shared = joint.sum(axis=(2, 3))
    if metric == "percent":
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.trace(joint, axis1=2, axis2=3) / shared
    elif metric == "cohen":
        values = _kappa_from_joint(joint, _kappa_weights(k, weights))
    else:
        raise ValueError(f"metric must be 'percent' or 'cohen', got {metric!r}")
    values = np.where(shared >= min_overlap, values, np.nan)
    answered = np.bincount(enc.worker, minlength=n_w) >= min_overlap
    values[np.diag_indices(n_w)] = np.where(answered, 1.0, np.nan)
    names = enc.workers.rename("worker")
    return pd.DataFrame(values, index=names, columns=names.rename("other"))
