r"""Weighted Borda count: the baseline rank aggregation.

In a ranking of a choice set of :math:`m \ge 2` items (the listed items, plus the unlisted candidates
with ``partial="top"``), the item at position :math:`p` (0 = best) gets :math:`(m - 1 - p) / (m - 1)`
points: 1 for the first, 0 for the last, so rankings of different lengths weigh alike. Unlisted
candidates share the remaining positions' mean. An item's score is the weighted mean of its points
over the rankings it is in, :math:`\sum_r \omega_{w(r)} b_{ri} / \sum_r \omega_{w(r)}` (Borda 1781; the
normalised, averaged form as in Dwork, Kumar, Naor & Sivakumar, "Rank aggregation methods for the
web", WWW 2001). Items in no ranking of two or more get 0.5, the mean number of points.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from labelloop.quality.rankings._input import Partial, Rankings
from labelloop.quality.rankings.plackett_luce import RankingAggregator, check_partial, given_weights


class WeightedBorda(RankingAggregator):
    """Borda count with annotator weights (see the module docstring).

    Options: ``weights`` a mapping worker -> weight >= 0, or None (everyone alike); ``partial``
    ``"subset"`` or ``"top"`` (see :mod:`labelloop.quality.rankings._input`).
    Learned: ``scores_`` (Series item -> weighted mean points in [0, 1]).
    """

    def __init__(
        self, *, weights: dict[object, float] | pd.Series | None = None, partial: Partial = "subset"
    ) -> None:
        check_partial(partial)
        self.weights = weights
        self.partial = partial

    def _fit_encoded(self, data: Rankings) -> None:
        omega = given_weights(self.weights, data)
        m = data.choice_set_sizes()[data.element_ranking].astype(np.float64)
        length = np.bincount(data.element_ranking, data.element_listed, data.n_rankings)[data.element_ranking]
        position = np.where(data.element_listed, data.element_position, (length + m - 1.0) / 2.0)
        keep = m >= 2
        points = np.where(keep, (m - 1.0 - position) / np.maximum(m - 1.0, 1.0), 0.0)
        weight = np.where(keep, omega[data.worker[data.element_ranking]], 0.0)
        total = np.bincount(data.element_item, weight, data.n_items)
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = np.bincount(data.element_item, weight * points, data.n_items) / total
        scores = np.where(total > 0, scores, 0.5)
        self.scores_ = pd.Series(scores, index=data.items.rename("item"), name="score")
