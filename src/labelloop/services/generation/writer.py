"""Adding generated candidates to an item: all of them in one write, or none."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from labelloop.errors import Invalid, Problem
from labelloop.schema import check_field_value
from labelloop.services.generation.candidates import count, next_ids
from labelloop.services.generation.settings import RESPONSES_KIND
from labelloop.store.models import items


def add_candidates(
    conn: Connection, project_id: int, item_id: int, field: str, new: list[dict[str, Any]], k: int
) -> int:
    """Append `new` candidates (without ids) to the item's `field`, up to `k` in all; how many went in.

    The item is read again under a row lock, so that candidates someone else added meanwhile (a
    second job) are kept and counted: the item never holds more than `k`, and ids never collide.
    """
    row = conn.execute(
        select(items.c.data, items.c.external_id)
        .where(items.c.id == item_id, items.c.project_id == project_id)
        .with_for_update()
    ).first()
    if row is None:  # deleted meanwhile
        return 0
    data = dict(row.data)
    current = list(data.get(field) or [])
    room = k - count(current)
    if room <= 0 or not new:
        return 0
    added = [{"id": i, **c} for i, c in zip(next_ids(current, min(room, len(new))), new, strict=False)]
    value = current + added
    wrong = check_field_value(RESPONSES_KIND, value)
    if wrong is not None:
        raise Invalid("a generated response cannot be stored", [
            Problem(f"item {row.external_id!r}: {wrong}", field=field)])
    data[field] = value
    # content_hash stays the hash of the item as imported: re-importing the file of prompts still
    # finds the item unchanged.
    conn.execute(update(items).where(items.c.id == item_id).values(data=data))
    return len(added)
