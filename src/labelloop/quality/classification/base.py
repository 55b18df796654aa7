"""The estimator contract shared by the categorical aggregators.

``fit(answers, *, gold=None)`` learns; ``labels_`` (Series task -> label) and ``probas_`` (DataFrame
task x label, rows sum to one) hold the result; ``fit_predict`` and ``fit_predict_proba`` return them.
The consensus label of a task is the most probable one; **ties go to the smallest label in sorted
order** (``argmax`` picks the first maximum and labels are encoded sorted).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping
from typing import Self, TypeAlias

import numpy as np
import pandas as pd

from labelloop.quality._input import AnswersLike, Codes, Encoded, Floats, encode, gold_codes, gold_series

Gold: TypeAlias = "pd.Series | Mapping[Hashable, Hashable] | None"


def normalize_rows(matrix: Floats) -> Floats:
    """Divide each row by its sum; all-zero rows become uniform."""
    sums = matrix.sum(axis=1, keepdims=True)
    k = matrix.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(sums > 0, matrix / np.where(sums > 0, sums, 1.0), 1.0 / k)
    return out


def clamp_gold(probas: Floats, gold: Codes) -> Floats:
    """Set the rows of gold tasks to the one-hot vector of their gold label (in place)."""
    rows = np.flatnonzero(gold >= 0)
    if rows.size:
        probas[rows] = 0.0
        probas[rows, gold[rows]] = 1.0
    return probas


def class_prior(probas: Floats, smoothing: float, *, learn: bool) -> Floats:
    """Class prior: posterior mass per label plus *smoothing* pseudo-counts, or uniform when not learned."""
    k = probas.shape[1]
    if not learn:
        return np.full(k, 1.0 / k)
    prior = probas.sum(axis=0) + smoothing
    return np.asarray(prior / prior.sum(), dtype=np.float64)


def log_normalize(logits: Floats) -> tuple[Floats, Floats]:
    """Row-wise softmax of *logits*; also returns each row's log-sum-exp."""
    top = logits.max(axis=1, keepdims=True)
    expd = np.exp(logits - top)
    sums = expd.sum(axis=1, keepdims=True)
    return expd / sums, (np.log(sums) + top)[:, 0]


class CategoricalAggregator(ABC):
    """Base class: an aggregator of categorical answers into one label per task."""

    labels_: pd.Series
    probas_: pd.DataFrame

    def fit(self, answers: AnswersLike, *, gold: Gold = None) -> Self:
        """Learn from *answers*; *gold* (task -> label) clamps those tasks to their label while fitting."""
        known = gold_series(gold)
        data = encode(answers, extra_labels=None if known is None else pd.Index(known.unique()))
        clamp = gold_codes(known, data)
        probas = self._fit_encoded(data, clamp)
        clamp_gold(probas, clamp)
        self._store(data, probas)
        return self

    def fit_predict(self, answers: AnswersLike, *, gold: Gold = None) -> pd.Series:
        """Fit, then return the consensus label of each task (Series indexed by task)."""
        return self.fit(answers, gold=gold).labels_

    def fit_predict_proba(self, answers: AnswersLike, *, gold: Gold = None) -> pd.DataFrame:
        """Fit, then return each task's posterior over labels (rows: tasks, columns: labels, sum 1)."""
        return self.fit(answers, gold=gold).probas_

    @abstractmethod
    def _fit_encoded(self, data: Encoded, gold: Codes) -> Floats:
        """Return the ``(n_tasks, n_labels)`` posterior matrix; may set learned attributes."""

    def _store(self, data: Encoded, probas: Floats) -> None:
        tasks = data.tasks.rename("task")
        labels = data.labels.rename("label")
        self.probas_ = pd.DataFrame(probas, index=tasks, columns=labels)
        self.labels_ = pd.Series(labels.take(probas.argmax(axis=1)), index=tasks, name="label")


def worker_series(values: Floats, data: Encoded, name: str) -> pd.Series:
    return pd.Series(values, index=data.workers.rename("worker"), name=name)


def confusion_frame(conf: Floats, data: Encoded) -> pd.DataFrame:
    """``(n_workers, K, K)`` array [worker, true, observed] -> DataFrame indexed by (worker, true label)."""
    w, k = data.n_workers, data.n_labels
    index = pd.MultiIndex.from_product(
        [data.workers.rename("worker"), data.labels.rename("true_label")], names=["worker", "true_label"]
    )
    return pd.DataFrame(conf.reshape(w * k, k), index=index, columns=data.labels.rename("label"))
