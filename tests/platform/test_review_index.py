"""The review queue's queries use ix_items_review, which holds only items with a review state
(store/models.py; migration 0023): an import writes no entry for its items."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, select, update

from labelloop.services.policy import Actor
from labelloop.services.quality import review
from labelloop.store.models import items
from tests.platform.world import World

OPERATOR = Actor.operator()


def test_the_review_queries_use_the_partial_index(world: World) -> None:
    owner = world.user("owner")
    pid = world.project(owner)
    world.upload(owner, pid, b"".join(b'{"text": "t%d"}\n' % k for k in range(40)), "items.jsonl")
    db, engine = world.runtime.db, world.runtime.db.engine
    with db.read() as conn:
        first = conn.execute(select(func.min(items.c.id)).where(items.c.project_id == pid)).scalar_one()
    db.run(lambda c: c.execute(update(items).where(items.c.id == first + 3).values(review_state="pending")))
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "review_state" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with db.read() as conn:
            assert review.pending_count(conn, OPERATOR, pid) == 1
            found = review.next_review(conn, OPERATOR, pid)
            assert found is not None and found.item.id == first + 3
    finally:
        event.remove(engine, "before_cursor_execute", record)
    pg = engine.dialect.name == "postgresql"
    queue = [(s, p) for s, p in seen if "WHERE" in s and "items.review_state =" in s]
    assert len(queue) == 2, seen
    with engine.connect() as conn:
        if pg:
            conn.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: make "no index" a seq scan
        for statement, parameters in queue:
            plan = "\n".join(str(row[-1]) for row in conn.exec_driver_sql(
                ("EXPLAIN " if pg else "EXPLAIN QUERY PLAN ") + statement, parameters))
            assert "ix_items_review" in plan, plan
        definition = conn.exec_driver_sql(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_items_review'" if pg
            else "SELECT sql FROM sqlite_master WHERE name = 'ix_items_review'").scalar_one()
    assert "review_state IS NOT NULL" in definition, definition  # an import's items have no entry
