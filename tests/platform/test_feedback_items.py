"""Language-model feedback items end to end (docs/feedback.md): candidates imported, shown blind to
annotators, every question type answered through each answer path, checked against the item's
candidates, settled into a consensus and exported."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from tests.platform.world import User, World

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "prompt"}, {"name": "responses", "type": "responses"}],
    "questions": [
        {"name": "pref", "type": "preference", "target": "responses", "strength": True, "reason": "optional"},
        {"name": "rank", "type": "ranking", "target": "responses"},
        {"name": "crit", "type": "criteria", "target": "responses",
         "criteria": [{"name": "helpful"}, {"name": "correct"}]},
        {"name": "rw", "type": "rewrite", "target": "responses", "required": False},
        {"name": "flags", "type": "response_spans", "target": "responses", "labels": ["hallucination", "unsafe"],
         "required": False},
    ],
}
ITEM = {
    "id": "q1", "prompt": "Where is Paris?",
    "responses": [
        {"id": "a", "content": "Paris is in Germany.", "model": "small-llm",
         "meta": {"temperature": 0.7, "served_by": "small-llm"}},
        {"id": "b", "content": "Paris is in France.", "model": "big-llm"},
        "Paris.",  # a plain string: candidate r3
    ],
}


def answer(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "pref": {"left": "b", "right": "a", "winner": "left", "strength": 2},
        "rank": {"order": ["b", "r3", "a"]},
        "crit": {"a": {"helpful": 2, "correct": 1}, "b": {"helpful": 5, "correct": 5},
                 "r3": {"helpful": 3, "correct": 5}},
        "rw": {"response": "a", "text": "Paris is in France.", "diff": [["equal", 0, 1, 0, 1]]},
        "flags": {"response": "a", "spans": [{"start": 12, "end": 19, "label": "hallucination"}]},
    }
    value.update(changes)
    return value


@pytest.fixture
def project(world: World) -> tuple[World, User, list[User], int]:
    owner = world.user("owner")
    people = [world.user(f"ann{i}") for i in range(3)]
    pid = world.project(owner, schema=SCHEMA, overlap=3, members={"annotator": tuple(people)})
    world.import_records(owner, pid, [ITEM])
    return world, owner, people, pid


def submit(world: World, user: User, pid: int, value: dict[str, Any]) -> Any:
    task = world.next(user, pid)
    assert task.status_code == 200, task.text
    r = world.submit(user, pid, task.json()["item_id"], value)
    return task.json(), r


def test_annotators_never_see_which_model_wrote_a_candidate(project: tuple[World, User, list[User], int]) -> None:
    world, owner, people, pid = project
    task, r = submit(world, people[0], pid, answer())
    assert r.status_code == 201, r.text
    shown = [{"id": "a", "content": "Paris is in Germany."}, {"id": "b", "content": "Paris is in France."},
             {"id": "r3", "content": "Paris."}]
    assert task["data"]["responses"] == shown
    assert "small-llm" not in json.dumps(task) and "temperature" not in json.dumps(task)
    # Their own answer history shows the item as the workbench did.
    mine = world.client.get(f"/api/projects/{pid}/answers/{r.json()['id']}", headers=people[0].headers)
    assert mine.status_code == 200 and mine.json()["item"]["data"]["responses"] == shown
    # Managers see who wrote what, in the item browser and in the answer's item.
    items = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()
    stored = items[0]["data"]["responses"]
    assert stored[0] == {"id": "a", "content": "Paris is in Germany.", "model": "small-llm",
                         "meta": {"temperature": 0.7, "served_by": "small-llm"}}
    assert stored[2] == {"id": "r3", "content": "Paris.", "model": None, "meta": {}}
    theirs = world.client.get(f"/api/projects/{pid}/answers/{r.json()['id']}", headers=owner.headers)
    assert theirs.json()["item"]["data"]["responses"] == stored


def test_the_server_computes_the_rewrite_diff(project: tuple[World, User, list[User], int]) -> None:
    world, _, people, pid = project
    _, r = submit(world, people[0], pid, answer())
    assert r.status_code == 201, r.text
    stored = r.json()["value"]
    assert stored["rw"]["diff"][0] == ["equal", 0, 12, 0, 12] and ["equal", 0, 1, 0, 1] not in stored["rw"]["diff"]
    assert stored["pref"] == {"left": "b", "right": "a", "winner": "left", "strength": 2, "reason": None}


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"pref": {"left": "b", "right": "zz", "winner": "left"}}, "pref.right", "not a candidate"),
    ({"pref": {"left": "b", "right": "b", "winner": "left"}}, "pref.right", "two different"),
    ({"pref": {"left": "b", "right": "a", "winner": "left", "strength": 4}}, "pref.strength", "1, 2 or 3"),
    ({"rank": {"order": ["b", "a"]}}, "rank.order", "missing: r3"),
    ({"rank": {"order": ["b", "a", "r3", "a"]}}, "rank.order[3]", "twice"),
    ({"crit": {"a": {"helpful": 2, "correct": 1}, "b": {"helpful": 5, "correct": 5}}}, "crit.r3", "every candidate"),
    ({"crit": {"a": {"helpful": 9, "correct": 1}, "b": {}, "r3": {}}}, "crit.a.helpful", "outside the scale"),
    ({"rw": {"response": "b", "text": "Paris is in France."}}, "rw.text", "changes 0 characters"),
    ({"flags": {"response": "r3", "spans": [{"start": 0, "end": 12, "label": "unsafe"}]}}, "flags.spans[0].end",
     "past the end"),
])
def test_a_wrong_answer_is_a_422_naming_the_field(
    project: tuple[World, User, list[User], int], change: dict[str, Any], field: str, words: str
) -> None:
    world, owner, people, pid = project
    _, r = submit(world, people[0], pid, answer(**change))
    assert r.status_code == 422, r.text
    problems = r.json()["error"]["problems"]
    assert [p["field"] for p in problems] == [field] and words in problems[0]["message"]
    answers = world.client.get(f"/api/projects/{pid}/answers", headers=owner.headers).json()
    assert answers == []


def test_revisions_and_review_decisions_are_checked_against_the_candidates(
    project: tuple[World, User, list[User], int],
) -> None:
    world, owner, people, pid = project
    task, r = submit(world, people[0], pid, answer())
    url = f"/api/projects/{pid}/answers/{r.json()['id']}/revisions"
    bad = world.client.post(url, json={"value": answer(rank={"order": ["b", "x", "a"]})}, headers=people[0].headers)
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["field"] == "rank.order[1]"
    good = world.client.post(url, json={"value": answer(rw={"response": "r3", "text": "Paris, France."})},
                             headers=people[0].headers)
    assert good.status_code == 201, good.text
    assert good.json()["value"]["rw"]["diff"] == [["equal", 0, 5, 0, 5], ["insert", 5, 5, 5, 13],
                                                  ["equal", 5, 6, 13, 14]]
    item = task["item_id"]
    assert world.client.post(f"/api/projects/{pid}/items/{item}/flag", headers=owner.headers).status_code == 204
    refused = world.client.post(f"/api/projects/{pid}/items/{item}/review", headers=owner.headers,
                                json={"value": answer(flags={"response": "q", "spans": []})})
    assert refused.status_code == 422 and refused.json()["error"]["problems"][0]["field"] == "flags.response"
    decided = world.client.post(f"/api/projects/{pid}/items/{item}/review", headers=owner.headers,
                                json={"value": answer()})
    assert decided.status_code == 200 and decided.json()["value"]["rw"]["diff"][0] == ["equal", 0, 12, 0, 12]


def test_gold_on_import_is_checked_against_the_records_candidates(world: World) -> None:
    owner = world.user("owner")
    pid = world.project(owner, schema=SCHEMA)
    bad = {**ITEM, "gold": answer(pref={"left": "b", "right": "r9", "winner": "left"})}
    body = json.dumps(bad).encode() + b"\n"
    r = world.upload(owner, pid, body, "gold.jsonl")
    assert r.status_code == 422
    assert r.json()["error"]["problems"] == [{"line": 1, "field": "gold.pref.right",
                                              "message": "'r9' is not a candidate of this item (candidates: a, b, r3)"}]
    r = world.upload(owner, pid, json.dumps({**ITEM, "gold": answer()}).encode() + b"\n", "gold.jsonl")
    assert r.status_code == 201, r.text
    gold = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()[0]["gold"]
    assert gold["rw"]["diff"][0] == ["equal", 0, 12, 0, 12]


def test_three_annotators_settle_every_question_and_it_is_exported(
    project: tuple[World, User, list[User], int],
) -> None:
    world, owner, people, pid = project
    values = [
        answer(),
        answer(pref={"left": "a", "right": "b", "winner": "right", "strength": 3},
               crit={"a": {"helpful": 1, "correct": 1}, "b": {"helpful": 4, "correct": 5},
                     "r3": {"helpful": 3, "correct": 4}}),
        answer(pref={"left": "a", "right": "b", "winner": "tie"}, rank={"order": ["r3", "b", "a"]},
               rw={"response": "a", "text": "Paris lies in France."},
               flags={"response": "a", "spans": []}),
    ]
    for user, value in zip(people, values, strict=True):
        _, r = submit(world, user, pid, value)
        assert r.status_code == 201, r.text
    item = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()[0]
    consensus = item["consensus"]["value"]
    assert consensus["pref"]["winner"] == "b"
    (pair,) = consensus["pref"]["pairs"]  # b won twice (shown on either side), one tie
    assert pair["left"] == "a" and pair["right"] == "b" and pair["winner"] == "right"
    assert pair["share"] == pytest.approx(2 / 3) and pair["left_votes"] == 0
    assert pair["right_votes"] == pytest.approx(2 * pair["tie_votes"])
    assert consensus["rank"]["order"] == ["b", "r3", "a"]
    assert consensus["crit"] == {"a": {"helpful": 2, "correct": 1}, "b": {"helpful": 5, "correct": 5},
                                 "r3": {"helpful": 3, "correct": 5}}
    assert consensus["rw"]["text"] == "Paris is in France."
    assert consensus["flags"] == {"a": [{"start": 12, "end": 19, "label": "hallucination"}]}
    report = world.client.get(f"/api/projects/{pid}/quality", headers=owner.headers).json()
    agreement = {q["question"]: q["percent_agreement"] for q in report["questions"]}
    assert agreement["pref"] == pytest.approx(1 / 3)  # a-b, a-c, b-c: only a and b agree
    assert agreement["rank"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)  # taus 1, 1/3, 1/3
    assert agreement["flags"] == pytest.approx(1 / 3)  # F1 1, 0, 0
    exported = world.client.get(f"/api/projects/{pid}/export", params={"format": "csv"}, headers=owner.headers)
    assert exported.status_code == 200, exported.text
    row = next(csv.DictReader(io.StringIO(exported.text)))
    cells = " ".join(row.values())
    assert "b > r3 > a" in cells and '"winner":"b"' in cells
    jsonl = world.client.get(f"/api/projects/{pid}/export", params={"format": "jsonl"}, headers=owner.headers)
    line = json.loads(jsonl.text.splitlines()[0])
    assert line["data"]["responses"][0]["model"] == "small-llm"
    assert line["consensus"]["value"]["crit"]["b"] == {"helpful": 5, "correct": 5}


def test_a_gold_preference_shown_the_other_way_round_is_scored_right(world: World) -> None:
    owner = world.user("owner")
    ann = world.user("ann")
    schema = {"fields": SCHEMA["fields"], "questions": SCHEMA["questions"][:1]}
    pid = world.project(owner, schema=schema, members={"annotator": (ann,)})
    gold = {"pref": {"left": "a", "right": "b", "winner": "right", "strength": 1}}
    world.import_records(owner, pid, [{**ITEM, "id": "g", "gold": gold}, {**ITEM, "id": "plain"}])
    seen = []
    for _ in range(2):
        task = world.next(ann, pid).json()
        seen.append(task["external_id"])
        # The annotator saw b on the left and preferred it, without a strength: the gold's choice.
        r = world.submit(ann, pid, task["item_id"], {"pref": {"left": "b", "right": "a", "winner": "left"}})
        assert r.status_code == 201, r.text
    assert sorted(seen) == ["g", "plain"]
    report = world.client.get(f"/api/projects/{pid}/quality/annotators", headers=owner.headers)
    assert report.status_code == 200, report.text
    (row,) = [a for a in report.json() if a["username"] == "ann"]
    assert row["gold_answered"] == 1 and row["gold_correct"] == 1
    assert row["agreement_with_consensus"] == 1.0  # its answer against the item's settled pair
