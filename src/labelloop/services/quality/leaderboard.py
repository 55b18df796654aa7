"""The arena view: a leaderboard of the models that generated a project's candidate responses.

Every preference answer of the question (each annotator's latest per item, paused annotators left
out when the project says so) is a comparison of two candidates keyed `<item id>:<response id>`;
each candidate's `model` (candidates without one: "unknown") turns it into a battle of two models
(`labelloop.quality.pairwise.model_leaderboard`; battles of a model with itself say nothing and
are left out). Strengths are Bradley-Terry's on the battles with each annotator's reliability
learned by Crowd-BT on the item-level comparisons, so a spammer's battles count for nothing and a
flipper's are read backwards. The 95% intervals are percentile bootstrap intervals over 200
resamples of whole prompts (the battles of one prompt are dependent), seeded: the same answers
give the same board.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select

from labelloop.errors import Invalid, Problem
from labelloop.quality.pairwise import model_leaderboard
from labelloop.schema import LabelSchema, Question
from labelloop.services.policy import Action, Actor, access
from labelloop.services.projects import schema_of
from labelloop.services.quality.feedback_consensus import comparisons, key, read_candidates
from labelloop.services.quality.settings import quality_settings
from labelloop.services.quality.trust import standings
from labelloop.store.models import answers

RESAMPLES = 200
CONFIDENCE = 0.95
UNKNOWN = "unknown"


def _question(schema: LabelSchema, name: str | None) -> Question:
    preferences = [q for q in schema.questions if q.kind.name == "preference"]
    listed = ", ".join(f"{q.name} ({q.kind.name})" for q in schema.questions)
    if name is None:
        if len(preferences) == 1:
            return preferences[0]
        message = ("this project has no preference question" if not preferences else
                   "the project has several preference questions: name one")
        raise Invalid(message, [Problem(f"{message}; its questions: {listed}", field="question")])
    found = next((q for q in schema.questions if q.name == name), None)
    if found is None or found.kind.name != "preference":
        what = "no question" if found is None else f"a {found.kind.name} question"
        raise Invalid(f"{name!r} is {what}, not a preference question", [
            Problem(f"{name!r} is {what}; a leaderboard needs a preference question (questions: {listed})",
                    field="question")])
    return found


def _number(x: Any) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def leaderboard(
    conn: Connection, actor: Actor, project_id: int, question: str | None = None
) -> dict[str, Any]:
    """The models that generated the candidates of a preference question, best first: score, its
    95% bootstrap interval, battles and win rate (module docstring)."""
    # The board is made of what reviewers see in the item browser: the candidates' models and
    # everyone's answers (never gold), so it takes their role.
    acc = access(conn, actor, project_id, Action.view_items)
    q = _question(schema_of(acc.project.label_schema), question)
    settings = quality_settings(acc.project.quality_settings)
    frame = pd.DataFrame(conn.execute(
        select(answers.c.item_id, answers.c.user_id, answers.c.value)
        .where(answers.c.project_id == project_id, answers.c.source == "human").order_by(answers.c.id)
    ).all(), columns=["item_id", "user_id", "value"]).drop_duplicates(["item_id", "user_id"], keep="last")
    if settings.exclude_paused:
        paused = {uid for uid, s in standings(conn, project_id).items() if s.paused}
        frame = frame[~frame.user_id.isin(paused)]
    label = frame.value.map(lambda v: v.get(q.name))
    rows = frame[label.notna()].assign(label=label[label.notna()])
    out: dict[str, Any] = {"question": q.name, "confidence": CONFIDENCE, "resamples": RESAMPLES,
                           "comparisons": 0, "battles": 0, "annotators": 0, "models": []}
    if rows.empty:
        return out
    candidates = read_candidates(conn, rows.item_id, q.spec.target or "")  # the type requires one
    models = pd.Series({key(i, r): str(c.get("model") or UNKNOWN) for (i, r), c in candidates.items()},
                       dtype=object)
    table = comparisons(rows)
    table = table[table.left.isin(models.index) & table.right.isin(models.index)]  # candidates still there
    battles = table[models.reindex(table.left).to_numpy() != models.reindex(table.right).to_numpy()]
    out |= {"comparisons": len(table), "battles": len(battles), "annotators": int(battles.worker.nunique())}
    if battles.empty:
        return out
    board = model_leaderboard(table, models, n_resamples=RESAMPLES, confidence=CONFIDENCE, unit="task",
                              seed=0)
    out["models"] = [
        {"model": str(r.model), "score": _number(r.score), "low": _number(r.low), "high": _number(r.high),
         "comparisons": int(r.n_comparisons), "win_rate": _number(r.win_rate)}
        for r in board.itertuples(index=False)
    ]
    return out
