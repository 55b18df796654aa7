"""The items the latest loop round suspects of a wrong label: flagged on the items with why and by
which model, found with the data browser's `label_issue` filter, and replaced by the next round."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import select

from labelloop.store.models import items
from tests.platform.test_loop_flow import SCHEMA, WORDS, corpus, text
from tests.platform.world import User, World

REASONS = {"unlikely_label", "model_disagrees"}


def listed(world: World, user: User, pid: int, **params: Any) -> list[dict[str, Any]]:
    """Every item the filter returns, paged by id (small pages, so paging is exercised too)."""
    found: list[dict[str, Any]] = []
    while True:
        r = world.client.get(f"/api/projects/{pid}/items", headers=user.headers,
                             params={**params, "after": found[-1]["id"] if found else 0, "limit": 7})
        assert r.status_code == 200, r.text
        found += r.json()
        if len(r.json()) < 7:
            return found


def label_all(world: World, ann: User, pid: int, truth: dict[str, str], rng: random.Random,
              wrong_at_most: int) -> None:
    """The annotator answers every open task, a few of them wrongly."""
    planted = 0
    while (r := world.next(ann, pid)).status_code == 200:
        t = r.json()
        right = truth[t["external_id"]]
        wrong = planted < wrong_at_most and rng.random() < 0.15
        planted += wrong
        world.submit(ann, pid, t["item_id"], {"topic": next(x for x in WORDS if x != right) if wrong else right})


def round_(world: World, owner: User, pid: int) -> dict[str, Any]:
    r = world.client.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    return dict(r.json()["result"])


def test_the_filter_returns_what_the_latest_round_flagged(world: World) -> None:
    owner, ann, rev = world.user("o"), world.user("a"), world.user("r")
    truth = corpus(120, seed=6)
    rng = random.Random(8)
    pid = world.project(owner, schema=SCHEMA, overlap=1, members={"annotator": (ann,), "reviewer": (rev,)})
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers,
                       json={"quality": {"review_below": 0.0}, "loop": {"autolabel_target": None}})
    world.import_records(owner, pid, [{"id": k, "text": text(v, rng)} for k, v in truth.items()])
    label_all(world, ann, pid, truth, rng, wrong_at_most=12)
    assert listed(world, owner, pid, label_issue="true") == []  # no round yet

    # round 1: the filter returns exactly the items it flagged, each with why and which model
    first = round_(world, owner, pid)
    flagged = set(first["label_issue_items"])
    assert flagged and len(flagged) == first["label_issues"]
    found = listed(world, rev, pid, label_issue="true")  # reviewers may browse items
    assert {i["id"] for i in found} == flagged and len(found) == len(flagged)
    for i in found:
        issue = i["label_issue"]
        assert set(issue["reasons"]) <= REASONS and issue["reasons"]
        assert issue["model_version"] == first["model_version"]
        assert issue["model_answer"]["value"]["topic"] in WORDS and 0.5 <= issue["model_answer"]["confidence"] <= 1
        assert i["review"] == "pending" and i["gold"] is None
    others = listed(world, owner, pid, label_issue="false")
    assert len(others) == len(truth) - len(flagged) and all(i["label_issue"] is None for i in others)
    assert not flagged & {i["id"] for i in others}
    # it combines with the other filters, and the item's page shows it too
    assert {i["id"] for i in listed(world, owner, pid, label_issue="true", review="pending")} == flagged
    some = min(flagged)
    detail = world.client.get(f"/api/projects/{pid}/items/{some}", headers=rev.headers).json()
    assert detail["item"]["label_issue"]["model_version"] == first["model_version"]
    assert world.client.get(f"/api/projects/{pid}/items", params={"label_issue": "true"},
                            headers=ann.headers).status_code == 403  # annotators never browse items
    assert world.client.get(f"/api/projects/{pid}/items", params={"label_issue": "perhaps"},
                            headers=owner.headers).status_code == 422

    # a reviewer settles every suspect with the truth, and new items come with new wrong labels:
    # round 2's flags replace round 1's
    for iid in flagged:
        ext = world.client.get(f"/api/projects/{pid}/items/{iid}", headers=rev.headers).json()["item"]["external_id"]
        r = world.client.post(f"/api/projects/{pid}/items/{iid}/review", headers=rev.headers,
                              json={"value": {"topic": truth[ext]}})
        assert r.status_code == 200, r.text
    more = {f"n{k}": v for k, v in corpus(60, seed=11).items()}
    world.import_records(owner, pid, [{"id": k, "text": text(v, rng)} for k, v in more.items()])
    truth |= more
    label_all(world, ann, pid, truth, rng, wrong_at_most=8)
    second = round_(world, owner, pid)
    assert second["model_version"] != first["model_version"]
    again = {i["id"]: i["label_issue"] for i in listed(world, owner, pid, label_issue="true")}
    assert set(again) == set(second["label_issue_items"]) and len(again) == second["label_issues"]
    assert again and set(again) != flagged  # new suspects, not the settled ones
    assert all(issue["model_version"] == second["model_version"] for issue in again.values())
    with world.runtime.db.read() as conn:
        versions = {v for (v,) in conn.execute(select(items.c.label_issue_version).where(
            items.c.project_id == pid, items.c.label_issue_version.is_not(None)))}
    assert versions <= {second["model_version"]}

    # a round that cannot train (too few labels for the new setting) suspects nothing: no flag stays
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"min_labels": 1000}})
    assert round_(world, owner, pid)["trained"] is False
    assert listed(world, owner, pid, label_issue="true") == []
    assert len(listed(world, owner, pid, label_issue="false")) == len(truth)
