r"""Choose an aggregator per project from its gold items, leaning towards the unsupervised choice.

Given candidate aggregators :math:`m = 0, \dots, M-1` (candidate 0 is the choice made without labels)
and :math:`G` gold tasks, each candidate is fitted *without* the gold labels and scored by the number
of gold tasks it gets right, :math:`h_m`. The chosen candidate maximises

.. math:: s_m = h_m + \lambda\,[m = 0],

so another candidate replaces the unsupervised choice only when it gets more than :math:`\lambda`
(``prior_strength``) more gold tasks right: with two or three gold tasks the default stays; with
hundreds a clear winner takes over. This is selection by validation accuracy with a prior on the
default, the discrete analogue of shrinking an estimate towards a prior mean; the gold tasks are
then clamped in the chosen candidate's final fit as for any aggregator. Without gold only candidate
0 is fitted, so the result (and the cost) is exactly that of candidate 0.

Why a margin and not the best raw score: with few gold tasks the differences between good
aggregators (a few tenths of a point) are far below the sampling noise of :math:`h_m/G`, and picking
the maximum of noisy scores picks noise (the winner's curse; e.g. G. C. Cawley, N. L. C. Talbot,
"On Over-fitting in Model Selection and Subsequent Selection Bias in Performance Evaluation",
JMLR 11:2079-2107, 2010).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import pandas as pd

from labelloop.quality._input import Codes, Encoded, Floats
from labelloop.quality.classification.base import CategoricalAggregator


class GoldSelectedAggregator(CategoricalAggregator):
    """Pick one of ``candidates`` by its accuracy on the gold tasks (see the module docstring).

    Learned: ``labels_``, ``probas_``, ``chosen_`` (index of the candidate used), ``gold_hits_``
    (gold tasks each candidate got right when fitted without gold; empty without gold),
    ``selected_`` (the fitted candidate) and ``skills_`` when it has them.
    """

    chosen_: int
    gold_hits_: list[int]
    selected_: CategoricalAggregator
    skills_: pd.Series

    def __init__(self, *, candidates: Sequence[CategoricalAggregator], prior_strength: float = 2.0) -> None:
        if not candidates:
            raise ValueError("candidates must not be empty")
        if prior_strength < 0:
            raise ValueError("prior_strength must be >= 0")
        self.candidates = list(candidates)
        self.prior_strength = prior_strength

    def _fit_encoded(self, data: Encoded, gold: Codes) -> Floats:
        rows = np.flatnonzero(gold >= 0)
        hits: list[int] = []
        chosen = 0
        if rows.size and len(self.candidates) > 1:
            unsupervised = np.full_like(gold, -1)
            for candidate in self.candidates:
                probas = copy.deepcopy(candidate)._fit_encoded(data, unsupervised)
                hits.append(int((probas[rows].argmax(axis=1) == gold[rows]).sum()))
            scores = np.asarray(hits, dtype=np.float64)
            scores[0] += self.prior_strength
            chosen = int(scores.argmax())  # ties keep the earlier candidate (the default first)
        fitted = copy.deepcopy(self.candidates[chosen])
        probas = fitted._fit_encoded(data, gold)
        fitted._store(data, probas)
        self.chosen_, self.gold_hits_, self.selected_ = chosen, hits, fitted
        if isinstance(getattr(fitted, "skills_", None), pd.Series):
            self.skills_ = fitted.skills_  # type: ignore[attr-defined]
        return probas
