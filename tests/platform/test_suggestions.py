"""Model suggestions never pass as human answers: each answer records, per question, whether it
kept the suggestion shown with it (decided by the server, against the stored prediction);
suggestions come only from a model whose held-out accuracy passes the project's bar; a renewed
lease carries a newer round's suggestion."""

from __future__ import annotations

import csv
import io
import itertools
import json
import random
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import func, insert, select

from labelloop.store.models import answers, model_versions, predictions, utcnow
from tests.platform.test_loop_flow import WORDS, corpus, text
from tests.platform.world import User, World

SCHEMA = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [
        {"name": "topic", "type": "choice", "options": ["sport", "food"]},
        {"name": "note", "type": "text", "required": False},
    ],
}


def other(topic: str) -> str:
    return next(t for t in WORDS if t != topic)


def setup(world: World, n: int = 60) -> tuple[User, User, int, dict[str, str]]:
    owner, ann = world.user("owner"), world.user("ann")
    truth = corpus(n, seed=11)
    rng = random.Random(4)
    pid = world.project(owner, schema=SCHEMA, members={"annotator": (ann,)})
    r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={
        "quality": {"review_below": 0.0}, "loop": {"autolabel_target": None}})
    assert r.status_code == 200, r.text
    world.import_records(owner, pid, [{"id": k, "text": text(v, rng)} for k, v in truth.items()])
    return owner, ann, pid, truth


def label(world: World, pid: int, ann: User, n: int, answer: Any, exclude: tuple[int, ...] = ()) -> None:
    """The annotator answers n tasks with `answer(external_id)`, without any suggestion."""
    for _ in range(n):
        t = world.next(ann, pid, **({"exclude": list(exclude)} if exclude else {})).json()
        r = world.submit(ann, pid, t["item_id"], {"topic": answer(t["external_id"])})
        assert r.status_code == 201, r.text


def run_round(world: World, owner: User, pid: int) -> dict[str, Any]:
    r = world.client.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    assert r.json()["status"] == "succeeded", r.text
    return dict(r.json()["result"])


def loop(world: World, owner: User, pid: int, **settings: Any) -> None:
    r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": settings})
    assert r.status_code == 200, r.text


def renew(world: World, user: User, pid: int, item_id: int) -> dict[str, Any]:
    r = world.client.post(f"/api/projects/{pid}/items/{item_id}/lease", headers=user.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def record(version: int | None, preselected: bool = False, source: str = "model", **questions: str) -> dict[str, Any]:
    return {"from": source, "model_version": version, "preselected": preselected, "questions": questions}


def test_an_answer_records_whether_it_kept_the_suggestion_and_exports_it(world: World) -> None:
    owner, ann, pid, truth = setup(world)
    early = world.next(ann, pid).json()  # on screen before any model exists
    assert early["prelabel"] is None
    label(world, pid, ann, 25, truth.__getitem__, exclude=(early["item_id"],))
    result = run_round(world, owner, pid)
    v = result["model_version"]
    assert result["oof_accuracy"] >= 0.8  # passes the default bar

    # the open page learns of the round through its lease renewals, and a reload gets it too
    assert renew(world, ann, pid, early["item_id"])["prelabel"]["model_version"] == v
    t1 = world.next(ann, pid).json()
    assert t1["item_id"] == early["item_id"] and t1["prelabel"]["model_version"] == v
    kept = t1["prelabel"]["value"]["topic"]
    r = world.submit(ann, pid, t1["item_id"], {"topic": kept}, key="k1", suggestion_version=v)
    assert r.status_code == 201, r.text
    assert r.json()["source"] == "human"
    assert r.json()["suggestion"] == record(v, topic="unchanged", note="none")
    again = world.submit(ann, pid, t1["item_id"], {"topic": kept}, key="k1", suggestion_version=v)
    assert again.status_code == 200 and again.json()["suggestion"] == r.json()["suggestion"]

    t2 = world.next(ann, pid).json()
    flipped = other(t2["prelabel"]["value"]["topic"])
    r = world.submit(ann, pid, t2["item_id"], {"topic": flipped, "note": "sarcastic"}, suggestion_version=v)
    assert r.json()["suggestion"] == record(v, topic="edited", note="none")

    t3 = world.next(ann, pid).json()  # an SDK client that shows no suggestion says nothing
    assert world.submit(ann, pid, t3["item_id"], {"topic": "food"}).json()["suggestion"] is None

    loop(world, owner, pid, preselect=True)
    t4 = world.next(ann, pid).json()
    r = world.submit(ann, pid, t4["item_id"], {"topic": t4["prelabel"]["value"]["topic"]}, suggestion_version=v)
    assert r.json()["suggestion"] == record(v, preselected=True, topic="unchanged", note="none")

    expected = {
        t1["external_id"]: record(v, topic="unchanged", note="none"),
        t2["external_id"]: record(v, topic="edited", note="none"),
        t3["external_id"]: None,
        t4["external_id"]: record(v, preselected=True, topic="unchanged", note="none"),
    }
    listed = world.client.get(f"/api/projects/{pid}/answers", params={"limit": 1000}, headers=owner.headers).json()
    by_item = {a["item_id"]: a["suggestion"] for a in listed}
    assert {t["external_id"]: by_item[t["item_id"]] for t in (t1, t2, t3, t4)} == expected
    assert sum(s is None for s in by_item.values()) == len(listed) - 3  # the 25 answers before the round

    def exported(fmt: str) -> Any:
        r = world.client.get(f"/api/projects/{pid}/export", params={"format": fmt}, headers=owner.headers)
        assert r.status_code == 200, r.text
        return r

    jsonl = {row["id"]: row for row in map(json.loads, exported("jsonl").text.splitlines())}
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(exported("csv").text))}
    table = {row["id"]: row for row in pq.read_table(io.BytesIO(exported("parquet").content)).to_pylist()}
    for ext, want in expected.items():
        [a] = jsonl[ext]["answers"]
        assert a["suggestion"] == want and a["source"] == "human"
        [a] = json.loads(rows[ext]["answers"])
        assert a["suggestion"] == want
        [a] = table[ext]["answers"]
        assert (a["suggestion"] and json.loads(a["suggestion"])) == want


def newer_model(world: World, pid: int, item_id: int, value: dict[str, Any], accuracy: float) -> int:
    """A model version with one prediction, as a round that finished a moment ago leaves it."""
    def go(conn: Any) -> int:
        v = int(conn.execute(insert(model_versions).values(
            project_id=pid, job_id=None, question="topic", encoder="hashed-tfidf", classes=list(WORDS),
            metrics={"model": "builtin", "oof_accuracy": accuracy}, created_at=utcnow(),
        ).returning(model_versions.c.id)).scalar_one())
        conn.execute(insert(predictions).values(model_version_id=v, item_id=item_id, value=value, confidence=0.9))
        return v
    return world.runtime.db.run(go)


def stored_answers(world: World, pid: int) -> int:
    with world.runtime.db.read() as conn:
        return int(conn.execute(select(func.count()).where(answers.c.project_id == pid)).scalar_one())


def test_the_server_compares_with_the_suggestion_that_was_shown_and_refuses_made_up_ones(world: World) -> None:
    owner, ann, pid, truth = setup(world)
    label(world, pid, ann, 25, truth.__getitem__)
    v1 = run_round(world, owner, pid)["model_version"]
    shown = world.next(ann, pid).json()
    said = shown["prelabel"]["value"]["topic"]
    # a round ends while the item is on screen, and its model changed its mind
    v2 = newer_model(world, pid, shown["item_id"], {"topic": other(said)}, accuracy=0.9)
    assert renew(world, ann, pid, shown["item_id"])["prelabel"] == {
        "value": {"topic": other(said)}, "confidence": 0.9, "model_version": v2}

    before = stored_answers(world, pid)
    for claim, why in [(v2 + 1000, f"model version {v2 + 1000} made no suggestion for item"),
                       ("import", "has no imported pre-label")]:
        r = world.submit(ann, pid, shown["item_id"], {"topic": said}, suggestion_version=claim)
        assert r.status_code == 422, r.text
        [problem] = r.json()["error"]["problems"]
        assert problem["field"] == "suggestion_version" and why in problem["message"]
    for claim in ("3", True, 0, 1.5):
        r = world.submit(ann, pid, shown["item_id"], {"topic": said}, suggestion_version=claim)
        assert r.status_code == 422, (claim, r.text)
    assert stored_answers(world, pid) == before  # refused before anything was written

    # the page showed v1's suggestion and the annotator kept it: unchanged against v1, not v2
    r = world.submit(ann, pid, shown["item_id"], {"topic": said}, suggestion_version=v1)
    assert r.status_code == 201 and r.json()["suggestion"] == record(v1, topic="unchanged", note="none")
    # a client that claims v2's suggestion for the same value cannot call it unchanged
    nxt = world.next(ann, pid).json()
    assert nxt["prelabel"] is None  # v2 is the latest model and predicted only the other item
    v3 = newer_model(world, pid, nxt["item_id"], {"topic": "sport"}, accuracy=0.9)
    r = world.submit(ann, pid, nxt["item_id"], {"topic": "food"}, suggestion_version=v3)
    assert r.json()["suggestion"] == record(v3, topic="edited", note="none")


def test_an_imported_pre_label_is_a_suggestion_too(world: World) -> None:
    owner, ann = world.user("owner"), world.user("ann")
    pid = world.project(owner, schema=SCHEMA, members={"annotator": (ann,)})
    world.import_records(owner, pid, [{"id": "p", "text": "the match", "meta": {"prelabel": {"topic": "sport",
                                                                                             "note": "fine"}}}])
    t = world.next(ann, pid).json()
    r = world.submit(ann, pid, t["item_id"], {"topic": "sport", "note": "fine, mostly"}, suggestion_version="import")
    assert r.status_code == 201, r.text
    assert r.json()["suggestion"] == record(None, source="import", topic="unchanged", note="edited")


def test_suggestions_come_only_from_a_model_that_passes_the_bar(world: World) -> None:
    owner, ann, pid, _ = setup(world)
    turn = itertools.cycle(WORDS)
    label(world, pid, ann, 30, lambda _: next(turn))  # labels that say nothing about the text
    result = run_round(world, owner, pid)
    assert result["oof_accuracy"] < 0.8, result  # below the default bar
    held = world.next(ann, pid).json()
    assert held["prelabel"] is None and renew(world, ann, pid, held["item_id"])["prelabel"] is None

    loop(world, owner, pid, suggest_min_accuracy=max(0.0, round(result["oof_accuracy"], 6) - 0.01))
    assert world.next(ann, pid).json()["prelabel"]["model_version"] == result["model_version"]
    loop(world, owner, pid, suggest_min_accuracy=None)  # any model
    assert world.next(ann, pid).json()["prelabel"] is not None
    loop(world, owner, pid, prelabels="off")
    assert world.next(ann, pid).json()["prelabel"] is None

    # required suggestions need a model that passes: below the bar nothing new is handed out
    loop(world, owner, pid, prelabels="require", suggest_min_accuracy=0.8)
    assert world.next(ann, pid, exclude=[held["item_id"]]).status_code == 204
    loop(world, owner, pid, suggest_min_accuracy=0.0)
    t = world.next(ann, pid, exclude=[held["item_id"]]).json()
    assert t["item_id"] != held["item_id"] and t["prelabel"]["model_version"] == result["model_version"]

    # a cold-start round (too few labels for the new minimum) makes no model: the last one still suggests
    loop(world, owner, pid, min_labels=1000)
    assert run_round(world, owner, pid)["trained"] is False
    assert world.next(ann, pid).json()["prelabel"]["model_version"] == result["model_version"]

    bad = world.client.patch(f"/api/projects/{pid}", headers=owner.headers,
                             json={"loop": {"suggest_min_accuracy": 1.5, "preselect": "maybe"}})
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["error"]["problems"]} == {"loop.suggest_min_accuracy", "loop.preselect"}


def test_pre_selection_is_off_unless_the_project_turns_it_on(world: World) -> None:
    owner, _, pid, _ = setup(world, n=2)
    project = world.client.get(f"/api/projects/{pid}", headers=owner.headers).json()
    assert project["loop"]["preselect"] is False and project["loop"]["suggest_min_accuracy"] == 0.8


def test_gold_tasks_carry_a_suggestion_like_any_other(world: World) -> None:
    """A task without a suggestion among tasks with one would give the gold item away."""
    owner, ann, pid, truth = setup(world, n=40)
    world.import_records(owner, pid, [{"id": f"gold{k}", "text": text(topic, random.Random(k)),
                                       "gold": {"topic": topic}}
                                      for k, topic in enumerate(["sport", "food"] * 3)])
    r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers,
                           json={"quality": {"gold_first": 6}})
    assert r.status_code == 200, r.text
    label(world, pid, ann, 31, lambda k: truth.get(k) or "sport")  # the first six are the gold
    loop(world, owner, pid, suggest_min_accuracy=None)
    version = run_round(world, owner, pid)["model_version"]
    with world.runtime.db.read() as conn:
        predicted = set(conn.execute(select(predictions.c.item_id)
                                     .where(predictions.c.model_version_id == version)).scalars())
    gold_ids = {i["id"] for i in world.client.get(f"/api/projects/{pid}/items", headers=owner.headers,
                                                   params={"limit": 1000}).json() if i["gold"]}
    assert len(gold_ids) == 6 and gold_ids <= predicted
