r"""Numeric answers (ratings, counts, measurements): robust consensus with per-worker additive bias.

Model: :math:`x_{tw} = \mu_t + b_w + \varepsilon_{tw}`, where :math:`\mu_t` is the task's true value,
:math:`b_w` a worker's systematic offset (the lenient rater who always scores one point higher) and
:math:`\varepsilon` noise with a worker-specific scale :math:`s_w` and heavy tails. Alternating
(block-coordinate) robust estimation:

1. :math:`\mu_t \leftarrow \operatorname{center}_{w \in W_t}(x_{tw} - b_w)`;
2. :math:`b_w \leftarrow \frac{n_w}{n_w + \lambda}\,\operatorname{median}_{t \in T_w,\,|W_t| \ge 2}
   (x_{tw} - \mu_t)`,
   shrunk towards 0 by ``bias_shrinkage`` :math:`\lambda` pseudo-answers (a single-answer task says
   nothing about a bias, so it is left out), then re-centred so the median bias is 0 (biases are
   only identified up to a constant);
3. :math:`s_w \leftarrow 1.4826\,\operatorname{median}|x_{tw} - b_w - \mu_t|` (the MAD), shrunk
   towards the pooled scale.

``RobustMedian`` uses the median as center (breakdown point 50%); ``RobustMean`` uses Huber's
M-estimator with weights :math:`\min(1, c\,s_w/|r|)/s_w^2`, i.e. a precision-weighted mean that
down-weights outliers (Huber 1964, "Robust Estimation of a Location Parameter", Ann. Math. Statist.
35(1)). Per-rater additive bias is the classic two-way rater model (e.g. Raykar et al. 2010,
"Learning From Crowds", JMLR 11, section on regression).
"""

from __future__ import annotations

from typing import Self

import numpy as np
import pandas as pd

from labelloop.quality._input import AnswersLike, EncodedNumeric, Floats, encode_numeric, wsum

_MAD = 1.4826


def _group_median(values: Floats, groups: np.ndarray, n_groups: int) -> Floats:
    med = pd.Series(values, copy=False).groupby(groups, sort=True).median()
    out = np.zeros(n_groups)
    out[med.index.to_numpy()] = med.to_numpy()
    return out


class _BiasCorrected:
    labels_: pd.Series
    biases_: pd.Series
    scales_: pd.Series
    n_iter_: int

    def __init__(
        self, *, n_iter: int = 20, tol: float = 1e-6, bias: bool = True, bias_shrinkage: float = 1.0
    ) -> None:
        if n_iter < 1 or tol < 0 or bias_shrinkage < 0:
            raise ValueError("n_iter must be >= 1, tol and bias_shrinkage >= 0")
        self.n_iter = n_iter
        self.tol = tol
        self.bias = bias
        self.bias_shrinkage = bias_shrinkage

    def _center(self, data: EncodedNumeric, shifted: Floats, scale: Floats) -> tuple[Floats, Floats]:
        """Per-task center of *shifted* and each answer's leverage (its weight share in its task)."""
        raise NotImplementedError

    def fit(self, answers: AnswersLike) -> Self:
        """Estimate each task's value, each worker's bias and noise scale from numeric *answers*."""
        data = encode_numeric(answers)
        task, worker, x = data.task, data.worker, data.value
        n_w = data.n_workers
        shared = np.bincount(task, minlength=data.n_tasks)[task] >= 2
        n_shared = np.bincount(worker[shared], minlength=n_w).astype(np.float64)
        has_shared = n_shared > 0
        bias = np.zeros(n_w)
        scale = np.ones(n_w)
        mu, leverage = self._center(data, x, scale)
        iterations = 0
        while iterations < self.n_iter and shared.any():
            iterations += 1
            # Leave-one-out residuals: an answer is compared with the consensus of the *other*
            # answers, else a worker's own answer pulls the consensus and hides their bias and noise.
            loo = ((x - bias[worker] - mu[task]) / (1.0 - leverage))[shared]
            if self.bias:
                raw = _group_median(loo + bias[worker[shared]], worker[shared], n_w)
                bias = raw * n_shared / (n_shared + self.bias_shrinkage)
                bias -= np.median(bias[has_shared])
                loo = ((x - bias[worker] - mu[task]) / (1.0 - leverage))[shared]
            pooled = _MAD * float(np.median(np.abs(loo)))
            pooled = pooled if pooled > 0 else 1.0
            mad = _MAD * _group_median(np.abs(loo), worker[shared], n_w)
            scale = (mad * n_shared + 2.0 * pooled) / (n_shared + 2.0)
            scale = np.maximum(scale, 0.05 * pooled)  # a worker's scale never collapses to zero
            new_mu, leverage = self._center(data, x - bias[worker], scale)
            change = float(np.max(np.abs(new_mu - mu)))
            mu = new_mu
            if change <= self.tol * pooled:
                break
        self.labels_ = pd.Series(mu, index=data.tasks.rename("task"), name="label")
        self.biases_ = pd.Series(bias, index=data.workers.rename("worker"), name="bias")
        self.scales_ = pd.Series(scale, index=data.workers.rename("worker"), name="scale")
        self.n_iter_ = iterations
        return self

    def fit_predict(self, answers: AnswersLike) -> pd.Series:
        """Fit, then return the consensus value of each task (Series indexed by task)."""
        return self.fit(answers).labels_


class RobustMedian(_BiasCorrected):
    """Consensus value = median of bias-corrected answers (see the module docstring)."""

    def _center(self, data: EncodedNumeric, shifted: Floats, scale: Floats) -> tuple[Floats, Floats]:
        n = np.bincount(data.task, minlength=data.n_tasks).astype(np.float64)
        leverage = np.where(n[data.task] >= 2, 1.0 / n[data.task], 0.0)
        return _group_median(shifted, data.task, data.n_tasks), leverage


class RobustMean(_BiasCorrected):
    """Consensus value = Huber M-estimate of bias-corrected answers, weighted by worker precision."""

    def __init__(
        self,
        *,
        n_iter: int = 20,
        tol: float = 1e-6,
        bias: bool = True,
        bias_shrinkage: float = 1.0,
        huber_c: float = 1.345,
        huber_steps: int = 5,
    ) -> None:
        super().__init__(n_iter=n_iter, tol=tol, bias=bias, bias_shrinkage=bias_shrinkage)
        if huber_c <= 0 or huber_steps < 1:
            raise ValueError("huber_c must be > 0 and huber_steps >= 1")
        self.huber_c = huber_c
        self.huber_steps = huber_steps

    def _center(self, data: EncodedNumeric, shifted: Floats, scale: Floats) -> tuple[Floats, Floats]:
        task, n_t = data.task, data.n_tasks
        center = _group_median(shifted, task, n_t)  # robust start for the reweighting
        s = scale[data.worker]
        w = 1.0 / s**2
        for _ in range(self.huber_steps):
            r = np.abs(shifted - center[task])
            w = np.minimum(1.0, self.huber_c * s / np.maximum(r, 1e-300)) / s**2
            center = wsum(task, w * shifted, n_t) / wsum(task, w, n_t)
        total = wsum(task, w, n_t)[task]
        single = np.bincount(task, minlength=n_t)[task] < 2
        return center, np.where(single, 0.0, np.minimum(w / total, 0.95))
