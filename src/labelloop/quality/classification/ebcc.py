r"""Enhanced Bayesian classifier combination (EBCC) and its one-subtype case, Bayesian Dawid-Skene.

Model (Li, Rubinstein, Cohn 2019). Task :math:`i` has a true label :math:`z_i \sim \mathrm{Cat}(\tau)`
and, given :math:`z_i = k`, a *subtype* :math:`g_i \sim \mathrm{Cat}(\pi_k)` out of :math:`M`. Worker
:math:`j` answers with the confusion row of that subtype, :math:`y_{ij} \sim \mathrm{Cat}(v_{jkm})`.
Subtypes let workers' errors be correlated: tasks of class :math:`k` that are hard in the same way
share a subtype, and each worker has a confusion row per (class, subtype). Priors:

.. math:: \tau \sim \mathrm{Dir}(\alpha),\qquad \pi_k \sim \mathrm{Dir}(a_\pi/M),\qquad
          v_{jkm} \sim \mathrm{Dir}(\beta_k),\quad \beta_{kl} = a_v [l=k] + b_v [l\ne k],

with the paper's settings :math:`M=10, a_\pi=0.1, \alpha=1, a_v=4, b_v=1` (a diagonal-favouring
prior: each worker starts as "right four times out of four plus K-1").

Mean-field variational inference, :math:`q(z,g)\,q(\tau)\,q(\pi)\,q(v)`. With
:math:`\gamma_{ikm} = q(z_i=k, g_i=m)`:

.. math:: \nu_k = \alpha_k + \textstyle\sum_i \gamma_{ik\cdot},\quad
          \eta_{km} = a_\pi/M + \textstyle\sum_i \gamma_{ikm},\quad
          \mu_{jkml} = \beta_{kl} + \textstyle\sum_{i:\,y_{ij}=l} \gamma_{ikm},

.. math:: \log\gamma_{ikm} = \mathbb{E}\log\tau_k + \mathbb{E}\log\pi_{km}
          + \textstyle\sum_{j} \mathbb{E}\log v_{jkm\,y_{ij}} + \text{const},

where :math:`\mathbb{E}\log x_a = \psi(c_a) - \psi(\sum_b c_b)` under :math:`\mathrm{Dir}(c)`. The
evidence lower bound at a point where every Dirichlet equals prior plus expected counts is

.. math:: \mathcal{L} = \sum_{\text{Dirichlets}} \big[\ln B(c_{\text{post}}) - \ln B(c_{\text{prior}})\big]
          + H(\gamma),\qquad \ln B(c) = \textstyle\sum_a \ln\Gamma(c_a) - \ln\Gamma(\sum_a c_a),

(``elbo_``, per answer in ``elbo_per_answer_``). The subtype responsibilities start from the
majority-vote shares split over subtypes by a seeded Dirichlet draw (``seed``), as the authors'
code does; iteration stops when no task posterior moves by more than ``tol`` and the bound per
answer gains less than ``tol / 100``.

With ``n_subtypes=1`` the model is the variational Bayesian Dawid-Skene (IBCC, Kim & Ghahramani
2012), the Dawid-Skene model with Dirichlet priors on the confusion rows that favour the diagonal,
as in Paun et al. 2018; :class:`BayesianDawidSkene` is that case and needs no random start.

Vectorisation: with :math:`A` the sparse tasks x (worker, label) indicator, the counts are
:math:`A^\top \gamma` and the E-step sum is :math:`A\,\mathbb{E}\log V`, two sparse-dense products
of width :math:`KM` per iteration.

References: Y. Li, B. I. P. Rubinstein, T. Cohn, "Exploiting Worker Correlation for Label Aggregation
in Crowdsourcing", ICML 2019, PMLR 97:3886-3895. H.-C. Kim, Z. Ghahramani, "Bayesian Classifier
Combination", AISTATS 2012. S. Paun, B. Carpenter, J. Chamberlain, D. Hovy, U. Kruschwitz,
M. Poesio, "Comparing Bayesian Models of Annotation", TACL 6:571-585, 2018.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import digamma, gammaln

from labelloop.quality._input import Codes, Encoded, Floats
from labelloop.quality.classification.base import (
    CategoricalAggregator,
    clamp_gold,
    confusion_frame,
    normalize_rows,
    worker_series,
)

_FLOOR = 1e-300


def _e_log(c: Floats) -> Floats:
    """E[log x] under Dir(c) along the last axis."""
    return np.asarray(digamma(c) - digamma(c.sum(axis=-1, keepdims=True)), dtype=np.float64)


def _log_beta(c: Floats) -> float:
    """Sum over the leading axes of ln B(c) along the last axis."""
    return float(gammaln(c).sum() - gammaln(c.sum(axis=-1)).sum())


class EBCC(CategoricalAggregator):
    """EBCC (see the module docstring for the model, the priors and the updates).

    Options: ``n_subtypes`` (M), ``a_pi``, ``alpha`` (class prior pseudo-count), ``a_v`` and ``b_v``
    (diagonal and off-diagonal pseudo-counts of every confusion row), ``n_iter`` at most, ``tol`` on
    the largest change of a task posterior, ``seed`` for the subtype start, ``n_restarts`` starts
    (seeds ``seed, seed+1, ...``) of which the one with the largest bound is kept.

    Learned: ``labels_``, ``probas_``, ``confusions_`` (each worker's expected confusion matrix, the
    subtypes averaged with their weights; DataFrame indexed by (worker, true_label)), ``priors_``,
    ``skills_`` (expected accuracy :math:`\\sum_k \\tau_k v_{jkk}`), ``elbo_``, ``elbo_per_answer_``,
    ``elbo_history_`` (per answer, one per iteration) and ``n_iter_``.
    """

    confusions_: pd.DataFrame
    priors_: pd.Series
    skills_: pd.Series
    elbo_: float
    elbo_per_answer_: float
    elbo_history_: list[float]
    n_iter_: int

    def __init__(
        self,
        *,
        n_subtypes: int = 10,
        a_pi: float = 0.1,
        alpha: float = 1.0,
        a_v: float = 4.0,
        b_v: float = 1.0,
        n_iter: int = 500,
        tol: float = 1e-3,
        seed: int = 1234,
        n_restarts: int = 1,
    ) -> None:
        if n_subtypes < 1 or n_restarts < 1:
            raise ValueError("n_subtypes and n_restarts must be >= 1")
        if n_subtypes < 1:
            raise ValueError("n_subtypes must be >= 1")
        if min(a_pi, alpha, a_v, b_v) <= 0:
            raise ValueError("a_pi, alpha, a_v and b_v must be > 0")
        if n_iter < 0 or tol < 0:
            raise ValueError("n_iter and tol must be >= 0")
        self.n_subtypes = n_subtypes
        self.a_pi = a_pi
        self.alpha = alpha
        self.a_v = a_v
        self.b_v = b_v
        self.n_iter = n_iter
        self.tol = tol
        self.seed = seed
        self.n_restarts = n_restarts

    def _start(self, z: Floats, seed: int) -> Floats:
        m = self.n_subtypes
        if m == 1:
            return z[:, :, None].copy()
        split = np.random.default_rng(seed).dirichlet(np.ones(m), size=z.shape)
        return np.asarray(split * z[:, :, None], dtype=np.float64)

    def _fit_encoded(self, data: Encoded, gold: Codes) -> Floats:
        # Restarts (seeds seed, seed+1, ...) keep the fit with the largest bound, as the authors do.
        restarts = 1 if self.n_subtypes == 1 else self.n_restarts
        best: tuple[float, Floats, dict[str, object]] | None = None
        for seed in range(self.seed, self.seed + restarts):
            z, learned = self._fit_once(data, gold, seed)
            if best is None or float(learned["elbo_"]) > best[0]:  # type: ignore[arg-type]
                best = (float(learned["elbo_"]), z, learned)  # type: ignore[arg-type]
        assert best is not None
        for name, value in best[2].items():
            setattr(self, name, value)
        return best[1]

    def _fit_once(self, data: Encoded, gold: Codes, seed: int) -> tuple[Floats, dict[str, object]]:
        n_t, n_w, k, m = data.n_tasks, data.n_workers, data.n_labels, self.n_subtypes
        a: sp.csr_matrix = data.worker_label_matrix()  # (T, W*L)
        at: sp.csr_matrix = a.T.tocsr()
        beta = np.full((k, k), self.b_v) + np.eye(k) * (self.a_v - self.b_v)  # [true k, answered l]
        alpha = np.full(k, self.alpha)
        z = clamp_gold(normalize_rows(data.task_label_counts()), gold)
        gamma = self._start(z, seed)
        history: list[float] = []
        nu, eta, mu = self._posteriors(at, gamma, alpha, beta, n_w)
        for _ in range(self.n_iter):
            e_log_v = _e_log(mu)  # [j, k, m, l]
            logits = np.asarray(a @ e_log_v.transpose(0, 3, 1, 2).reshape(n_w * k, k * m))
            logits = logits.reshape(n_t, k, m) + (_e_log(eta) + _e_log(nu)[:, None])[None]
            gamma = self._normalize(logits, gold)
            nu, eta, mu = self._posteriors(at, gamma, alpha, beta, n_w)
            history.append(self._elbo(nu, eta, mu, gamma, alpha, beta) / max(data.n_answers, 1))
            z_new = gamma.sum(axis=2)
            moved = float(np.abs(z_new - z).max()) if z.size else 0.0
            z = z_new
            # Both the posteriors and the bound must settle: on unanimous answers the posteriors are
            # still at the start while the subtypes are not.
            if moved < self.tol and len(history) > 1 and history[-1] - history[-2] < self.tol * 1e-2:
                break
        elbo = self._elbo(nu, eta, mu, gamma, alpha, beta)
        prior = nu / nu.sum()
        weights = gamma.sum(axis=0) + 1e-12  # [k, m]: mass of each subtype within its class
        rows = mu / mu.sum(axis=-1, keepdims=True)  # [j, k, m, l]
        confusion = np.einsum("jkml,km->jkl", rows, weights / weights.sum(axis=1, keepdims=True))
        learned: dict[str, object] = {
            "elbo_": elbo,
            "elbo_per_answer_": elbo / max(data.n_answers, 1),
            "elbo_history_": history,
            "n_iter_": len(history),
            "confusions_": confusion_frame(confusion, data),
            "priors_": pd.Series(prior, index=data.labels.rename("label"), name="prior"),
            "skills_": worker_series(np.diagonal(confusion, axis1=1, axis2=2) @ prior, data, "skill"),
        }
        return np.asarray(z, dtype=np.float64), learned

    def _posteriors(
        self, at: sp.csr_matrix, gamma: Floats, alpha: Floats, beta: Floats, n_w: int
    ) -> tuple[Floats, Floats, Floats]:
        """Variational Dirichlets: class prior nu[k], subtype weights eta[k, m], rows mu[j, k, m, l]."""
        n_t, k, m = gamma.shape
        nu = alpha + gamma.sum(axis=(0, 2))
        eta = self.a_pi / m + gamma.sum(axis=0)
        counts = np.asarray(at @ gamma.reshape(n_t, k * m)).reshape(n_w, k, k, m)  # [j, l, k, m]
        mu = counts.transpose(0, 2, 3, 1) + beta[None, :, None, :]
        return nu, eta, mu

    @staticmethod
    def _normalize(logits: Floats, gold: Codes) -> Floats:
        n_t, k, m = logits.shape
        rows = np.flatnonzero(gold >= 0)
        if rows.size:  # gold tasks: only their gold class stays possible
            keep = np.full((rows.size, k), -np.inf)
            keep[np.arange(rows.size), gold[rows]] = 0.0
            logits[rows] += keep[:, :, None]
        flat = logits.reshape(n_t, k * m)
        flat = np.exp(flat - flat.max(axis=1, keepdims=True))
        flat /= flat.sum(axis=1, keepdims=True)
        return np.asarray(flat.reshape(n_t, k, m), dtype=np.float64)

    def _elbo(self, nu: Floats, eta: Floats, mu: Floats, gamma: Floats, alpha: Floats, beta: Floats) -> float:
        """The bound, every Dirichlet at prior + expected counts of *gamma* (module docstring)."""
        n_w = mu.shape[0]
        k, m = eta.shape
        bound = _log_beta(nu) - _log_beta(alpha)
        bound += _log_beta(eta) - k * _log_beta(np.full(m, self.a_pi / m))
        bound += _log_beta(mu) - n_w * m * _log_beta(beta)
        positive = gamma[gamma > 0]
        return float(bound - (positive * np.log(np.maximum(positive, _FLOOR))).sum())


class BayesianDawidSkene(EBCC):
    """Dawid-Skene with Dirichlet priors favouring the diagonal, fitted by variational Bayes.

    The one-subtype case of :class:`EBCC` (IBCC; Kim & Ghahramani 2012): each confusion row has the
    prior :math:`\\mathrm{Dir}(a_v [l=k] + b_v [l\\ne k])` and the class prior :math:`\\mathrm{Dir}(\\alpha)`,
    so a worker with few answers looks like a better-than-chance worker rather than a coin, and the
    posterior weights each answer by :math:`\\exp\\mathbb{E}\\log v` (which discounts rows with little
    evidence) instead of by a point estimate. Deterministic: it starts from the majority-vote shares.
    Same options and learned attributes as :class:`EBCC` (without ``n_subtypes`` and ``seed``).
    """

    def __init__(
        self,
        *,
        alpha: float = 1.0,
        a_v: float = 4.0,
        b_v: float = 1.0,
        n_iter: int = 500,
        tol: float = 1e-4,
    ) -> None:
        super().__init__(n_subtypes=1, a_pi=1.0, alpha=alpha, a_v=a_v, b_v=b_v, n_iter=n_iter, tol=tol)
