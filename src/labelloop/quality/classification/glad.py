r"""GLAD: worker ability and task difficulty (Whitehill et al. 2009).

Model. Task :math:`t` has true label :math:`z_t \sim \mathrm{Cat}(\rho)` and an inverse difficulty
:math:`\beta_t = e^{b_t} > 0`; worker :math:`w` has an ability :math:`\alpha_w \in \mathbb{R}`
(negative = adversarial). The answer is right with probability
:math:`\sigma(\alpha_w \beta_t) = 1 / (1 + e^{-\alpha_w\beta_t})` and otherwise uniform over the other
:math:`K-1` labels:

.. math:: P(y_{tw}=l \mid z_t=k) = \sigma(\alpha_w\beta_t)^{[l=k]}
          \left(\frac{1-\sigma(\alpha_w\beta_t)}{K-1}\right)^{[l \ne k]}.

EM. The E-step is the Dawid-Skene posterior with these emission probabilities. The M-step maximises
the expected complete log-likelihood plus Gaussian log-priors
:math:`\alpha_w \sim N(\mu_\alpha, 1)`, :math:`b_t \sim N(\mu_b, 1)`:

.. math:: Q = \sum_{(t,w)} \big[p_{tw}\log\sigma(x_{tw}) + (1-p_{tw})\log(1-\sigma(x_{tw}))\big]
          - \tfrac12\sum_w(\alpha_w-\mu_\alpha)^2 - \tfrac12\sum_t(b_t-\mu_b)^2 + \text{const},

with :math:`x_{tw}=\alpha_w e^{b_t}` and :math:`p_{tw} = q_{t\,y_{tw}}` the posterior that the answer is
right. Its gradient is :math:`\partial Q/\partial x_{tw} = p_{tw} - \sigma(x_{tw})`, summed per worker
and per task with ``np.bincount``; the M-step takes a few block Fisher-scoring steps. The class
prior is uniform (as in the paper) unless ``learn_prior=True``, then re-estimated with a
``prior_smoothing`` Dirichlet pseudo-count.

Reference: J. Whitehill, P. Ruvolo, T. Wu, J. Bergsma, J. Movellan, "Whose Vote Should Count More:
Optimal Integration of Labels from Labelers of Unknown Expertise", NIPS 2009.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from labelloop.quality._input import Codes, Encoded, Floats, wsum
from labelloop.quality.classification.base import (
    CategoricalAggregator,
    clamp_gold,
    class_prior,
    log_normalize,
    normalize_rows,
    worker_series,
)


def _log_sigmoid(x: Floats) -> Floats:
    return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x: Floats) -> Floats:
    return np.exp(_log_sigmoid(x))


class GLAD(CategoricalAggregator):
    """GLAD (see the module docstring for the model and the maths).

    Options: ``n_iter`` EM iterations at most, ``tol`` on the per-answer objective change,
    ``m_step_iter`` Fisher-scoring rounds per M-step, prior means ``alpha_prior`` and ``log_beta_prior``,
    ``prior_smoothing`` for the class prior.

    Learned: ``labels_``, ``probas_``, ``alphas_`` (worker ability, also ``skills_``), ``betas_`` (task
    inverse difficulty, larger = easier), ``priors_``, ``n_iter_``.
    """

    alphas_: pd.Series
    skills_: pd.Series
    betas_: pd.Series
    priors_: pd.Series
    n_iter_: int

    def __init__(
        self,
        *,
        n_iter: int = 100,
        tol: float = 1e-5,
        m_step_iter: int = 5,
        alpha_prior: float = 1.0,
        log_beta_prior: float = 1.0,
        prior_smoothing: float = 1.0,
        learn_prior: bool = False,
    ) -> None:
        if n_iter < 0 or m_step_iter < 1:
            raise ValueError("n_iter must be >= 0 and m_step_iter >= 1")
        if tol < 0 or prior_smoothing < 0:
            raise ValueError("tol and prior_smoothing must be >= 0")
        self.n_iter = n_iter
        self.tol = tol
        self.m_step_iter = m_step_iter
        self.alpha_prior = alpha_prior
        self.log_beta_prior = log_beta_prior
        self.prior_smoothing = prior_smoothing
        self.learn_prior = learn_prior

    def _m_step(self, data: Encoded, right: Floats, alpha: Floats, b: Floats) -> tuple[Floats, Floats]:
        """Maximise Q by block Fisher scoring: all abilities at once, then all difficulties.

        Within a block the parameters do not interact, so the Hessian is diagonal and one step costs
        two ``bincount`` passes over the answers. The expected information (Fisher scoring) keeps
        the curvature negative; steps are capped at 1 for stability.
        """
        task, worker = data.task, data.worker
        for _ in range(self.m_step_iter):
            beta = np.exp(b)[task]
            sig = _sigmoid(alpha[worker] * beta)
            resid, curv = right - sig, sig * (1.0 - sig)
            grad = wsum(worker, resid * beta, data.n_workers) - (alpha - self.alpha_prior)
            info = wsum(worker, curv * beta * beta, data.n_workers) + 1.0
            alpha = alpha + np.clip(grad / info, -1.0, 1.0)
            z = alpha[worker] * beta
            sig = _sigmoid(z)
            resid, curv = right - sig, sig * (1.0 - sig)
            grad = wsum(task, resid * z, data.n_tasks) - (b - self.log_beta_prior)
            info = wsum(task, curv * z * z, data.n_tasks) + 1.0
            b = b + np.clip(grad / info, -1.0, 1.0)
        return alpha, b

    def _fit_encoded(self, data: Encoded, gold: Codes) -> Floats:
        n_w, n_t, k = data.n_workers, data.n_tasks, data.n_labels
        task, worker, label = data.task, data.worker, data.label
        probas = clamp_gold(normalize_rows(data.task_label_counts()), gold)
        alpha = np.full(n_w, self.alpha_prior)
        b = np.full(n_t, self.log_beta_prior)
        log_other = np.log(k - 1) if k > 1 else 0.0
        flat = task * k + label
        prior = np.full(k, 1.0 / k)
        history: list[float] = []
        for _ in range(self.n_iter if k > 1 else 0):
            alpha, b = self._m_step(data, probas[task, label], alpha, b)
            prior = class_prior(probas, self.prior_smoothing, learn=self.learn_prior)
            z = alpha[worker] * np.exp(b)[task]
            log_right, log_wrong = _log_sigmoid(z), _log_sigmoid(-z) - log_other
            logits = wsum(task, log_wrong, n_t)[:, None] + np.log(prior)[None, :]
            logits += wsum(flat, log_right - log_wrong, n_t * k).reshape(n_t, k)
            probas, lse = log_normalize(logits)
            clamp_gold(probas, gold)
            history.append(float(lse.sum()) / data.n_answers)
            if len(history) > 1 and abs(history[-1] - history[-2]) < self.tol:
                break
        self.alphas_ = worker_series(alpha, data, "alpha")
        self.skills_ = self.alphas_.rename("skill")
        self.betas_ = pd.Series(np.exp(b), index=data.tasks.rename("task"), name="beta")
        self.priors_ = pd.Series(prior, index=data.labels.rename("label"), name="prior")
        self.n_iter_ = len(history)
        return probas
