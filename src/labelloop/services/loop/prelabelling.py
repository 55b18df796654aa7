"""What the two pre-label jobs share, the detector's (prelabels.py) and the speech model's
(transcripts.py): the project's settings and items, the references a model is measured against,
the previous version whose values they reuse and whose other parts they carry, and the new model
version with its prediction rows (versions.py says why each row carries the other questions'
values).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select

from labelloop.schema import LabelSchema, Question
from labelloop.services.loop import versions
from labelloop.services.loop.settings import LoopSettings, loop_settings
from labelloop.services.policy import Action, Actor, access
from labelloop.services.projects import schema_of
from labelloop.services.quality.consensus import INCREMENTAL, PROJECT, REVIEW
from labelloop.store.db import Database
from labelloop.store.models import answers, consensus, items, model_versions, published_in, utcnow

HUMAN = (INCREMENTAL, PROJECT, REVIEW)
WRITE_CHUNK = 5000  # prediction rows per insert
# item id -> (the question's value, confidence)
Found = dict[int, tuple[list[dict[str, Any]], float]]
# item id -> (the previous version's whole value, confidence)
Before = dict[int, tuple[dict[str, Any], float]]
Previous = tuple[int, dict[str, Any]] | None  # the latest version with predictions: (id, metrics)


def project_loop(db: Database, actor: Actor, project_id: int) -> tuple[LabelSchema, LoopSettings]:
    """The project's schema and loop settings, for someone who may edit the project."""
    with db.read() as conn:
        acc = access(conn, actor, project_id, Action.edit_project)
    return schema_of(acc.project.label_schema), loop_settings(acc.project.loop_settings)


def published_items(conn: Connection, project_id: int) -> list[Any]:
    """The project's published items in id order: id, external_id, data, gold."""
    return list(conn.execute(select(items.c.id, items.c.external_id, items.c.data, items.c.gold)
                             .where(published_in(project_id)).order_by(items.c.id)).all())


def previous_version(conn: Connection, project_id: int, rows: Sequence[Any]) -> tuple[Previous, Before]:
    """The latest version with predictions, and its values on these items."""
    previous = versions.latest_with_predictions(conn, project_id)
    return previous, versions.predicted_values(conn, previous[0], [r.id for r in rows]) if previous else {}


def carried(previous: Previous) -> dict[str, Any] | None:
    """The classifier part the new version carries from the previous one (versions.py)."""
    return versions.carried_metrics(previous[1] if previous else None,
                                    previous[0] if previous else None, versions.CLASSIFIER)


def with_human_consensus(conn: Connection, project_id: int, question: Question,
                         gold: dict[int, Any]) -> dict[int, Any]:
    """`gold` and the human consensus of the other items whose answers never showed this
    question's suggestion (an answer given with the model's values on screen would flatter it)."""
    out = dict(gold)
    shown = {r.item_id for r in conn.execute(
        select(answers.c.item_id, answers.c.suggestion).where(
            answers.c.project_id == project_id, answers.c.suggestion.is_not(None)))
        if (r.suggestion.get("questions") or {}).get(question.name) in ("unchanged", "edited")}
    for r in conn.execute(select(consensus.c.item_id, consensus.c.value, consensus.c.method)
                          .where(consensus.c.project_id == project_id)):
        value = r.value.get(question.name)
        if r.method in HUMAN and isinstance(value, list) and r.item_id not in shown and r.item_id not in out:
            out[r.item_id] = value
    return out


def reused(before: Before, question: str) -> Found:
    """The previous version's values of the question, to keep when the model is the same."""
    return {i: (v[question], c) for i, (v, c) in before.items() if isinstance(v.get(question), list)}


def new_version(conn: Connection, *, project_id: int, job_id: int | None, question: str, encoder: str,
                classes: list[Any], metrics: dict[str, Any]) -> int:
    """Insert the model version; its id."""
    return int(conn.execute(insert(model_versions).values(
        project_id=project_id, job_id=job_id, question=question, encoder=encoder[:64], classes=classes,
        metrics=metrics, created_at=utcnow()).returning(model_versions.c.id)).scalar_one())


def prediction_rows(version: int, rows: Sequence[Any], question: str, found: Found,
                    before: Before) -> list[dict[str, Any]]:
    """The version's predictions: per item its own values of the question, the previous version's
    of the others."""
    out = []
    for r in rows:
        mine, old = found.get(r.id), before.get(r.id)
        if mine is None and old is None:
            continue
        own = {} if mine is None else {question: mine[0]}
        # The old values go (this version's are in `found` when still valid); other answers stay.
        value = versions.merged(own, None if old is None else old[0], [question])
        if value:
            confidence = mine[1] if mine is not None else old[1] if old is not None else 1.0
            out.append({"model_version_id": version, "item_id": int(r.id), "value": value,
                        "confidence": confidence})
    return out
