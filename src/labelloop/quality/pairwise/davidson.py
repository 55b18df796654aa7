r"""The Bradley-Terry model with Davidson's ties, and its MAP fit by Newton's method.

Item :math:`i` has a score :math:`s_i` (a log-strength, :math:`\pi_i = e^{s_i}`). In one comparison of
:math:`i` (left) and :math:`j` (right), with :math:`d = s_i - s_j` and tie parameter :math:`\nu \ge 0`
(Davidson 1970),

.. math:: P(i) = \frac{e^{d/2}}{Z},\quad P(j) = \frac{e^{-d/2}}{Z},\quad P(\text{tie}) = \frac{\nu}{Z},
          \qquad Z = e^{d/2} + e^{-d/2} + \nu,

i.e. :math:`P(i)/P(j) = \pi_i/\pi_j` exactly as in Bradley & Terry (1952) and
:math:`P(\text{tie}) \propto \nu\sqrt{\pi_i\pi_j}`. Why Davidson's rather than Rao & Kupper's (1967)
tie model: (1) a tie leaves the odds of a win unchanged, so scores mean the same with and without ties;
(2) the sufficient statistic of :math:`s_i` is *wins + ties/2*, the usual convention of win rates
and leaderboards, so a tie counts as half a win for each side; (3) the three outcomes are a
multinomial logit with logits :math:`(d/2, -d/2, \log\nu)`, linear in :math:`(s, \log\nu)`, so the
log-likelihood is concave and Newton's method is safe. With no tie in the data :math:`\nu = 0` and
this is the plain Bradley-Terry model.

MAP fit under a Gaussian prior :math:`s_i \sim N(0, \sigma^2)` (identifiability: scores are otherwise
defined up to a constant and diverge for an item that never lost; it also shrinks items with few
comparisons). Outcomes may be *soft* (a row of :math:`y_c` over the three outcomes summing to one, as
in an EM step). The objective :math:`F = \sum_c \sum_k y_{ck}\log p_k(d_c) - \|s\|^2/2\sigma^2` has
gradient :math:`g_i = \sum_{c \ni i} \pm\tfrac12[(y_{cL} - y_{cR}) - (p_{cL} - p_{cR})] - s_i/\sigma^2`
and negative Hessian :math:`\sum_c v_c (e_i - e_j)(e_i - e_j)^\top + I/\sigma^2` with
:math:`v_c = (p_{cL} + p_{cR})/4 - (p_{cL} - p_{cR})^2/4`, a weighted graph Laplacian: Newton steps
solve it (by Jacobi-preconditioned conjugate gradients beyond a few dozen items), with step halving
when a step would lower :math:`F`; :math:`\log\nu` takes a one-dimensional Newton step in between.
At the optimum the scores have mean exactly zero (the gradient terms of each comparison cancel).

References: R. A. Bradley and M. E. Terry, "Rank analysis of incomplete block designs: I. The method of
paired comparisons", *Biometrika* 39(3/4):324-345, 1952. R. R. Davidson, "On extending the
Bradley-Terry model to accommodate ties in paired comparison experiments", *JASA* 65(329):317-328,
1970. P. V. Rao and L. L. Kupper, "Ties in paired-comparison experiments: a generalization of the
Bradley-Terry model", *JASA* 62(317):194-204, 1967.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from labelloop.quality.pairwise._input import LEFT, RIGHT, TIE, Codes, Floats

# Above this many items the Newton system is solved by conjugate gradients: a graph Laplacian is
# sparse and well conditioned once the prior is added, and CG needs no dense factorisation (which is
# cubic and, on a busy machine, slowed further by BLAS threads fighting for cores).
_DENSE_MAX = 64
_LOG_NU_BOUNDS = (-20.0, 20.0)
_FLOOR = 1e-300


def outcome_probabilities(d: Floats, log_nu: float) -> Floats:
    """``(n, 3)`` probabilities of (left wins, right wins, tie) for score differences *d*."""
    logits = np.stack([d / 2.0, -d / 2.0, np.full_like(d, log_nu)], axis=1)
    logits -= logits.max(axis=1, keepdims=True)
    expd = np.exp(logits)
    return np.asarray(expd / expd.sum(axis=1, keepdims=True), dtype=np.float64)


def one_hot(outcome: Codes) -> Floats:
    y = np.zeros((outcome.shape[0], 3))
    y[np.arange(outcome.shape[0]), outcome] = 1.0
    return y


def laplacian(left: Codes, right: Codes, weight: Floats, n_items: int, precision: float) -> sp.csr_matrix:
    """``sum_c weight_c (e_l - e_r)(e_l - e_r)^T + precision * I`` as a sparse matrix."""
    rows = np.concatenate([left, right, left, right, np.arange(n_items)])
    cols = np.concatenate([left, right, right, left, np.arange(n_items)])
    data = np.concatenate([weight, weight, -weight, -weight, np.full(n_items, precision)])
    return sp.csr_matrix((data, (rows, cols)), shape=(n_items, n_items))


def _solve(matrix: sp.csr_matrix, rhs: Floats) -> Floats:
    if matrix.shape[0] <= _DENSE_MAX:
        return np.asarray(np.linalg.solve(matrix.toarray(), rhs), dtype=np.float64)
    diag = matrix.diagonal()
    jacobi = spla.LinearOperator(matrix.shape, matvec=lambda x: x / diag)
    out, _ = spla.cg(matrix, rhs, rtol=1e-10, maxiter=2000, M=jacobi)
    return np.asarray(out, dtype=np.float64)


@dataclass
class DavidsonFit:
    """MAP scores, the log tie parameter (``-inf`` without ties) and the Newton steps taken."""

    scores: Floats
    log_nu: float
    n_steps: int


class DavidsonProblem:
    """The comparisons of one fit: item codes and the prior's precision ``1 / sigma^2``."""

    def __init__(self, left: Codes, right: Codes, n_items: int, *, prior_scale: float, ties: bool) -> None:
        self.left, self.right, self.n_items = left, right, n_items
        self.precision = 1.0 / prior_scale**2
        self.ties = ties

    def probabilities(self, scores: Floats, log_nu: float) -> Floats:
        return outcome_probabilities(scores[self.left] - scores[self.right], log_nu)

    def objective(self, y: Floats, scores: Floats, log_nu: float) -> float:
        p = self.probabilities(scores, log_nu)
        loglik = float(np.sum(y * np.log(np.maximum(p, _FLOOR))))
        return loglik - 0.5 * self.precision * float(scores @ scores)

    def _score_step(self, y: Floats, scores: Floats, log_nu: float) -> Floats:
        p = self.probabilities(scores, log_nu)
        resid = 0.5 * ((y[:, LEFT] - y[:, RIGHT]) - (p[:, LEFT] - p[:, RIGHT]))
        grad = (
            np.bincount(self.left, resid, self.n_items)
            - np.bincount(self.right, resid, self.n_items)
            - self.precision * scores
        )
        v = 0.25 * (p[:, LEFT] + p[:, RIGHT]) - 0.25 * (p[:, LEFT] - p[:, RIGHT]) ** 2
        return _solve(laplacian(self.left, self.right, v, self.n_items, self.precision), grad)

    def _tie_step(self, y: Floats, scores: Floats, log_nu: float) -> float:
        p_tie = self.probabilities(scores, log_nu)[:, TIE]
        grad = float(np.sum(y[:, TIE] - p_tie))
        hess = float(np.sum(p_tie * (1.0 - p_tie)))
        return grad / max(hess, 1e-12)

    def newton(self, y: Floats, scores: Floats, log_nu: float, *, max_steps: int, tol: float) -> DavidsonFit:
        """Ascend the objective from (*scores*, *log_nu*) until a step moves no score by more than *tol*."""
        if not self.ties:
            log_nu = -np.inf
        elif not np.isfinite(log_nu):
            log_nu = float(np.log(max(y[:, TIE].mean(), 1e-3)))  # the tie share as a start
        current = self.objective(y, scores, log_nu)
        steps = 0
        while steps < max_steps:
            steps += 1
            step = self._score_step(y, scores, log_nu)
            candidate, value, factor = scores + step, current, 1.0
            for _ in range(30):  # a full Newton step can overshoot far from the optimum: halve it
                value = self.objective(y, candidate, log_nu)
                if value >= current - 1e-12 * abs(current):
                    break
                factor /= 2.0
                candidate = scores + factor * step
            moved = factor * float(np.abs(step).max(initial=0.0))
            scores, current = candidate, value
            if self.ties:
                new_nu = float(np.clip(log_nu + self._tie_step(y, scores, log_nu), *_LOG_NU_BOUNDS))
                new_value = self.objective(y, scores, new_nu)
                if new_value >= current:
                    moved = max(moved, abs(new_nu - log_nu))
                    log_nu, current = new_nu, new_value
            if moved < tol:
                break
        return DavidsonFit(scores, log_nu, steps)


def fisher_information(p: Floats, reliability: Floats) -> Floats:
    r"""Expected information about :math:`d` in one reported outcome, per comparison.

    The report is the Davidson outcome, flipped (left <-> right, a tie stays a tie) with probability
    :math:`1 - \eta`: :math:`q_L = \eta p_L + (1-\eta) p_R`, and :math:`I = \sum_k (\partial_d q_k)^2 / q_k`.
    With :math:`\eta = 1` it is :math:`v_c` above; with :math:`\eta = 1/2` only ties inform.
    """
    m = 0.5 * (p[:, LEFT] - p[:, RIGHT])
    dp_l = p[:, LEFT] * (0.5 - m)
    dp_r = p[:, RIGHT] * (-0.5 - m)
    dp_t = -p[:, TIE] * m
    q_l = reliability * p[:, LEFT] + (1 - reliability) * p[:, RIGHT]
    q_r = reliability * p[:, RIGHT] + (1 - reliability) * p[:, LEFT]
    dq_l = reliability * dp_l + (1 - reliability) * dp_r
    dq_r = reliability * dp_r + (1 - reliability) * dp_l
    info = np.zeros(p.shape[0])
    for dq, q in ((dq_l, q_l), (dq_r, q_r), (dp_t, p[:, TIE])):
        info += np.where(q > 0, dq**2 / np.maximum(q, _FLOOR), 0.0)
    return info
