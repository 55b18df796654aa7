"""A simulated crowd of pairwise comparisons with known utilities, for tests and benchmarks.

Items get utilities :math:`u \\sim N(0, \\text{utility_scale}^2)`; each comparison is a uniformly
random pair of distinct items, shown in a random order to a uniformly random annotator. Careful
annotators answer by the Bradley-Terry law (Davidson's ties when ``tie`` > 0): the left item wins
with probability :math:`\\sigma(u_i - u_j)`. A share ``bad_share`` of the annotators is bad: the first
half of them (rounded down) *flip* (they draw an answer by the same law and report the other side),
the rest answer at random (each side with probability 1/2, ties at the careful annotators' rate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from labelloop.quality.pairwise.davidson import outcome_probabilities


def simulate_pairwise_crowd(
    *,
    n_items: int = 200,
    n_comparisons: int = 2000,
    n_workers: int = 50,
    bad_share: float = 0.2,
    utility_scale: float = 1.5,
    tie: float = 0.0,
    seed: int | np.random.Generator | None = 0,
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Comparisons (worker, left, right, label), true utilities per item, and each worker's kind
    (``"careful"``, ``"flip"`` or ``"random"``). Items are ``"i0"``, ``"i1"``, ...; workers ``"w0"``, ...
    """
    if n_items < 2 or n_comparisons < 1 or n_workers < 1:
        raise ValueError("need at least two items, one comparison and one worker")
    if not 0 <= bad_share <= 1:
        raise ValueError("bad_share must be in [0, 1]")
    rng = np.random.default_rng(seed)
    utility = rng.normal(0.0, utility_scale, n_items)
    left = rng.integers(0, n_items, n_comparisons)
    right = (left + rng.integers(1, n_items, n_comparisons)) % n_items  # uniform over the others
    worker = rng.integers(0, n_workers, n_comparisons)
    n_bad = round(bad_share * n_workers)
    kinds = np.array(
        ["careful"] * (n_workers - n_bad) + ["flip"] * (n_bad // 2) + ["random"] * (n_bad - n_bad // 2)
    )
    kind = kinds[worker]
    log_nu = float(np.log(tie)) if tie > 0 else -np.inf
    p = outcome_probabilities(utility[left] - utility[right], log_nu)
    random_p = np.column_stack([(1 - p[:, 2]) / 2, (1 - p[:, 2]) / 2, p[:, 2]])
    p = np.where((kind == "random")[:, None], random_p, p)
    outcome = (rng.random(n_comparisons)[:, None] > p.cumsum(axis=1)).sum(axis=1).clip(max=2)
    flip = (kind == "flip") & (outcome < 2)
    outcome = np.where(flip, 1 - outcome, outcome)
    items = np.array([f"i{k}" for k in range(n_items)], dtype=object)
    workers = np.array([f"w{k}" for k in range(n_workers)], dtype=object)
    label = np.where(outcome == 0, items[left], np.where(outcome == 1, items[right], "tie"))
    comparisons = pd.DataFrame(
        {"worker": workers[worker], "left": items[left], "right": items[right], "label": label}
    )
    truth = pd.Series(utility, index=pd.Index(items, name="item"), name="utility")
    return comparisons, truth, pd.Series(kinds, index=pd.Index(workers, name="worker"), name="kind")
