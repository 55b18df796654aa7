r"""Crowd-BT: Bradley-Terry scores with a reliability per annotator, fitted by MAP-EM.

Model (Chen, Bennett, Collins-Thompson & Horvitz 2013). Items have scores :math:`s` and a comparison
of :math:`i` (left) with :math:`j` (right) has a true outcome :math:`z \in \{i, j, \text{tie}\}` drawn
from the Bradley-Terry law with Davidson's ties (:mod:`.davidson`). Annotator :math:`w` reports
:math:`z` faithfully with probability :math:`\eta_w` and the flipped outcome otherwise (a tie stays a
tie), so for a non-tie report

.. math:: P(\text{report } i) = \eta_w\,P(i) + (1 - \eta_w)\,P(j)
          \;\big(= \eta_w\,\sigma(s_i - s_j) + (1 - \eta_w)\,\sigma(s_j - s_i)\text{ without ties}\big).

:math:`\eta_w = 1`: a careful annotator; :math:`\eta_w = 1/2`: a spammer whose votes carry no
information; :math:`\eta_w = 0`: one who always picks the worse item, whose votes are as informative
as a careful annotator's once read backwards (the paper's point: flip them, don't just drop them).

Priors (MAP): :math:`s_i \sim N(0, \sigma^2)` as in :class:`~.bradley_terry.BradleyTerry`, and
:math:`\eta_w \sim \mathrm{Beta}(\alpha, \beta)` with :math:`\alpha > \beta`, which says "annotators
mostly mean what they say" and so fixes the model's mirror symmetry
:math:`(s, \eta) \to (-s, 1 - \eta)` (same likelihood). Default :math:`\mathrm{Beta}(2, 1)`, density
:math:`2\eta`: the lightest Beta prior that breaks the symmetry, one pseudo-report agreeing with the
truth and none against, so it never pulls a careful annotator away from :math:`\eta = 1` (a prior
with pseudo-reports against, such as Beta(4, 2), charges every careful annotator a little
unreliability that the Bradley-Terry law's own randomness already explains).

EM, with the faithfulness of each report as the missing data. E-step, for a non-tie report of
:math:`r` against :math:`\bar r`:

.. math:: \gamma_c = \frac{\eta_w P(r)}{\eta_w P(r) + (1 - \eta_w) P(\bar r)}

(ties carry no information about faithfulness). M-step: :math:`\eta_w = (\sum_c \gamma_c + \alpha - 1)
/ (n_w + \alpha + \beta - 2)` over the annotator's non-tie reports, and the scores and :math:`\nu`
ascend the Davidson objective with soft outcomes (the report counts as a win of :math:`r` with weight
:math:`\gamma_c` and of :math:`\bar r` with :math:`1 - \gamma_c`) by one Newton step (generalised
EM). EM starts from the plain Bradley-Terry fit with :math:`\eta_w = 3/4` for everyone, not 1: under
a prior without pseudo-flips, :math:`\eta = 1` is a fixed point of EM (every :math:`\gamma_c = 1`), a
trap that leaves the model equal to plain Bradley-Terry. It stops when the log posterior per
comparison improves by less than ``tol``. Every step is vectorised over comparisons (``np.bincount``).

Reference: X. Chen, P. N. Bennett, K. Collins-Thompson and E. Horvitz, "Pairwise ranking aggregation
in a crowdsourced setting", *WSDM* 2013, pp. 193-202 (their fit is online, by moment matching; this is
the batch MAP fit of the same likelihood).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np
import pandas as pd

from labelloop.quality.pairwise._input import LEFT, RIGHT, TIE, Comparisons, Floats
from labelloop.quality.pairwise.bradley_terry import (
    DEFAULT_PRIOR_SCALE,
    BradleyTerryModel,
    check_prior_scale,
)
from labelloop.quality.pairwise.davidson import DavidsonProblem, one_hot

_EPS = 1e-6
_START_RELIABILITY = 0.75  # see the module docstring: not 1, a fixed point of EM
_FLOOR = 1e-300


class CrowdBT(BradleyTerryModel):
    """Bradley-Terry with a reliability per annotator (Crowd-BT; see the module docstring for the maths).

    Options: ``prior_scale`` the standard deviation of the Gaussian prior on scores (default 2: about
    one comparison's weight, see :class:`~.bradley_terry.BradleyTerry`); ``reliability_prior`` the
    Beta(alpha, beta) prior on each annotator's reliability (default (2, 1), density 2 eta);
    ``n_iter`` EM iterations at most; ``tol`` the least improvement of the log posterior per
    comparison that continues EM; ``reliability`` a mapping worker -> :math:`\\eta` in [0, 1] to use
    as given instead of learning it (every worker needs one; all ones is plain Bradley-Terry).

    Learned: ``scores_`` (Series item -> score, mean zero, higher is better), ``reliability_``
    (Series worker -> :math:`\\eta`), ``tie_`` (Davidson's :math:`\\nu`, 0 without ties), ``n_iter_``,
    ``objective_history_`` (log posterior per comparison after each iteration).
    """

    reliability_: pd.Series
    objective_history_: list[float]

    def __init__(
        self,
        *,
        prior_scale: float = DEFAULT_PRIOR_SCALE,
        reliability_prior: tuple[float, float] = (2.0, 1.0),
        n_iter: int = 500,
        tol: float = 1e-7,
        reliability: Mapping[Hashable, float] | pd.Series | None = None,
    ) -> None:
        check_prior_scale(prior_scale)
        alpha, beta = reliability_prior
        if not (alpha >= 1 and beta >= 1):
            raise ValueError(
                f"reliability_prior must be (alpha, beta) with both >= 1, got {reliability_prior!r}"
            )
        if n_iter < 1:
            raise ValueError("n_iter must be >= 1")
        if tol < 0:
            raise ValueError("tol must be >= 0")
        self.prior_scale = prior_scale
        self.reliability_prior = (float(alpha), float(beta))
        self.n_iter = n_iter
        self.tol = tol
        self.reliability = reliability

    def _given_reliability(self, data: Comparisons) -> Floats | None:
        if self.reliability is None:
            return None
        given = self.reliability
        series = given if isinstance(given, pd.Series) else pd.Series(dict(given), dtype=float)
        values: Floats = series.reindex(data.workers).to_numpy(dtype=np.float64)
        if np.isnan(values).any():
            raise ValueError(f"no reliability given for worker(s) {list(data.workers[np.isnan(values)])[:5]}")
        if ((values < 0) | (values > 1)).any():
            raise ValueError("reliabilities must be in [0, 1]")
        return np.clip(values, _EPS, 1 - _EPS)

    def _fit_encoded(self, data: Comparisons) -> None:
        self._precision = 1.0 / self.prior_scale**2
        alpha, beta = self.reliability_prior
        ties = data.outcome == TIE
        reported = np.where(ties, LEFT, data.outcome)  # the reported side of non-tie rows
        other = np.where(reported == LEFT, RIGHT, LEFT)
        rows = np.arange(data.n)
        answered = np.bincount(data.worker, ~ties, data.n_workers)
        problem = DavidsonProblem(
            data.left, data.right, data.n_items, prior_scale=self.prior_scale, ties=bool(ties.any())
        )
        start = problem.newton(
            one_hot(data.outcome), np.zeros(data.n_items), -np.inf, max_steps=100, tol=1e-8
        )
        scores, log_nu = start.scores, start.log_nu
        given = self._given_reliability(data)
        eta = np.full(data.n_workers, _START_RELIABILITY) if given is None else given
        history: list[float] = []
        n_iter = 0
        for n_iter in range(1, self.n_iter + 1):  # noqa: B007 - kept as n_iter_
            p = problem.probabilities(scores, log_nu)
            p_rep, p_other = p[rows, reported], p[rows, other]
            e = eta[data.worker]
            faithful = e * p_rep
            marginal = faithful + (1.0 - e) * p_other
            gamma = np.where(ties, 1.0, faithful / np.maximum(marginal, _FLOOR))
            # log posterior at the current parameters (monotone under EM)
            loglik = np.where(
                ties, np.log(np.maximum(p[:, TIE], _FLOOR)), np.log(np.maximum(marginal, _FLOOR))
            )
            history.append(self._log_posterior(float(loglik.sum()), scores, eta) / data.n)
            if len(history) > 1 and history[-1] - history[-2] < self.tol:
                break
            if given is None:
                faithful_count = np.bincount(data.worker, np.where(ties, 0.0, gamma), data.n_workers)
                # an annotator with no decisive report under a flat prior (alpha = beta = 1) stays at 1/2
                total = answered + alpha + beta - 2.0
                eta = np.divide(
                    faithful_count + alpha - 1.0, total, out=np.full(data.n_workers, 0.5), where=total > 0
                )
                eta = np.clip(eta, _EPS, 1 - _EPS)
            y = np.zeros((data.n, 3))
            y[rows, reported] = np.where(ties, 0.0, gamma)
            y[rows, other] = np.where(ties, 0.0, 1.0 - gamma)
            y[:, TIE] = ties
            step = problem.newton(y, scores, log_nu, max_steps=1, tol=0.0)
            scores, log_nu = step.scores, step.log_nu
        self.n_iter_ = n_iter
        self.objective_history_ = history
        self.reliability_ = pd.Series(eta, index=data.workers.rename("worker"), name="reliability")
        self._store_model(data, scores, log_nu, eta[data.worker])

    def _log_posterior(self, loglik: float, scores: Floats, eta: Floats) -> float:
        alpha, beta = self.reliability_prior
        log_prior_eta = (alpha - 1.0) * np.log(eta) + (beta - 1.0) * np.log1p(-eta)
        return loglik - 0.5 * self._precision * float(scores @ scores) + float(log_prior_eta.sum())


def default_pairwise_aggregator() -> CrowdBT:
    """The recommended aggregator of pairwise preferences: :class:`CrowdBT` with its defaults."""
    return CrowdBT()
