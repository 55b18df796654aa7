r"""Posterior averaging over several aggregators fitted on the same answers.

.. math:: q_{tk} = \sum_m v_m\, q^{(m)}_{tk}, \qquad \sum_m v_m = 1.

Averaging the posteriors of models with different error structures (Dawid-Skene's full confusion
matrices, MACE's competence-or-spam model) is Bayesian model averaging with fixed model weights; it
helps where the models disagree for different reasons (e.g. MACE is better on very sparse graded
relevance, Dawid-Skene on class-dependent confusions). Reference: J. A. Hoeting, D. Madigan,
A. E. Raftery, C. T. Volinsky, "Bayesian Model Averaging: A Tutorial", *Statistical Science* 14(4), 1999.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import pandas as pd

from labelloop.quality._input import Codes, Encoded, Floats
from labelloop.quality.classification.base import CategoricalAggregator


class EnsembleAggregator(CategoricalAggregator):
    """Average the posteriors of ``members`` (fresh copies are fitted; ``weights`` default to equal).

    Learned: ``labels_``, ``probas_``, ``members_`` (the fitted copies), and ``skills_`` taken from the
    first member that has them.
    """

    members_: list[CategoricalAggregator]
    skills_: pd.Series

    def __init__(
        self, *, members: Sequence[CategoricalAggregator], weights: Sequence[float] | None = None
    ) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        if weights is not None and (len(weights) != len(members) or min(weights) < 0 or sum(weights) <= 0):
            raise ValueError("weights must be non-negative, one per member, with a positive sum")
        self.members = list(members)
        self.weights = None if weights is None else list(weights)

    def _fit_encoded(self, data: Encoded, gold: Codes) -> Floats:
        weights = np.asarray(self.weights if self.weights is not None else [1.0] * len(self.members))
        weights = weights / weights.sum()
        self.members_ = []
        total = np.zeros((data.n_tasks, data.n_labels))
        for member, weight in zip(self.members, weights, strict=True):
            fitted = copy.deepcopy(member)
            probas = fitted._fit_encoded(data, gold)
            fitted._store(data, probas)
            self.members_.append(fitted)
            total += weight * probas
        for fitted in self.members_:
            if isinstance(getattr(fitted, "skills_", None), pd.Series):
                self.skills_ = fitted.skills_  # type: ignore[attr-defined]
                break
        return total
