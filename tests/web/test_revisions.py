"""Revising one's own answer: a new row that supersedes the old, idempotent, until a final decision."""

from __future__ import annotations

from sqlalchemy import select, update

from labelloop.store.models import answers, consensus
from tests.platform.world import World


def answered(world: World) -> tuple[int, int, int, object]:
    owner = world.user()
    ann = world.user()
    pid = world.project(owner, members={"annotator": (ann,)})
    world.import_records(owner, pid, [{"id": "a", "text": "good"}])
    item = world.next(ann, pid).json()["item_id"]
    answer = world.submit(ann, pid, item, {"sentiment": "neg"}, key="first").json()["id"]
    return pid, item, answer, (owner, ann)


def test_a_revision_supersedes_the_answer_and_is_idempotent(world: World) -> None:
    pid, item, answer, (owner, ann) = answered(world)
    url = f"/api/projects/{pid}/answers/{answer}"
    r = world.client.get(url, headers=ann.headers)
    assert r.status_code == 200
    assert r.json()["editable"] is True and r.json()["item"]["data"] == {"text": "good"}

    headers = {**ann.headers, "Idempotency-Key": "fix-1"}
    r = world.client.post(f"{url}/revisions", json={"value": {"sentiment": "pos"}}, headers=headers)
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["item_id"] == item and new["value"] == {"sentiment": "pos"}
    again = world.client.post(f"{url}/revisions", json={"value": {"sentiment": "pos"}}, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == new["id"]
    other = world.client.post(f"{url}/revisions", json={"value": {"sentiment": "neu"}}, headers=headers)
    assert other.status_code == 409  # a key reused for a different revision

    with world.runtime.db.read() as conn:
        rows = conn.execute(select(answers.c.id, answers.c.supersedes_id).where(answers.c.item_id == item)
                            .order_by(answers.c.id)).all()
        settled = conn.execute(select(consensus.c.value).where(consensus.c.item_id == item)).scalar()
    assert [tuple(r) for r in rows] == [(answer, None), (new["id"], answer)]
    assert settled == {"sentiment": "pos"}  # the item was settled again with the revision
    assert world.client.get(f"/api/projects/{pid}/status", headers=owner.headers).json()["answers"] == 1

    old = world.client.get(url, headers=ann.headers).json()
    assert old["superseded_by"] == new["id"] and old["editable"] is False
    r = world.client.post(f"{url}/revisions", json={"value": {"sentiment": "neu"}}, headers=ann.headers)
    assert r.status_code == 409 and f"revise answer {new['id']}" in r.json()["error"]["message"]


def test_revisions_are_checked_against_the_schema(world: World) -> None:
    pid, _item, answer, (_owner, ann) = answered(world)
    r = world.client.post(f"/api/projects/{pid}/answers/{answer}/revisions",
                          json={"value": {"sentiment": "maybe"}}, headers=ann.headers)
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "sentiment"


def test_nobody_revises_or_reads_someone_elses_answer_but_reviewers_read(world: World) -> None:
    pid, _item, answer, (owner, ann) = answered(world)
    stranger = world.user()
    world.client.put(f"/api/projects/{pid}/members/{stranger.id}", json={"role": "annotator"}, headers=owner.headers)
    url = f"/api/projects/{pid}/answers/{answer}"
    assert world.client.get(url, headers=stranger.headers).status_code == 404
    r = world.client.post(f"{url}/revisions", json={"value": {"sentiment": "pos"}}, headers=stranger.headers)
    assert r.status_code == 404
    seen = world.client.get(url, headers=owner.headers).json()
    assert seen["answer"]["username"] == ann.name and seen["editable"] is False  # not the owner's answer
    r = world.client.post(f"{url}/revisions", json={"value": {"sentiment": "pos"}}, headers=owner.headers)
    assert r.status_code == 404


def test_a_final_decision_freezes_the_answers(world: World) -> None:
    pid, item, answer, (_owner, ann) = answered(world)
    with world.runtime.db.write() as conn:
        conn.execute(update(consensus).where(consensus.c.item_id == item).values(final=True))
    url = f"/api/projects/{pid}/answers/{answer}"
    assert world.client.get(url, headers=ann.headers).json()["editable"] is False
    r = world.client.post(f"{url}/revisions", json={"value": {"sentiment": "pos"}}, headers=ann.headers)
    assert r.status_code == 409 and "final" in r.json()["error"]["message"]
