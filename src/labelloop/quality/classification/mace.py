r"""MACE: Multi-Annotator Competence Estimation (Hovy et al. 2013).

Model. Each task's true label is :math:`z_t` (prior :math:`\rho`, uniform in the paper, learned here
with a ``prior_smoothing`` pseudo-count). For every answer the worker either knows the answer
(probability :math:`\theta_w`, the *competence*) and reports :math:`z_t`, or spams with probability
:math:`1-\theta_w` and draws a label from their own *spamming strategy* :math:`\xi_w`:

.. math:: P(y_{tw}=l \mid z_t=k) = \theta_w [l=k] + (1-\theta_w)\,\xi_{wl}.

EM. E-step: :math:`q_{tk} \propto \rho_k \prod_w P(y_{tw} \mid k)`. The posterior that answer
:math:`(t,w)` was given knowingly is

.. math:: r_{tw} = q_{t\,y_{tw}}\,
          \frac{\theta_w}{\theta_w + (1-\theta_w)\,\xi_{w\,y_{tw}}},

and the M-step sets, with pseudo-count :math:`\epsilon` (``smoothing``),

.. math:: \theta_w = \frac{\epsilon + \sum_t r_{tw}}{2\epsilon + |T_w|},\qquad
          \xi_{wl} \propto \epsilon + \sum_{t:\,y_{tw}=l}(1-r_{tw}).

EM starts from the majority-vote shares, so the fit is deterministic (the paper uses random restarts).

Reference: D. Hovy, T. Berg-Kirkpatrick, A. Vaswani, E. Hovy, "Learning Whom to Trust with MACE",
NAACL-HLT 2013, 1120-1130.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from labelloop.quality._input import Codes, Encoded, Floats
from labelloop.quality.classification.base import (
    CategoricalAggregator,
    clamp_gold,
    class_prior,
    log_normalize,
    normalize_rows,
    worker_series,
)

_FLOOR = 1e-12


class MACE(CategoricalAggregator):
    """MACE (see the module docstring for the model and the maths).

    Learned: ``labels_``, ``probas_``, ``skills_`` (competence :math:`\\theta_w`), ``spam_strategies_``
    (DataFrame worker x label, :math:`\\xi_w`), ``priors_``, ``n_iter_``.
    """

    skills_: pd.Series
    spam_strategies_: pd.DataFrame
    priors_: pd.Series
    n_iter_: int

    def __init__(
        self,
        *,
        n_iter: int = 100,
        tol: float = 1e-5,
        smoothing: float = 0.5,
        prior_smoothing: float = 1.0,
        learn_prior: bool = True,
    ) -> None:
        if n_iter < 0 or tol < 0 or smoothing < 0 or prior_smoothing < 0:
            raise ValueError("n_iter, tol, smoothing and prior_smoothing must be >= 0")
        self.n_iter = n_iter
        self.tol = tol
        self.smoothing = smoothing
        self.prior_smoothing = prior_smoothing
        self.learn_prior = learn_prior

    def _fit_encoded(self, data: Encoded, gold: Codes) -> Floats:
        n_w, k = data.n_workers, data.n_labels
        eps = self.smoothing
        n = np.bincount(data.worker, minlength=n_w).astype(np.float64)
        probas = clamp_gold(normalize_rows(data.task_label_counts()), gold)
        theta = np.full(n_w, 0.5)
        strategy = np.full((n_w, k), 1.0 / k)
        # Every per-answer quantity depends only on the answer's (worker, label) pair, so both steps
        # run on the (worker, label) grid and reach the answers through the sparse indicator A
        # (tasks x (worker, label)): two sparse-dense products per iteration, as in Dawid-Skene.
        a = data.worker_label_matrix()
        at = a.T.tocsr()
        pairs = np.arange(n_w * k)
        column_label = pairs % k
        n_pair = np.bincount(data.worker * k + data.label, minlength=n_w * k).astype(np.float64)
        prior = probas.mean(axis=0)
        history: list[float] = []
        for _ in range(self.n_iter if k > 1 else 0):
            # M-step from the current posteriors (the first one from majority vote). r_tw summed
            # over a pair's answers = theta / (theta + (1-theta) xi) * sum of q_{t,l} over them.
            knew_share = theta[:, None] / np.maximum(theta[:, None] + (1 - theta[:, None]) * strategy, _FLOOR)
            mass = np.asarray(at @ probas)[pairs, column_label]
            knew = knew_share.ravel() * mass
            theta = (eps + knew.reshape(n_w, k).sum(axis=1)) / (2 * eps + n)
            strategy = (n_pair - knew).reshape(n_w, k) + eps
            strategy /= strategy.sum(axis=1, keepdims=True)
            prior = class_prior(probas, self.prior_smoothing, learn=self.learn_prior)
            # E-step: log P(y | k) = log spam + [y = k] (log(theta + spam) - log spam).
            spam = np.maximum((1 - theta[:, None]) * strategy, _FLOOR)
            log_spam = np.log(spam)
            gain = np.zeros((n_w * k, k))
            gain[pairs, column_label] = (np.log(theta[:, None] + spam) - log_spam).ravel()
            logits = np.asarray(a @ log_spam.ravel())[:, None] + np.log(prior)[None, :]
            logits += np.asarray(a @ gain)
            probas, lse = log_normalize(logits)
            clamp_gold(probas, gold)
            history.append(float(lse.sum()) / data.n_answers)
            if len(history) > 1 and abs(history[-1] - history[-2]) < self.tol:
                break
        self.skills_ = worker_series(theta, data, "skill")
        self.spam_strategies_ = pd.DataFrame(
            strategy, index=data.workers.rename("worker"), columns=data.labels.rename("label")
        )
        self.priors_ = pd.Series(prior, index=data.labels.rename("label"), name="prior")
        self.n_iter_ = len(history)
        return probas
