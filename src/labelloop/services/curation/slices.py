"""Slices: a project's saved, named filters of its items, usable wherever a filter is.

A slice's filter is the data browser's filter object: the query parameters of
`GET /api/projects/{id}/items` as a JSON object (`status`, `q`, `annotator`, `label`
"question:value", `meta` "key:value", `review`, `label_issue`), plus `ids` (at most
`MAX_IDS` item ids: a lasso on the embedding map). `parse_filter` is the one parser of that
object, for the list endpoint's query as for a stored slice, so there is one filter language.
A slice is checked when it is saved and used by the data browser (`?slice=`), the exports,
the review queue, queue priorities (`set_priority`) and releases (`labelloop dataset release
--filter SLICE`). Managers write slices; whoever may view the items (reviewers and up) reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from labelloop.errors import Conflict, Invalid, NotFound, Problem
from labelloop.services import audit
from labelloop.services.items import STATUSES, ItemFilter, ItemInfo, _filtered, list_items
from labelloop.services.policy import Action, Actor, access
from labelloop.store.models import consensus, items, published_in, slices, utcnow

MAX_IDS = 20_000  # the embedding map's sample: a lasso selects at most this many items
MAX_TEXT = 500
NAME_CHARS = 100
KEYS = ("status", "q", "annotator", "label", "meta", "review", "label_issue", "ids")
REVIEW_STATES = ("pending", "done")
PRIORITY_MODES = ("set", "add")


def _bad(field: str, message: str) -> Invalid:
    return Invalid("invalid filter", [Problem(message, field=field)])


def _pair(field: str, value: Any) -> tuple[str, str]:
    if not isinstance(value, str):
        raise _bad(field, "write it as name:value")
    key, sep, rest = value.partition(":")
    if not sep or not key:
        raise _bad(field, "write it as name:value")
    return key, rest


def _ids(field: str, value: Any) -> tuple[int, ...]:
    raw = value.split(",") if isinstance(value, str) else value
    if not isinstance(raw, list | tuple):
        raise _bad(field, "a list of item ids")
    if len(raw) > MAX_IDS:
        raise _bad(field, f"at most {MAX_IDS} item ids, not {len(raw)}")
    out = []
    for k, v in enumerate(raw):
        if isinstance(v, str) and v.strip().isdigit():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v < 2**63:
            raise _bad(f"{field}[{k}]", f"{v!r} is not an item id")
        out.append(v)
    return tuple(sorted(set(out)))


def _bool(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _bad(field, f"{value!r}: true or false")


def _one_of(field: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise _bad(field, f"{value!r}: one of {', '.join(allowed)}")
    return str(value)


def parse_filter(given: Mapping[str, Any], *, prefix: str = "") -> ItemFilter:
    """The data browser's filter object (a query's parameters, or a slice's JSON) as an
    `ItemFilter`; Invalid naming the first field that does not exist or holds a bad value.
    Empty values (None, "") are left out, as the browser leaves out a filter that is not set."""
    at = (lambda k: f"{prefix}.{k}") if prefix else (lambda k: k)
    unknown = sorted(k for k in given if k not in KEYS)
    if unknown:
        raise Invalid("unknown filter field", [Problem(
            f"{k!r} is not a filter; filters: {', '.join(KEYS)}", field=at(k)) for k in unknown])
    v = {k: x for k, x in given.items() if x is not None and x != ""}
    annotator = v.get("annotator")
    if annotator is not None:
        if isinstance(annotator, str) and annotator.isdigit():
            annotator = int(annotator)
        if isinstance(annotator, bool) or not isinstance(annotator, int) or not 1 <= annotator < 2**63:
            raise _bad(at("annotator"), f"{annotator!r} is not a user id")
    text = v.get("q")
    if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT):
        raise _bad(at("q"), f"a text of at most {MAX_TEXT} characters")
    return ItemFilter(
        status=_one_of(at("status"), v["status"], STATUSES) if "status" in v else None,
        text=text,
        annotator_id=annotator,
        label=_pair(at("label"), v["label"]) if "label" in v else None,
        meta=_pair(at("meta"), v["meta"]) if "meta" in v else None,
        review=_one_of(at("review"), v["review"], REVIEW_STATES) if "review" in v else None,
        label_issue=_bool(at("label_issue"), v["label_issue"]) if "label_issue" in v else None,
        ids=_ids(at("ids"), v["ids"]) if "ids" in v else None,
    )


def filter_params(f: ItemFilter) -> dict[str, Any]:
    """An `ItemFilter` as the filter object (what a slice stores and shows): only what is set."""
    out: dict[str, Any] = {}
    for field in fields(f):
        value = getattr(f, field.name)
        if value is None:
            continue
        key = {"text": "q", "annotator_id": "annotator"}.get(field.name, field.name)
        out[key] = (":".join(value) if key in ("label", "meta") else list(value) if key == "ids" else value)
    return out


def _row(conn: Connection, project_id: int, slice_id: int) -> Any:
    row = conn.execute(select(slices).where(slices.c.id == slice_id,
                                            slices.c.project_id == project_id)).first()
    if row is None:  # "not found" without naming the project: the project exists, the slice does not
        raise NotFound(f"slice {slice_id} not found")
    return row


def _info(row: Any) -> dict[str, Any]:
    return {"id": int(row.id), "name": row.name, "filter": dict(row.filter), "created_by": row.created_by,
            "created_at": row.created_at, "updated_at": row.updated_at}


def _name(name: str) -> str:
    clean = name.strip()
    if not clean or len(clean) > NAME_CHARS or clean.isdigit():
        raise Invalid("bad slice name", [Problem(
            f"{name!r}: 1 to {NAME_CHARS} characters, not only digits (a number is a slice id)",
            field="name")])
    return clean


def filter_of(conn: Connection, project_id: int, ref: int | str, *, field: str = "slice") -> ItemFilter:
    """The filter of the project's slice `ref` (its id, or its name); Invalid naming `field` when
    the project has no such slice. Callers check the caller's access to the project first."""
    where = [slices.c.project_id == project_id]
    if isinstance(ref, int) or ref.isdigit():
        where.append(slices.c.id == int(ref))
    else:
        where.append(slices.c.name == ref)
    row = conn.execute(select(slices.c.filter).where(*where)).first()
    if row is None:
        raise Invalid("unknown slice", [Problem(f"{ref!r} is not a slice of this project", field=field)])
    return parse_filter(row.filter)


def slice_filter(conn: Connection, actor: Actor, project_id: int, ref: int | str) -> ItemFilter:
    """The filter of a slice named by id or name, for a caller who may view the project's items."""
    access(conn, actor, project_id, Action.view_items)
    return filter_of(conn, project_id, ref)


def list_slices(conn: Connection, actor: Actor, project_id: int) -> list[dict[str, Any]]:
    """The project's slices by name."""
    access(conn, actor, project_id, Action.view_items)
    return [_info(r) for r in conn.execute(
        select(slices).where(slices.c.project_id == project_id).order_by(slices.c.name, slices.c.id))]


def get_slice(conn: Connection, actor: Actor, project_id: int, slice_id: int) -> dict[str, Any]:
    """One slice with the number of items it holds now."""
    access(conn, actor, project_id, Action.view_items)
    row = _row(conn, project_id, slice_id)
    return {**_info(row), "count": _count(conn, project_id, parse_filter(row.filter))}


def _count(conn: Connection, project_id: int, f: ItemFilter) -> int:
    stmt = select(func.count()).select_from(items.outerjoin(consensus, consensus.c.item_id == items.c.id))
    return int(conn.execute(_filtered(stmt.where(published_in(project_id)), f)).scalar_one())


def create_slice(conn: Connection, actor: Actor, project_id: int, name: str, given: Mapping[str, Any]
                 ) -> dict[str, Any]:
    """Save a named filter (checked first; a name already taken is a Conflict)."""
    access(conn, actor, project_id, Action.edit_items)
    clean = filter_params(parse_filter(given, prefix="filter"))
    now = utcnow()
    try:
        with conn.begin_nested():
            slice_id = conn.execute(insert(slices).values(
                project_id=project_id, name=_name(name), filter=clean, created_by=actor.user_id,
                created_at=now, updated_at=now).returning(slices.c.id)).scalar_one()
    except IntegrityError:
        raise Conflict(f"a slice named {name.strip()!r} already exists here") from None
    audit.record(conn, actor, "slice.create", project_id=project_id, object_type="slice", object_id=slice_id,
                 details={"name": name.strip(), "filter": clean})
    return _info(_row(conn, project_id, slice_id))


def update_slice(conn: Connection, actor: Actor, project_id: int, slice_id: int, *, name: str | None = None,
                 given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Rename a slice or change its filter."""
    access(conn, actor, project_id, Action.edit_items)
    _row(conn, project_id, slice_id)
    values: dict[str, Any] = {"updated_at": utcnow()}
    if name is not None:
        values["name"] = _name(name)
    if given is not None:
        values["filter"] = filter_params(parse_filter(given, prefix="filter"))
    try:
        with conn.begin_nested():
            conn.execute(update(slices).where(slices.c.id == slice_id).values(**values))
    except IntegrityError:
        raise Conflict(f"a slice named {values['name']!r} already exists here") from None
    audit.record(conn, actor, "slice.update", project_id=project_id, object_type="slice", object_id=slice_id,
                 details={k: v for k, v in values.items() if k != "updated_at"})
    return _info(_row(conn, project_id, slice_id))


def delete_slice(conn: Connection, actor: Actor, project_id: int, slice_id: int) -> None:
    access(conn, actor, project_id, Action.edit_items)
    row = _row(conn, project_id, slice_id)
    conn.execute(delete(slices).where(slices.c.id == slice_id))
    audit.record(conn, actor, "slice.delete", project_id=project_id, object_type="slice", object_id=slice_id,
                 details={"name": row.name})


def browse(conn: Connection, actor: Actor, project_id: int, where: ItemFilter | None = None, *,
           slice_id: int | None = None, after_id: int = 0, limit: int = 100) -> list[ItemInfo]:
    """The data browser's page: items of `where` and, when given, of the slice too."""
    access(conn, actor, project_id, Action.view_items)  # before the slice: outsiders learn nothing
    filters = [where or ItemFilter()]
    if slice_id is not None:
        filters.append(filter_of(conn, project_id, slice_id))
    return list_items(conn, actor, project_id, after_id=after_id, limit=limit, where=filters)


def set_priority(conn: Connection, actor: Actor, project_id: int, slice_id: int, priority: float,
                 mode: str = "set") -> int:
    """Set (`set`) or shift (`add`, negative lowers) the queue priority of every item of the slice;
    the number of items changed. Priorities order the next-task queue (higher first)."""
    access(conn, actor, project_id, Action.edit_items)
    _one_of("mode", mode, PRIORITY_MODES)
    f = filter_of(conn, project_id, slice_id)
    members = _filtered(select(items.c.id).select_from(
        items.outerjoin(consensus, consensus.c.item_id == items.c.id)).where(published_in(project_id)), f)
    value = items.c.priority + priority if mode == "add" else priority
    changed = conn.execute(update(items).where(items.c.id.in_(members.scalar_subquery()))
                           .values(priority=value)).rowcount
    audit.record(conn, actor, "slice.priority", project_id=project_id, object_type="slice",
                 object_id=slice_id, details={"mode": mode, "priority": priority, "items": changed})
    return int(changed)
