r"""Weighted Plackett-Luce rank aggregation by MM, with annotator weights given or learned.

Model (Luce 1959; Plackett 1975). Item :math:`i` has a strength :math:`\gamma_i > 0`; a ranking is a
sequence of choices (see :mod:`labelloop.quality.rankings._input`), each stage :math:`s` choosing
:math:`c_s` from its choice set :math:`S_s` with probability :math:`\gamma_{c_s} / \sum_{k \in S_s}\gamma_k`.
Annotator :math:`w` has a weight :math:`\omega_w \ge 0` and each of their stages enters the
log-likelihood :math:`\omega_w` times (a weighted, or tempered, likelihood).

MM (Hunter 2004, "MM algorithms for generalized Bradley-Terry models"), MAP under independent
:math:`\mathrm{Gamma}(1 + c, c)` priors on the strengths (Caron & Doucet 2012), which gives every
item :math:`c` pseudo-wins against a strength-one field (so an item ranked last by everyone keeps a
finite score, and the scale of :math:`\gamma` is pinned, mode 1):

.. math:: \gamma_i \leftarrow \frac{c + \sum_{s:\,c_s = i} \omega_{w(s)}}
                                  {c + \sum_{s:\,i \in S_s} \omega_{w(s)} / \sum_{k\in S_s}\gamma_k},

each step increasing the log posterior. Scores are :math:`\log\gamma`, centred to mean zero.

Learned weights (``weights="learned"``, the default). An annotator's reliability is their
*temperature* :math:`\beta_w`: the scale at which the consensus scores :math:`s = \log\gamma` best
explain their rankings, :math:`P(c_s) \propto \exp(\beta_w s_{c_s})`; 1 is as consistent as the
consensus, 0 is random, negative is reversed. Given :math:`s`, each :math:`\beta_w` is the MAP of a
concave one-dimensional problem under a :math:`N(1, \tau^2)` prior (Newton's method, all annotators
at once): gradient :math:`\sum_s (s_{c_s} - \mathrm{E}_{\beta}[s]) - (\beta_w - 1)/\tau^2` and
curvature :math:`\sum_s \mathrm{Var}_{\beta}[s] + 1/\tau^2` over the annotator's stages. Default
:math:`\tau = 1/2` (``temperature_prior_scale``): a random annotator (:math:`\beta = 0`) is two prior
standard deviations away, so a handful of rankings cannot silence anyone, while the few dozen choice
stages of a regular annotator outweigh the prior. The weights are
:math:`\omega_w \propto \max(\beta_w, 0)`: the weighted likelihood's score equations match the
tempered model's to first order; a reversed annotator is ignored rather than read backwards, which
would make the weighted likelihood non-concave. They are scaled so the mean weight of a stage is one:
the data as a whole keeps its weight against the prior (otherwise a prior-shrunk consensus gives
careful annotators temperatures above one, their weights grow, the shrinkage weakens, and so on).
The rounds (fit strengths, fit temperatures) repeat until no weight moves by more than 1e-3.

References: R. L. Plackett, "The analysis of permutations", *JRSS C* 24(2):193-202, 1975. R. D. Luce,
*Individual Choice Behavior*, 1959. D. R. Hunter, "MM algorithms for generalized Bradley-Terry models",
*Annals of Statistics* 32(1):384-406, 2004. F. Caron and A. Doucet, "Efficient Bayesian inference for
generalized Bradley-Terry models", *JCGS* 21(1):174-196, 2012.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping
from typing import Literal, Self, TypeAlias

import numpy as np
import pandas as pd

from labelloop.quality.rankings._input import Codes, Floats, Partial, Rankings, RankingsLike, encode_rankings

Weights: TypeAlias = "Literal['learned'] | Mapping[Hashable, float] | pd.Series | None"
_WEIGHT_TOL = 1e-3
_MAX_ROUNDS = 100


class RankingAggregator(ABC):
    """Base class: rankings (``task, worker, ranking``) in, one score per item out (higher is better)."""

    scores_: pd.Series
    partial: Partial

    def fit(self, rankings: RankingsLike) -> Self:
        """Learn from *rankings* (columns ``task, worker, ranking``; a ranking lists item ids best first)."""
        self._fit_encoded(encode_rankings(rankings, partial=self.partial))
        return self

    def fit_predict(self, rankings: RankingsLike) -> pd.Series:
        """Fit, then return the score of each item (Series indexed by item, higher is better)."""
        return self.fit(rankings).scores_

    @abstractmethod
    def _fit_encoded(self, data: Rankings) -> None:
        """Set ``scores_`` and the other learned attributes."""


def given_weights(weights: Mapping[Hashable, float] | pd.Series | None, data: Rankings) -> Floats:
    """Per-worker weights from a mapping (every worker needs one, each >= 0), or ones."""
    if weights is None:
        return np.ones(data.n_workers)
    series = weights if isinstance(weights, pd.Series) else pd.Series(dict(weights), dtype=float)
    values: Floats = series.reindex(data.workers).to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError(f"no weight given for worker(s) {list(data.workers[np.isnan(values)])[:5]}")
    if (values < 0).any() or not np.isfinite(values).all():
        raise ValueError("weights must be finite and >= 0")
    return values


def check_partial(partial: str) -> None:
    if partial not in ("subset", "top"):
        raise ValueError(f"partial must be 'subset' or 'top', got {partial!r}")


class PlackettLuce(RankingAggregator):
    """Weighted Plackett-Luce fitted by MM (see the module docstring for the maths).

    Options: ``weights`` ``"learned"`` (default: each annotator's temperature against the consensus),
    a mapping worker -> weight >= 0, or None (everyone alike); ``prior_strength`` the pseudo-wins
    :math:`c` of the Gamma prior (default 1, one pseudo-observation per item); ``partial`` how a ranking
    that lists only some of a task's items is read (``"subset"`` or ``"top"``, see
    :mod:`labelloop.quality.rankings._input`); ``n_iter`` MM iterations at most per fit; ``tol`` the
    largest change of a log-strength that stops MM.

    Learned: ``scores_`` (Series item -> centred log-strength), ``weights_`` (Series worker ->
    weight used), ``temperature_`` (Series worker -> :math:`\\beta_w`, also when weights are given),
    ``n_iter_`` (MM iterations in all), ``n_rounds_``.
    """

    weights_: pd.Series
    temperature_: pd.Series
    n_iter_: int
    n_rounds_: int

    def __init__(
        self,
        *,
        weights: Weights = "learned",
        prior_strength: float = 1.0,
        temperature_prior_scale: float = 0.5,
        partial: Partial = "subset",
        n_iter: int = 2000,
        tol: float = 1e-7,
    ) -> None:
        if not (isinstance(weights, (Mapping, pd.Series)) or weights in (None, "learned")):
            raise ValueError(
                f"weights must be 'learned', a mapping worker -> weight, or None; got {weights!r}"
            )
        if not prior_strength > 0:
            raise ValueError("prior_strength must be > 0")
        if not temperature_prior_scale > 0:
            raise ValueError("temperature_prior_scale must be > 0")
        check_partial(partial)
        if n_iter < 1:
            raise ValueError("n_iter must be >= 1")
        self.weights = weights
        self.prior_strength = prior_strength
        self.temperature_prior_scale = temperature_prior_scale
        self.partial = partial
        self.n_iter = n_iter
        self.tol = tol

    def _mm(self, data: Rankings, stage_weight: Floats, log_gamma: Floats) -> tuple[Floats, int]:
        c, n = self.prior_strength, data.n_items
        wins = c + np.bincount(data.stage_chosen, stage_weight, n)
        gamma = np.exp(log_gamma)
        steps = 0
        while steps < self.n_iter:
            steps += 1
            total = np.bincount(data.member_stage, gamma[data.member_item], data.n_stages)
            exposure = c + np.bincount(data.member_item, (stage_weight / total)[data.member_stage], n)
            new = wins / exposure
            moved = float(np.abs(np.log(new) - np.log(gamma)).max(initial=0.0))
            gamma = new
            if moved < self.tol:
                break
        return np.log(gamma), steps

    def _fit_encoded(self, data: Rankings) -> None:
        learned = isinstance(self.weights, str)
        omega = np.ones(data.n_workers) if learned else given_weights(self.weights, data)
        stage_worker = data.worker[data.stage_ranking]
        log_gamma, total_steps, rounds = np.zeros(data.n_items), 0, 0
        while True:
            rounds += 1
            log_gamma, steps = self._mm(data, omega[stage_worker], log_gamma)
            total_steps += steps
            beta = temperatures(data, log_gamma, prior_scale=self.temperature_prior_scale)
            if not learned or rounds >= _MAX_ROUNDS:
                break
            new = _normalised(np.maximum(beta, 0.0), stage_worker)
            moved = float(np.abs(new - omega).max(initial=0.0))
            omega = new
            if moved < _WEIGHT_TOL:
                break
        scores = log_gamma - log_gamma.mean()
        self.scores_ = pd.Series(scores, index=data.items.rename("item"), name="score")
        workers = data.workers.rename("worker")
        self.weights_ = pd.Series(omega, index=workers, name="weight")
        self.temperature_ = pd.Series(beta, index=workers, name="temperature")
        self.n_iter_, self.n_rounds_ = total_steps, rounds


def _normalised(weights: Floats, stage_worker: Codes) -> Floats:
    """Scale *weights* so the mean weight of a stage is one: the data as a whole keeps the weight it
    has unweighted against the prior, only its spread over annotators changes."""
    mean = float(weights[stage_worker].mean()) if stage_worker.size else 0.0
    return weights / mean if mean > 0 else np.ones_like(weights)


def temperatures(data: Rankings, scores: Floats, *, prior_scale: float = 1.0, n_steps: int = 30) -> Floats:
    """Each worker's MAP temperature :math:`\\beta_w` given *scores* under a N(1, 1) prior (Newton)."""
    beta = np.ones(data.n_workers)
    prior_precision = 1.0 / prior_scale**2
    if data.n_stages == 0:
        return beta
    stage_worker = data.worker[data.stage_ranking]
    member_worker = stage_worker[data.member_stage]
    values = scores[data.member_item]
    starts = np.flatnonzero(np.r_[True, np.diff(data.member_stage) != 0])
    chosen = scores[data.stage_chosen]
    for _ in range(n_steps):
        logits = beta[member_worker] * values
        logits -= np.maximum.reduceat(logits, starts)[data.member_stage]
        expd = np.exp(logits)
        norm = np.bincount(data.member_stage, expd, data.n_stages)
        mean = np.bincount(data.member_stage, expd * values, data.n_stages) / norm
        second = np.bincount(data.member_stage, expd * values**2, data.n_stages) / norm
        grad = np.bincount(stage_worker, chosen - mean, data.n_workers) - (beta - 1.0) * prior_precision
        curv = np.bincount(stage_worker, np.maximum(second - mean**2, 0.0), data.n_workers) + prior_precision
        step = grad / curv
        beta = beta + step
        if float(np.abs(step).max()) < 1e-9:
            break
    return beta


def default_ranking_aggregator() -> PlackettLuce:
    """The recommended rank aggregator: :class:`PlackettLuce` with learned annotator weights."""
    return PlackettLuce()
