"""What the audio and video importers share when an archive holds no media file and its annotations
go to items already in the project (audio/attach.py, video/tracked.py): finding the item an export
named `item-<id>` or `<name>~<id>`, gathering the archive's problems, and writing every value as
its item's gold or pre-label in one transaction.

Gold is merged with the item's gold for the other questions and checked as a whole answer (as `PUT
.../items/{id}/gold` does); a pre-label is merged into `meta.prelabel`. Nothing changes unless every
value is right.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Select, Text, cast, select, update

from labelloop.errors import Invalid, Problem
from labelloop.services.importing.readers import Where, shown
from labelloop.services.items import set_gold
from labelloop.services.policy import Actor
from labelloop.store.db import Database
from labelloop.store.models import items, published_in

MAX_PROBLEMS = 50
# the ids an export could not use as names: `.../item-<id>` or `<name>~<id>` (`~<n>` when taken)
NUMBERED_ITEM = re.compile(r"(?:^|/)item-(\d+)$|~(\d+)(?:~\d+)?$")


@dataclass(frozen=True)
class Attached:
    """One value for one item; *where* names it in a problem about the item's gold."""

    item_id: int
    value: Any
    where: Where


def only_item(near: list[Any], name: str) -> Any | Problem | None:
    """The one row *near* holds (items whose id is *name* give or take a media suffix), a problem
    when it holds several, None when it holds none."""
    if len(near) > 1:
        ids = ", ".join(shown(r.external_id) for r in near[:5])
        return Problem(f"{shown(name)!r} could be several items ({ids}): give the item's id in full")
    return near[0] if near else None


def numbered_item(conn: Connection, cols: Select[Any], project_id: int, name: str) -> Any | None:
    """The row of the item *name* gives by number (`item-<id>`, `<name>~<id>`), if it names one."""
    numbered = NUMBERED_ITEM.search(name)
    if numbered is None:
        return None
    item_id = int(numbered.group(1) or numbered.group(2))
    return conn.execute(cols.where(published_in(project_id), items.c.id == item_id)).first()


def first_problems(records: Iterator[tuple[Where, Any]]) -> list[Problem]:
    """The problems of a record source, at most MAX_PROBLEMS (reading stops there)."""
    found: list[Problem] = []
    for _, problem in records:
        if isinstance(problem, Problem):
            found.append(problem)
        if len(found) >= MAX_PROBLEMS:
            break
    return found


def attach_values(
    db: Database, actor: Actor, project_id: int, name: str, *, question: str, as_: str,
    attached: Iterable[Attached], then: Callable[[Connection, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Write each value as its item's gold (`as_ == "gold"`) or pre-label for *question*, all in one
    transaction with `then(conn, result)` (the import's audit entry); Invalid, changing nothing, if
    any gold is refused."""
    values = list(attached)

    def write(conn: Connection) -> None:
        problems: list[Problem] = []
        for a in values:
            row = conn.execute(
                select(cast(items.c.gold, Text).label("gold"), cast(items.c.meta, Text).label("meta"))
                .where(items.c.id == a.item_id)).one()
            if as_ == "prelabels":
                meta = orjson.loads(row.meta) if row.meta else {}
                meta["prelabel"] = {**(meta.get("prelabel") or {}), question: a.value}
                conn.execute(update(items).where(items.c.id == a.item_id).values(meta=meta))
                continue
            gold = orjson.loads(row.gold) if row.gold else {}
            try:
                set_gold(conn, actor, project_id, a.item_id, {**gold, question: a.value})
            except Invalid as e:
                said = [a.where.problem(f"as the item's gold: {p.message}", p.field) for p in e.problems]
                problems += said or [a.where.problem(f"as the item's gold: {e.message}")]
        if problems:
            raise Invalid(f"{name}: nothing was imported", problems[:MAX_PROBLEMS])
        if then is not None:
            then(conn, result)

    n = len(values)
    result: dict[str, Any] = {"created": 0, "unchanged": 0, "records": n, "updated": n}
    db.run(write)
    return result
