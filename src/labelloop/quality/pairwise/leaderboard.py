r"""The arena view: strengths of the models that generated the items, with bootstrap intervals.

Each comparison of two items becomes a comparison of their generating models (a "battle", as in
Chatbot Arena: Chiang et al., 2024); comparisons of two items of the same model say nothing about
models and are left out. Each model gets a strength :math:`s_m` on the Bradley-Terry log-odds scale:
model :math:`a`'s response is preferred to :math:`b`'s with probability :math:`\sigma(s_a - s_b)`
(Davidson's ties aside), fitted by Crowd-BT's likelihood with each annotator's reliability
:math:`\eta_w` *given*: a report counts as :math:`\eta_w P(r) + (1 - \eta_w) P(\bar r)`, so a
spammer's battles count for nothing and a flipper's are read backwards.

Where the reliabilities come from (``reliability="learned"``): Crowd-BT fitted to the *item-level*
comparisons, where each comparison has one true outcome. Not to the battles: there the prompt-to-prompt
variation of two models' responses looks like annotator noise. On PandaLM's test set Crowd-BT fitted
to the battles gives three annotators who agree with each other at kappa 0.86 reliabilities of 0.82,
and stretches every score by 80% to make up for them. When every item is compared once, reliabilities
cannot be told from the Bradley-Terry law's own randomness at the item level either: they come out
near one and the board is plain Bradley-Terry's.

Intervals: the percentile bootstrap (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993,
ch. 13, as :mod:`labelloop.quality.bootstrap`): the battles (or, with ``unit="task"``, whole prompts,
since battles on one prompt are dependent) are resampled with replacement, the aggregator refitted,
and each model's :math:`a/2` and :math:`1 - a/2` quantiles reported. Unlike
:func:`~labelloop.quality.bootstrap.bootstrap_ci`, one refit yields every model's score at once.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Literal

import numpy as np
import pandas as pd

from labelloop.quality.pairwise._input import LEFT, RIGHT, TIE, TIE_LABEL, ComparisonsLike, encode_comparisons
from labelloop.quality.pairwise.crowd_bt import CrowdBT, default_pairwise_aggregator


def model_battles(
    comparisons: ComparisonsLike, models: pd.Series | Mapping[Hashable, Hashable]
) -> pd.DataFrame:
    """Comparisons of items -> comparisons of their models (columns worker, left, right, label and task
    when given); battles of a model with itself are dropped. Every item needs a model."""
    data = encode_comparisons(comparisons)
    mapping = models if isinstance(models, pd.Series) else pd.Series(dict(models), dtype=object)
    model_of = mapping.reindex(data.items)
    if model_of.isna().any():
        raise ValueError(f"no model given for item(s) {list(data.items[model_of.isna().to_numpy()])[:5]}")
    names = model_of.to_numpy(dtype=object)
    left, right = names[data.left], names[data.right]
    label = np.where(data.outcome == LEFT, left, np.where(data.outcome == RIGHT, right, TIE_LABEL))
    keep = np.asarray(left != right, dtype=bool)
    frame = {
        "worker": data.workers.take(data.worker[keep]),
        "left": left[keep],
        "right": right[keep],
        "label": label[keep],
    }
    if data.task is not None and data.tasks is not None:
        frame["task"] = data.tasks.take(data.task[keep])
    return pd.DataFrame(frame)


def model_leaderboard(
    comparisons: ComparisonsLike,
    models: pd.Series | Mapping[Hashable, Hashable],
    *,
    reliability: Literal["learned"] | Mapping[Hashable, float] | pd.Series | None = "learned",
    n_resamples: int = 200,
    confidence: float = 0.95,
    unit: Literal["comparison", "task"] = "comparison",
    seed: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Leaderboard of the generating models: DataFrame with columns ``model``, ``score`` (strength on
    all battles), ``low`` and ``high`` (the percentile bootstrap interval), ``n_comparisons`` (battles
    the model took part in) and ``win_rate`` ((wins + ties/2) / battles), best first.

    *models* maps every item to the model that generated it. ``reliability``: ``"learned"`` (Crowd-BT
    on the item-level comparisons, once), a mapping worker -> reliability in [0, 1], or None (everyone
    trusted: plain Bradley-Terry). ``unit``: what is resampled, single battles or whole tasks (needs a
    ``task`` column; battles on one prompt are dependent). A model absent from a resample has no score
    in it; its interval uses the resamples where it is present.
    """
    if n_resamples < 1:
        raise ValueError("n_resamples must be >= 1")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be in (0, 1)")
    if unit not in ("comparison", "task"):
        raise ValueError(f"unit must be 'comparison' or 'task', got {unit!r}")
    battles = model_battles(comparisons, models)
    if battles.empty:
        raise ValueError("no comparison between items of two different models")
    if unit == "task" and "task" not in battles.columns:
        raise ValueError("unit='task' needs a task column")
    if isinstance(reliability, str):
        if reliability != "learned":
            raise ValueError(f"reliability must be 'learned', a mapping or None, got {reliability!r}")
        eta: Mapping[Hashable, float] | pd.Series = (
            default_pairwise_aggregator().fit(comparisons).reliability_
        )
    elif reliability is None:
        eta = pd.Series(1.0, index=pd.unique(battles["worker"]))
    else:
        eta = reliability
    model = CrowdBT(reliability=eta)
    data = encode_comparisons(battles)
    names = data.items
    scores = model.fit_predict(battles).reindex(names)
    n_models = data.n_items
    points = np.select([data.outcome == LEFT, data.outcome == TIE], [1.0, 0.5], 0.0)
    games = np.bincount(data.left, minlength=n_models) + np.bincount(data.right, minlength=n_models)
    won = np.bincount(data.left, points, n_models) + np.bincount(data.right, 1.0 - points, n_models)
    rng = np.random.default_rng(seed)
    groups = pd.factorize(battles["task"])[0] if unit == "task" else np.arange(len(battles))
    order = np.argsort(groups, kind="stable")
    sizes = np.bincount(groups)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    draws = np.full((n_resamples, n_models), np.nan)
    for r in range(n_resamples):
        picked = rng.integers(0, sizes.shape[0], sizes.shape[0])
        lengths = sizes[picked]
        offsets = np.repeat(starts[picked] - np.cumsum(lengths) + lengths, lengths)
        sample = battles.iloc[order[offsets + np.arange(lengths.sum())]]
        draws[r] = model.fit_predict(sample).reindex(names).to_numpy()
    tail = (1.0 - confidence) / 2.0
    low, high = np.nanquantile(draws, [tail, 1.0 - tail], axis=0)
    table = pd.DataFrame(
        {
            "model": names,
            "score": scores.to_numpy(),
            "low": low,
            "high": high,
            "n_comparisons": games,
            "win_rate": won / games,
        }
    )
    return table.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
