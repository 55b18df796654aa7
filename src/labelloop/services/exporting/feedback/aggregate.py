r"""The aggregates a training export is made of, from each annotator's latest answer values.

Preferences (and rankings) become pairwise comparisons of candidates, keyed ``<item id>:<response
id>``; a ranking ``[c_1, ..., c_k]`` (best first) is broken into its :math:`\binom{k}{2}` pairs
"c_i beats c_j, i < j" (full breaking, consistent for Plackett-Luce: Azari Soufiani, Chen, Parkes &
Xia, "Generalized method-of-moments for rank aggregation", NeurIPS 2013). One fit of the default
pairwise aggregator (Crowd-BT: annotator reliability, Davidson's ties) over the whole question gives
each candidate a score :math:`s`.

A compared pair :math:`(a, b)` of an item goes to DPO when the aggregate prefers one side:
:math:`|s_a - s_b| \ge \max(m, \epsilon)`, where :math:`m` is the fit's tie margin
:math:`2\log\nu` (below it a tie is the most probable outcome; the rule of
:mod:`labelloop.quality.pairwise.agreement`) and :math:`\epsilon = 10^{-6}` stands for "equal" (split
votes of equally reliable annotators fit to exactly equal scores). The row's ``margin`` is
:math:`s_{chosen} - s_{rejected}`. A pair left out counts as a *tie* when its answers were mostly
ties (ties at least as many as either side's votes), else as *no winner*. An item's SFT winner is
its best-scored candidate when it clears the same bar against the runner-up among the item's
compared candidates.

Ratings per criterion: the robust numeric aggregator (:class:`labelloop.quality.RobustMean`, with
per-annotator bias) over every (item, response) rated on that criterion.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from labelloop.quality import RobustMean, krippendorff_alpha
from labelloop.quality.pairwise import default_pairwise_aggregator, preference_fleiss_kappa

EPS = 1e-6  # scores closer than this are equal
TIE = "tie"
PAIRWISE = ("preference", "ranking")


@dataclass(frozen=True, slots=True)
class Vote:
    """One annotator's latest value for one question on one item."""

    item_id: int
    worker: int
    value: Any


@dataclass(frozen=True)
class Pair:
    chosen: str
    rejected: str
    margin: float


@dataclass
class Preferences:
    """What the aggregate of one preference or ranking question decides, by item."""

    pairs: dict[int, list[Pair]] = field(default_factory=dict)
    winners: dict[int, str] = field(default_factory=dict)
    ties: int = 0  # pairs left out: mostly tie answers
    no_winner: int = 0  # pairs left out: split votes
    comparisons: int = 0
    agreement: float | None = None  # Fleiss' kappa (preference) or mean Kendall's tau (ranking)

    @property
    def n_pairs(self) -> int:
        return sum(len(p) for p in self.pairs.values())


@dataclass(frozen=True)
class Rating:
    question: str
    response: str | None  # None: the criteria are about the item as a whole
    criterion: str
    score: float
    n_ratings: int


@dataclass
class Ratings:
    rows: dict[int, list[Rating]] = field(default_factory=dict)
    agreement: dict[str, float | None] = field(default_factory=dict)  # Krippendorff's alpha (interval)

    @property
    def n_rows(self) -> int:
        return sum(len(r) for r in self.rows.values())


def _key(item_id: int, response: str) -> str:
    return f"{item_id}:{response}"


def _response(key: str) -> str:
    return key.split(":", 1)[1]  # an item id has no ':'; a response id may


def comparisons(kind: str, votes: Iterable[Vote]) -> pd.DataFrame:
    """Long table ``task, worker, left, right, label`` (keys ``<item>:<response>``) of a preference
    or ranking question's answers."""
    rows: list[tuple[int, int, str, str, str]] = []
    for v in votes:
        if not isinstance(v.value, dict):
            continue
        if kind == "preference":
            left, right, winner = v.value.get("left"), v.value.get("right"), v.value.get("winner")
            if not isinstance(left, str) or not isinstance(right, str) or left == right:
                continue
            label = {"left": left, "right": right}.get(str(winner), TIE)
            rows.append((v.item_id, v.worker, _key(v.item_id, left), _key(v.item_id, right),
                         TIE if label == TIE else _key(v.item_id, label)))
        else:
            order = [r for r in v.value.get("order", []) if isinstance(r, str)]
            for better, worse in combinations(order, 2):
                k = _key(v.item_id, better)
                rows.append((v.item_id, v.worker, k, _key(v.item_id, worse), k))
    return pd.DataFrame(rows, columns=["task", "worker", "left", "right", "label"])


def preferences(kind: str, votes: Sequence[Vote]) -> Preferences:
    """Pairs with a clear winner, each item's winner and the counts of pairs left out."""
    table = comparisons(kind, votes)
    out = Preferences(comparisons=len(table))
    if table.empty:
        return out
    model = default_pairwise_aggregator()
    scores = model.fit_predict(table[["worker", "left", "right", "label"]])
    bar = max(float(getattr(model, "tie_margin_", 0.0)), EPS)

    first = np.where(table["left"] < table["right"], table["left"], table["right"])
    second = np.where(table["left"] < table["right"], table["right"], table["left"])
    votes_on = pd.DataFrame({
        "task": table["task"], "a": first, "b": second,
        "for_a": table["label"] == first, "for_b": table["label"] == second,
        "tie": table["label"] == TIE,
    }).groupby(["task", "a", "b"], sort=False).sum()
    tasks = votes_on.index.get_level_values(0).to_numpy()
    a = votes_on.index.get_level_values(1).to_numpy()
    b = votes_on.index.get_level_values(2).to_numpy()
    gap = scores.reindex(a).to_numpy() - scores.reindex(b).to_numpy()
    clear = np.abs(gap) >= bar
    mostly_tie = (votes_on["tie"] >= votes_on[["for_a", "for_b"]].max(axis=1)).to_numpy()
    out.ties = int((~clear & mostly_tie).sum())
    out.no_winner = int((~clear & ~mostly_tie).sum())
    for t, x, y, g in zip(tasks[clear], a[clear], b[clear], gap[clear], strict=True):
        chosen, rejected = (x, y) if g > 0 else (y, x)
        out.pairs.setdefault(int(t), []).append(Pair(_response(chosen), _response(rejected), float(abs(g))))

    members = pd.DataFrame({"task": np.concatenate([tasks, tasks]), "item": np.concatenate([a, b])})
    members = members.drop_duplicates()
    members["score"] = scores.reindex(members["item"]).to_numpy()
    ranked = members.sort_values(["task", "score"], ascending=[True, False], kind="stable")
    place = ranked.groupby("task", sort=False).cumcount().to_numpy()
    best = ranked[place == 0].set_index("task")
    runner_up = ranked[place == 1].set_index("task")["score"].reindex(best.index)
    clear_best = (best["score"] - runner_up >= bar).to_numpy()  # every task compared two at least
    for t, item in zip(best.index[clear_best], best["item"].to_numpy()[clear_best], strict=True):
        out.winners[int(t)] = _response(str(item))
    out.agreement = _finite(
        preference_fleiss_kappa(table) if kind == "preference" else _ranking_tau(votes)
    )
    return out


def _ranking_tau(votes: Sequence[Vote]) -> float:
    """Mean Kendall's tau between two annotators' rankings of one item, over the candidates both
    ranked, over every such pair of annotators and items (NaN when there is none)."""
    by_item: dict[int, list[list[str]]] = {}
    for v in votes:
        order = v.value.get("order") if isinstance(v.value, dict) else None
        if isinstance(order, list):
            by_item.setdefault(v.item_id, []).append([str(r) for r in order])
    taus = []
    for orders in by_item.values():
        for x, y in combinations(orders, 2):
            common = [r for r in x if r in set(y)]
            if len(common) >= 2:
                tau = kendalltau([x.index(r) for r in common], [y.index(r) for r in common]).statistic
                taus.append(float(tau))
    return float(np.mean(taus)) if taus else float("nan")


def _finite(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def criterion_names(spec: Any) -> list[str]:
    """The criteria a `criteria` question names, in the schema's order."""
    names = []
    for c in getattr(spec, "criteria", None) or []:
        name = c.get("name") if isinstance(c, dict) else getattr(c, "name", None)
        if isinstance(name, str):
            names.append(name)
    return names


def ratings(question: str, spec: Any, votes: Sequence[Vote]) -> Ratings:
    """Per (item, response, criterion): the robust aggregate of the annotators' scores."""
    per_response = bool(getattr(spec, "per_response", True))
    long: list[tuple[int, str | None, str, int, float]] = []
    for v in votes:
        if not isinstance(v.value, dict):
            continue
        scored = v.value.items() if per_response else [(None, v.value)]
        for response, points in scored:
            if not isinstance(points, dict):
                continue
            for criterion, x in points.items():
                if isinstance(x, int | float) and not isinstance(x, bool):
                    long.append((v.item_id, response, str(criterion), v.worker, float(x)))
    out = Ratings()
    if not long:
        return out
    frame = pd.DataFrame(long, columns=["item", "response", "criterion", "worker", "label"])
    known = criterion_names(spec)
    order = known + sorted(set(frame["criterion"]) - set(known))
    found: list[tuple[int, str | None, int, str, float, int]] = []
    for rank, criterion in enumerate(order):
        part = frame[frame["criterion"] == criterion]
        if part.empty:
            continue
        where = {
            _key(i, r or ""): (int(i), r) for i, r in zip(part["item"], part["response"], strict=True)
        }
        long_table = pd.DataFrame({
            "task": [_key(i, r or "") for i, r in zip(part["item"], part["response"], strict=True)],
            "worker": part["worker"].to_numpy(), "label": part["label"].to_numpy(),
        })
        score = RobustMean().fit_predict(long_table)
        counts = long_table.drop_duplicates(["task", "worker"], keep="last").groupby("task").size()
        for task, n in counts.items():
            item, response = where[str(task)]
            found.append((item, response, rank, criterion, float(score[task]), int(n)))
        out.agreement[criterion] = _finite(krippendorff_alpha(long_table, level="interval"))
    found.sort(key=lambda r: (r[0], r[1] or "", r[2]))
    for item, response, _, criterion, s, n in found:
        out.rows.setdefault(item, []).append(Rating(question, response, criterion, s, n))
    return out
