"""A project's published items read in chunks by id (keyset pagination), with their answers and
consensus: what every export streams from, inside one snapshot so the file is consistent.

`prefetched` reads the next chunks in a thread while the caller writes out the current one: the
database works on chunk k+1 (on another core, or while the driver waits for the socket) while
Python encodes chunk k, instead of the two taking turns.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Text, cast, select

from labelloop.services.items import ItemFilter, _filtered
from labelloop.store.models import answers, consensus, item_data_text, items, published_in, users

CHUNK = 5000
T = TypeVar("T")
_DONE = object()


@dataclass
class ItemChunk:
    items: list[Any]
    answers: dict[int, list[Any]]
    consensus: dict[int, Any]


def item_chunks(
    conn: Connection, project_id: int, *, size: int = CHUNK, with_answers: bool = True,
    after: int = 0, upto: int | None = None, where: ItemFilter | None = None,
) -> Iterator[ItemChunk]:
    """Items in id order, `size` at a time; stored JSON stays text (`data`, `meta`, `gold`, values).
    Only ids in (after, upto] when given (a range of a larger export: compute/export_tasks.py), and
    only the items of the data browser's filter `where` (a saved slice) when given."""
    last = after
    item_cols = select(
        items.c.id, items.c.external_id, items.c.content_hash, item_data_text(),
        cast(items.c.meta, Text).label("meta"), items.c.priority, items.c.needed,
        items.c.answer_count, cast(items.c.gold, Text).label("gold"),
    )
    bounded = published_in(project_id) if upto is None else published_in(project_id) & (items.c.id <= upto)
    if where is not None:  # the filter may read the consensus (a label)
        item_cols = _filtered(item_cols.select_from(
            items.outerjoin(consensus, consensus.c.item_id == items.c.id)), where)
    while True:
        rows = conn.execute(
            item_cols.where(bounded, items.c.id > last)
            .order_by(items.c.id).limit(size)
        ).all()
        if not rows:
            return
        lo, hi = rows[0].id, rows[-1].id
        last = hi
        by_item: dict[int, list[Any]] = {}
        if with_answers and any(r.answer_count for r in rows):
            for a in conn.execute(
                select(
                    answers.c.id, answers.c.item_id, users.c.username,
                    cast(answers.c.value, Text).label("value"), answers.c.created_at,
                    answers.c.leased_at, answers.c.duration_ms, answers.c.source,
                    answers.c.supersedes_id, cast(answers.c.suggestion, Text).label("suggestion"),
                )
                .join(users, users.c.id == answers.c.user_id)
                .where(answers.c.item_id >= lo, answers.c.item_id <= hi,
                       answers.c.project_id == project_id)
                .order_by(answers.c.item_id, answers.c.id)
            ):
                by_item.setdefault(a.item_id, []).append(a)
        cons = {
            c.item_id: c
            for c in conn.execute(
                select(consensus.c.item_id, cast(consensus.c.value, Text).label("value"),
                       consensus.c.confidence, consensus.c.method, consensus.c.final)
                .where(consensus.c.item_id >= lo, consensus.c.item_id <= hi,
                       consensus.c.project_id == project_id)
            )
        }
        yield ItemChunk(list(rows), by_item, cons)


def prefetched(chunks: Iterator[T], *, depth: int = 2) -> Generator[T, None, None]:
    """The chunks of `chunks`, read up to `depth` ahead in a thread (memory: `depth` + 2 chunks).

    The thread is the only one using the iterator's connection until it ends, and this generator
    waits for it to end before returning, even when the consumer stops early (a client that went
    away), so the caller may close the connection then."""
    ahead: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        ahead.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ahead.put(_DONE)
        except BaseException as e:  # handed to the consumer, which raises it
            ahead.put(e)

    thread = threading.Thread(target=produce, name="labelloop-export-read", daemon=True)
    thread.start()
    try:
        while True:
            got = ahead.get()
            if got is _DONE:
                return
            if isinstance(got, BaseException):
                raise got
            yield got
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                ahead.get_nowait()
            except queue.Empty:
                thread.join(0.05)
