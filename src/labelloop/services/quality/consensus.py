"""Consensus per item: updated as each answer arrives, and recomputed for a whole project.

As an answer arrives (inside the submit transaction) the item's consensus is settled from its
answers alone: single-choice questions by the one-coin posterior with each annotator's skill
estimate, other questions by their label type's weighted aggregate. That also drives adaptive
overlap (ask for one more answer while the consensus is unsure) and sends items that stay
unsure to review. The project-wide recompute fits the default aggregator (Dawid-Skene and
MACE, gold clamped) over every answer of a single-choice question, the default box aggregator
(annotator recall and precision learned over the whole project: box_consensus.py) over every
answer of a `bbox` question, the default track aggregator likewise over every answer of a
`video_tracks` question (track_consensus.py), and the feedback questions' aggregators (Crowd-BT
for preferences, Plackett-Luce for rankings, HMM-Crowd for flagged words, the robust mean per criterion:
feedback_consensus.py) and the transcript aggregator (ROVER weighted by each annotator's learned
word error rate, the model's hypothesis one more voter: transcript_consensus.py, which also votes
transcripts word by word as each answer arrives); other questions keep their label type's per-item
aggregate. It
re-estimates each annotator's skill (the mean over those questions) and rewrites every consensus
that a reviewer has not made final.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from labelloop.quality import default_aggregator
from labelloop.quality.classification.posterior import one_coin_posterior
from labelloop.schema import LabelSchema
from labelloop.services.policy import Action, Actor, access
from labelloop.services.projects import schema_of
from labelloop.services.quality.box_consensus import box_consensus, enough_for_box_model
from labelloop.services.quality.feedback_consensus import (
    FEEDBACK,
    enough_data,
    feedback_consensus,
    span_texts,
)
from labelloop.services.quality.review_reasons import LOW_CONFIDENCE, sent_to_review
from labelloop.services.quality.settings import QualitySettings, quality_settings
from labelloop.services.quality.track_consensus import enough_for_track_model, track_consensus
from labelloop.services.quality.transcript_consensus import (
    hypotheses,
    is_transcript,
    settle_transcripts,
    transcript_consensus,
)
from labelloop.services.quality.trust import Standing, set_skills, standings
from labelloop.store.db import Database
from labelloop.store.models import annotator_quality, answers, consensus, items, utcnow

INCREMENTAL = "one-coin (as answers arrive)"
PROJECT = "dawid-skene+mace (project)"  # and the box and feedback aggregators for those questions
REVIEW = "review"


@dataclass
class Settled:
    value: dict[str, Any] = field(default_factory=dict)
    confidences: dict[str, float] = field(default_factory=dict)

    @property
    def confidence(self) -> float | None:
        """The least sure question decides how sure the item is."""
        return min(self.confidences.values()) if self.confidences else None


def settle(
    schema: LabelSchema, votes: Sequence[tuple[int, dict[str, Any]]], skills: dict[int, float]
) -> Settled:
    """Consensus of one item from (annotator, answer) pairs and each annotator's skill."""
    out = Settled()
    for q in schema.questions:
        pairs = [(uid, v[q.name]) for uid, v in votes if v.get(q.name) is not None]
        if not pairs:
            continue
        weights = [skills.get(uid, 0.7) for uid, _ in pairs]
        if is_transcript(schema, q):  # words voted by ROVER with the current weights
            agg = settle_transcripts(q, [v for _, v in pairs], weights)
            out.value[q.name], out.confidences[q.name] = agg.value, float(agg.confidence)
        elif q.kind.name == "choice":
            options = [o.value for o in q.spec.options]  # type: ignore[attr-defined]
            if len(options) == 1:
                out.value[q.name], out.confidences[q.name] = options[0], 1.0
                continue
            index = {o: i for i, o in enumerate(options)}
            p = one_coin_posterior([index[v] for _, v in pairs], weights, len(options))
            best = int(np.argmax(p))  # ties: the option listed first
            out.value[q.name], out.confidences[q.name] = options[best], float(p[best])
        else:
            agg = q.kind.aggregate(q.spec, [v for _, v in pairs], weights)
            out.value[q.name], out.confidences[q.name] = agg.value, float(agg.confidence)
    return out


def _counted(standing_by_user: dict[int, Standing], settings: QualitySettings) -> dict[int, float]:
    """Skill per annotator; paused annotators weigh nothing when the project says so."""
    return {
        uid: 0.0 if (s.paused and settings.exclude_paused) else s.skill_estimate
        for uid, s in standing_by_user.items()
    }


def _upsert_statement(dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(consensus)
    return stmt.on_conflict_do_update(
        index_elements=["item_id"],
        set_={c: stmt.excluded[c] for c in ("value", "confidence", "confidences", "method", "updated_at")},
        where=consensus.c.final.is_(False),
    )


_UPSERT = {d: _upsert_statement(d) for d in ("sqlite", "postgresql")}
# Each answer of the item with its author's standing, in one query.
_VOTES = (
    select(answers.c.user_id, answers.c.value, annotator_quality.c.gold_answered,
           annotator_quality.c.gold_correct, annotator_quality.c.skill, annotator_quality.c.paused,
           annotator_quality.c.paused_reason)
    .select_from(answers.outerjoin(
        annotator_quality,
        (annotator_quality.c.user_id == answers.c.user_id)
        & (annotator_quality.c.project_id == bindparam("pid")),
    ))
    .where(answers.c.item_id == bindparam("iid"), answers.c.source == "human")
    .order_by(answers.c.id)
)


def store(conn: Connection, project_id: int, rows: Iterable[tuple[int, Settled]], method: str) -> None:
    now = utcnow()
    params = [
        {"item_id": item_id, "project_id": project_id, "value": s.value, "confidence": s.confidence,
         "confidences": s.confidences, "method": method, "final": False, "updated_at": now}
        for item_id, s in rows
    ]
    if params:
        conn.execute(_UPSERT[conn.dialect.name], params)


def on_answer(
    conn: Connection, project: Any, schema: LabelSchema, settings: QualitySettings, item_id: int,
    state: Any,
) -> Settled:
    """Settle the item again now that it has one more answer; then adaptive overlap and review.

    `state` is the item's (needed, reserved, answer_count, review_state) after this answer.
    """
    votes: dict[int, dict[str, Any]] = {}
    by_user: dict[int, Standing] = {}
    for r in conn.execute(_VOTES, {"iid": item_id, "pid": project.id}):
        votes[r.user_id] = r.value  # the last answer per annotator counts
        by_user[r.user_id] = Standing() if r.gold_answered is None else Standing(
            r.gold_answered, r.gold_correct, r.skill, r.paused, r.paused_reason)
    skills = _counted(by_user, settings)
    settled = settle(schema, list(votes.items()), skills)
    store(conn, project.id, [(item_id, settled)], INCREMENTAL)
    decide(conn, project, settings, item_id, state, settled.confidence)
    return settled


def decide(
    conn: Connection, project: Any, settings: QualitySettings, item_id: int, state: Any,
    confidence: float | None,
) -> None:
    """Once an item has the answers it asked for: ask for one more, send it to review, or stop."""
    if state.answer_count < state.needed or confidence is None:
        return
    if settings.adaptive and confidence < settings.target_confidence and state.needed < project.overlap:
        conn.execute(
            update(items).where(items.c.id == item_id).values(
                needed=items.c.needed + 1,
                is_open=(items.c.reserved < items.c.needed + 1) & items.c.gold.is_(None),
            )
        )
        return
    if confidence < settings.review_below and state.review_state is None:
        conn.execute(update(items).where(items.c.id == item_id).values(**sent_to_review(LOW_CONFIDENCE)))


def recompute_project(db: Database, actor: Actor, project_id: int) -> dict[str, Any]:
    """Fit the default aggregator over every answer of the project and rewrite its consensus."""
    with db.read(snapshot=True) as conn:
        acc = access(conn, actor, project_id, Action.edit_project)
        project = acc.project
        schema = schema_of(project.label_schema)
        settings = quality_settings(project.quality_settings)
        frame = pd.DataFrame(
            conn.execute(
                select(answers.c.item_id, answers.c.user_id, answers.c.value)
                .where(answers.c.project_id == project_id, answers.c.source == "human")
                .order_by(answers.c.id)
            ).all(),
            columns=["item_id", "user_id", "value"],
        )
        gold = {r.id: r.gold for r in conn.execute(
            select(items.c.id, items.c.gold).where(items.c.project_id == project_id,
                                                   items.c.gold.is_not(None)))}
        known = standings(conn, project_id)
        texts = span_texts(conn, schema, frame)
        predicted = hypotheses(conn, project_id, schema, sorted(set(frame.item_id.astype(int))))
    if frame.empty:
        return {"items": 0, "annotators": 0, "method": PROJECT}
    frame = frame.drop_duplicates(["item_id", "user_id"], keep="last")
    if settings.exclude_paused:
        paused = {uid for uid, s in known.items() if s.paused}
        frame = frame[~frame.user_id.isin(paused)]

    settled: dict[int, Settled] = {}
    skill_parts: list[pd.Series] = []
    for q in schema.questions:
        values = frame.value.map(lambda v, name=q.name: v.get(name))
        rows = frame[values.notna()].assign(label=values[values.notna()])
        if rows.empty:
            continue
        if q.kind.name == "bbox" and enough_for_box_model(rows.item_id):
            boxes = box_consensus(q, rows)
            for item_id, (value, sure) in boxes.items.items():
                s = settled.setdefault(item_id, Settled())
                s.value[q.name], s.confidences[q.name] = value, sure
            skill_parts.append(boxes.skills)
        elif q.kind.name == "video_tracks" and enough_for_track_model(rows.item_id):
            found_tracks = track_consensus(q, rows)
            for item_id, (fused, sure) in found_tracks.items.items():
                s = settled.setdefault(item_id, Settled())
                s.value[q.name], s.confidences[q.name] = fused, sure
            skill_parts.append(found_tracks.skills)
        elif q.kind.name in FEEDBACK and enough_data(rows.item_id):
            found = feedback_consensus(q, rows, texts)
            for item_id, (value, sure) in found.items.items():
                s = settled.setdefault(item_id, Settled())
                s.value[q.name], s.confidences[q.name] = value, sure
            if len(found.skills):
                skill_parts.append(found.skills)
        elif is_transcript(schema, q):
            weights = {uid: s.skill_estimate for uid, s in known.items()}
            found_texts = transcript_consensus(q, rows, weights, predicted.get(q.name))
            for item_id, (value, sure) in found_texts.items.items():
                s = settled.setdefault(item_id, Settled())
                s.value[q.name], s.confidences[q.name] = value, sure
            if len(found_texts.skills):
                skill_parts.append(found_texts.skills)
        elif q.kind.name == "choice" and rows.label.nunique() > 1:
            long = pd.DataFrame({"task": rows.item_id, "worker": rows.user_id, "label": rows.label})
            q_gold = pd.Series({i: g[q.name] for i, g in gold.items() if q.name in g}, dtype=object)
            model = default_aggregator()
            model.fit(long, gold=q_gold if len(q_gold) else None)
            best = model.probas_.max(axis=1)
            for item_id, label in model.labels_.items():
                s = settled.setdefault(int(item_id), Settled())
                s.value[q.name], s.confidences[q.name] = label, float(best[item_id])
            fitted_skills = getattr(model, "skills_", None)
            if isinstance(fitted_skills, pd.Series):
                skill_parts.append(fitted_skills)
        else:
            weights = {uid: s.skill_estimate for uid, s in known.items()}
            for item_id, group in rows.groupby("item_id"):
                agg = q.kind.aggregate(q.spec, list(group.label),
                                       [weights.get(u, 0.7) for u in group.user_id])
                s = settled.setdefault(int(item_id), Settled())
                s.value[q.name], s.confidences[q.name] = agg.value, float(agg.confidence)

    skills = pd.concat(skill_parts, axis=1).mean(axis=1) if skill_parts else pd.Series(dtype=float)
    regular = [(i, s) for i, s in settled.items() if i not in gold]

    def write(conn: Connection) -> None:
        store(conn, project_id, regular, PROJECT)
        set_skills(conn, project_id, {int(u): float(v) for u, v in skills.items() if np.isfinite(v)})
        for chunk_start in range(0, len(regular), 1000):
            ids = [i for i, _ in regular[chunk_start:chunk_start + 1000]]
            states = {r.id: r for r in conn.execute(
                select(items.c.id, items.c.needed, items.c.reserved, items.c.answer_count,
                       items.c.review_state).where(items.c.id.in_(ids)))}
            for item_id in ids:
                decide(conn, project, settings, item_id, states[item_id], settled[item_id].confidence)

    db.run(write)
    confidences = [s.confidence for _, s in regular if s.confidence is not None]
    return {
        "items": len(regular),
        "annotators": int(frame.user_id.nunique()),
        "method": PROJECT,
        "mean_confidence": float(np.mean(confidences)) if confidences else None,
    }
