"""Answers: validated against the schema, stored append-only, idempotent under retries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, true, update

from labelloop.errors import Conflict, Invalid, Problem
from labelloop.schema import LabelSchema
from labelloop.services import audit
from labelloop.services.loop.settings import loop_settings
from labelloop.services.loop.suggestions import suggestion_record
from labelloop.services.policy import Action, Actor, access
from labelloop.services.privacy.view import ItemRedaction, transcripts_shown, worker_redaction
from labelloop.services.projects import schema_of
from labelloop.services.quality.consensus import on_answer
from labelloop.services.quality.settings import quality_settings
from labelloop.services.quality.trust import gold_correct, record_gold_answer, worker_access
from labelloop.services.queue.tasks import LEASED, SUBMITTED, lock_assignment, reacquire
from labelloop.services.targets import item_targets
from labelloop.store.models import answers, assignments, items, users, utcnow

MAX_KEY = 100


@dataclass(frozen=True)
class AnswerInfo:
    id: int
    item_id: int
    user_id: int
    username: str | None
    value: dict[str, Any]
    created_at: datetime
    leased_at: datetime | None
    duration_ms: int | None
    source: str
    # What the answer did with the suggestion shown with it (services/loop/suggestions.py); None: none shown.
    suggestion: dict[str, Any] | None = None


def answer_info(row: Any, username: str | None = None) -> AnswerInfo:
    """An answers row (with the author's name when known) as an AnswerInfo."""
    return AnswerInfo(
        row.id, row.item_id, row.user_id, username, row.value, row.created_at, row.leased_at,
        row.duration_ms, row.source, row.suggestion,
    )


# Statements of the submit path, built once.
_BY_KEY = select(answers).where(
    answers.c.user_id == bindparam("uid"), answers.c.idempotency_key == bindparam("key")
)
_MARK_SUBMITTED = (
    update(assignments)
    .where(assignments.c.item_id == bindparam("iid"), assignments.c.user_id == bindparam("uid"))
    .values(state=SUBMITTED, finished_at=bindparam("now"))
)
_COUNT_ANSWER = (
    update(items)
    .where(items.c.id == bindparam("iid"))
    .values(answer_count=items.c.answer_count + 1)
    .returning(items.c.needed, items.c.reserved, items.c.answer_count, items.c.review_state)
)
_INSERT = insert(answers).returning(answers)
_FIELDS = ("project_id", "item_id", "user_id", "value", "idempotency_key", "source", "leased_at",
           "created_at", "duration_ms", "supersedes_id", "suggestion")
# PostgreSQL: the three writes of a submit in one statement, one round trip (they touch three
# different rows: the assignment, locked already, the item, and the new answer). A row with the
# answer and the item's counts. SQLite, in process, runs the three statements. The answer's
# parameters are named `new_<column>`: a parameter named as a column of a table an UPDATE here
# writes would become one more value to SET.
_STORED = (
    insert(answers).values({k: bindparam(f"new_{k}") for k in _FIELDS}).returning(*answers.c).cte("stored")
)
_COUNTED = _COUNT_ANSWER.cte("counted")
_STORE_PG = (
    select(_STORED, _COUNTED)
    .select_from(_STORED.join(_COUNTED, true()))  # one row each
    .add_cte(_MARK_SUBMITTED.cte("marked"))
)


def _replay(
    conn: Connection, actor: Actor, key: str, item_id: int, value: dict[str, Any]
) -> AnswerInfo | None:
    """The caller's answer stored under this key, as the submit that stored it answered."""
    row = conn.execute(_BY_KEY, {"uid": actor.user_id, "key": key}).first()
    if row is None:
        return None
    if row.item_id != item_id or row.value != value:
        raise Conflict("this idempotency key was already used for a different answer")
    return answer_info(row, actor.username)


def submit_answer(
    conn: Connection,
    actor: Actor,
    project_id: int,
    item_id: int,
    value: Any,
    *,
    idempotency_key: str | None = None,
    duration_ms: int | None = None,
    suggestion_version: int | str | None = None,
) -> tuple[AnswerInfo, bool]:
    """Store the caller's answer to an item handed to them; (answer, created).

    A retry with the same idempotency key returns the stored answer and creates nothing.
    An answer after the lease expired is still taken while the item has a free slot.
    `suggestion_version` names the suggestion the client showed with the item (a model version,
    or "import" for the item's imported pre-label); the answer is compared with it here.
    """
    uid = actor.user_id
    if uid is None:
        raise Conflict("the operator account does not answer tasks")
    acc, _ = worker_access(conn, actor, project_id)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= MAX_KEY:
        raise Invalid(
            "invalid idempotency key", [Problem(f"1 to {MAX_KEY} characters", field="Idempotency-Key")]
        )
    if duration_ms is not None and not 0 <= duration_ms <= 86_400_000:
        raise Invalid("invalid duration", [Problem("0 to 86400000 milliseconds", field="duration_ms")])
    schema = schema_of(acc.project.label_schema)
    # Spans drawn on the redacted text the annotator was shown go back to the original first,
    # and what is answered comes back on the shown text (services/privacy/view.py).
    red = worker_redaction(conn, acc.project, schema, item_id)
    if red is not None:
        value = red.answer_to_original(schema, value)
    clean = schema.validate_answer(value, item_targets(conn, schema, project_id, item_id))

    lease = lock_assignment(conn, project_id, item_id, uid)
    if idempotency_key is not None:
        replay = _replay(conn, actor, idempotency_key, item_id, clean)
        if replay is not None:
            return _shown(schema, red, replay), False
    if lease.state == SUBMITTED:
        raise Conflict(f"you have already answered item {item_id}")
    suggestion = suggestion_record(
        conn, schema, loop_settings(acc.project.loop_settings), item_id, suggestion_version, clean
    )
    now = utcnow()
    if lease.state != LEASED:
        lease = reacquire(conn, lease, uid, now, acc.project.lease_seconds)

    fields = {
        "project_id": project_id,
        "item_id": item_id,
        "user_id": uid,
        "value": clean,
        "idempotency_key": idempotency_key or f"server:{uuid.uuid4()}",
        "source": "human",
        "leased_at": lease.leased_at,
        "created_at": now,
        "duration_ms": duration_ms,
        "supersedes_id": None,
        "suggestion": suggestion,
    }
    if conn.dialect.name == "postgresql":
        params = {"iid": item_id, "uid": uid, "now": now, **{f"new_{k}": v for k, v in fields.items()}}
        row = state = conn.execute(_STORE_PG, params).one()
    else:
        conn.execute(_MARK_SUBMITTED, {"iid": item_id, "uid": uid, "now": now})
        state = conn.execute(_COUNT_ANSWER, {"iid": item_id}).one()
        row = conn.execute(_INSERT, fields).one()
    settings = quality_settings(acc.project.quality_settings)
    if lease.gold is not None:
        record_gold_answer(conn, project_id, uid, gold_correct(lease.gold, clean, schema, settings), settings)
    else:
        on_answer(conn, acc.project, schema, settings, item_id, state)
    # With the commit (services/audit/chain.py): the entry locks the audit chain's head.
    audit.record(conn, actor, "answer.submit", project_id=project_id, object_type="item", object_id=item_id,
                 details={"answer": row.id}, at_commit=True)
    return _shown(schema, red, answer_info(row, actor.username)), True


def _shown(schema: LabelSchema, red: ItemRedaction | None, info: AnswerInfo) -> AnswerInfo:
    return info if red is None else replace(info, value=red.answer_to_shown(schema, info.value))


def list_answers(
    conn: Connection,
    actor: Actor,
    project_id: int,
    *,
    user_id: int | None = None,
    item_id: int | None = None,
    after_id: int = 0,
    before_id: int | None = None,
    newest_first: bool = False,
    limit: int = 100,
    shown: bool = True,
) -> list[AnswerInfo]:
    """Answers in id order, or newest first. Annotators see only their own, whatever they ask for.
    Transcripts as the privacy policy shows them unless `shown` is False (a caller that redacts
    them itself, as the item page does)."""
    acc = access(conn, actor, project_id, Action.view_own_answers)
    if not acc.allows(Action.view_all_answers, actor):
        user_id = actor.user_id
    stmt = (
        select(answers, users.c.username)
        .join(users, users.c.id == answers.c.user_id)
        .where(answers.c.project_id == project_id, answers.c.id > after_id)
        .order_by(answers.c.id.desc() if newest_first else answers.c.id)
        .limit(max(1, min(limit, 1000)))
    )
    if before_id is not None:
        stmt = stmt.where(answers.c.id < before_id)
    if user_id is not None:
        stmt = stmt.where(answers.c.user_id == user_id)
    if item_id is not None:
        stmt = stmt.where(answers.c.item_id == item_id)
    found = [answer_info(r, r.username) for r in conn.execute(stmt)]
    if not shown:
        return found
    # Transcripts as the privacy policy shows them (services/privacy/view.py); spans stay on the original.
    values = transcripts_shown(conn, acc.project, schema_of(acc.project.label_schema),
                               [(a.item_id, a.value) for a in found])
    return [a if v is a.value else replace(a, value=v) for a, v in zip(found, values, strict=True)]
