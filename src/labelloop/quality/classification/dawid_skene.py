r"""Dawid-Skene and its one-coin special case, fitted by (MAP) expectation-maximisation.

Model (Dawid & Skene 1979). Task :math:`t` has a hidden true label :math:`z_t \sim \mathrm{Cat}(\rho)`;
worker :math:`w` answers :math:`y_{tw} = l` with probability :math:`\pi^{w}_{kl}` when :math:`z_t = k`,
independently across workers. Given answers, the posterior of a task is

.. math:: q_{tk} \propto \rho_k \prod_{w \in W_t} \pi^{w}_{k\,y_{tw}}.

EM alternates the E-step above with the M-step

.. math:: \pi^{w}_{kl} \propto \alpha + \lambda\,\bar\pi_{kl} + \sum_{t:\,y_{tw}=l} q_{tk},\qquad
          \rho_k \propto \beta + \sum_t q_{tk},

a MAP estimate under Dirichlet priors. :math:`\alpha` (``smoothing``) is a pseudo-count in every cell:
it keeps a worker who never gave label :math:`l` from getting :math:`\pi_{kl}=0`, which would veto
that label for every task they touch. :math:`\lambda` (``shrinkage``) adds pseudo-answers per row
distributed like the crowd's pooled confusion matrix :math:`\bar\pi` (re-estimated each M-step,
empirical Bayes): a worker with few answers looks like the average worker until their own answers
say otherwise, instead of looking like a coin. :math:`\beta` (``prior_smoothing``) smooths the class
prior. EM starts from the majority-vote shares;
with ``gold=``, gold tasks stay clamped to their label and the workers who answered gold start from
the confusion matrix of their gold answers alone.

Vectorisation: answers are encoded once; the sparse indicator :math:`A` (tasks x (worker, label)) turns
the E-step into :math:`\log q = A\,\log\Pi + \log\rho` and the M-step counts into :math:`A^\top q`,
two sparse-dense products per iteration.

Reference: A. P. Dawid and A. M. Skene, "Maximum Likelihood Estimation of Observer Error-Rates Using
the EM Algorithm", *Journal of the Royal Statistical Society C* 28(1):20-28, 1979.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from labelloop.quality._input import Codes, Encoded, Floats
from labelloop.quality.classification.base import (
    CategoricalAggregator,
    clamp_gold,
    class_prior,
    confusion_frame,
    log_normalize,
    normalize_rows,
    worker_series,
)

_FLOOR = 1e-12
_GOLD_START = 0.5  # pseudo-count for a confusion matrix started from gold answers only


class _ConfusionEM:
    """Sparse products shared by the confusion-matrix models."""

    def __init__(self, data: Encoded) -> None:
        self.k = data.n_labels
        self.w = data.n_workers
        self.a: sp.csr_matrix = data.worker_label_matrix()
        self.at: sp.csr_matrix = self.a.T.tocsr()

    def gold_workers(self, probas: Floats, gold: Codes) -> tuple[Floats, NDArray[np.bool_]]:
        """Soft counts from gold tasks only, and which workers answered any gold task."""
        counts = self.counts(np.where((gold >= 0)[:, None], probas, 0.0))
        return counts, counts.sum(axis=(1, 2)) > 0

    def counts(self, probas: Floats) -> Floats:
        """Soft counts ``[w, observed l, true k]`` = sum of q_tk over the tasks where w answered l."""
        return np.asarray(self.at @ probas).reshape(self.w, self.k, self.k)

    def log_likelihood(self, log_emission: Floats) -> Floats:
        """``(n_tasks, K)``: per task, sum of log P(answer | true k); ``log_emission[w, l, k]``."""
        return np.asarray(self.a @ log_emission.reshape(self.w * self.k, self.k))


def _check_common(n_iter: int, tol: float, smoothing: float, prior_smoothing: float) -> None:
    if n_iter < 0:
        raise ValueError("n_iter must be >= 0")
    if tol < 0:
        raise ValueError("tol must be >= 0")
    if smoothing < 0 or prior_smoothing < 0:
        raise ValueError("smoothing and prior_smoothing must be >= 0")


class DawidSkene(CategoricalAggregator):
    """Dawid-Skene with one full confusion matrix per worker (see the module docstring for the maths).

    Options: ``n_iter`` EM iterations at most; stop early when the MAP objective per answer improves by
    less than ``tol`` (``tol=0`` runs all iterations); ``smoothing`` Dirichlet pseudo-count added to every
    confusion cell; ``shrinkage`` pseudo-answers per row drawn towards the pooled confusion matrix;
    ``prior_smoothing`` pseudo-count for the class prior; ``learn_prior=False`` keeps it uniform.
    ``smoothing=0, shrinkage=0, prior_smoothing=0`` is the original maximum-likelihood EM.

    Learned: ``labels_``, ``probas_``, ``confusions_`` (DataFrame indexed by (worker, true_label), columns
    the answered label, rows sum to one), ``priors_`` (Series label -> prior), ``skills_`` (each worker's
    expected accuracy :math:`\\sum_k \\rho_k \\pi^w_{kk}`), ``n_iter_`` and ``objective_history_``.
    """

    confusions_: pd.DataFrame
    priors_: pd.Series
    skills_: pd.Series
    n_iter_: int
    objective_history_: list[float]

    def __init__(
        self,
        *,
        n_iter: int = 100,
        tol: float = 1e-5,
        smoothing: float = 0.3,
        shrinkage: float = 2.0,
        prior_smoothing: float = 1.0,
        learn_prior: bool = True,
    ) -> None:
        _check_common(n_iter, tol, smoothing, prior_smoothing)
        if shrinkage < 0:
            raise ValueError("shrinkage must be >= 0")
        self.n_iter = n_iter
        self.tol = tol
        self.smoothing = smoothing
        self.shrinkage = shrinkage
        self.prior_smoothing = prior_smoothing
        self.learn_prior = learn_prior

    def _m_step(self, em: _ConfusionEM, probas: Floats) -> tuple[Floats, Floats, Floats]:
        """New emissions ``[w, l, k]``, class prior, and the Dirichlet pseudo-counts used."""
        counts = em.counts(probas)  # [w, observed l, true k]
        pseudo = np.full((1, em.k, em.k), self.smoothing)
        if self.shrinkage > 0:
            pooled = counts.sum(axis=0)
            pooled /= np.maximum(pooled.sum(axis=0, keepdims=True), _FLOOR)
            pseudo = pseudo + self.shrinkage * pooled[None]
        emission = counts + pseudo
        emission /= np.maximum(emission.sum(axis=1, keepdims=True), _FLOOR)
        return emission, class_prior(probas, self.prior_smoothing, learn=self.learn_prior), pseudo

    def _fit_encoded(self, data: Encoded, gold: Codes) -> Floats:
        probas = clamp_gold(normalize_rows(data.task_label_counts()), gold)
        em = _ConfusionEM(data)
        history: list[float] = []
        emission, prior, pseudo = self._m_step(em, probas)
        if (gold >= 0).any():
            # Workers seen on gold start from their gold answers alone: the majority vote may sit in
            # the wrong basin (e.g. most workers swap two labels) and EM would stay there.
            counts, seen = em.gold_workers(probas, gold)
            start = counts + self.smoothing + _GOLD_START
            emission[seen] = (start / start.sum(axis=1, keepdims=True))[seen]
        for _ in range(self.n_iter):
            log_emission = np.log(np.maximum(emission, _FLOOR))
            log_prior = np.log(np.maximum(prior, _FLOOR))
            probas, lse = log_normalize(em.log_likelihood(log_emission) + log_prior)
            clamp_gold(probas, gold)
            objective = float(lse.sum() + (pseudo * log_emission).sum())
            objective += float(self.prior_smoothing * log_prior.sum())
            history.append(objective / data.n_answers)
            emission, prior, pseudo = self._m_step(em, probas)
            if len(history) > 1 and history[-1] - history[-2] < self.tol:
                break
        confusion = emission.transpose(0, 2, 1)  # [w, true k, observed l]
        self.confusions_ = confusion_frame(confusion, data)
        self.priors_ = pd.Series(prior, index=data.labels.rename("label"), name="prior")
        diag = np.diagonal(confusion, axis1=1, axis2=2)
        self.skills_ = worker_series(diag @ prior, data, "skill")
        self.n_iter_ = len(history)
        self.objective_history_ = history
        return probas


class OneCoinDawidSkene(CategoricalAggregator):
    r"""Dawid-Skene with one accuracy per worker ("one-coin"): :math:`\pi^w_{kk} = p_w` and
    :math:`\pi^w_{kl} = (1-p_w)/(K-1)` for :math:`l \ne k`.

    M-step: :math:`p_w = (\alpha + \sum_{t \in T_w} q_{t\,y_{tw}}) / (2\alpha + |T_w|)`. Far fewer
    parameters than the full model, so it behaves better when workers give few answers; it cannot
    represent class-dependent errors. (Dawid & Skene 1979; the one-coin form as in e.g. Zhang et al.,
    "Spectral Methods Meet EM", NIPS 2014.)

    The class prior stays uniform unless ``learn_prior=True``: with a learned prior, one-coin EM can
    collapse onto one class when most workers are near chance (crowd-kit's learned-prior version scores
    0.26 on S_Rel, where majority vote gets 0.54).

    Learned: ``labels_``, ``probas_``, ``skills_`` (:math:`p_w`), ``priors_``, ``n_iter_``.
    """

    skills_: pd.Series
    priors_: pd.Series
    n_iter_: int

    def __init__(
        self,
        *,
        n_iter: int = 100,
        tol: float = 1e-5,
        smoothing: float = 1.0,
        prior_smoothing: float = 1.0,
        learn_prior: bool = False,
    ) -> None:
        _check_common(n_iter, tol, smoothing, prior_smoothing)
        self.n_iter = n_iter
        self.tol = tol
        self.smoothing = smoothing
        self.prior_smoothing = prior_smoothing
        self.learn_prior = learn_prior

    def _m_step(self, em: _ConfusionEM, probas: Floats, n: Floats) -> tuple[Floats, Floats]:
        correct = np.trace(em.counts(probas), axis1=1, axis2=2)
        skill = (correct + self.smoothing) / (n + 2 * self.smoothing)
        prior = class_prior(probas, self.prior_smoothing, learn=self.learn_prior)
        return np.clip(skill, _FLOOR, 1 - _FLOOR), prior

    def _fit_encoded(self, data: Encoded, gold: Codes) -> Floats:
        k = data.n_labels
        probas = clamp_gold(normalize_rows(data.task_label_counts()), gold)
        n = np.bincount(data.worker, minlength=data.n_workers).astype(np.float64)
        em = _ConfusionEM(data)
        skill, prior = self._m_step(em, probas, n)
        if (gold >= 0).any():  # as in DawidSkene: workers seen on gold start from their gold accuracy
            counts, seen = em.gold_workers(probas, gold)
            n_gold = counts.sum(axis=(1, 2))
            start = (np.trace(counts, axis1=1, axis2=2) + 1.0) / (n_gold + 2.0)
            skill[seen] = np.clip(start[seen], _FLOOR, 1 - _FLOOR)
        history: list[float] = []
        eye = np.eye(k, dtype=bool)
        for _ in range(self.n_iter if k > 1 else 0):
            wrong = np.log((1 - skill) / (k - 1))
            log_emission = np.where(eye[None], np.log(skill)[:, None, None], wrong[:, None, None])
            probas, lse = log_normalize(em.log_likelihood(log_emission) + np.log(np.maximum(prior, _FLOOR)))
            clamp_gold(probas, gold)
            history.append(float(lse.sum()) / data.n_answers)
            skill, prior = self._m_step(em, probas, n)
            if len(history) > 1 and history[-1] - history[-2] < self.tol:
                break
        self.skills_ = worker_series(skill, data, "skill")
        self.priors_ = pd.Series(prior, index=data.labels.rename("label"), name="prior")
        self.n_iter_ = len(history)
        return probas
