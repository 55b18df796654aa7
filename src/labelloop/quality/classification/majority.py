"""Majority vote and weighted majority vote.

Tie rule (both classes): the label with the most (weighted) votes wins; **ties go to the smallest
label in sorted order**. ``probas_`` holds the (weighted) vote shares, so a 2-2 tie shows as 0.5/0.5.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Literal

import numpy as np
import pandas as pd

from labelloop.quality._input import Codes, Encoded, Floats, wsum
from labelloop.quality.classification.base import CategoricalAggregator, normalize_rows, worker_series

Weighting = Literal["log_odds", "accuracy"]


class MajorityVote(CategoricalAggregator):
    r"""Plurality vote: :math:`\hat z_t = \arg\max_k \sum_{w} [y_{tw} = k]`.

    ``probas_`` are the vote shares :math:`n_{tk} / n_t`. ``skills_`` is each worker's agreement with
    the consensus (fraction of their answers equal to the winning label).
    """

    skills_: pd.Series

    def _fit_encoded(self, data: Encoded, gold: Codes) -> Floats:
        probas = normalize_rows(data.task_label_counts())
        winners = probas.argmax(axis=1)
        hits = (winners[data.task] == data.label).astype(np.float64)
        n = np.bincount(data.worker, minlength=data.n_workers)
        self.skills_ = worker_series(wsum(data.worker, hits, data.n_workers) / n, data, "skill")
        return probas


def _smoothed_accuracy(hits: Floats, worker: Codes, n_workers: int, strength: float) -> Floats:
    """Empirical-Bayes accuracy: Beta prior centred on the pooled rate with *strength* pseudo-answers."""
    pooled = float(hits.mean()) if hits.size else 0.5
    n = np.bincount(worker, minlength=n_workers).astype(np.float64)
    correct = wsum(worker, hits, n_workers)
    return (correct + strength * pooled) / (n + strength)


def _weights_from_accuracy(acc: Floats, n_labels: int, weighting: Weighting) -> Floats:
    if weighting == "accuracy" or n_labels < 2:
        return acc
    acc = np.clip(acc, 1e-6, 1 - 1e-6)
    # Log-odds of a one-coin worker: the Bayes-optimal vote weight (Nitzan & Paroush 1982); below chance = 0.
    return np.maximum(np.log((n_labels - 1) * acc / (1 - acc)), 0.0)


class WeightedMajorityVote(CategoricalAggregator):
    r"""Weighted plurality vote: :math:`\hat z_t = \arg\max_k \sum_w v_w [y_{tw} = k]`.

    Weights :math:`v_w` come from, in order of preference:

    1. ``weights=`` given to the constructor (worker -> non-negative weight; workers missing from it get
       the median of the given weights);
    2. ``gold=`` given to :meth:`fit`: each worker's accuracy on the gold tasks;
    3. otherwise each worker's agreement with the plain majority vote (the "Wawa" heuristic).

    Accuracies are smoothed towards the pooled rate with ``prior_strength`` pseudo-answers, so a worker
    with no gold answers gets the pooled accuracy. With ``weighting="log_odds"`` (default) the weight is
    :math:`\max(0, \log\frac{(K-1)\,a_w}{1-a_w})`, the optimal weight when each worker is right with
    probability :math:`a_w` and otherwise uniform over the other labels (Nitzan & Paroush 1982;
    Littlestone & Warmuth 1994 for weighted majority); ``"accuracy"`` uses :math:`a_w` itself.
    ``skills_`` holds the accuracies, ``weights_`` the weights used.
    """

    skills_: pd.Series
    weights_: pd.Series

    def __init__(
        self,
        *,
        weights: pd.Series | Mapping[Hashable, float] | None = None,
        weighting: Weighting = "log_odds",
        prior_strength: float = 2.0,
    ) -> None:
        if weighting not in ("log_odds", "accuracy"):
            raise ValueError(f"weighting must be 'log_odds' or 'accuracy', got {weighting!r}")
        if prior_strength < 0:
            raise ValueError("prior_strength must be >= 0")
        self.weights = weights
        self.weighting: Weighting = weighting
        self.prior_strength = prior_strength

    def _fit_encoded(self, data: Encoded, gold: Codes) -> Floats:
        counts = data.task_label_counts()
        if self.weights is not None:
            given = (
                pd.Series(self.weights, dtype=np.float64)
                if not isinstance(self.weights, pd.Series)
                else (self.weights.astype(np.float64))
            )
            if (given < 0).any() or not np.isfinite(given.to_numpy()).all():
                raise ValueError("weights must be finite and non-negative")
            fill = float(given.median()) if len(given) else 1.0
            weight = given.reindex(data.workers).fillna(fill).to_numpy(dtype=np.float64)
            acc = np.full(data.n_workers, np.nan)
        else:
            on_gold = gold[data.task] >= 0
            if on_gold.any():
                hits = (gold[data.task] == data.label)[on_gold].astype(np.float64)
                acc = _smoothed_accuracy(hits, data.worker[on_gold], data.n_workers, self.prior_strength)
            else:
                winners = counts.argmax(axis=1)
                hits = (winners[data.task] == data.label).astype(np.float64)
                acc = _smoothed_accuracy(hits, data.worker, data.n_workers, self.prior_strength)
            weight = _weights_from_accuracy(acc, data.n_labels, self.weighting)
        flat = data.task * data.n_labels + data.label
        scores = wsum(flat, weight[data.worker], data.n_tasks * data.n_labels)
        scores = scores.reshape(data.n_tasks, data.n_labels)
        # Tasks whose voters all weigh zero fall back to the plain vote rather than a uniform guess.
        empty = scores.sum(axis=1) <= 0
        scores[empty] = counts[empty]
        self.skills_ = worker_series(acc, data, "skill")
        self.weights_ = worker_series(weight, data, "weight")
        return normalize_rows(scores)
