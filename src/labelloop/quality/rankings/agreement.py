r"""Agreement on rankings: Kendall's tau between annotators, and between each annotator and the aggregate.

Kendall's tau (Kendall 1938) of two orderings of the same :math:`n` items counts the item pairs they
order alike (concordant, :math:`C`) and oppositely (discordant, :math:`D`):
:math:`\tau_b = (C - D) / \sqrt{(n_0 - n_1)(n_0 - n_2)}` with :math:`n_0 = n(n-1)/2` and
:math:`n_1, n_2` the pairs tied in each ordering (none in a ranking; the aggregate's scores may tie).
Two annotators are compared on the items both ranked in a task (at least two); the summary is the mean
over every (task, pair of annotators). Computed for all pairs at once by joining the exploded rankings
on (task, item), then on (ranking pair), never by a loop over annotators.

Reference: M. G. Kendall, "A new measure of rank correlation", *Biometrika* 30(1/2):81-93, 1938;
"The treatment of ties in ranking problems", *Biometrika* 33(3):239-251, 1945.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np
import pandas as pd

from labelloop.quality.rankings._input import Rankings, RankingsLike, encode_rankings


def _elements(data: Rankings) -> pd.DataFrame:
    keep = data.element_listed
    ranking = data.element_ranking[keep]
    return pd.DataFrame(
        {
            "ranking": ranking,
            "task": data.task[ranking],
            "worker": data.worker[ranking],
            "item": data.element_item[keep],
            "pos": data.element_position[keep],
        }
    )


def kendall_tau_pairs(rankings: RankingsLike) -> pd.DataFrame:
    """Kendall's tau between every two annotators who ranked at least two common items of a task:
    DataFrame with columns ``task``, ``worker``, ``other``, ``n_items`` (common items) and ``tau``."""
    data = encode_rankings(rankings)
    el = _elements(data)
    both = el.merge(el, on=["task", "item"], suffixes=("_1", "_2"))
    both = both[both["worker_1"] < both["worker_2"]]
    common = both.groupby(["ranking_1", "ranking_2"]).size().rename("n_items")
    pairs = both.merge(both, on=["task", "ranking_1", "ranking_2"], suffixes=("_a", "_b"))
    pairs = pairs[pairs["item_a"] < pairs["item_b"]]
    sign = np.sign(pairs["pos_1_a"].to_numpy() - pairs["pos_1_b"].to_numpy()) * np.sign(
        pairs["pos_2_a"].to_numpy() - pairs["pos_2_b"].to_numpy()
    )
    agg = pairs.assign(sign=sign).groupby(["ranking_1", "ranking_2"])["sign"].mean().rename("tau")
    out = pd.concat([common, agg], axis=1, join="inner").reset_index()
    r1, r2 = out["ranking_1"].to_numpy(), out["ranking_2"].to_numpy()
    return pd.DataFrame(
        {
            "task": data.tasks.take(data.task[r1]),
            "worker": data.workers.take(data.worker[r1]),
            "other": data.workers.take(data.worker[r2]),
            "n_items": out["n_items"].to_numpy(),
            "tau": out["tau"].to_numpy(dtype=np.float64),
        }
    )


def mean_kendall_tau(rankings: RankingsLike) -> float:
    """Mean Kendall's tau over every (task, pair of annotators) with two or more common items; NaN if none."""
    taus = kendall_tau_pairs(rankings)["tau"]
    return float(taus.mean()) if len(taus) else float("nan")


def ranking_annotator_agreement(
    rankings: RankingsLike, scores: pd.Series | Mapping[Hashable, float]
) -> pd.DataFrame:
    """Per annotator (index): ``n_rankings`` (with two or more scored items) and ``kendall_tau``, the
    mean tau-b between their rankings and the order of the same items by *scores*."""
    data = encode_rankings(rankings)
    values = scores if isinstance(scores, pd.Series) else pd.Series(dict(scores), dtype=float)
    s = values.reindex(data.items).to_numpy(dtype=np.float64)
    el = _elements(data)
    el = el[np.isfinite(s[el["item"].to_numpy()])]
    pairs = el.merge(el[["ranking", "item", "pos"]], on="ranking", suffixes=("_a", "_b"))
    pairs = pairs[pairs["pos_a"] < pairs["pos_b"]]
    gap = s[pairs["item_a"].to_numpy()] - s[pairs["item_b"].to_numpy()]
    per = pd.DataFrame({"ranking": pairs["ranking"].to_numpy(), "sign": np.sign(gap), "tied": gap == 0})
    grouped = per.groupby("ranking")
    n0 = grouped.size().to_numpy(dtype=np.float64)
    denominator = np.sqrt(n0 * (n0 - grouped["tied"].sum().to_numpy()))
    with np.errstate(invalid="ignore", divide="ignore"):  # every pair tied in the scores: undefined
        tau = np.where(denominator > 0, grouped["sign"].sum().to_numpy() / denominator, np.nan)
    ranked = grouped.size().index.to_numpy()
    table = pd.DataFrame({"worker": data.worker[ranked], "tau": tau})
    summary = table.groupby("worker")["tau"].agg(["size", "mean"]).reindex(np.arange(data.n_workers))
    return pd.DataFrame(
        {
            "n_rankings": summary["size"].fillna(0).to_numpy(dtype=np.int64),
            "kendall_tau": summary["mean"].to_numpy(dtype=np.float64),
        },
        index=data.workers.rename("worker"),
    )
