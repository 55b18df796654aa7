"""An annotator's own progress: answered, about how many left; only their own; never a table scan."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from labelloop.services.policy import Actor
from labelloop.services.queue.progress import my_progress
from tests.platform.world import User, World

ANSWER = {"sentiment": "pos"}


@pytest.fixture
def crew(world: World) -> tuple[World, User, list[User], int]:
    owner = world.user("owner")
    annotators = [world.user(f"ann{i}") for i in range(3)]
    pid = world.project(owner, overlap=2, members={"annotator": tuple(annotators)})
    world.import_records(owner, pid, [{"id": f"i{n}", "text": f"text {n}"} for n in range(4)])
    return world, owner, annotators, pid


def progress(world: World, who: User, pid: int) -> dict[str, Any]:
    r = world.client.get(f"/api/projects/{pid}/tasks/progress", headers=who.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def answer_next(world: World, who: User, pid: int) -> int:
    item = int(world.next(who, pid).json()["item_id"])
    assert world.submit(who, pid, item, ANSWER).status_code == 201
    return item


def test_done_and_left_follow_the_annotators_own_work(crew: tuple[World, User, list[User], int]) -> None:
    world, _owner, (a, b, c), pid = crew
    assert progress(world, a, pid) == {"done": 0, "left": 4, "left_capped": False}

    held = int(world.next(a, pid).json()["item_id"])
    assert progress(world, a, pid) == {"done": 0, "left": 4, "left_capped": False}  # held still counts
    assert world.submit(a, pid, held, ANSWER).status_code == 201
    assert progress(world, a, pid) == {"done": 1, "left": 3, "left_capped": False}

    skipped = int(world.next(a, pid).json()["item_id"])
    assert world.client.post(f"/api/projects/{pid}/items/{skipped}/skip", headers=a.headers).status_code == 204
    assert progress(world, a, pid) == {"done": 1, "left": 2, "left_capped": False}

    # b's work is b's: a's numbers do not move, b's do
    answer_next(world, b, pid)
    assert progress(world, b, pid) == {"done": 1, "left": 3, "left_capped": False}
    assert progress(world, a, pid)["done"] == 1

    # a and b both answered the first item: with an overlap of 2 it is closed, so c cannot get it
    assert progress(world, c, pid) == {"done": 0, "left": 3, "left_capped": False}


def test_items_finished_by_others_are_not_left(world: World) -> None:
    owner, a, b = world.user("owner"), world.user("a"), world.user("b")
    pid = world.project(owner, overlap=1, members={"annotator": (a, b)})
    world.import_records(owner, pid, [{"id": f"i{n}", "text": f"text {n}"} for n in range(3)])
    for _ in range(3):
        answer_next(world, b, pid)
    assert progress(world, a, pid) == {"done": 0, "left": 0, "left_capped": False}
    assert progress(world, b, pid) == {"done": 3, "left": 0, "left_capped": False}


def test_left_stops_counting_at_the_cap(crew: tuple[World, User, list[User], int]) -> None:
    world, _owner, (a, *_), pid = crew
    world.next(a, pid)  # one held, three open

    def mine(cap: int) -> tuple[int, int, bool]:
        with world.runtime.db.read() as conn:
            p = my_progress(conn, Actor(a.id, a.name, False), pid, cap=cap)
        return p.done, p.left, p.left_capped

    assert mine(2) == (0, 2, True)  # more than two: the count stopped there
    assert mine(3) == (0, 4, False)
    assert mine(100) == (0, 4, False)


def test_only_members_who_work_see_progress(crew: tuple[World, User, list[User], int]) -> None:
    world, owner, (a, *_), pid = crew
    outsider = world.user("outsider")
    assert world.client.get(f"/api/projects/{pid}/tasks/progress", headers=outsider.headers).status_code == 404
    assert world.client.get(f"/api/projects/{pid}/tasks/progress").status_code == 401
    r = world.client.put(f"/api/projects/{pid}/annotators/{a.id}/pause", headers=owner.headers,
                         json={"paused": True, "reason": "test"})
    assert r.status_code == 200, r.text
    assert world.client.get(f"/api/projects/{pid}/tasks/progress", headers=a.headers).status_code == 403


def test_progress_never_scans_a_table(crew: tuple[World, User, list[User], int]) -> None:
    """Every table the progress queries touch is searched through an index (the query plans say so)."""
    world, _owner, (a, b, _c), pid = crew
    answer_next(world, a, pid)
    answer_next(world, b, pid)
    engine = world.runtime.db.engine
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "assignments" in statement or "items" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        progress(world, a, pid)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    counts = [(s, p) for s, p in seen if "count(" in s.lower()]
    assert len(counts) == 2  # the caller's assignments, and the open items left for them
    pg = engine.dialect.name == "postgresql"
    plans = []
    with engine.connect() as conn:
        if pg:
            conn.exec_driver_sql("SET enable_seqscan = off")  # tiny tables: make "no index" show as a seq scan
        for statement, parameters in counts:
            plans.append("\n".join(str(row[-1]) for row in conn.exec_driver_sql(
                ("EXPLAIN " if pg else "EXPLAIN QUERY PLAN ") + statement, parameters)))
    for plan in plans:
        if pg:
            assert "Seq Scan" not in plan, plan
        else:  # SQLite scans only the bounded subquery's own rows ("SCAN anon_1")
            assert not [line for line in plan.splitlines() if line.startswith("SCAN") and "anon" not in line], plan
    everything = "\n".join(plans)
    if not pg:  # PostgreSQL's choice between indexes of a tiny table depends on its statistics
        assert "ix_items_open_queue" in everything, everything
        assert "ix_assignments_holder" in everything, everything
