"""Model versions made of parts: a classifier (a round) and a detector (a pre-label job).

Annotators see one model's suggestion at a time: the latest model version that made predictions
(services/loop/suggestions.py). On an image project a round's classifier answers the choice
question and a detector the `bbox` question, so each new version *carries* the other part from
the version before it: its predictions hold, per item, its own questions' values and the previous
version's values of every other question, and its metrics hold the carried part's metrics under
`carried` (with `model_version`, where they were made). So the latest version always suggests for
every question some model answers, and a round never hides the detector's boxes, nor a pre-label
job the classifier's answers.

How well a version did on items it never learned from (`held_out`), the number the project's
`suggest_min_accuracy` bar is compared with, is the *lowest* of its parts': the classifier's
out-of-fold accuracy (else its accuracy on gold items), the detector's F1 at IoU 0.5 against gold
and human consensus (services/loop/prelabels.py), the transcriber's `speech_score` (word accuracy,
1 - WER, or segment F1 without transcripts; services/loop/transcripts.py). A part that could not
be measured leaves the whole version unmeasured, so a bar withholds it: a suggestion is shown only
if every part of it earned its place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, select

from labelloop.store.models import model_versions, predictions

# The key that says a part is there, and the keys that describe it.
CLASSIFIER = ("model", ("model", "oof_accuracy", "gold_accuracy"))
DETECTOR = ("detector", ("detector", "box_f1", "box_f1_items"))
TRANSCRIBER = ("transcriber", ("transcriber", "speech_score", "wer", "segment_f1"))


def _part(metrics: Mapping[str, Any], kind: tuple[str, tuple[str, ...]]) -> dict[str, Any] | None:
    """The part's metrics, own or carried (with the version it was made in), or None."""
    marker, keys = kind
    if metrics.get(marker) is not None:
        return {k: metrics.get(k) for k in keys}
    carried = metrics.get("carried") or {}
    if carried.get(marker) is not None:
        return {k: carried.get(k) for k in (*keys, "model_version")}
    return None


def _score(part: Mapping[str, Any], kind: tuple[str, tuple[str, ...]]) -> float | None:
    if kind is DETECTOR:
        return _number(part.get("box_f1"))
    if kind is TRANSCRIBER:
        return _number(part.get("speech_score"))
    oof = _number(part.get("oof_accuracy"))
    return oof if oof is not None else _number(part.get("gold_accuracy"))


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def held_out(metrics: Mapping[str, Any]) -> float | None:
    """The lowest held-out score of the version's parts; None when some part is unmeasured.

    A version without parts (made by hand, or before parts existed) is judged by its own
    `oof_accuracy`, else `gold_accuracy`.
    """
    scores = [_score(p, kind) for kind in (CLASSIFIER, DETECTOR, TRANSCRIBER)
              if (p := _part(metrics, kind)) is not None]
    if not scores:
        scores = [_score(metrics, CLASSIFIER)]
    if any(s is None for s in scores):
        return None
    return min(s for s in scores if s is not None)


def carried_metrics(previous: Mapping[str, Any] | None, previous_id: int | None,
                    kind: tuple[str, tuple[str, ...]]) -> dict[str, Any] | None:
    """The `carried` entry a new version gets from the previous one's part of `kind`."""
    if previous is None or previous_id is None:
        return None
    part = _part(previous, kind)
    if part is None:
        return None
    return {"model_version": part.pop("model_version", None) or previous_id, **part}


# The newest version with predictions: the one whose values a new version carries.
_LATEST_WITH_PREDICTIONS = (
    select(model_versions.c.id, model_versions.c.metrics)
    .where(model_versions.c.project_id == bindparam("pid"))
    .where(select(predictions.c.item_id).where(predictions.c.model_version_id == model_versions.c.id)
           .limit(1).exists())
    .order_by(model_versions.c.id.desc())
    .limit(1)
)


def latest_with_predictions(conn: Connection, project_id: int) -> tuple[int, dict[str, Any]] | None:
    row = conn.execute(_LATEST_WITH_PREDICTIONS, {"pid": project_id}).first()
    return None if row is None else (int(row.id), dict(row.metrics or {}))


def predicted_values(
    conn: Connection, version: int, item_ids: Iterable[int]
) -> dict[int, tuple[dict[str, Any], float]]:
    """(value, confidence) of the version's predictions for these items, by item id."""
    out: dict[int, tuple[dict[str, Any], float]] = {}
    ids = list(item_ids)
    for start in range(0, len(ids), 1000):
        rows = conn.execute(
            select(predictions.c.item_id, predictions.c.value, predictions.c.confidence).where(
                predictions.c.model_version_id == version,
                predictions.c.item_id.in_(ids[start:start + 1000]),
            )
        )
        out.update({int(r.item_id): (dict(r.value), float(r.confidence)) for r in rows})
    return out


def merged(
    own: Mapping[str, Any], previous: Mapping[str, Any] | None, own_questions: Iterable[str]
) -> dict[str, Any]:
    """An item's prediction: the previous version's values of the other questions, then its own."""
    mine = set(own_questions)
    kept = {k: v for k, v in (previous or {}).items() if k not in mine}
    return {**kept, **own}
