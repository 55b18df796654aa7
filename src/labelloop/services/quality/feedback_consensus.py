"""Project-wide consensus of the language-model feedback questions (docs/feedback.md, "Aggregation
and agreement"): one fit of the library's default aggregator per question over every answer of the
project, in place of each item's own weighted vote. A candidate is keyed `<item id>:<response id>`.

- **preference**: Crowd-BT (`default_pairwise_aggregator()`: Bradley-Terry scores with a
  reliability eta per annotator, who reports the true outcome with probability eta and the other
  side otherwise, Davidson's ties; Chen et al., WSDM 2013) over every comparison. Per item, the
  `winner` is the candidate most probably the best of the item (`best_in_task`: the Laplace
  posterior of the scores) and that probability is the item's confidence. Each pair the item's
  answers compared is decided by the scores (a tie when the gap is under the fit's tie margin
  2 log nu, the rule of the training export); its `share` and votes are the answers as cast, and
  `p_best` lists every compared candidate's probability of being best. An annotator's skill is
  their learned eta (1 careful, 1/2 a coin, 0 always the other side).
- **ranking**: weighted Plackett-Luce (`default_ranking_aggregator()`, annotator weights learned
  from their temperature against the consensus). Per item, the candidates in order of strength;
  `scores` are Plackett-Luce's probabilities of being ranked first among the item's candidates,
  gamma_c / sum_k gamma_k, and the top one's is the confidence (it grows as agreeing rankings
  accumulate and the Gamma prior's pull fades). Skill: (1 + tau) / 2, tau the annotator's mean
  Kendall tau-b with the consensus order (the probability that a pair they ordered agrees with
  it, as the per-item confidence measures it).
- **response_spans**: the default span aggregator (HMM-Crowd) per response, the task
  `<item id>:<response id>` and its text the candidate's content, over the annotators who flagged
  that response. Confidence of a response: the mean posterior of the chosen tag over the tokens
  any of its answers (or the result) marked, 1 when nobody marked anything (tokens nobody marked
  are settled by everyone alike, and counting them would make every long response look sure); of
  the item, the responses' confidences weighted by their answers. Skill: the model's P(right tag |
  inside an entity).
- **criteria**: per criterion, the robust numeric aggregator (`RobustMean`: a bias per annotator,
  the lenient rater's extra point removed, Huber's mean; the aggregator of the ratings export)
  over every (item, response) cell, rounded to the nearest point of the scale so the consensus
  keeps the answer's shape; a cell's confidence is the share of its ratings within one point of
  the consensus once each rater's bias is taken off (the `rating` type's rule, bias-corrected).

Below `MIN_ITEMS` items answered twice or more (as for boxes) nobody's reliability can be learnt
and the recompute keeps each item's own aggregate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select

from labelloop.quality import RobustMean, default_ranking_aggregator, default_span_aggregator
from labelloop.quality.pairwise import best_in_task, default_pairwise_aggregator
from labelloop.quality.rankings import ranking_annotator_agreement
from labelloop.schema import LabelSchema, Question
from labelloop.services.quality.box_consensus import MIN_ITEMS
from labelloop.store.models import items

FEEDBACK = frozenset({"preference", "ranking", "response_spans", "criteria"})
EPS = 1e-6  # score gaps below this are ties (equally reliable split votes fit to equal scores)
TIE = "tie"
_CHUNK = 500  # items read at a time for their candidates' contents

Candidates = dict[tuple[int, str], dict[str, Any]]  # (item id, response id) -> the candidate


def key(item_id: int, response: str) -> str:
    return f"{item_id}:{response}"


def split(candidate: str) -> tuple[int, str]:
    item, _, response = candidate.partition(":")  # an item id has no ':'; a response id may
    return int(item), response


def enough_data(item_ids: pd.Series) -> bool:
    """Whether a question's answers (one row per item and annotator) can teach a model of annotators."""
    return int((item_ids.value_counts() >= 2).sum()) >= MIN_ITEMS


def read_candidates(conn: Connection, item_ids: Iterable[int], field: str) -> Candidates:
    """The candidates of a `responses` field of the given items, a chunk of items at a time."""
    wanted = sorted(set(int(i) for i in item_ids))
    out: Candidates = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        for row in conn.execute(select(items.c.id, items.c.data).where(items.c.id.in_(chunk))):
            value = (row.data or {}).get(field)
            for c in value if isinstance(value, list) else []:
                if isinstance(c, dict) and isinstance(c.get("id"), str):
                    out[(row.id, c["id"])] = c
    return out


def span_texts(conn: Connection, schema: LabelSchema, answers: pd.DataFrame) -> dict[str, Candidates]:
    """The candidates `response_spans` questions need (their texts), by the field they target:
    those of the items where such a question was answered (`answers`: `item_id`, `value`)."""
    out: dict[str, Candidates] = {}
    for q in schema.questions:
        field = q.spec.target
        if q.kind.name != "response_spans" or not field or answers.empty:
            continue
        answered = answers.item_id[answers.value.map(lambda v, n=q.name: v.get(n) is not None)]
        out.setdefault(field, {}).update(read_candidates(conn, answered, field))
    return out


@dataclass(frozen=True)
class FeedbackConsensus:
    """Per item: (consensus value, confidence); per annotator: skill on the question (may be empty)."""

    items: dict[int, tuple[Any, float]]
    skills: pd.Series


def feedback_consensus(
    question: Question, answers: pd.DataFrame, texts: Mapping[str, Candidates] | None = None
) -> FeedbackConsensus:
    """Consensus of every item of a feedback question from `answers` (columns `item_id`,
    `user_id`, `label`: the value; one row per item and annotator)."""
    kind = question.kind.name
    if kind == "preference":
        return _preferences(answers)
    if kind == "ranking":
        return _rankings(answers)
    if kind == "response_spans":
        return _spans(answers, (texts or {}).get(question.spec.target or "", {}))
    if kind == "criteria":
        return _criteria(question, answers)
    raise ValueError(f"{kind!r} is not a feedback question")


def comparisons(answers: pd.DataFrame) -> pd.DataFrame:
    """Preference answers as comparisons `task, worker, left, right, label` of candidate keys."""
    rows = []
    for item, user, v in zip(answers.item_id, answers.user_id, answers.label, strict=True):
        left, right = key(int(item), v["left"]), key(int(item), v["right"])
        rows.append((int(item), int(user), left, right, {"left": left, "right": right}.get(v["winner"], TIE)))
    return pd.DataFrame(rows, columns=["task", "worker", "left", "right", "label"])


def _preferences(answers: pd.DataFrame) -> FeedbackConsensus:
    table = comparisons(answers)
    model = default_pairwise_aggregator()
    best = best_in_task(table, aggregator=model)
    scores = model.scores_
    bar = max(float(model.tie_margin_), EPS)
    p_best: dict[int, dict[str, float]] = {}
    for task, item, p in zip(best.task, best.item, best.p_best, strict=True):
        p_best.setdefault(int(task), {})[split(str(item))[1]] = float(p)  # best first
    tallies: dict[int, dict[tuple[str, str], dict[str, int]]] = {}
    for task, left, right, label in zip(table.task, table.left, table.right, table.label, strict=True):
        a, b = sorted((left, right))
        votes = tallies.setdefault(int(task), {}).setdefault((a, b), {"a": 0, "b": 0, TIE: 0})
        votes["a" if label == a else "b" if label == b else TIE] += 1
    out: dict[int, tuple[Any, float]] = {}
    for task, pairs in tallies.items():
        decided = []
        for (a, b), votes in pairs.items():
            gap = float(scores[a] - scores[b])
            side = TIE if abs(gap) < bar else "left" if gap > 0 else "right"
            said = votes[{"left": "a", "right": "b"}.get(side, TIE)]
            decided.append({"left": split(a)[1], "right": split(b)[1], "winner": side,
                            "share": said / sum(votes.values()), "left_votes": votes["a"],
                            "right_votes": votes["b"], "tie_votes": votes[TIE]})
        chances = p_best[task]
        winner = next(iter(chances))
        out[task] = ({"winner": winner, "pairs": decided, "p_best": chances}, chances[winner])
    return FeedbackConsensus(out, model.reliability_.astype(float))


def _rankings(answers: pd.DataFrame) -> FeedbackConsensus:
    table = pd.DataFrame({
        "task": answers.item_id.astype(int).to_numpy(), "worker": answers.user_id.astype(int).to_numpy(),
        "ranking": [[key(int(i), r) for r in v["order"]] for i, v in zip(answers.item_id, answers.label,
                                                                          strict=True)],
    })
    model = default_ranking_aggregator()
    scores = model.fit_predict(table)
    out: dict[int, tuple[Any, float]] = {}
    members = {int(t): dict.fromkeys(c for r in g for c in r) for t, g in table.groupby("task").ranking}
    for task, candidates in members.items():
        strength = scores.reindex(list(candidates)).to_numpy(dtype=np.float64)
        first = np.exp(strength - strength.max())
        first /= first.sum()
        order = np.argsort(-strength, kind="stable")  # equal strengths: the order first seen
        names = [split(c)[1] for c in candidates]
        value = {"order": [names[k] for k in order], "scores": {names[k]: float(first[k]) for k in order}}
        out[task] = (value, float(first[order[0]]))
    tau = ranking_annotator_agreement(table, scores)["kendall_tau"]
    return FeedbackConsensus(out, ((1.0 + tau) / 2.0).dropna().astype(float))


def _spans(answers: pd.DataFrame, candidates: Candidates) -> FeedbackConsensus:
    rows = []
    for item, user, v in zip(answers.item_id, answers.user_id, answers.label, strict=True):
        found = candidates.get((int(item), v["response"]))
        if found is None or not isinstance(found.get("content"), str):
            continue  # the response is no longer in the item: nothing to align the spans with
        rows.append((key(int(item), v["response"]), int(user),
                     [[s["start"], s["end"], s["label"]] for s in v["spans"]], found["content"]))
    table = pd.DataFrame(rows, columns=["task", "worker", "spans", "text"])
    if table.empty:
        return FeedbackConsensus({}, pd.Series(dtype=float))
    model = default_span_aggregator()
    fused = model.fit_predict(table)
    marked: dict[str, list[tuple[int, int]]] = {}
    for task, spans in zip(table.task, table.spans, strict=True):
        marked.setdefault(task, []).extend((int(s), int(e)) for s, e, _ in spans)
    for task, spans in fused.items():
        marked.setdefault(str(task), []).extend((int(s), int(e)) for s, e, _ in spans)
    sure = _span_confidence(model.token_tags_, marked)
    weight = table.groupby("task").size()
    per_item: dict[int, tuple[dict[str, Any], float, float]] = {}
    for task, spans in fused.items():
        item, response = split(str(task))
        value, num, den = per_item.get(item, ({}, 0.0, 0.0))
        value[response] = [{"start": int(s), "end": int(e), "label": str(lab)} for s, e, lab in sorted(
            (int(s), int(e), str(lab)) for s, e, lab in spans)]
        n = float(weight[task])
        per_item[item] = (value, num + n * sure.get(str(task), 1.0), den + n)
    out = {item: (value, num / den) for item, (value, num, den) in per_item.items()}
    skills = getattr(model, "skills_", None)
    learned = skills.astype(float) if isinstance(skills, pd.Series) else pd.Series(dtype=float)
    return FeedbackConsensus(out, learned)


def _span_confidence(tokens: pd.DataFrame, marked: Mapping[str, list[tuple[int, int]]]) -> dict[str, float]:
    """Per task: the mean confidence of its chosen tags over the tokens some span covers."""
    out: dict[str, float] = {}
    for task, group in tokens.groupby("task", sort=False):
        spans = marked.get(str(task), [])
        start, end = group.start.to_numpy(np.int64), group.end.to_numpy(np.int64)
        if not spans or not len(start):
            out[str(task)] = 1.0
            continue
        cover = np.zeros(int(max(end.max(), max(e for _, e in spans))) + 1, dtype=np.int64)
        for s, e in spans:
            cover[s:e] = 1
        filled = np.concatenate([[0], np.cumsum(cover)])
        touched = filled[end] - filled[start] > 0
        out[str(task)] = float(group.confidence.to_numpy()[touched].mean()) if touched.any() else 1.0
    return out


def _criteria(question: Question, answers: pd.DataFrame) -> FeedbackConsensus:
    spec: Any = question.spec
    names = [c.name for c in spec.criteria]
    cells: list[tuple[int, str | None, str, int, float]] = []
    for item, user, v in zip(answers.item_id, answers.user_id, answers.label, strict=True):
        rated = v.items() if spec.per_response else [(None, v)]
        for response, scores in rated:
            for name, x in scores.items():
                cells.append((int(item), response, name, int(user), float(x)))
    frame = pd.DataFrame(cells, columns=["item", "response", "criterion", "worker", "label"])
    values: dict[int, dict[str, Any]] = {}
    sure: dict[int, list[float]] = {}
    for name in names:
        part = frame[frame.criterion == name]
        if part.empty:
            continue
        task = [key(i, r or "") for i, r in zip(part.item, part.response, strict=True)]
        model = RobustMean().fit(pd.DataFrame({"task": task, "worker": part.worker.to_numpy(),
                                               "label": part.label.to_numpy()}))
        mu = model.labels_.reindex(task).to_numpy(dtype=np.float64)
        off = model.biases_.reindex(part.worker).fillna(0.0).to_numpy(dtype=np.float64)
        near = pd.Series(np.abs(part.label.to_numpy() - off - mu) <= 1.0).groupby(task, sort=False).mean()
        for t, m in model.labels_.items():
            item, response = split(str(t))
            point = int(min(spec.max, max(spec.min, math.floor(float(m) + 0.5))))
            cell = values.setdefault(item, {})
            (cell.setdefault(response, {}) if spec.per_response else cell)[name] = point
            sure.setdefault(item, []).append(float(near[t]))
    order = {int(i): list(v) for i, v in zip(answers.item_id, answers.label, strict=True)}
    out: dict[int, tuple[Any, float]] = {}
    for item, value in values.items():
        if spec.per_response:  # the candidates in the answers' order, which is the item's
            value = {r: value[r] for r in order.get(item, []) if r in value} | value
        out[item] = (value, float(np.mean(sure[item])))
    return FeedbackConsensus(out, pd.Series(dtype=float))
