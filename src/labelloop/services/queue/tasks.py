"""The task queue: hand out items, hold leases, take answers and skips.

Invariants, kept inside one short transaction per call:
- `items.reserved` = answers given + live leases, and never exceeds `items.needed`;
- one assignment row per (item, annotator), so nobody gets an item twice;
- an answer is stored only against a live lease or a free slot, so an item never ends with
  more answers than it needs.
SQLite runs each call under BEGIN IMMEDIATE (one writer at a time); PostgreSQL picks items
with FOR UPDATE SKIP LOCKED so concurrent annotators never wait on each other's item.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from labelloop.errors import Conflict, NotFound
from labelloop.schema import LabelSchema
from labelloop.schema.fields import blind
from labelloop.services import audit
from labelloop.services.loop import suggestions
from labelloop.services.loop.settings import loop_settings
from labelloop.services.policy import Action, Actor, access
from labelloop.services.privacy import view as privacy
from labelloop.services.privacy.findings import SCAN_KEY
from labelloop.services.projects import schema_of
from labelloop.services.quality.settings import quality_settings
from labelloop.services.quality.trust import worker_access
from labelloop.store.models import assignments, items, open_when, predictions, utcnow

LEASED, SUBMITTED, SKIPPED, EXPIRED = "leased", "submitted", "skipped", "expired"
RECLAIM_BATCH = 500
# Which tasks are gold is drawn at random; SystemRandom so no annotator can predict it.
_rng = random.SystemRandom()


@dataclass(frozen=True)
class Task:
    item_id: int
    external_id: str
    data: dict[str, Any]
    meta: dict[str, Any]
    leased_at: datetime
    lease_expires_at: datetime
    # The latest model's answer, shown as a suggestion: {value, confidence, model_version}
    # (services/loop/suggestions.py says which model may suggest).
    prelabel: dict[str, Any] | None = None


def _is_pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


# Statements of the hot path are built once (building one costs more than running it).
_EXPIRED = (
    select(assignments.c.id, assignments.c.item_id)
    .where(
        assignments.c.project_id == bindparam("pid"),
        assignments.c.state == LEASED,
        assignments.c.expires_at < bindparam("now"),
    )
    .limit(RECLAIM_BATCH)
)
_EXPIRED_PG = _EXPIRED.with_for_update(skip_locked=True)
_MARK_EXPIRED = (
    update(assignments)
    .where(assignments.c.id.in_(bindparam("ids", expanding=True)))
    .values(state=EXPIRED, finished_at=bindparam("now"))
)
_RELEASE = (
    update(items)
    .where(items.c.id == bindparam("iid"))
    .values(
        reserved=items.c.reserved - bindparam("n"),
        is_open=open_when(items.c.reserved - bindparam("n")),
    )
)
_TAKE_SLOT = (
    update(items)
    .where(items.c.id == bindparam("iid"), items.c.reserved < items.c.needed)
    .values(reserved=items.c.reserved + 1, is_open=open_when(items.c.reserved + 1))
)
_ITEM_CONTENT = select(items.c.external_id, items.c.data, items.c.meta, SCAN_KEY).where(
    items.c.id == bindparam("iid")
)
_HELD = (
    select(assignments.c.item_id, assignments.c.leased_at, assignments.c.expires_at)
    .where(
        assignments.c.user_id == bindparam("uid"),
        assignments.c.project_id == bindparam("pid"),
        assignments.c.state == LEASED,
    )
    .order_by(assignments.c.leased_at, assignments.c.id)
)
# Items the annotator (`uid`) has never held, answered or skipped (an expired lease does not count).
NOT_TAKEN_BY_ME = ~exists().where(
    assignments.c.item_id == items.c.id,
    assignments.c.user_id == bindparam("uid"),
    assignments.c.state != EXPIRED,
)
_PICK = (
    select(items.c.id)
    .where(items.c.project_id == bindparam("pid"), items.c.is_open, NOT_TAKEN_BY_ME)
    .order_by(items.c.priority.desc(), items.c.id)
    .limit(1)
)
# FOR NO KEY UPDATE, the lock the UPDATE that follows takes anyway: it excludes other pickers but not
# the KEY SHARE lock a foreign-key check takes (a privacy scan writing `item_pii` rows), so an
# item being scanned is never skipped as taken.
_PICK_PG = _PICK.with_for_update(of=items, skip_locked=True, key_share=True)
# With pre-labels required, only items the suggesting model has answered are handed out.
_PICK_PRELABELLED = _PICK.where(exists().where(
    predictions.c.model_version_id == bindparam("mv"), predictions.c.item_id == items.c.id
))
_PICK_PRELABELLED_PG = _PICK_PRELABELLED.with_for_update(of=items, skip_locked=True, key_share=True)
# Gold items the annotator has not seen, in an order of their own (so colleagues comparing
# notes do not find the same gold in the same place).
_PICK_GOLD = (
    select(items.c.id)
    .where(
        items.c.project_id == bindparam("pid"),
        items.c.gold.is_not(None),
        items.c.staged.is_(False),
        NOT_TAKEN_BY_ME,
    )
    # A multiplicative hash of the id, then a multiplication by a per-annotator factor modulo a
    # prime: a different permutation for each annotator (all in 64-bit integer arithmetic).
    .order_by(
        ((items.c.id * 2654435761) % 4294967291) * (bindparam("uid") + 1000003) % 4294967291
    )
    .limit(1)
)
_TAKE_GOLD_SLOT = (
    update(items).where(items.c.id == bindparam("iid")).values(reserved=items.c.reserved + 1)
)
# A task handed out comes back from the UPDATE that reserves its slot, content and all, rather than
# in a second statement (_task). SQLite's RETURNING drops table names, which a correlated subquery
# (SCAN_KEY) cannot do without: there the scan key is read after, when the privacy policy needs it.
_CONTENT = (items.c.id, items.c.external_id, items.c.data, items.c.meta)
_RETURNED = {"postgresql": (*_CONTENT, SCAN_KEY), "sqlite": _CONTENT}
_PICKS = {
    ("sqlite", False): _PICK, ("sqlite", True): _PICK_PRELABELLED,
    ("postgresql", False): _PICK_PG, ("postgresql", True): _PICK_PRELABELLED_PG,
}
# (dialect, pre-labels required) -> reserve a slot on the item the pick chooses, in one
# statement; no row when nothing is left for the annotator.
_PICK_AND_TAKE = {
    (dialect, required): update(items)
    .where(items.c.id == pick.scalar_subquery(), items.c.reserved < items.c.needed)
    .values(reserved=items.c.reserved + 1, is_open=open_when(items.c.reserved + 1))
    .returning(*_RETURNED[dialect])
    for (dialect, required), pick in _PICKS.items()
}
# When a gold item may be due: the next work item (gold is only mixed into work) and the next
# gold item, in one round trip.
_PICK_WITH_GOLD = {
    key: select(pick.scalar_subquery().label("item_id"), _PICK_GOLD.scalar_subquery().label("gold_id"))
    for key, pick in _PICKS.items()
}
_TAKE_SLOT_RETURNING = {d: _TAKE_SLOT.returning(*cols) for d, cols in _RETURNED.items()}
_TAKE_GOLD_SLOT_RETURNING = {d: _TAKE_GOLD_SLOT.returning(*cols) for d, cols in _RETURNED.items()}


def _upsert_lease(dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(assignments).values(
        project_id=bindparam("pid"), item_id=bindparam("iid"), user_id=bindparam("uid"),
        state=LEASED, leased_at=bindparam("now"), expires_at=bindparam("expires"),
    )
    return stmt.on_conflict_do_update(
        index_elements=["item_id", "user_id"],
        set_={"state": LEASED, "leased_at": stmt.excluded.leased_at,
              "expires_at": stmt.excluded.expires_at, "finished_at": None},
        where=assignments.c.state == EXPIRED,
    )


_UPSERT_LEASE = {d: _upsert_lease(d) for d in ("sqlite", "postgresql")}
_SET_ASSIGNMENT = (
    update(assignments)
    .where(assignments.c.item_id == bindparam("iid"), assignments.c.user_id == bindparam("uid"))
)
_ASSIGNMENT = (
    select(assignments.c.state, assignments.c.leased_at, assignments.c.expires_at, items.c.gold)
    .join(items, items.c.id == assignments.c.item_id)
    .where(
        assignments.c.item_id == bindparam("iid"),
        assignments.c.user_id == bindparam("uid"),
        assignments.c.project_id == bindparam("pid"),
    )
)
_ASSIGNMENT_PG = _ASSIGNMENT.with_for_update(of=assignments)


def reclaim_expired(conn: Connection, project_id: int, now: datetime) -> int:
    """Return the slots of expired leases to the pool; the number reclaimed."""
    stmt = _EXPIRED_PG if _is_pg(conn) else _EXPIRED
    rows = conn.execute(stmt, {"pid": project_id, "now": now}).all()
    if not rows:
        return 0
    conn.execute(_MARK_EXPIRED, {"ids": [r.id for r in rows], "now": now})
    # Items in id order, so that two transactions reclaiming at once cannot deadlock.
    for item_id, n in sorted(Counter(r.item_id for r in rows).items()):
        _release_slots(conn, item_id, n)
    return len(rows)


def _release_slots(conn: Connection, item_id: int, n: int = 1) -> None:
    conn.execute(_RELEASE, {"iid": item_id, "n": n})


def _take_slot(conn: Connection, item_id: int, *, gold: bool = False) -> bool:
    """Reserve one answer slot on the item if it still has one (gold items always have one)."""
    return conn.execute(_TAKE_GOLD_SLOT if gold else _TAKE_SLOT, {"iid": item_id}).rowcount == 1


# The item and the suggesting model's answer for it, in one query.
_ITEM_WITH_PREDICTION = (
    select(items.c.external_id, items.c.data, items.c.meta, SCAN_KEY, predictions.c.value,
           predictions.c.confidence)
    .outerjoin(predictions, (predictions.c.item_id == items.c.id)
               & (predictions.c.model_version_id == bindparam("mv")))
    .where(items.c.id == bindparam("iid"))
)


def _task(
    conn: Connection, item_id: int, leased_at: datetime, expires_at: datetime, model: int | None,
    schema: LabelSchema, project: Any, content: Any = None,
) -> Task:
    """The task, with `model`'s suggestion when there is a model to suggest (see suggestions.py).

    `content`: the item's row (_RETURNED) when the caller has it already. Candidate responses come
    without their `model` and `meta` (blind comparison: docs/feedback.md); personal data as the
    project's privacy policy shows it to annotators (services/privacy/view.py).
    """
    hiding = privacy.hiding(project)
    if model is None:
        plain = content
        if plain is None or (hiding is not None and "pii_scan" not in plain._fields):
            plain = conn.execute(_ITEM_CONTENT, {"iid": item_id}).one()
        if hiding is None:
            return Task(item_id, plain.external_id, blind(schema.fields, plain.data), plain.meta,
                        leased_at, expires_at)
        red = privacy.redaction(conn, hiding, schema, item_id, plain.data, plain.pii_scan, plain.meta,
                                project_id=project.id)
        return Task(item_id, plain.external_id, blind(schema.fields, red.data),
                    privacy.shown_meta(schema, red, plain.meta), leased_at, expires_at)
    row = conn.execute(_ITEM_WITH_PREDICTION, {"iid": item_id, "mv": model}).one()
    prelabel = None if row.value is None else suggestions.prelabel(row.value, row.confidence, model)
    if hiding is None:
        return Task(item_id, row.external_id, blind(schema.fields, row.data), row.meta, leased_at,
                    expires_at, prelabel)
    red = privacy.redaction(conn, hiding, schema, item_id, row.data, row.pii_scan, row.meta,
                            project_id=project.id, prediction=row.value, version=model)
    return Task(item_id, row.external_id, blind(schema.fields, red.data),
                privacy.shown_meta(schema, red, row.meta), leased_at, expires_at,
                privacy.shown_prelabel(schema, red, prelabel))


def next_task(
    conn: Connection,
    actor: Actor,
    project_id: int,
    *,
    exclude: frozenset[int] = frozenset(),
    max_held: int = 3,
) -> Task | None:
    """The annotator's next task, or None when nothing is left for them.

    A lease the annotator already holds comes back first (a reload resumes where it was);
    `exclude` lists items the client already shows, so a prefetch gets a different one.
    """
    uid = actor.user_id
    if uid is None:
        raise Conflict("the operator account does not take tasks")
    acc, me = worker_access(conn, actor, project_id)
    now = utcnow()
    reclaim_expired(conn, project_id, now)
    loop = loop_settings(acc.project.loop_settings)
    model = suggestions.suggesting_model(conn, project_id, loop)
    schema = schema_of(acc.project.label_schema)

    held = conn.execute(_HELD, {"uid": uid, "pid": project_id}).all()
    for h in held:
        if h.item_id not in exclude:
            task = _task(conn, h.item_id, h.leased_at, h.expires_at, model, schema, acc.project)
            return _served(conn, actor, project_id, task)
    if len(held) >= max_held:
        raise Conflict(f"you already hold {len(held)} tasks in this project; submit or skip one")

    # Required suggestions need a model that may suggest: with none (or one below the bar),
    # nothing is handed out, rather than items without the suggestion the project asked for.
    required = loop.prelabels == "require"
    if required and model is None:
        return None
    params = {"pid": project_id, "uid": uid, **({"mv": model} if required else {})}
    settings = quality_settings(acc.project.quality_settings)
    key = (conn.dialect.name, required)
    if me.gold_answered < settings.gold_first or _rng.random() < settings.gold_rate:
        picked = conn.execute(_PICK_WITH_GOLD[key], params).one()
        if picked.item_id is None:
            return None  # no gold either: it is mixed into work, not handed out on its own
        gold = picked.gold_id is not None
        take = (_TAKE_GOLD_SLOT_RETURNING if gold else _TAKE_SLOT_RETURNING)[conn.dialect.name]
        taken = conn.execute(take, {"iid": picked.gold_id if gold else picked.item_id}).first()
    else:
        taken = conn.execute(_PICK_AND_TAKE[key], params).first()
    if taken is None:
        return None
    expires = now + timedelta(seconds=acc.project.lease_seconds)
    conn.execute(
        _UPSERT_LEASE[conn.dialect.name],
        {"pid": project_id, "iid": taken.id, "uid": uid, "now": now, "expires": expires},
    )
    task = _task(conn, taken.id, now, expires, model, schema, acc.project, content=taken)
    return _served(conn, actor, project_id, task)


def _served(conn: Connection, actor: Actor, project_id: int, task: Task) -> Task:
    """Item content handed to an annotator is a read the audit log keeps (who saw what), appended
    with the commit: the entry locks the audit chain's head (services/audit/chain.py)."""
    audit.record(conn, actor, "task.serve", project_id=project_id, object_type="item", object_id=task.item_id,
                 at_commit=True)
    return task


@dataclass(frozen=True)
class Lease:
    item_id: int
    state: str
    leased_at: datetime
    expires_at: datetime
    gold: dict[str, Any] | None = None  # the item's gold answer, for scoring (never shown)
    # On a renewal: the item's current suggestion, so an open page gets a new round's.
    prelabel: dict[str, Any] | None = None


def lock_assignment(conn: Connection, project_id: int, item_id: int, user_id: int) -> Lease:
    """The caller's assignment of this item, row-locked on PostgreSQL until commit."""
    stmt = _ASSIGNMENT_PG if _is_pg(conn) else _ASSIGNMENT
    row = conn.execute(stmt, {"iid": item_id, "uid": user_id, "pid": project_id}).first()
    if row is None:
        if conn.execute(
            select(items.c.id).where(items.c.id == item_id, items.c.project_id == project_id)
        ).first() is None:
            raise NotFound(f"item {item_id} not found in project {project_id}")
        raise Conflict(f"item {item_id} was not handed to you; ask for your next task")
    return Lease(item_id, row.state, row.leased_at, row.expires_at, row.gold)


def reacquire(conn: Connection, lease: Lease, user_id: int, now: datetime, lease_seconds: int) -> Lease:
    """Turn an expired or skipped assignment back into a lease, if the item still has a slot."""
    if not _take_slot(conn, lease.item_id, gold=lease.gold is not None):
        raise Conflict(
            f"your lease on item {lease.item_id} ended and the item has all the answers it needs"
        )
    expires = now + timedelta(seconds=lease_seconds)
    conn.execute(
        _SET_ASSIGNMENT.values(state=LEASED, leased_at=now, expires_at=expires, finished_at=None),
        {"iid": lease.item_id, "uid": user_id},
    )
    return Lease(lease.item_id, LEASED, now, expires, lease.gold)


def renew_lease(conn: Connection, actor: Actor, project_id: int, item_id: int) -> Lease:
    """Extend the caller's lease by the project's lease time (the page calls this while open).

    The renewed lease carries the item's current suggestion: a round that finished since the
    item was handed out reaches the open page this way, without a reload.
    """
    acc = access(conn, actor, project_id, Action.work_tasks)
    assert actor.user_id is not None
    lease = lock_assignment(conn, project_id, item_id, actor.user_id)
    now = utcnow()
    if lease.state == SUBMITTED:
        raise Conflict(f"item {item_id} is already answered")
    if lease.state != LEASED:
        lease = reacquire(conn, lease, actor.user_id, now, acc.project.lease_seconds)
    else:
        expires = now + timedelta(seconds=acc.project.lease_seconds)
        conn.execute(
            update(assignments)
            .where(assignments.c.item_id == item_id, assignments.c.user_id == actor.user_id)
            .values(expires_at=expires)
        )
        lease = Lease(item_id, LEASED, lease.leased_at, expires, lease.gold)
    model = suggestions.suggesting_model(conn, project_id, loop_settings(acc.project.loop_settings))
    found = None if model is None else suggestions.prediction(conn, model, item_id)
    if found is not None and privacy.hiding(acc.project) is not None:
        schema = schema_of(acc.project.label_schema)
        red = privacy.item_redaction(conn, acc.project, schema, item_id)
        found = privacy.shown_prelabel(schema, red, found)
    return replace(lease, prelabel=found)


def skip_task(
    conn: Connection, actor: Actor, project_id: int, item_id: int, reason: str | None = None
) -> None:
    """Give the item back and never hand it to this annotator again; the skip is recorded."""
    access(conn, actor, project_id, Action.work_tasks)
    assert actor.user_id is not None
    lease = lock_assignment(conn, project_id, item_id, actor.user_id)
    if lease.state == SKIPPED:
        return
    if lease.state == SUBMITTED:
        raise Conflict(f"item {item_id} is already answered")
    now = utcnow()
    conn.execute(
        update(assignments)
        .where(assignments.c.item_id == item_id, assignments.c.user_id == actor.user_id)
        .values(state=SKIPPED, finished_at=now, skip_reason=(reason or None) and reason[:500])
    )
    if lease.state == LEASED:
        _release_slots(conn, item_id)
