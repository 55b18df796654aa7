"""A simulated crowd of rankings with known utilities, for tests and benchmarks.

Each task shows ``items_per_task`` items of its own (utilities :math:`u \\sim N(0, \\text{utility_scale}^2)`)
to ``per_task`` distinct annotators. Careful annotators rank by the Plackett-Luce law (the Gumbel trick:
sorting :math:`u + \\text{Gumbel noise}` draws a Plackett-Luce ranking); a share ``bad_share`` of the
annotators ranks at random. With ``top_k`` every annotator lists only their first ``top_k`` items.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def simulate_ranking_crowd(
    *,
    n_tasks: int = 200,
    items_per_task: int = 5,
    n_workers: int = 30,
    per_task: int = 3,
    bad_share: float = 0.2,
    utility_scale: float = 1.0,
    top_k: int | None = None,
    seed: int | np.random.Generator | None = 0,
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Rankings (task, worker, ranking), true utilities per item, and each worker's kind
    (``"careful"`` or ``"random"``). Items are ``"t<task>/<k>"``; workers ``"w0"``, ``"w1"``, ..."""
    if per_task > n_workers:
        raise ValueError("per_task cannot exceed n_workers")
    if not 0 <= bad_share <= 1:
        raise ValueError("bad_share must be in [0, 1]")
    rng = np.random.default_rng(seed)
    k = items_per_task
    utility = rng.normal(0.0, utility_scale, (n_tasks, k))
    workers = np.argsort(rng.random((n_tasks, n_workers)), axis=1)[:, :per_task]
    n_bad = round(bad_share * n_workers)
    random_worker = np.arange(n_workers) >= n_workers - n_bad
    noise = rng.gumbel(size=(n_tasks, per_task, k))
    keys = np.where(random_worker[workers][:, :, None], 0.0, utility[:, None, :]) + noise
    order = np.argsort(-keys, axis=2)[:, :, : top_k or k]
    names = np.array([[f"t{t}/{j}" for j in range(k)] for t in range(n_tasks)], dtype=object)
    rankings = [list(names[t][order[t, a]]) for t in range(n_tasks) for a in range(per_task)]
    frame = pd.DataFrame(
        {
            "task": np.repeat(np.arange(n_tasks), per_task),
            "worker": np.array([f"w{w}" for w in workers.ravel()], dtype=object),
            "ranking": pd.Series(rankings, dtype=object),
        }
    )
    truth = pd.Series(utility.ravel(), index=pd.Index(names.ravel(), name="item"), name="utility")
    kinds = pd.Series(
        np.where(random_worker, "random", "careful"),
        index=pd.Index([f"w{w}" for w in range(n_workers)], name="worker"),
        name="kind",
    )
    return frame, truth, kinds
