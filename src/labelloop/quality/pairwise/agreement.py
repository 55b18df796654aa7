r"""Agreement on pairwise preferences: between annotators (Cohen's and Fleiss' kappa) and with the
aggregate.

Between annotators. Each comparison is put in a unit, the unordered pair of items (within its task
when a ``task`` column is given), and becomes a category seen from the unit's first item, the left
item of the unit's first row: 1 it wins, 0 tie, -1 it loses. So two annotators shown the pair in
opposite orders who prefer the same item agree, and when everyone saw the pair in one order the
categories are the usual "A better / tie / B better" as shown (kappa depends on how categories are
named across units, through their shares; this keeps the presentation's naming). The kappas are
those of :mod:`labelloop.quality.agreement.kappa` (Fleiss 1971; Cohen 1960, 1968) on that table;
categories are ordinal, so weighted kappa (a tie half-way between the two wins) is available through
``weights=``.

With the aggregate. Given scores :math:`s` (higher is better), the aggregate prefers the higher-scored
item of a pair and calls a tie when :math:`|s_i - s_j| <` ``tie_margin`` (for a Davidson model,
``tie_margin_`` = :math:`2\log\nu` is exactly where a tie becomes the most probable outcome). Per
annotator: *side agreement*, the share of their non-tie answers that pick the aggregate's side (an
exact tie of scores counts half); *agreement*, the share of all their answers equal to the
aggregate's outcome; and Cohen's kappa between them and the aggregate over those three outcomes.
An annotator's own answers pull the aggregate towards them, noticeably so with few annotators per
pair: :func:`preference_annotator_agreement_loo` refits without each annotator in turn.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Literal

import numpy as np
import pandas as pd

from labelloop.quality.agreement.kappa import fleiss_kappa, pairwise_agreement_matrix
from labelloop.quality.pairwise._input import (
    LEFT,
    TIE,
    Comparisons,
    ComparisonsLike,
    Floats,
    comparisons_frame,
    encode_comparisons,
)
from labelloop.quality.pairwise.bradley_terry import PairwiseAggregator
from labelloop.quality.pairwise.crowd_bt import default_pairwise_aggregator


def preference_answers(comparisons: ComparisonsLike) -> pd.DataFrame:
    """Comparisons -> long table ``task, worker, label`` for the kappa functions: ``task`` is the unit
    ``(first item, second item)`` (``(task, first, second)`` with a task column; the first item is the
    left one of the unit's first row), ``label`` 1 / 0 / -1 as the first item wins, ties or loses."""
    data = encode_comparisons(comparisons)
    low, high = np.minimum(data.left, data.right), np.maximum(data.left, data.right)
    key = pd.DataFrame({"task": 0 if data.task is None else data.task, "low": low, "high": high})
    unit, _ = pd.factorize(pd.MultiIndex.from_frame(key))
    _, first_row = np.unique(unit, return_index=True)
    first = data.left[first_row][unit]  # the unit's first comparison fixes its orientation
    second = np.where(first == data.left, data.right, data.left)
    as_left = np.where(data.outcome == LEFT, 1, np.where(data.outcome == TIE, 0, -1))
    label = np.where(data.left == first, as_left, -as_left)
    items_a, items_b = data.items.take(first), data.items.take(second)
    units: list[tuple[Hashable, ...]] = (
        list(zip(data.tasks.take(data.task), items_a, items_b, strict=True))
        if data.task is not None and data.tasks is not None
        else list(zip(items_a, items_b, strict=True))
    )
    return pd.DataFrame(
        {"task": pd.Series(units, dtype=object), "worker": data.workers.take(data.worker), "label": label}
    )


def preference_fleiss_kappa(comparisons: ComparisonsLike) -> float:
    """Fleiss' kappa of the annotators' preferences over units with two answers or more (NaN if none).
    An annotator who compared one unit twice counts once, with their last answer."""
    return fleiss_kappa(preference_answers(comparisons))


def preference_kappa_matrix(
    comparisons: ComparisonsLike,
    *,
    weights: Literal["linear", "quadratic"] | None = None,
    min_overlap: int = 1,
) -> pd.DataFrame:
    """Cohen's kappa between every two annotators on the units both answered (annotator x annotator
    DataFrame; NaN below ``min_overlap`` shared units); ``weights`` as in ``cohen_kappa``."""
    return pairwise_agreement_matrix(
        preference_answers(comparisons), metric="cohen", weights=weights, min_overlap=min_overlap
    )


def _aggregate_outcome(gap: Floats, tie_margin: float) -> Floats:
    """1 / 0 / -1 as the aggregate prefers the left item, calls a tie, or prefers the right one."""
    return np.where((np.abs(gap) < tie_margin) | (gap == 0), 0, np.sign(gap))


def _agreement_rows(data: Comparisons, gap: Floats, tie_margin: float) -> pd.DataFrame:
    known = np.isfinite(gap)
    w, n_w = data.worker[known], data.n_workers
    gap = gap[known]
    said = np.where(data.outcome == LEFT, 1, np.where(data.outcome == TIE, 0, -1))[known]
    agg = _aggregate_outcome(gap, tie_margin)
    decisive = said != 0
    side = np.where(np.sign(gap) == said, 1.0, np.where(gap == 0, 0.5, 0.0))
    n = np.bincount(w, minlength=n_w).astype(np.float64)
    n_decisive = np.bincount(w, decisive, n_w)
    joint = np.bincount(w * 9 + (said + 1) * 3 + (agg + 1).astype(np.intp), minlength=n_w * 9).reshape(
        n_w, 3, 3
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        p_obs = np.trace(joint, axis1=1, axis2=2) / n
        p_chance = (joint.sum(axis=2) * joint.sum(axis=1)).sum(axis=1) / n**2
        kappa = np.where(p_chance < 1, (p_obs - p_chance) / (1 - p_chance), np.nan)
        side_agreement = np.bincount(w, np.where(decisive, side, 0.0), n_w) / n_decisive
    return pd.DataFrame(
        {
            "n_comparisons": n.astype(np.int64),
            "n_ties": (n - n_decisive).astype(np.int64),
            "side_agreement": side_agreement,
            "agreement": p_obs,
            "kappa": kappa,
        },
        index=data.workers.rename("worker"),
    )


def preference_annotator_agreement(
    comparisons: ComparisonsLike,
    scores: pd.Series | Mapping[Hashable, float],
    *,
    tie_margin: float = 0.0,
) -> pd.DataFrame:
    """Per annotator (index): ``n_comparisons``, ``n_ties``, ``side_agreement``, ``agreement`` and
    ``kappa`` with the aggregate given by *scores* (see the module docstring). Comparisons of an item
    without a score are left out."""
    if tie_margin < 0:
        raise ValueError("tie_margin must be >= 0")
    data = encode_comparisons(comparisons)
    values = scores if isinstance(scores, pd.Series) else pd.Series(dict(scores), dtype=float)
    s = values.reindex(data.items).to_numpy(dtype=np.float64)
    return _agreement_rows(data, s[data.left] - s[data.right], tie_margin)


def preference_annotator_agreement_loo(
    comparisons: ComparisonsLike, *, aggregator: PairwiseAggregator | None = None
) -> pd.DataFrame:
    """:func:`preference_annotator_agreement` of each annotator with the aggregate of everyone else's
    comparisons (one refit of *aggregator*, default :func:`default_pairwise_aggregator`, per annotator; its
    ``tie_margin_`` when it has one). Comparisons of items nobody else compared are left out."""
    data = encode_comparisons(comparisons)
    frame = comparisons_frame(comparisons)
    parts = []
    for w in range(data.n_workers):
        mine = data.worker == w
        rows = np.flatnonzero(mine)
        gap, margin = np.full(rows.size, np.nan), 0.0
        if rows.size < data.n:
            model = aggregator if aggregator is not None else default_pairwise_aggregator()
            s = model.fit_predict(frame.iloc[np.flatnonzero(~mine)]).reindex(data.items).to_numpy(np.float64)
            gap = s[data.left[rows]] - s[data.right[rows]]
            margin = float(getattr(model, "tie_margin_", 0.0))
        parts.append(_agreement_rows(data.subset(rows), gap, margin).iloc[[w]])
    return pd.concat(parts)
