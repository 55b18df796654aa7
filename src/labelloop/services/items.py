"""Browsing items, and what managers set on them: gold answers and queue priorities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Text, bindparam, cast, exists, func, or_, select, update

from labelloop.errors import Invalid, NotFound, Problem
from labelloop.services import audit
from labelloop.services.policy import Action, Actor, ProjectAccess, access
from labelloop.services.privacy import view as privacy
from labelloop.services.projects import schema_of
from labelloop.services.quality.review_reasons import reasons_of
from labelloop.services.queue.answers import AnswerInfo, list_answers
from labelloop.services.targets import item_targets
from labelloop.store.models import answers, consensus, items, open_when, published_in

STATUSES = ("open", "in_progress", "done")


@dataclass(frozen=True)
class ItemInfo:
    id: int
    external_id: str
    content_hash: str
    data: dict[str, Any]
    meta: dict[str, Any]
    priority: float
    needed: int
    answer_count: int
    leased: int
    status: str
    gold: dict[str, Any] | None  # only for those who may see gold
    created_at: datetime
    review: str | None = None  # pending or done (the review queue)
    consensus: dict[str, Any] | None = None  # {value, confidence, method, final}
    # The latest loop round suspects the label: {reasons, model_version, model_answer}.
    label_issue: dict[str, Any] | None = None
    # Why the item was sent to review, oldest first (services/quality/review_reasons.py);
    # kept after the decision.
    review_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemDetail:
    item: ItemInfo
    answers: list[AnswerInfo]


def _status(row: Any) -> str:
    if row.answer_count >= row.needed:
        return "done"
    return "in_progress" if row.reserved > 0 else "open"


def _info(row: Any, show_gold: bool) -> ItemInfo:
    settled = None
    if getattr(row, "c_method", None) is not None:
        settled = {"value": row.c_value, "confidence": row.c_confidence, "method": row.c_method,
                   "final": row.c_final}
    return ItemInfo(
        row.id, row.external_id, row.content_hash, row.data, row.meta, row.priority, row.needed,
        row.answer_count, row.reserved - row.answer_count, _status(row),
        row.gold if show_gold else None, row.created_at, row.review_state, settled, _label_issue(row),
        tuple(reasons_of(row.review_reason)),
    )


def _label_issue(row: Any) -> dict[str, Any] | None:
    """Why the latest loop round suspects the item's label (None: it does not).

    Gold items are never training data, so this never hints at a gold answer; and only roles
    that may view items (reviewers and up, who see every answer) ever get an item row.
    """
    if row.label_issue is None:
        return None
    return {"reasons": row.label_issue.split(","), "model_version": row.label_issue_version,
            "model_answer": row.label_issue_answer}


# Items with their consensus, for the data browser (one query per page, not one per item).
_WITH_CONSENSUS = select(
    items, consensus.c.value.label("c_value"), consensus.c.confidence.label("c_confidence"),
    consensus.c.method.label("c_method"), consensus.c.final.label("c_final"),
).select_from(items.outerjoin(consensus, consensus.c.item_id == items.c.id))


@dataclass(frozen=True)
class ItemFilter:
    """What the data browser filters by; every part is optional and they combine with AND."""

    status: str | None = None  # open, in_progress, done
    text: str | None = None  # a substring of the item's fields or metadata (case-insensitive)
    annotator_id: int | None = None  # items this user answered
    label: tuple[str, str] | None = None  # (question, value) the consensus settled on
    meta: tuple[str, str] | None = None  # (key, value) in the item's metadata
    review: str | None = None  # pending or done
    label_issue: bool | None = None  # True: items the latest loop round suspects; False: the others
    ids: tuple[int, ...] | None = None  # only these items (a lasso on the embedding map)


def _filtered(stmt: Any, f: ItemFilter) -> Any:
    if f.status is not None:
        if f.status not in STATUSES:
            raise Invalid("unknown status", [Problem(f"one of {', '.join(STATUSES)}", field="status")])
        done = items.c.answer_count >= items.c.needed
        stmt = stmt.where(
            done if f.status == "done"
            else (~done & (items.c.reserved > 0)) if f.status == "in_progress"
            else items.c.reserved == 0
        )
    if f.text:
        needle = f"%{f.text.lower()}%"
        stmt = stmt.where(or_(func.lower(cast(items.c.data, Text)).like(needle),
                              func.lower(cast(items.c.meta, Text)).like(needle)))
    if f.annotator_id is not None:
        stmt = stmt.where(exists().where(answers.c.item_id == items.c.id,
                                         answers.c.user_id == f.annotator_id))
    if f.label is not None:
        question, value = f.label
        stmt = stmt.where(consensus.c.value[question].as_string() == value)  # joined in the query
    if f.meta is not None:
        key, value = f.meta
        stmt = stmt.where(items.c.meta[key].as_string() == value)
    if f.review is not None:
        stmt = stmt.where(items.c.review_state == f.review)
    if f.label_issue is not None:  # True walks the partial index ix_items_label_issue
        flagged = items.c.label_issue.is_not(None)
        stmt = stmt.where(flagged if f.label_issue else ~flagged)
    if f.ids is not None:
        stmt = stmt.where(items.c.id.in_(f.ids))
    return stmt


def list_items(
    conn: Connection,
    actor: Actor,
    project_id: int,
    *,
    status: str | None = None,
    after_id: int = 0,
    limit: int = 100,
    where: ItemFilter | Sequence[ItemFilter] | None = None,
) -> list[ItemInfo]:
    """Items in id order (keyset pagination with `after_id`), filtered on the server (several
    filters combine with AND: a saved slice and the browser's own)."""
    acc = access(conn, actor, project_id, Action.view_items)
    stmt = (
        _WITH_CONSENSUS
        .where(published_in(project_id), items.c.id > after_id)
        .order_by(items.c.id)
        .limit(max(1, min(limit, 1000)))
    )
    filters = [f for f in (where if isinstance(where, Sequence) else [where]) if f] or [ItemFilter()]
    if status is not None:
        filters[0] = replace(filters[0], status=status)
    for f in filters:
        stmt = _filtered(stmt, f)
    show_gold = acc.allows(Action.view_gold, actor)
    return _shown(conn, acc, actor, conn.execute(stmt).all(), show_gold)[0]


def _shown(conn: Connection, acc: ProjectAccess, actor: Actor, rows: Sequence[Any], show_gold: bool
           ) -> tuple[list[ItemInfo], dict[int, privacy.ItemRedaction] | None]:
    """Item rows as the privacy policy shows them to item viewers: personal data redacted until
    revealed (services/privacy/view.py), with spans in answers moved onto the shown text."""
    infos = [_info(r, show_gold) for r in rows]
    reds = privacy.viewer_redactions(conn, acc, actor, list(rows))
    if reds is None:
        return infos, None
    schema = schema_of(acc.project.label_schema)
    out = []
    for info in infos:
        red = reds[info.id]
        issue = info.label_issue
        if issue is not None and issue.get("model_answer") is not None:
            issue = {**issue, "model_answer": red.answer_to_shown(schema, issue["model_answer"])}
        out.append(replace(
            info, data=red.data, meta=privacy.shown_meta(schema, red, info.meta),
            gold=None if info.gold is None else red.answer_to_shown(schema, info.gold),
            consensus=None if info.consensus is None else {
                **info.consensus, "value": red.answer_to_shown(schema, info.consensus["value"])},
            label_issue=issue,
        ))
    return out, reds


def get_item(conn: Connection, actor: Actor, project_id: int, item_id: int) -> ItemDetail:
    acc = access(conn, actor, project_id, Action.view_items)
    row = conn.execute(
        _WITH_CONSENSUS.where(items.c.id == item_id, published_in(project_id))
    ).first()
    if row is None:
        raise NotFound(f"item {item_id} not found in project {project_id}")
    # Redacted below with the item's own redaction (privacy), not the answers list's.
    found = list_answers(conn, actor, project_id, item_id=item_id, limit=1000, shown=False)
    audit.record(conn, actor, "item.view", project_id=project_id, object_type="item", object_id=item_id)
    shown, red = _shown(conn, acc, actor, [row], acc.allows(Action.view_gold, actor))
    info = shown[0]
    if red is not None:
        schema = schema_of(acc.project.label_schema)
        found = [replace(a, value=red[item_id].answer_to_shown(schema, a.value)) for a in found]
    return ItemDetail(info, found)


def set_gold(
    conn: Connection, actor: Actor, project_id: int, item_id: int, value: dict[str, Any] | None
) -> ItemInfo:
    """Mark an item as gold with its true answer (None removes the mark)."""
    acc = access(conn, actor, project_id, Action.edit_items)
    schema = schema_of(acc.project.label_schema)
    red = None if value is None else privacy.worker_redaction(conn, acc.project, schema, item_id)
    if red is not None:  # given on the redacted item view: spans go back to the original
        value = red.answer_to_original(schema, value)
    clean = None if value is None else schema.validate_answer(
        value, item_targets(conn, schema, project_id, item_id)
    )
    result = conn.execute(
        update(items)
        .where(items.c.id == item_id, published_in(project_id))
        .values(gold=clean)
    )
    if result.rowcount != 1:
        raise NotFound(f"item {item_id} not found in project {project_id}")
    # Gold leaves the normal queue (it is mixed in apart); an item no longer gold comes back.
    conn.execute(update(items).where(items.c.id == item_id).values(is_open=open_when(items.c.reserved)))
    row = conn.execute(select(items).where(items.c.id == item_id)).one()
    return _shown(conn, acc, actor, [row], True)[0][0]


def set_priorities(
    conn: Connection, actor: Actor, project_id: int, priorities: Sequence[tuple[int, float]]
) -> int:
    """Set queue priorities (higher first) by item id; the number of items changed."""
    access(conn, actor, project_id, Action.edit_items)
    if not priorities:
        return 0
    ids = [i for i, _ in priorities]
    found = set(
        conn.execute(
            select(items.c.id).where(published_in(project_id), items.c.id.in_(ids))
        ).scalars()
    )
    missing = [i for i in ids if i not in found]
    if missing:
        raise Invalid(
            "unknown items",
            [Problem(f"item {i} is not in this project", field="item_id") for i in missing[:20]],
        )
    conn.execute(
        update(items).where(items.c.id == bindparam("iid")).values(priority=bindparam("p")),
        [{"iid": i, "p": float(p)} for i, p in priorities],
    )
    return len(priorities)
