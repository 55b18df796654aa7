"""Revising one's own answer: a new answer row that supersedes the old one (answers stay append-only).

An annotator may revise their latest answer to an item until the item's consensus is final
(a reviewer's decision). The revision is validated against the schema like any answer, is
idempotent by key like a submit, and settles the item's consensus again (the quality layer
takes each annotator's last answer). The item's answer count does not change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, exists, insert, select

from labelloop.errors import Conflict, Invalid, NotFound, Problem
from labelloop.schema import LabelSchema
from labelloop.schema.fields import blind
from labelloop.services import audit
from labelloop.services.policy import Action, Actor, access
from labelloop.services.privacy import view as privacy
from labelloop.services.projects import schema_of
from labelloop.services.quality.consensus import on_answer
from labelloop.services.quality.settings import quality_settings
from labelloop.services.queue.answers import MAX_KEY, AnswerInfo, answer_info
from labelloop.services.targets import answer_targets
from labelloop.store.models import answers, consensus, items, users, utcnow


@dataclass(frozen=True)
class AnswerInContext:
    """An answer with the item it answers, and whether its author may still revise it."""

    answer: AnswerInfo
    external_id: str
    data: dict[str, Any]
    meta: dict[str, Any]
    superseded_by: int | None
    editable: bool


def _superseded_by(conn: Connection, answer_id: int) -> int | None:
    return conn.execute(select(answers.c.id).where(answers.c.supersedes_id == answer_id)).scalar()


def _final(conn: Connection, item_id: int) -> bool:
    final = exists().where(consensus.c.item_id == item_id, consensus.c.final)
    return bool(conn.execute(select(final)).scalar())


def _answer(conn: Connection, actor: Actor, project_id: int, answer_id: int) -> tuple[Any, bool]:
    """The answer row (own answers only, unless the actor may see everyone's) and whether it is own."""
    acc = access(conn, actor, project_id, Action.view_own_answers)
    row = conn.execute(
        select(answers, users.c.username).join(users, users.c.id == answers.c.user_id)
        .where(answers.c.id == answer_id, answers.c.project_id == project_id)
    ).first()
    own = row is not None and row.user_id == actor.user_id
    if row is None or not (own or acc.allows(Action.view_all_answers, actor)):
        raise NotFound(f"answer {answer_id} not found")
    return row, own


def get_answer(conn: Connection, actor: Actor, project_id: int, answer_id: int) -> AnswerInContext:
    """An answer with its item: annotators see their own answers (and so the items they did), with
    candidate responses as the workbench showed them (no `model` or `meta`)."""
    row, own = _answer(conn, actor, project_id, answer_id)
    item = conn.execute(
        select(items.c.external_id, items.c.data, items.c.meta).where(items.c.id == row.item_id)
    ).one()
    later = _superseded_by(conn, answer_id)
    editable = own and later is None and row.source == "human" and not _final(conn, row.item_id)
    acc = access(conn, actor, project_id, Action.view_own_answers)
    schema = schema_of(acc.project.label_schema)
    info, data, meta = answer_info(row, row.username), item.data, item.meta
    # Personal data as the policy shows it, to reviewers too (they reveal on the item's page),
    # with the answer's spans on the shown text.
    red = privacy.item_redaction(conn, acc.project, schema, row.item_id)
    if red is not None:
        data, meta = red.data, privacy.shown_meta(schema, red, item.meta)
        info = replace(info, value=red.answer_to_shown(schema, info.value))
    if not acc.allows(Action.view_items, actor):
        data = blind(schema.fields, data)
    return AnswerInContext(info, item.external_id, data, meta, later, editable)


def revise_answer(
    conn: Connection,
    actor: Actor,
    project_id: int,
    answer_id: int,
    value: Any,
    *,
    idempotency_key: str | None = None,
    duration_ms: int | None = None,
) -> tuple[AnswerInfo, bool]:
    """Store a revision of the caller's answer; (the new answer, created). A retried key replays."""
    acc = access(conn, actor, project_id, Action.work_tasks)
    uid = actor.user_id
    if uid is None:
        raise Conflict("the operator account does not answer tasks")
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= MAX_KEY:
        raise Invalid("invalid idempotency key",
                      [Problem(f"1 to {MAX_KEY} characters", field="Idempotency-Key")])
    if duration_ms is not None and not 0 <= duration_ms <= 86_400_000:
        raise Invalid("invalid duration", [Problem("0 to 86400000 milliseconds", field="duration_ms")])
    schema = schema_of(acc.project.label_schema)
    item_id = conn.execute(select(answers.c.item_id).where(answers.c.id == answer_id,
                                                           answers.c.project_id == project_id)).scalar()
    # Spans drawn on the redacted text go back to the original first (services/privacy/view.py).
    red = None if item_id is None else privacy.worker_redaction(conn, acc.project, schema, item_id)
    if red is not None:
        value = red.answer_to_original(schema, value)
    clean = schema.validate_answer(value, answer_targets(conn, schema, project_id, answer_id))

    if idempotency_key is not None:
        done = conn.execute(select(answers).where(answers.c.user_id == uid,
                                                  answers.c.idempotency_key == idempotency_key)).first()
        if done is not None:
            if done.supersedes_id != answer_id or done.value != clean:
                raise Conflict("this idempotency key was already used for a different answer")
            return _shown(schema, red, answer_info(done, actor.username)), False
    old, own = _answer(conn, actor, project_id, answer_id)
    if not own:
        raise NotFound(f"answer {answer_id} not found")
    if old.source != "human":
        raise Conflict("only your own answers can be revised")
    later = _superseded_by(conn, answer_id)
    if later is not None:
        raise Conflict(f"answer {answer_id} was already revised; revise answer {later} instead")
    if _final(conn, old.item_id):
        raise Conflict(f"item {old.item_id} has a final decision; its answers can no longer change")

    row = conn.execute(insert(answers).returning(answers), {
        "project_id": project_id, "item_id": old.item_id, "user_id": uid, "value": clean,
        "idempotency_key": idempotency_key or f"server:{uuid.uuid4()}", "source": "human",
        "leased_at": old.leased_at, "created_at": utcnow(), "duration_ms": duration_ms,
        "supersedes_id": old.id,
    }).one()
    state = conn.execute(
        select(items.c.needed, items.c.reserved, items.c.answer_count, items.c.review_state, items.c.gold)
        .where(items.c.id == old.item_id)
    ).one()
    if state.gold is None:  # gold answers score the annotator once, on the first answer
        settings = quality_settings(acc.project.quality_settings)
        on_answer(conn, acc.project, schema, settings, old.item_id, state)
    audit.record(conn, actor, "answer.revise", project_id=project_id, object_type="item",
                 object_id=old.item_id, details={"answer": row.id, "supersedes": old.id})
    return _shown(schema, red, answer_info(row, actor.username)), True


def _shown(schema: LabelSchema, red: privacy.ItemRedaction | None, info: AnswerInfo) -> AnswerInfo:
    return info if red is None else replace(info, value=red.answer_to_shown(schema, info.value))
