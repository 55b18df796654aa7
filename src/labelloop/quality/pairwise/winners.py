r"""Which candidate is best for each prompt, with the posterior probability that it is.

Comparisons carry a ``task`` column (the prompt); a task's candidates are the items compared in it.
After fitting a Bradley-Terry model (Crowd-BT by default), the posterior of the scores is approximated
by a Gaussian around the MAP scores :math:`\hat s` with precision :math:`H` (Laplace's method):
:math:`H` is the prior's precision plus, per comparison, the expected Fisher information of the
*reported* outcome about the score gap (so a spammer's comparisons narrow nothing; see
:meth:`~labelloop.quality.pairwise.bradley_terry.BradleyTerryModel.precision_matrix`). For a task with
candidates :math:`C`, the scores of :math:`C` are taken as :math:`N(\hat s_C, H_{CC}^{-1})` and

.. math:: P(c \text{ is best}) = P\big(s_c > s_k\ \forall k \in C\setminus\{c\}\big),

exactly :math:`\Phi\big((\hat s_a - \hat s_b)/\sqrt{\operatorname{Var}(s_a - s_b)}\big)` for two
candidates, by Monte Carlo (seeded) for more. :math:`H_{CC}^{-1}` is the covariance of the candidates
*given* every other item's score; it is the exact marginal covariance when the candidates are compared
only with each other (the usual case: a prompt's responses), and slightly narrow otherwise.

Reference: the Laplace approximation for Bradley-Terry posteriors as in M. E. Glickman, "Parameter
estimation in large dynamic paired comparison experiments", *JRSS C* 48(3):377-394, 1999.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.special

from labelloop.quality.pairwise._input import Codes, ComparisonsLike, Floats, encode_comparisons
from labelloop.quality.pairwise.bradley_terry import BradleyTerryModel
from labelloop.quality.pairwise.crowd_bt import default_pairwise_aggregator

_MAX_DRAWS = 4_000_000  # normal draws held at once


def _blocks(members: pd.DataFrame, k: int, left: Codes, right: Codes, info: Floats, diag: Floats) -> Floats:
    """``(T, k, k)`` precision blocks of the tasks in *members* (columns slot, pos, item)."""
    n_tasks = int(members["slot"].max()) + 1
    blocks = np.zeros((n_tasks, k, k))
    slot, pos, item = (members[c].to_numpy() for c in ("slot", "pos", "item"))
    blocks[slot, pos, pos] = diag[item]
    pairs = pd.DataFrame({"l": left, "r": right, "info": info})
    a = pairs.merge(members.rename(columns={"item": "l", "pos": "pl"}), on="l")
    a = a.merge(members.rename(columns={"item": "r", "pos": "pr"}), on=["r", "slot"])
    np.add.at(blocks, (a["slot"].to_numpy(), a["pl"].to_numpy(), a["pr"].to_numpy()), -a["info"].to_numpy())
    np.add.at(blocks, (a["slot"].to_numpy(), a["pr"].to_numpy(), a["pl"].to_numpy()), -a["info"].to_numpy())
    return blocks


def _p_best(mean: Floats, precision: Floats, n_samples: int, rng: np.random.Generator) -> Floats:
    """``(T, k)`` probability that each of k Gaussian scores is the largest."""
    n_tasks, k = mean.shape
    if k == 1:
        return np.ones((n_tasks, 1))
    if k == 2:
        cov = np.linalg.inv(precision)
        sd = np.sqrt(np.maximum(cov[:, 0, 0] + cov[:, 1, 1] - 2.0 * cov[:, 0, 1], 1e-300))
        first = scipy.special.ndtr((mean[:, 0] - mean[:, 1]) / sd)
        return np.column_stack([first, 1.0 - first])
    chol_t = np.swapaxes(np.linalg.cholesky(precision), 1, 2)  # P = L L^T: mean + L^-T z has covariance P^-1
    counts = np.zeros((n_tasks, k))
    chunk = max(1, _MAX_DRAWS // (k * n_samples))  # bounded memory whatever the number of tasks
    for start in range(0, n_tasks, chunk):
        stop = min(start + chunk, n_tasks)
        z = rng.standard_normal((stop - start, k, n_samples))
        best = (mean[start:stop, :, None] + np.linalg.solve(chol_t[start:stop], z)).argmax(axis=1)
        rows = np.repeat(np.arange(start, stop), n_samples)
        np.add.at(counts, (rows, best.ravel()), 1.0)
    return counts / n_samples


def best_in_task(
    comparisons: ComparisonsLike,
    *,
    aggregator: BradleyTerryModel | None = None,
    n_samples: int = 4000,
    seed: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Posterior probability that each candidate is the best of its task.

    Fits *aggregator* (default :func:`default_pairwise_aggregator`) on *comparisons*, which need a
    ``task`` column. Returns a DataFrame with columns ``task``, ``item``, ``score`` and ``p_best`` (one
    row per candidate of each task, tasks in order of first appearance, the best first; ``p_best``
    sums to one within a task). ``n_samples`` Monte Carlo draws for tasks of three or more candidates.
    """
    if n_samples < 1:
        raise ValueError("n_samples must be >= 1")
    data = encode_comparisons(comparisons, need_task=True)
    assert data.task is not None and data.tasks is not None
    model = aggregator if aggregator is not None else default_pairwise_aggregator()
    model.fit(comparisons)
    scores = model.scores_.to_numpy()
    precision = model.precision_matrix()
    diag = precision.diagonal()
    members = (
        pd.DataFrame(
            {"task": np.concatenate([data.task, data.task]), "item": np.concatenate([data.left, data.right])}
        )
        .drop_duplicates()
        .sort_values(["task", "item"], kind="stable")
    )
    members["pos"] = members.groupby("task").cumcount()
    size = members.groupby("task")["item"].transform("size").to_numpy()
    members["size"] = size
    rng = np.random.default_rng(seed)
    parts = []
    for k, group in members.groupby("size", sort=True):
        group = group.assign(slot=pd.factorize(group["task"])[0])
        blocks = _blocks(
            group[["slot", "pos", "item"]], int(k), data.left, data.right, model.information_, diag
        )
        mean = np.zeros(blocks.shape[:2])
        mean[group["slot"].to_numpy(), group["pos"].to_numpy()] = scores[group["item"].to_numpy()]
        p = _p_best(mean, blocks, n_samples, rng)
        parts.append(group.assign(p_best=p[group["slot"].to_numpy(), group["pos"].to_numpy()]))
    out = pd.concat(parts).sort_values(["task", "p_best"], ascending=[True, False], kind="stable")
    return pd.DataFrame(
        {
            "task": data.tasks.take(out["task"].to_numpy()),
            "item": data.items.take(out["item"].to_numpy()),
            "score": scores[out["item"].to_numpy()],
            "p_best": out["p_best"].to_numpy(),
        }
    )


def task_winners(
    comparisons: ComparisonsLike,
    *,
    aggregator: BradleyTerryModel | None = None,
    n_samples: int = 4000,
    seed: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Per task (index): the ``winner`` (most probably best candidate), its ``p_best`` (the confidence)
    and ``n_candidates``. Arguments as :func:`best_in_task`."""
    table = best_in_task(comparisons, aggregator=aggregator, n_samples=n_samples, seed=seed)
    grouped = table.groupby("task", sort=False)
    first = grouped.head(1).set_index("task")
    return pd.DataFrame(
        {"winner": first["item"], "p_best": first["p_best"], "n_candidates": grouped.size()}
    ).rename_axis("task")
