"""The review queue: items whose consensus stays unsure, that someone flagged, or whose label a
loop round suspects wait for a reviewer, told why (services/quality/review_reasons.py); the decision is
final and recorded (as an answer with source "review")."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from labelloop.errors import Conflict, NotFound
from labelloop.services import audit
from labelloop.services.curation import slices
from labelloop.services.items import ItemDetail, _filtered, get_item
from labelloop.services.policy import Action, Actor, access
from labelloop.services.privacy import view as privacy
from labelloop.services.projects import schema_of
from labelloop.services.quality.consensus import REVIEW, Settled, store
from labelloop.services.quality.review_reasons import DONE, FLAGGED, PENDING, sent_to_review
from labelloop.services.targets import item_targets
from labelloop.store.models import answers, consensus, items, utcnow


def _pending_item(conn: Connection, project_id: int, item_id: int) -> Any:
    row = conn.execute(
        select(items.c.id, items.c.review_state)
        .where(items.c.id == item_id, items.c.project_id == project_id)
    ).first()
    if row is None:
        raise NotFound(f"item {item_id} not found in project {project_id}")
    return row


def _in_slice(conn: Connection, stmt: Any, project_id: int, slice_id: int | None) -> Any:
    """`stmt` (over items) narrowed to a saved slice's items (services/curation/slices.py)."""
    if slice_id is None:
        return stmt
    return _filtered(stmt.select_from(items.outerjoin(consensus, consensus.c.item_id == items.c.id)),
                     slices.filter_of(conn, project_id, slice_id))


def next_review(
    conn: Connection, actor: Actor, project_id: int, *, after_id: int = 0, slice_id: int | None = None
) -> ItemDetail | None:
    """The oldest item waiting for review after `after_id` (to skip one), of the slice when given,
    with every answer."""
    access(conn, actor, project_id, Action.review)
    item_id = conn.execute(_in_slice(conn, (
        select(items.c.id)
        .where(items.c.project_id == project_id, items.c.review_state == PENDING, items.c.id > after_id)
        .order_by(items.c.id)
        .limit(1)
    ), project_id, slice_id)).scalar()
    return None if item_id is None else get_item(conn, actor, project_id, item_id)


def pending_count(conn: Connection, actor: Actor, project_id: int, *, slice_id: int | None = None) -> int:
    access(conn, actor, project_id, Action.review)
    waiting = select(func.count()).where(
        items.c.project_id == project_id, items.c.review_state == PENDING)
    return int(conn.execute(_in_slice(conn, waiting, project_id, slice_id)).scalar_one())


def flag(conn: Connection, actor: Actor, project_id: int, item_id: int) -> None:
    """Send an item to review (again), whatever its consensus says."""
    access(conn, actor, project_id, Action.review)
    _pending_item(conn, project_id, item_id)
    conn.execute(update(items).where(items.c.id == item_id).values(**sent_to_review(FLAGGED)))
    audit.record(conn, actor, "review.flag", project_id=project_id, object_type="item", object_id=item_id)


def decide(
    conn: Connection, actor: Actor, project_id: int, item_id: int, value: Any,
    *, idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Record a reviewer's answer as the item's final consensus."""
    acc = access(conn, actor, project_id, Action.review)
    assert actor.user_id is not None or actor.is_admin
    schema = schema_of(acc.project.label_schema)
    # The reviewer saw the item redacted: spans go back to the original (services/privacy/view.py).
    red = privacy.worker_redaction(conn, acc.project, schema, item_id)
    if red is not None:
        value = red.answer_to_original(schema, value)
    clean = schema.validate_answer(value, item_targets(conn, schema, project_id, item_id))
    row = _pending_item(conn, project_id, item_id)
    if row.review_state != PENDING:
        raise Conflict(f"item {item_id} is not waiting for review")
    now = utcnow()
    conn.execute(insert(answers).values(
        project_id=project_id, item_id=item_id, user_id=actor.user_id, value=clean,
        idempotency_key=idempotency_key or f"review:{uuid.uuid4()}", source=REVIEW,
        leased_at=None, created_at=now, duration_ms=None,
    ))
    store(conn, project_id, [(item_id, Settled(clean, dict.fromkeys(clean, 1.0)))], REVIEW)
    conn.execute(update(consensus).where(consensus.c.item_id == item_id)
                 .values(value=clean, confidence=1.0, method=REVIEW, final=True, updated_at=now))
    conn.execute(update(items).where(items.c.id == item_id).values(review_state=DONE))
    audit.record(conn, actor, "review.decide", project_id=project_id, object_type="item", object_id=item_id)
    return clean if red is None else dict(red.answer_to_shown(schema, clean))
