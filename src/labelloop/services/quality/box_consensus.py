"""Project-wide consensus of a `bbox` question: the default box aggregator over every answer.

The per-item consensus (`schema/types/shapes/objects.py`) keeps an object when annotators carrying half
the weight drew it. Over a whole project more can be learnt: `labelloop.quality.default_box_aggregator()`
matches each item's boxes across annotators, learns every annotator's recall and false-box rate
jointly by EM over all items (Dawid & Skene's model with one binary answer per cluster and
annotator, as Branson, Van Horn & Perona's "Lean Crowdsourcing", CVPR 2017) and keeps a cluster
when P(real) >= 0.5, its box the precision-weighted mean of its members. The aggregator sees boxes
only; this module gives each kept box its class and attributes and the item its confidence:

- **class and attributes**: each annotator's objects are matched one-to-one to the kept boxes
  (greatest IoU first, at least the aggregator's `match_iou`, as the aggregator matches); each
  kept box takes the class (and each attribute) with the most weight among the objects matched to
  it, an annotator weighing their skill below (ties: the class listed first in the schema). A
  kept box nobody's object matches takes the class of the object that overlaps it most.
- **confidence** of the item: the mean over its clusters of the probability that the keep-or-drop
  decision is right, max(P(real), 1 - P(real)); 1 when nobody drew anything. The same definition
  as the per-item consensus (there: the winning side's share of the weight), so both methods fill
  the review and adaptive-overlap rules alike; the mean rather than the minimum, so one doubtful
  object among twenty does not send every crowded image to review.
- **too little data**: with fewer than `MIN_ITEMS` (20) items answered twice or more, nothing
  can be learnt about anyone (the fit would mostly echo its priors), and the recompute keeps the
  per-item consensus, as for the other shape types.
- **skill** of an annotator on the question: the F1 of their learned recall and precision,
  2 p r / (p + r) (precision 1 for someone who drew no box), in [0, 1] like the accuracy the
  choice aggregators estimate: stored in the annotator-quality table and used as the weight of
  their answers as the next answers arrive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from labelloop.quality import default_box_aggregator
from labelloop.quality.shapes import box_iou
from labelloop.schema import Question
from labelloop.services.quality.cluster_scores import f1_skills, item_confidence

DEFAULT_SKILL = 0.7
# Items with two or more answers the EM needs before its rates mean anything: with fewer, the
# class prior and the shrinkage decide (two identical boxes on a lone image get P(real) = 2/3), so
# the recompute keeps the per-item consensus, whose "everyone drew it" is then the better guide.
MIN_ITEMS = 20


def enough_for_box_model(item_ids: pd.Series) -> bool:
    """Whether a box question's answers (one row per item and annotator) can teach the EM."""
    return int((item_ids.value_counts() >= 2).sum()) >= MIN_ITEMS


@dataclass(frozen=True)
class BoxConsensus:
    """Per item: (objects, confidence); per annotator: skill on the question."""

    items: dict[int, tuple[list[dict[str, Any]], float]]
    skills: pd.Series


def box_consensus(question: Question, answers: pd.DataFrame) -> BoxConsensus:
    """Consensus of every item of a `bbox` question from `answers` (columns `item_id`, `user_id`,
    `label`: the canonical list of objects; one row per item and annotator)."""
    objects: dict[tuple[int, int], list[dict[str, Any]]] = {
        (int(i), int(u)): list(v) for i, u, v in zip(answers.item_id, answers.user_id, answers.label,
                                                     strict=True)
    }
    long = pd.DataFrame({
        "task": [i for i, _ in objects], "worker": [u for _, u in objects],
        "boxes": [[o["box"] for o in v] for v in objects.values()],
    })
    model = default_box_aggregator()
    fused = model.fit_predict(long)
    skills = f1_skills(model.recall_, model.precision_)
    weight = {int(u): float(s) for u, s in skills.items()}
    sure = item_confidence(model.clusters_)
    by_item: dict[int, list[tuple[int, list[dict[str, Any]]]]] = {}
    for (item, user), objs in objects.items():
        by_item.setdefault(item, []).append((user, objs))
    out: dict[int, tuple[list[dict[str, Any]], float]] = {}
    for item, boxes in fused.items():
        kept = _labelled(question, [list(b) for b in boxes], by_item[int(item)], weight, model.match_iou)
        out[int(item)] = (kept, sure.get(int(item), 1.0))
    return BoxConsensus(out, skills)


def _labelled(
    question: Question, boxes: list[list[float]], answers: Sequence[tuple[int, list[dict[str, Any]]]],
    weight: Mapping[int, float], match_iou: float,
) -> list[dict[str, Any]]:
    """The kept boxes as objects: class and attributes voted by the objects matched to each."""
    if not boxes:
        return []
    owners = np.array([user for user, objs in answers for _ in objs], dtype=np.int64)
    everyone = [o for _, objs in answers for o in objs]
    members: list[list[tuple[dict[str, Any], float]]] = [[] for _ in boxes]
    if everyone:  # one IoU matrix for the item, then each annotator's greedy one-to-one matching
        iou = box_iou(np.asarray([o["box"] for o in everyone], dtype=np.float64),
                      np.asarray(boxes, dtype=np.float64))
        for user in np.unique(owners):
            rows = np.flatnonzero(owners == user)
            sub = iou[rows]
            r, c = np.nonzero(sub >= match_iou)
            taken_r: set[int] = set()
            taken_c: set[int] = set()
            for k in np.argsort(-sub[r, c], kind="stable"):
                a, b = int(r[k]), int(c[k])
                if a not in taken_r and b not in taken_c:
                    taken_r.add(a)
                    taken_c.add(b)
                    w = max(weight.get(int(user), DEFAULT_SKILL), 1e-6)
                    members[b].append((everyone[int(rows[a])], w))
        nearest = iou.argmax(axis=0)
    rank = {v: k for k, v in enumerate(question.spec.values)}  # type: ignore[attr-defined]
    out = []
    for j, (box, matched) in enumerate(zip(boxes, members, strict=True)):
        if not matched and everyone:
            matched = [(everyone[int(nearest[j])], 1.0)]
        # A box every matched annotator drew alike is theirs exactly (a mean can miss it by a rounding).
        same = [m["box"] for m, _ in matched
                if all(abs(float(u) - v) <= 1e-9 for u, v in zip(m["box"], box, strict=True))]
        obj: dict[str, Any] = {
            "label": _vote([m["label"] for m, _ in matched], [w for _, w in matched],
                           lambda v: rank.get(v, len(rank))) if matched else question.spec.values[0],  # type: ignore[attr-defined]
            "box": list(same[0]) if same else [float(v) for v in box],
        }
        attributes: dict[str, Any] = {}
        for spec in question.spec.attributes:  # type: ignore[attr-defined]
            given = [(m.get("attributes", {}).get(spec.name), w) for m, w in matched]
            given = [(v, w) for v, w in given if v is not None]
            if given:
                attributes[spec.name] = _vote([v for v, _ in given], [w for _, w in given])
        if attributes:
            obj["attributes"] = attributes
        out.append(obj)
    return out


def _vote(values: Sequence[Any], weights: Sequence[float], rank: Any = None) -> Any:
    """The value with the most weight; ties to the lowest `rank(value)`, else to the one seen first."""
    support: dict[str, list[Any]] = {}
    for v, w in zip(values, weights, strict=True):
        key = repr(v)
        entry = support.setdefault(key, [0.0, v, len(support)])
        entry[0] += w
    best = max(support.values(), key=lambda e: (e[0], -(rank(e[1]) if rank else e[2])))
    return best[1]
