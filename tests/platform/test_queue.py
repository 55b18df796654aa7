"""The task queue: overlap, leases, skips, idempotent submits and who sees what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from labelloop.store.models import answers, assignments, items, utcnow
from tests.platform.world import User, World

ANSWER = {"sentiment": "pos"}


@pytest.fixture
def crew(world: World) -> tuple[World, User, list[User], int]:
    owner = world.user("owner")
    annotators = [world.user(f"ann{i}") for i in range(4)]
    pid = world.project(owner, overlap=2, members={"annotator": tuple(annotators)})
    world.import_records(owner, pid, [{"id": f"i{n}", "text": f"text {n}"} for n in range(3)])
    return world, owner, annotators, pid


def expire_leases(world: World, user: User | None = None) -> None:
    stmt = update(assignments).where(assignments.c.state == "leased")
    if user is not None:
        stmt = stmt.where(assignments.c.user_id == user.id)
    with world.runtime.db.write() as conn:
        conn.execute(stmt.values(expires_at=utcnow() - timedelta(seconds=1)))


def item_row(world: World, item_id: int) -> Any:
    with world.runtime.db.read() as conn:
        return conn.execute(select(items).where(items.c.id == item_id)).one()


def test_each_item_goes_to_overlap_distinct_annotators_in_priority_order(crew: tuple[World, User, list[User], int]) -> None:
    world, _owner, (a, b, c, _), pid = crew
    first = world.next(a, pid).json()
    assert first["external_id"] == "i0"
    assert world.next(b, pid).json()["external_id"] == "i0"
    # i0 now has two leases for an overlap of two: nobody else gets it
    assert world.next(c, pid).json()["external_id"] == "i1"
    assert item_row(world, first["item_id"]).reserved == 2


def test_next_returns_a_held_lease_first_and_exclude_gets_a_second(crew: tuple[World, User, list[User], int]) -> None:
    world, _, (a, *_), pid = crew
    t1 = world.next(a, pid).json()
    assert world.next(a, pid).json()["item_id"] == t1["item_id"]  # a reload resumes
    t2 = world.next(a, pid, exclude=[t1["item_id"]]).json()
    assert t2["item_id"] != t1["item_id"]


def test_an_annotator_may_hold_only_a_few_tasks(crew: tuple[World, User, list[User], int]) -> None:
    world, _, (a, *_), pid = crew
    held: list[int] = []
    for _ in range(3):
        held.append(world.next(a, pid, exclude=held).json()["item_id"])
    r = world.next(a, pid, exclude=held)
    # three items, all held: nothing more to hand out, or the hold limit answers
    assert r.status_code in (204, 409)


def test_never_the_same_item_twice_to_one_annotator(crew: tuple[World, User, list[User], int]) -> None:
    world, _, (a, *_), pid = crew
    seen = []
    while (r := world.next(a, pid)).status_code == 200:
        seen.append(r.json()["item_id"])
        assert world.submit(a, pid, seen[-1], ANSWER).status_code == 201
    assert r.status_code == 204 and len(seen) == len(set(seen)) == 3


def test_expired_lease_returns_the_item_to_the_pool(crew: tuple[World, User, list[User], int]) -> None:
    world, _, (a, b, c, _), pid = crew
    ta = world.next(a, pid).json()
    world.next(b, pid)
    expire_leases(world, a)
    tc = world.next(c, pid).json()
    assert tc["item_id"] == ta["item_id"]
    # a's late answer finds the item full (b and c hold its two slots): refused, not stored
    r = world.submit(a, pid, ta["item_id"], ANSWER)
    assert r.status_code == 409 and "has all the answers it needs" in r.json()["error"]["message"]
    assert item_row(world, ta["item_id"]).reserved == 2


def test_late_answer_is_kept_when_a_slot_is_still_free(crew: tuple[World, User, list[User], int]) -> None:
    world, _, (a, *_), pid = crew
    t = world.next(a, pid).json()
    expire_leases(world, a)
    world.next(a, pid, exclude=[t["item_id"]])  # reclaims a's expired lease
    r = world.submit(a, pid, t["item_id"], ANSWER, duration_ms=4200)
    assert r.status_code == 201 and r.json()["duration_ms"] == 4200
    row = item_row(world, t["item_id"])
    assert (row.answer_count, row.reserved) == (1, 1)  # the answer re-took the slot it had lost


def test_skip_is_recorded_and_frees_the_slot(crew: tuple[World, User, list[User], int]) -> None:
    world, owner, (a, _b, *_), pid = crew
    t = world.next(a, pid).json()
    r = world.client.post(f"/api/projects/{pid}/items/{t['item_id']}/skip", json={"reason": "unclear"},
                          headers=a.headers)
    assert r.status_code == 204
    with world.runtime.db.read() as conn:
        row = conn.execute(select(assignments).where(assignments.c.user_id == a.id)).one()
    assert (row.state, row.skip_reason) == ("skipped", "unclear")
    assert item_row(world, t["item_id"]).reserved == 0
    assert world.next(a, pid).json()["item_id"] != t["item_id"]  # never again to a
    status = world.client.get(f"/api/projects/{pid}/status", headers=owner.headers).json()
    assert status["skipped"] == 1


def test_renewing_a_lease_extends_it(crew: tuple[World, User, list[User], int]) -> None:
    world, _, (a, *_), pid = crew
    t = world.next(a, pid).json()
    r = world.client.post(f"/api/projects/{pid}/items/{t['item_id']}/lease", headers=a.headers)
    assert r.status_code == 200 and r.json()["expires_at"] >= t["lease_expires_at"]


def test_submit_is_idempotent_under_retries(crew: tuple[World, User, list[User], int]) -> None:
    world, _, (a, *_), pid = crew
    t = world.next(a, pid).json()
    first = world.submit(a, pid, t["item_id"], ANSWER, key="retry-1")
    again = world.submit(a, pid, t["item_id"], ANSWER, key="retry-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = world.submit(a, pid, t["item_id"], {"sentiment": "neg"}, key="retry-1")
    assert other.status_code == 409 and "different answer" in other.json()["error"]["message"]
    second_key = world.submit(a, pid, t["item_id"], ANSWER, key="retry-2")
    assert second_key.status_code == 409 and "already answered" in second_key.json()["error"]["message"]
    with world.runtime.db.read() as conn:
        assert len(conn.execute(select(answers)).all()) == 1
    assert item_row(world, t["item_id"]).answer_count == 1


def test_invalid_answer_is_422_naming_the_field_and_stores_nothing(crew: tuple[World, User, list[User], int]) -> None:
    world, _, (a, *_), pid = crew
    t = world.next(a, pid).json()
    r = world.submit(a, pid, t["item_id"], {"sentiment": "pos", "stars": 11})
    assert r.status_code == 422
    assert r.json()["error"]["problems"] == [{"field": "stars", "message": "11 is outside the scale 1..5"}]
    r = world.client.post(f"/api/projects/{pid}/items/{t['item_id']}/answers", json={"valu": {}},
                          headers=a.headers)
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "value"
    with world.runtime.db.read() as conn:
        assert conn.execute(select(answers)).first() is None
    assert world.next(a, pid).json()["item_id"] == t["item_id"]  # still leased to a


def test_answer_to_an_item_never_handed_out_is_refused(crew: tuple[World, User, list[User], int]) -> None:
    world, _, (a, b, *_), pid = crew
    t = world.next(a, pid).json()
    r = world.submit(b, pid, t["item_id"], ANSWER)
    assert r.status_code == 409 and "not handed to you" in r.json()["error"]["message"]
    assert world.submit(b, pid, 99999, ANSWER).status_code == 404


def test_annotators_see_only_their_own_answers_and_never_gold(world: World) -> None:
    owner, a, b, rev = world.user("o"), world.user("a"), world.user("b"), world.user("r")
    pid = world.project(owner, overlap=2, members={"annotator": (a, b), "reviewer": (rev,)})
    world.import_records(owner, pid, [{"id": "g", "text": "x", "gold": {"sentiment": "neg"}},
                                      {"id": "n", "text": "y"}])
    for u in (a, b):
        for _ in range(2):
            t = world.next(u, pid).json()
            assert "gold" not in t and set(t) == {"item_id", "external_id", "data", "meta", "leased_at",
                                                  "lease_expires_at", "prelabel"}
            world.submit(u, pid, t["item_id"], {"sentiment": "pos" if u is a else "neu"})
    mine = world.client.get(f"/api/projects/{pid}/answers", headers=a.headers).json()
    assert {x["username"] for x in mine} == {"a"} and len(mine) == 2
    asked_for_b = world.client.get(f"/api/projects/{pid}/answers", params={"user_id": b.id},
                                   headers=a.headers).json()
    assert {x["username"] for x in asked_for_b} == {"a"}
    assert world.client.get(f"/api/projects/{pid}/items", headers=a.headers).status_code == 403
    listed = {i["external_id"]: i for i in world.client.get(f"/api/projects/{pid}/items", headers=rev.headers).json()}
    assert listed["g"]["gold"] is None  # reviewers see answers but not gold
    assert len(world.client.get(f"/api/projects/{pid}/answers", headers=rev.headers).json()) == 4
    full = world.client.get(f"/api/projects/{pid}/items/{listed['g']['id']}", headers=owner.headers).json()
    assert full["item"]["gold"] == {"sentiment": "neg"} and len(full["answers"]) == 2


def test_priority_sets_queue_order(crew: tuple[World, User, list[User], int]) -> None:
    world, owner, (a, *_), pid = crew
    listed = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()
    last = listed[-1]["id"]
    r = world.client.post(f"/api/projects/{pid}/items/priorities",
                          json={"priorities": [{"item_id": last, "priority": 10}]}, headers=owner.headers)
    assert r.json() == {"updated": 1}
    assert world.next(a, pid).json()["item_id"] == last
    bad = world.client.post(f"/api/projects/{pid}/items/priorities",
                            json={"priorities": [{"item_id": 12345, "priority": 1}]}, headers=owner.headers)
    assert bad.status_code == 422


def test_raising_overlap_reopens_done_items(crew: tuple[World, User, list[User], int]) -> None:
    world, owner, (a, b, c, _), pid = crew
    for u in (a, b):
        t = world.next(u, pid).json()
        world.submit(u, pid, t["item_id"], ANSWER)
    assert item_row(world, t["item_id"]).is_open is False
    r = world.client.patch(f"/api/projects/{pid}", json={"overlap": 3}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["overlap"] == 3
    assert item_row(world, t["item_id"]).is_open is True
    assert world.next(c, pid).json()["item_id"] == t["item_id"]


def test_item_browser_filters_on_the_server(world: World) -> None:
    owner, a, b = world.user("o"), world.user("a"), world.user("b")
    pid = world.project(owner, overlap=1, members={"annotator": (a, b)})
    world.import_records(owner, pid, [
        {"id": "1", "text": "A refund was promised", "lang": "en"},
        {"id": "2", "text": "Remboursement", "lang": "fr"},
        {"id": "3", "text": "nothing to see"},
    ])
    for u, value in ((a, "neg"), (b, "pos"), (a, "neg")):
        t = world.next(u, pid).json()
        world.submit(u, pid, t["item_id"], {"sentiment": value})

    def ids(**params: Any) -> list[str]:
        r = world.client.get(f"/api/projects/{pid}/items", params=params, headers=owner.headers)
        assert r.status_code == 200, r.text
        return [i["external_id"] for i in r.json()]

    assert ids(q="REFUND") == ["1"]
    assert ids(meta="lang:fr") == ["2"]
    assert ids(annotator=a.id) == ["1", "3"]
    assert ids(label="sentiment:neg") == ["1", "3"]
    assert ids(label="sentiment:pos", q="rembours") == ["2"]
    bad = world.client.get(f"/api/projects/{pid}/items", params={"label": "nocolon"}, headers=owner.headers)
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["field"] == "label"
    recent = world.client.get(f"/api/projects/{pid}/answers", params={"newest_first": "true", "limit": 1},
                              headers=a.headers).json()
    assert len(recent) == 1 and recent[0]["item_id"] == max(x["item_id"] for x in world.client.get(
        f"/api/projects/{pid}/answers", headers=a.headers).json())
    r = world.client.post(f"/api/projects/{pid}/members", json={"username": "a", "role": "reviewer"},
                          headers=owner.headers)
    assert r.status_code == 200 and r.json()["role"] == "reviewer"
    assert world.client.post(f"/api/projects/{pid}/members", json={"username": "ghost", "role": "reviewer"},
                             headers=owner.headers).status_code == 404
