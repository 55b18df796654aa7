r"""Plain Bradley-Terry (every annotator trusted alike) and win rates: the baselines of Crowd-BT.

``BradleyTerry`` is the MAP fit of :mod:`labelloop.quality.pairwise.davidson` (Bradley & Terry 1952,
ties by Davidson 1970) with one-hot outcomes. ``WinRate`` scores an item by its share of points,
:math:`(\text{wins} + \text{ties}/2) / \text{comparisons}`: no model, no pooling of strength through
opponents (a win over a strong item counts as much as one over a weak item).

Both share the estimator contract of the pairwise package: ``fit(comparisons)`` on a table
``worker, left, right, label[, task]`` (see :mod:`labelloop.quality.pairwise._input`), ``scores_``
(a Series item -> score, higher is better) and ``fit_predict`` returning it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Sequence
from typing import Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from labelloop.quality.pairwise._input import (
    LEFT,
    TIE,
    Comparisons,
    ComparisonsLike,
    Floats,
    encode_comparisons,
)
from labelloop.quality.pairwise.davidson import (
    DavidsonProblem,
    fisher_information,
    laplacian,
    one_hot,
    outcome_probabilities,
)

DEFAULT_PRIOR_SCALE = 2.0


def _is_many(items: object) -> bool:
    return isinstance(items, (list, tuple, np.ndarray, pd.Index, pd.Series))


def check_prior_scale(prior_scale: float) -> None:
    if not prior_scale > 0 or not np.isfinite(prior_scale):
        raise ValueError(f"prior_scale must be a positive number, got {prior_scale!r}")


class PairwiseAggregator(ABC):
    """Base class: comparisons in, one score per item out (higher is better)."""

    scores_: pd.Series

    def fit(self, comparisons: ComparisonsLike) -> Self:
        """Learn from *comparisons* (``worker, left, right, label``; ``label`` the winner or "tie")."""
        self._fit_encoded(encode_comparisons(comparisons))
        return self

    def fit_predict(self, comparisons: ComparisonsLike) -> pd.Series:
        """Fit, then return the score of each item (Series indexed by item, higher is better)."""
        return self.fit(comparisons).scores_

    @abstractmethod
    def _fit_encoded(self, data: Comparisons) -> None:
        """Set ``scores_`` and the other learned attributes."""

    def _store_scores(self, data: Comparisons, scores: Floats) -> None:
        self.scores_ = pd.Series(scores, index=data.items.rename("item"), name="score")


class WinRate(PairwiseAggregator):
    """Share of points per item: (wins + ties / 2) / comparisons. Also ``n_comparisons_`` per item."""

    n_comparisons_: pd.Series

    def __init__(self) -> None:
        pass

    def _fit_encoded(self, data: Comparisons) -> None:
        n = data.n_items
        points_left = np.select([data.outcome == LEFT, data.outcome == TIE], [1.0, 0.5], 0.0)
        points = np.bincount(data.left, points_left, n) + np.bincount(data.right, 1.0 - points_left, n)
        games = np.bincount(data.left, minlength=n) + np.bincount(data.right, minlength=n)
        self._store_scores(data, points / games)
        self.n_comparisons_ = pd.Series(games, index=data.items.rename("item"), name="n_comparisons")


class BradleyTerryModel(PairwiseAggregator):
    """Shared by the model-based aggregators: probabilities of outcomes and the posterior precision.

    Learned: ``scores_`` (MAP log-strengths, mean zero), ``tie_`` (Davidson's :math:`\\nu`; 0 when the
    data has no tie), ``n_iter_``, ``information_`` (per comparison, in input order, the expected
    Fisher information of its reported outcome about its score gap).
    """

    tie_: float
    n_iter_: int
    _data: Comparisons
    information_: Floats
    _precision: float

    @property
    def tie_margin_(self) -> float:
        """Score gap below which a tie is the most probable outcome: ``2 log(nu)`` (0 when ``nu <= 1``)."""
        return float(2.0 * np.log(self.tie_)) if self.tie_ > 1.0 else 0.0

    def _positions(self, items: Hashable | Sequence[Hashable]) -> NDArray[np.intp]:
        wanted = pd.Index(list(items) if _is_many(items) else [items])  # type: ignore[arg-type]
        pos = self.scores_.index.get_indexer(wanted)
        if (pos < 0).any():
            raise KeyError(f"item(s) not seen in the comparisons: {list(wanted[pos < 0])[:5]}")
        return np.asarray(pos, dtype=np.intp)

    def outcome_probabilities(
        self, a: Hashable | Sequence[Hashable], b: Hashable | Sequence[Hashable]
    ) -> pd.DataFrame:
        """P(a wins), P(b wins) and P(tie) for each pair (a, b), as columns ``win``, ``loss``, ``tie``."""
        scores = self.scores_.to_numpy()
        log_nu = float(np.log(self.tie_)) if self.tie_ > 0 else -np.inf
        p = outcome_probabilities(scores[self._positions(a)] - scores[self._positions(b)], log_nu)
        return pd.DataFrame(p, columns=["win", "loss", "tie"])

    def win_probability(
        self, a: Hashable | Sequence[Hashable], b: Hashable | Sequence[Hashable]
    ) -> float | Floats:
        """Probability that *a* is preferred to *b*, a tie counting half; a float for two item ids,
        an array for sequences of ids."""
        p = self.outcome_probabilities(a, b).to_numpy()
        out = np.asarray(p[:, 0] + 0.5 * p[:, 2], dtype=np.float64)
        return out if _is_many(a) or _is_many(b) else float(out[0])

    def precision_matrix(self) -> sp.csr_matrix:
        """Laplace approximation of the posterior precision of the scores (items in ``scores_`` order):
        the prior's precision plus each comparison's expected Fisher information about its score gap
        (an unreliable annotator's comparisons inform little)."""
        return laplacian(
            self._data.left, self._data.right, self.information_, self._data.n_items, self._precision
        )

    def _store_model(self, data: Comparisons, scores: Floats, log_nu: float, reliability: Floats) -> None:
        self._store_scores(data, scores)
        self.tie_ = float(np.exp(log_nu)) if np.isfinite(log_nu) else 0.0
        p = outcome_probabilities(scores[data.left] - scores[data.right], log_nu)
        self._data = data
        self.information_ = fisher_information(p, reliability)


class BradleyTerry(BradleyTerryModel):
    """Bradley-Terry with Davidson's ties, MAP under a N(0, prior_scale^2) prior on the scores.

    ``prior_scale`` (default 2): the prior carries the weight of about one comparison with an average
    item (the information of one comparison at even odds is 1/4 = 1/prior_scale^2). Every annotator
    counts alike; see :class:`~labelloop.quality.pairwise.crowd_bt.CrowdBT` for annotator reliability.
    """

    def __init__(
        self, *, prior_scale: float = DEFAULT_PRIOR_SCALE, n_iter: int = 100, tol: float = 1e-8
    ) -> None:
        check_prior_scale(prior_scale)
        if n_iter < 1:
            raise ValueError("n_iter must be >= 1")
        self.prior_scale = prior_scale
        self.n_iter = n_iter
        self.tol = tol

    def _fit_encoded(self, data: Comparisons) -> None:
        self._precision = 1.0 / self.prior_scale**2
        ties = bool((data.outcome == TIE).any())
        problem = DavidsonProblem(
            data.left, data.right, data.n_items, prior_scale=self.prior_scale, ties=ties
        )
        fit = problem.newton(
            one_hot(data.outcome), np.zeros(data.n_items), -np.inf, max_steps=self.n_iter, tol=self.tol
        )
        self.n_iter_ = fit.n_steps
        self._store_model(data, fit.scores, fit.log_nu, np.ones(data.n))
