r"""Bootstrap confidence intervals for any agreement or accuracy statistic, resampling items.

Items (tasks), not answers, are the unit of resampling: answers to the same item are dependent, so
an interval that resamples answers would be too narrow. A task drawn twice enters the resample as two
distinct tasks. With :math:`\hat\theta^{*}_1, \dots, \hat\theta^{*}_B` the statistic on :math:`B`
resamples, the :math:`1-a` interval is the percentile interval
:math:`[\hat\theta^{*}_{(a/2)}, \hat\theta^{*}_{(1-a/2)}]` (Efron & Tibshirani, *An Introduction to the
Bootstrap*, 1993, ch. 13); resamples where the statistic is undefined (NaN) are dropped and counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from labelloop.quality._input import AnswersLike, to_frame


@dataclass(frozen=True)
class ConfidenceInterval:
    """A point estimate with a two-sided bootstrap interval."""

    estimate: float
    low: float
    high: float
    confidence: float
    n_resamples: int  # resamples where the statistic was defined


def bootstrap_ci(
    statistic: Callable[[pd.DataFrame], float],
    answers: AnswersLike,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = 0,
) -> ConfidenceInterval:
    """Percentile bootstrap interval of ``statistic(answers)``, resampling tasks with replacement.

    ``statistic`` receives a long DataFrame (task, worker, label and the other columns), e.g.
    ``krippendorff_alpha`` or ``lambda df: fleiss_kappa(df)``. Seeded: the same seed gives the same
    interval.
    """
    if n_resamples < 1:
        raise ValueError("n_resamples must be >= 1")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be in (0, 1)")
    frame = to_frame(answers).reset_index(drop=True)
    if len(frame) == 0:
        raise ValueError("answers are empty")
    codes, _ = pd.factorize(frame["task"], sort=False)
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rng = np.random.default_rng(seed)
    estimate = float(statistic(frame))
    stats = np.empty(n_resamples)
    n_tasks = sizes.shape[0]
    for r in range(n_resamples):
        picked = rng.integers(0, n_tasks, n_tasks)
        lengths = sizes[picked]
        # row positions of every picked task, task after task
        offsets = np.repeat(starts[picked] - np.cumsum(lengths) + lengths, lengths)
        rows = order[offsets + np.arange(lengths.sum())]
        sample = frame.iloc[rows].reset_index(drop=True)
        sample["task"] = np.repeat(np.arange(n_tasks), lengths)
        stats[r] = statistic(sample)
    stats = stats[np.isfinite(stats)]
    if stats.size == 0:
        return ConfidenceInterval(estimate, float("nan"), float("nan"), confidence, 0)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(stats, [tail, 1.0 - tail])
    return ConfidenceInterval(estimate, float(low), float(high), confidence, int(stats.size))
