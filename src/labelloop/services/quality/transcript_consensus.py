"""Consensus of transcripts on the platform (docs/quality.md, "Transcripts on the platform").

Transcript questions are `audio_segments` questions with `transcript: true` and plain `text`
questions of a schema with an audio field (one transcript per file). Their words are voted by
ROVER (`labelloop.quality.texts`), not by exact match:

- **project recompute** (`transcript_consensus`): one `default_text_aggregator()` fit per question
  over the whole project, so each annotator's word error rate, hence their vote weight, is learned
  from all their transcripts. A clip is a `text` answer's item, or a cluster of segments (the
  label type's clustering by temporal IoU, `AudioSegments.clusters`, with the annotators' skill
  estimates as weights, as between recomputes). Clips with two or more transcripts (the model's
  counting) are fitted together; a lone transcript is its clip's consensus. When the latest model
  version with predictions has one for the item (speech-to-text pre-labels), its text for the file,
  or for its segment matched one-to-one to the cluster (IoU >= 0.5 against the cluster's median
  bounds), is one more voter whose weight is learned like anyone's. The segments themselves (which are kept,
  their bounds, labels, attributes) are the label type's as between recomputes: the model votes on
  words only.
- **as each answer arrives** (`settle_transcripts`): the same vote with the weights already known,
  one round (`labelloop.quality.texts.weighted.weighted_rover`): each annotator's skill estimate
  `s` (after a recompute, 1 - their learned word error rate, averaged with their skill on the
  project's other questions) as the log-odds weight log(s / (1 - s)): with one question, exactly
  the weights the last fit voted with. All of an item's clusters are voted in one batch. The model's
  hypothesis waits for the next recompute (reading predictions has no place in the submit
  transaction).
- **confidence** of a clip: `support`, the mean over its consensus words of the share of the clip's
  weight that voted for each (the aggregator's `support_`); for a clip whose consensus is empty
  ("nothing said"), the share of weight whose transcript is empty too; 1 for a lone transcript. Of
  an `audio_segments` item: the mean over its clusters of P(decision right), a dropped cluster's
  being its drop share as for any segments, a kept one's its keep share times its text's support.
- **skill** of an annotator on the question: 1 - their learned word error rate (the probability a
  word of theirs is right), once at least `MIN_ITEMS` (20) clips were fitted; with fewer the fit still
  votes (the weights shrink towards equal) but teaches nobody's skill.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from labelloop.quality import default_text_aggregator
from labelloop.quality.texts.rover import MODEL
from labelloop.quality.texts.weighted import log_odds_weights, weighted_rover
from labelloop.schema import LabelSchema, Question
from labelloop.schema.label_type import Aggregate
from labelloop.schema.types.audio.segments import THRESHOLD, AudioSegments, SegmentCluster, interval_iou
from labelloop.schema.types.shapes import shape_match
from labelloop.services.loop import versions
from labelloop.services.quality.box_consensus import MIN_ITEMS

DEFAULT_SKILL = 0.7


def is_transcript(schema: LabelSchema, question: Question) -> bool:
    """A segments question with transcripts, or a text question of a schema with an audio field."""
    kind = question.kind.name
    if kind == "audio_segments":
        return bool(question.spec.transcript)  # type: ignore[attr-defined]
    return kind == "text" and any(f.type == "audio" for f in schema.fields)


def transcript_questions(schema: LabelSchema) -> list[Question]:
    return [q for q in schema.questions if is_transcript(schema, q)]


def joined(question: Question, value: Any) -> str | None:
    """The whole file's transcript of an answer: a text, or its segments' texts in time order."""
    if value is None:
        return None
    if question.kind.name == "text":
        return value if isinstance(value, str) else None
    texts = [s.get("text") for s in value if isinstance(s, dict)]
    return " ".join(t for t in texts if isinstance(t, str) and t.strip())


def _silent(text: str) -> bool:
    """Whether a transcript has no word once normalised (letters and digits are words)."""
    return not any(ch.isalnum() for ch in text)


def _clip_confidence(support: float, texts: Sequence[str], weights: Sequence[float]) -> float:
    if np.isfinite(support):
        return float(support)
    total = float(sum(weights))
    if total <= 0:
        return float(np.mean([_silent(t) for t in texts])) if texts else 1.0
    return float(sum(w for t, w in zip(texts, weights, strict=True) if _silent(t)) / total)


def _segments_confidence(clusters: Sequence[SegmentCluster], support: Mapping[int, float]) -> float:
    """Mean over clusters of P(decision right): drop share, or keep share times the text's support."""
    if not clusters:
        return 1.0
    sure = [c.share * support.get(k, 1.0) if c.kept else 1.0 - c.share for k, c in enumerate(clusters)]
    return float(np.mean(sure))


# -- as each answer arrives -------------------------------------------------------------------

def settle_transcripts(question: Question, values: Sequence[Any], skills: Sequence[float]) -> Aggregate:
    """One item's consensus of a transcript question from its answers and the annotators' skills."""
    weights = log_odds_weights(skills)
    if question.kind.name == "text":
        texts = [v for v in values if isinstance(v, str)]
        w = [float(x) for v, x in zip(values, weights, strict=True) if isinstance(v, str)]
        if not texts:
            return Aggregate(None, 0.0)
        if len(texts) == 1:
            return Aggregate(texts[0], 1.0)
        found = weighted_rover([0] * len(texts), texts, w)
        return Aggregate(str(found.text.iloc[0]), _clip_confidence(float(found.support.iloc[0]), texts, w))
    kind = question.kind
    assert isinstance(kind, AudioSegments)
    clusters = kind.clusters(question.spec, values, skills)  # type: ignore[arg-type]
    if clusters is None:
        return Aggregate(None, 0.0)
    tasks: list[int] = []
    texts_in: list[str | None] = []
    w_in: list[float] = []
    for k, c in enumerate(clusters):
        if c.kept:
            for text, a in zip(c.texts, c.answers, strict=True):
                tasks.append(k)
                texts_in.append(text)
                w_in.append(float(weights[a]))
    chosen: dict[int, str | None] = {}
    support: dict[int, float] = {}
    voted = weighted_rover(tasks, texts_in, w_in) if tasks else pd.DataFrame(columns=["text", "support"])
    for k, c in enumerate(clusters):
        given = [t for t in c.texts if t is not None]
        if not c.kept or not given:
            continue
        if len(given) == 1:
            chosen[k], support[k] = given[0], 1.0
            continue
        row = voted.loc[k]
        w = [float(weights[a]) for t, a in zip(c.texts, c.answers, strict=True) if t is not None]
        chosen[k] = str(row.text)
        support[k] = _clip_confidence(float(row.support), given, w)
    fused = kind.fuse(question.spec, clusters, [chosen.get(k) for k in range(len(clusters))])  # type: ignore[arg-type]
    return Aggregate(fused.value, _segments_confidence(clusters, support))


# -- the project recompute --------------------------------------------------------------------

def hypotheses(
    conn: Connection, project_id: int, schema: LabelSchema, item_ids: Sequence[int]
) -> dict[str, dict[int, Any]]:
    """Per transcript question, the latest model version's prediction for each of these items. A
    `text` question the model did not answer takes the text of its segments with transcripts, in
    time order (a speech-to-text model answers the `audio_segments` question: one file, one text)."""
    questions = transcript_questions(schema)
    latest = versions.latest_with_predictions(conn, project_id) if questions and len(item_ids) else None
    if latest is None:
        return {}
    predicted = versions.predicted_values(conn, latest[0], item_ids)
    segments = next((q for q in questions if q.kind.name == "audio_segments"), None)
    out: dict[str, dict[int, Any]] = {}
    for q in questions:
        found = out.setdefault(q.name, {})
        for item, (value, _) in predicted.items():
            if value.get(q.name) is not None:
                found[item] = value[q.name]
            elif q.kind.name == "text" and segments is not None:
                said = value.get(segments.name)
                if isinstance(said, list):
                    found[item] = joined(segments, said)
    return out


@dataclass(frozen=True)
class TranscriptConsensus:
    """Per item: (consensus value, confidence); per annotator: skill on the question (may be empty);
    `clips`: clips with two or more transcripts the aggregator was fitted on."""

    items: dict[int, tuple[Any, float]]
    skills: pd.Series
    clips: int


def _hypothesis_texts(
    question: Question, predicted: Any, clusters: Sequence[SegmentCluster]
) -> dict[int, str]:
    """The model's text for each cluster its segment matches one-to-one (IoU >= 0.5)."""
    if question.kind.name == "text":
        return {0: predicted} if isinstance(predicted, str) else {}
    if not isinstance(predicted, list) or not clusters:
        return {}
    segs = [s for s in predicted if isinstance(s, dict) and isinstance(s.get("text"), str)
            and isinstance(s.get("start"), int | float) and isinstance(s.get("end"), int | float)]
    if not segs:
        return {}
    model = np.array([[float(s["start"]), float(s["end"])] for s in segs], dtype=np.float64)
    human = np.array([c.bounds() for c in clusters], dtype=np.float64).reshape(-1, 2)
    return {c: str(segs[m]["text"]) for m, c, _ in shape_match.matches(interval_iou(model, human), THRESHOLD)}


def transcript_consensus(
    question: Question, answers: pd.DataFrame, skills: Mapping[int, float],
    predicted: Mapping[int, Any] | None = None,
) -> TranscriptConsensus:
    """Consensus of every item of a transcript question from `answers` (columns `item_id`, `user_id`,
    `label`: the value; one row per item and annotator), the annotators' current skills (the segments'
    weights) and the model's predictions by item."""
    is_text = question.kind.name == "text"
    kind = question.kind
    per_item: dict[int, tuple[list[int], list[Any]]] = {}
    for item, user, value in zip(answers.item_id, answers.user_id, answers.label, strict=True):
        users, values = per_item.setdefault(int(item), ([], []))
        users.append(int(user))
        values.append(value)
    clusters: dict[int, list[SegmentCluster] | None] = {}
    rows: list[tuple[str, int, str]] = []  # clip, annotator, text
    hyp: dict[str, str] = {}
    for item, (users, values) in per_item.items():
        if is_text:
            # one clip per item: its answers, all kept
            found: list[SegmentCluster] | None = [SegmentCluster(
                [{"text": v} for v in values], list(range(len(values))), [1.0] * len(values), 1.0)]
        else:
            assert isinstance(kind, AudioSegments)
            found = kind.clusters(question.spec, values,  # type: ignore[arg-type]
                                  [skills.get(u, DEFAULT_SKILL) for u in users])
        clusters[item] = found
        if not found:
            continue
        for k, c in enumerate(found):
            rows.extend((f"{item}:{k}", users[a], t) for t, a in zip(c.texts, c.answers, strict=True)
                        if isinstance(t, str))
        for k, text in _hypothesis_texts(question, (predicted or {}).get(item), found).items():
            hyp[f"{item}:{k}"] = text
    table = pd.DataFrame(rows, columns=["task", "worker", "text"])
    voters = table.task.value_counts().add(pd.Series(1, index=list(hyp)), fill_value=0) if len(table) else \
        pd.Series(dtype=float)
    fit_tasks = set(voters.index[voters >= 2]) & set(table.task)
    texts: dict[str, str] = {}
    support: dict[str, float] = {}
    learned = pd.Series(dtype=float)
    if fit_tasks:
        part = table[table.task.isin(fit_tasks)]
        model = default_text_aggregator()
        given = {t: h for t, h in hyp.items() if t in fit_tasks}
        model.fit(part, hypotheses=pd.Series(given, dtype=object) if given else None)
        texts = {str(t): str(v) for t, v in model.texts_.items()}
        weight = model.skills_
        for task, group in part.groupby("task", sort=False):
            voted = list(group.text) + ([hyp[task]] if task in hyp else [])
            w = [float(weight[u]) for u in group.worker] + ([float(weight[MODEL])] if task in hyp else [])
            support[str(task)] = _clip_confidence(float(model.support_[task]), voted, w)
        if len(fit_tasks) >= MIN_ITEMS:
            errors = model.errors_[[u for u in model.errors_.index if u != MODEL]]
            learned = (1.0 - errors.astype(float)).clip(0.0, 1.0)
            learned.index = [int(u) for u in learned.index]
    lone = table[~table.task.isin(fit_tasks)].drop_duplicates("task")
    texts.update(zip(lone.task, lone.text, strict=True))

    out: dict[int, tuple[Any, float]] = {}
    for item, found in clusters.items():
        if found is None:
            out[item] = (None, 0.0)
        elif is_text:
            key = f"{item}:0"
            out[item] = (texts.get(key), support.get(key, 1.0) if key in texts else 0.0)
        else:
            assert isinstance(kind, AudioSegments)
            chosen = [texts.get(f"{item}:{k}") for k in range(len(found))]
            fused = kind.fuse(question.spec, found, chosen)  # type: ignore[arg-type]
            sure = {k: support.get(f"{item}:{k}", 1.0) for k in range(len(found))}
            out[item] = (fused.value, _segments_confidence(found, sure))
    return TranscriptConsensus(out, learned, len(fit_tasks))
