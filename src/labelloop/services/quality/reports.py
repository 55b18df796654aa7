"""Quality reports: how much annotators agree, how sure the consensus is, and who is reliable."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import Connection, func, select

from labelloop.quality import (
    bootstrap_ci,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
    suspicious_workers,
)
from labelloop.quality.classification.posterior import accuracy_interval
from labelloop.schema import LabelSchema, Question
from labelloop.services.policy import Action, Actor, access
from labelloop.services.projects import schema_of
from labelloop.services.quality.feedback_agreement import feedback_agreement
from labelloop.services.quality.settings import quality_settings
from labelloop.services.quality.shape_gold import ShapeCounts, gold_tracks, is_shape, is_tracks, shape_counts
from labelloop.services.quality.transcript_agreement import annotator_scores, transcript_agreement
from labelloop.services.quality.transcript_consensus import is_transcript, transcript_questions
from labelloop.services.quality.trust import gold_correct, standings
from labelloop.store.models import answers, consensus, items, users

BOOTSTRAP_RESAMPLES = 200
FLAGS = ("same_label", "too_fast", "chance_level")
CONFIDENCE_BINS = [0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0000001]


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _human_answers(conn: Connection, project_id: int) -> pd.DataFrame:
    rows = conn.execute(
        select(answers.c.item_id, answers.c.user_id, users.c.username, answers.c.value,
               answers.c.duration_ms)
        .join(users, users.c.id == answers.c.user_id)
        .where(answers.c.project_id == project_id, answers.c.source == "human")
        .order_by(answers.c.id)
    ).all()
    frame = pd.DataFrame(rows, columns=["item_id", "user_id", "username", "value", "duration_ms"])
    return frame.drop_duplicates(["item_id", "user_id"], keep="last")


def _hashable(value: Any) -> Any:
    """A label the algorithms can count: lists and objects (spans, multi-choice) as JSON text."""
    return value if isinstance(value, str | int | float) else orjson.dumps(
        value, option=orjson.OPT_SORT_KEYS).decode()


def _long(frame: pd.DataFrame, question: str) -> pd.DataFrame:
    values = frame.value.map(lambda v: v.get(question))
    keep = values.notna()
    return pd.DataFrame({
        "task": frame.item_id[keep], "worker": frame.user_id[keep],
        "label": values[keep].map(_hashable),
        "duration": frame.duration_ms[keep],
    })


@dataclass(frozen=True)
class QuestionAgreement:
    question: str
    type: str
    items: int  # items with at least two answers
    percent_agreement: float | None
    alpha: float | None  # Krippendorff's alpha at the question's level of measurement
    alpha_low: float | None
    alpha_high: float | None
    fleiss_kappa: float | None  # choice questions, and preferences (per item and pair of responses)
    kendall_tau: float | None = None  # rankings: mean over pairs of annotators of one item
    span_f1: float | None = None  # flagged words: pairwise F1 between annotators of one response
    # transcripts (transcript_agreement.py): pairwise WER pooled and per item, the items annotators
    # disagree on most; segments: pairwise F1 at IoU 0.5 and the mean IoU of matched segments
    wer: float | None = None
    item_wer: float | None = None
    worst_items: list[dict[str, Any]] | None = None
    segment_f1: float | None = None
    segment_iou: float | None = None


def agreement_report(conn: Connection, actor: Actor, project_id: int) -> dict[str, Any]:
    acc = access(conn, actor, project_id, Action.view_quality)
    schema = schema_of(acc.project.label_schema)
    frame = _human_answers(conn, project_id)
    gold_ids = set(conn.execute(select(items.c.id).where(
        items.c.project_id == project_id, items.c.gold.is_not(None))).scalars())
    frame = frame[~frame.item_id.isin(gold_ids)]
    per_question = []
    for q in schema.questions:
        long = _long(frame, q.name)
        counts = long.groupby("task").size()
        pairable = int((counts >= 2).sum())
        level = {"rating": "interval"}.get(q.kind.name, "nominal")
        alpha = low = high = kappa = agree = tau = f1 = None
        if pairable:
            if q.kind.name in ("choice", "rating"):
                agree = _finite(percent_agreement(long))
                alpha = _finite(krippendorff_alpha(long, level=level))  # type: ignore[arg-type]
                if alpha is not None and pairable >= 5:
                    ci = bootstrap_ci(
                        lambda df, lv=level: krippendorff_alpha(df, level=lv),  # type: ignore[misc]
                        long, n_resamples=BOOTSTRAP_RESAMPLES,
                    )
                    low, high = _finite(ci.low), _finite(ci.high)
                kappa = _finite(fleiss_kappa(long)) if q.kind.name == "choice" else None
            else:
                raw = [list(g) for _, g in frame.assign(v=frame.value.map(lambda v, n=q.name: v.get(n)))
                       .dropna(subset=["v"]).groupby("item_id").v]
                agree = _finite(q.kind.agreement(q.spec, raw))
                labels = frame.value.map(lambda v, n=q.name: v.get(n))
                extra = feedback_agreement(q, frame.assign(label=labels).dropna(subset=["label"]))
                kappa, tau, f1 = extra.get("fleiss_kappa"), extra.get("kendall_tau"), extra.get("span_f1")
        spoken: dict[str, Any] = {}
        if is_transcript(schema, q):
            labels = frame.value.map(lambda v, n=q.name: v.get(n))
            spoken = transcript_agreement(q, frame.assign(label=labels).dropna(subset=["label"]))
            spoken["worst_items"] = _with_external_ids(conn, spoken["worst_items"])
            if q.kind.name == "audio_segments":
                spoken["segment_f1"] = agree
        per_question.append(QuestionAgreement(q.name, q.kind.name, pairable, agree, alpha, low, high, kappa,
                                              tau, f1, **spoken))

    rows = conn.execute(
        select(consensus.c.confidence, consensus.c.final).where(consensus.c.project_id == project_id)
    ).all()
    conf = np.array([r.confidence for r in rows if r.confidence is not None], dtype=float)
    histogram, _ = np.histogram(conf, bins=CONFIDENCE_BINS)
    pending = conn.execute(select(func.count()).where(
        items.c.project_id == project_id, items.c.review_state == "pending")).scalar_one()
    reviewed = sum(1 for r in rows if r.final)
    paused = sum(1 for s in standings(conn, project_id).values() if s.paused)
    target = quality_settings(acc.project.quality_settings).target_confidence
    return {
        "questions": [vars(q) for q in per_question],
        "consensus": {
            "items": len(rows),
            "mean_confidence": _finite(float(conf.mean())) if conf.size else None,
            "share_confident": _finite(float((conf >= target).mean())) if conf.size else None,
            "histogram": [
                {"low": lo, "high": min(hi, 1.0), "items": int(n)}
                for lo, hi, n in zip(CONFIDENCE_BINS, CONFIDENCE_BINS[1:], histogram, strict=False)
            ],
        },
        "review": {"pending": int(pending), "decided": reviewed},
        "paused_annotators": paused,
    }


def _with_external_ids(conn: Connection, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [r["item_id"] for r in listed]
    query = select(items.c.id, items.c.external_id).where(items.c.id.in_(ids))
    external = {r.id: r.external_id for r in conn.execute(query)} if ids else {}
    return [{**r, "external_id": external.get(r["item_id"])} for r in listed]


def annotator_report(conn: Connection, actor: Actor, project_id: int) -> list[dict[str, Any]]:
    """One row per annotator who answered: volume, speed, gold accuracy, agreement, flags."""
    acc = access(conn, actor, project_id, Action.view_quality)
    schema = schema_of(acc.project.label_schema)
    frame = _human_answers(conn, project_id)
    if frame.empty:
        return []
    known = standings(conn, project_id)
    settings = quality_settings(acc.project.quality_settings)
    shapes = [q for q in schema.questions if is_shape(q)]
    gold = {r.id: r.gold for r in conn.execute(select(items.c.id, items.c.gold).where(
        items.c.project_id == project_id, items.c.gold.is_not(None)))}
    settled = {r.item_id: r.value for r in conn.execute(
        select(consensus.c.item_id, consensus.c.value).where(consensus.c.project_id == project_id))}

    choice = next((q for q in schema.questions if q.kind.name == "choice"), None)
    flags = pd.DataFrame()
    if choice is not None:
        long = _long(frame[~frame.item_id.isin(gold)], choice.name)
        reference = {i: v.get(choice.name) for i, v in settled.items() if v.get(choice.name) is not None}
        if len(long) and reference:
            flags = suspicious_workers(long, consensus=pd.Series(reference), duration_column="duration")

    spoken = _transcript_scores(schema, frame, gold, settled)
    out = []
    for (uid, name), group in frame.groupby(["user_id", "username"]):
        s = known.get(int(uid))
        on_gold = group[group.item_id.isin(gold)]
        pairs = list(zip(on_gold.item_id, on_gold.value, strict=True))
        right = sum(gold_correct(gold[i], v, schema, settings) for i, v in pairs)
        mean = low = high = None
        if len(on_gold):
            mean, low, high = accuracy_interval(right, len(on_gold))
        regular = group[~group.item_id.isin(gold) & group.item_id.isin(settled)]
        # Shape questions agree by F1 as on gold; the rest must be equal.
        matches = [gold_correct({k: settled[i].get(k) for k in v}, v, schema, settings)
                   for i, v in zip(regular.item_id, regular.value, strict=True)]
        row = flags.loc[uid] if uid in flags.index else None
        durations = group.duration_ms.dropna()
        out.append({
            "user_id": int(uid), "username": name, "answers": len(group),
            "median_duration_ms": float(durations.median()) if len(durations) else None,
            "gold_answered": len(on_gold), "gold_correct": int(right),
            "gold_accuracy": mean, "gold_accuracy_low": low, "gold_accuracy_high": high,
            "agreement_with_consensus": float(np.mean(matches)) if matches else None,
            "skill": s.skill if s else None,
            "paused": bool(s and s.paused), "paused_reason": s.paused_reason if s else None,
            "flags": [] if row is None else [f for f in FLAGS if bool(row[f])],
            "gold_shapes": _gold_shapes(shapes, [(gold[i], v) for i, v in pairs]),
            "gold_tracks": gold_tracks([q for q in schema.questions if is_tracks(q)],
                                       [(gold[i], v) for i, v in pairs]),
            "transcripts": {q: by[int(uid)] for q, (by, _) in spoken.items() if int(uid) in by},
            "gold_transcripts": {q: by[int(uid)] for q, (_, by) in spoken.items() if int(uid) in by},
        })
    return sorted(out, key=lambda r: r["username"])


def _transcript_scores(
    schema: LabelSchema, frame: pd.DataFrame, gold: dict[int, Any], settled: dict[int, Any],
) -> dict[str, tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]]:
    """Per transcript question, each annotator's WER against the consensus (items that are not gold)
    and against gold (with segment F1 and IoU): services/quality/transcript_agreement.py."""
    out = {}
    for q in transcript_questions(schema):
        labels = frame.value.map(lambda v, n=q.name: v.get(n))
        rows = frame.assign(label=labels).dropna(subset=["label"])
        agreed = {i: v[q.name] for i, v in settled.items() if i not in gold and v.get(q.name) is not None}
        truth = {i: g[q.name] for i, g in gold.items() if q.name in g}
        out[q.name] = (annotator_scores(q, rows, agreed), annotator_scores(q, rows, truth, segments=True))
    return out


def _gold_shapes(
    shapes: list[Question], answered: list[tuple[dict[str, Any], dict[str, Any]]]
) -> dict[str, dict[str, Any]]:
    """Per shape question the gold settles: the annotator's objects against the gold's over their
    gold answers (services/quality/shape_gold.py), pooled: precision, recall, F1, and the mean IoU
    (OKS for keypoints) of the matched objects."""
    out: dict[str, dict[str, Any]] = {}
    for q in shapes:
        scored = [shape_counts(q, answer.get(q.name), truth[q.name])
                  for truth, answer in answered if q.name in truth]
        if not scored:
            continue
        c = sum(scored, ShapeCounts())
        out[q.name] = {
            "answers": len(scored), "matched": c.matched, "missed": c.fn, "extra": c.fp,
            "precision": c.precision, "recall": c.recall, "f1": c.f1,
            "mean_similarity": c.mean_similarity,
            "similarity": "oks" if q.kind.name == "keypoints" else "iou",
        }
    return out
