"""A loop round sends suspected label errors to review only when the model has earned it: enough
labels per class, accuracy shown better than chance, confidence at the setting's threshold; and
never an item whose reviewer decision stands. Every path to review says why (review_reasons)."""

from __future__ import annotations

import random
from typing import Any

from labelloop.services.loop import flags as loop_flags
from tests.platform.test_loop_flow import WORDS, corpus, text
from tests.platform.world import User, World

THREE = {
    "fields": [{"name": "text"}],
    "questions": [{"name": "topic", "type": "choice", "options": ["sport", "food", "music"]}],
}
TWO = {
    "fields": [{"name": "text"}],
    "questions": [{"name": "topic", "type": "choice", "options": list(WORDS)}],
}
NOISE = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta", "zeta", "lambda", "rho", "tau"]


def patch(world: World, owner: User, pid: int, **body: Any) -> None:
    r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json=body)
    assert r.status_code == 200, r.text


def round_(world: World, owner: User, pid: int) -> dict[str, Any]:
    r = world.client.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    return dict(r.json()["result"])


def by_external_id(world: World, user: User, pid: int) -> dict[str, dict[str, Any]]:
    r = world.client.get(f"/api/projects/{pid}/items", params={"limit": 1000}, headers=user.headers)
    assert r.status_code == 200, r.text
    return {i["external_id"]: i for i in r.json()}


def answer_all(world: World, who: User, pid: int, value_of: Any) -> None:
    while (t := world.next(who, pid)).status_code == 200:
        task = t.json()
        assert world.submit(who, pid, task["item_id"], {"topic": value_of(task["external_id"])}).status_code == 201


def decide(world: World, reviewer: User, pid: int, item_id: int, topic: str) -> None:
    r = world.client.post(f"/api/projects/{pid}/items/{item_id}/review", headers=reviewer.headers,
                          json={"value": {"topic": topic}})
    assert r.status_code == 200, r.text


def test_a_model_at_chance_level_flags_nothing(world: World) -> None:
    """The report's scenario: 3 classes, 9 items two annotators labelled, one decided by a reviewer."""
    owner, a, b, rev = world.user("o"), world.user("a"), world.user("b"), world.user("r")
    pid = world.project(owner, schema=THREE, overlap=2, members={"annotator": (a, b), "reviewer": (rev,)})
    patch(world, owner, pid, loop={"min_labels": 5, "autolabel_target": None})
    rng = random.Random(1)
    world.import_records(owner, pid, [{"id": f"i{k}", "text": " ".join(rng.sample(NOISE, 5))} for k in range(9)])
    truth = {f"i{k}": ("sport", "food", "music")[k % 3] for k in range(9)}
    answer_all(world, a, pid, truth.__getitem__)
    answer_all(world, b, pid, lambda ext: "food" if ext == "i0" else truth[ext])  # i0 is disputed
    disputed = world.client.get(f"/api/projects/{pid}/review/next", headers=rev.headers).json()["item"]
    assert disputed["external_id"] == "i0" and disputed["review_reasons"] == ["low_confidence"]
    decide(world, rev, pid, disputed["id"], "sport")

    first = round_(world, owner, pid)
    assert "oof_accuracy" in first and first["labelled"] == 9  # it trained
    assert first["label_issues"] == 0 and first["label_issue_items"] == []
    assert first["flagging"]["allowed"] is False
    assert first["flagging"]["reason"].startswith("too few labels to flag: needs 10 labelled items")

    # with the class minimum out of the way, the accuracy test alone still says no
    patch(world, owner, pid, loop={"label_error_min_per_class": 3})
    second = round_(world, owner, pid)
    gate = second["flagging"]
    assert second["label_issues"] == 0 and gate["allowed"] is False
    assert gate["accuracy"] == second["oof_accuracy"] < gate["needed_accuracy"]
    assert gate["lower_bound"] <= gate["chance"] == 3 / 9
    assert gate["needed_accuracy"] == 6 / 9  # P(X >= 6 | 9, 1/3) < 5% <= P(X >= 5 | 9, 1/3)
    assert gate["reason"] == (f"model not yet better than chance: {round(100 * gate['accuracy'])}% "
                              "(needs ≥ 67% on 9 items at 95%; always answering the commonest class gets 33%)")
    after = by_external_id(world, owner, pid)
    assert all(i["label_issue"] is None for i in after.values())
    assert {k: i["review"] for k, i in after.items()} == {k: "done" if k == "i0" else None for k in truth}
    assert after["i0"]["consensus"] == {"value": {"topic": "sport"}, "confidence": 1.0, "method": "review",
                                        "final": True}
    assert world.client.get(f"/api/projects/{pid}/review/count", headers=rev.headers).json() == {"pending": 0}


def two_topic_project(world: World, owner: User, a: User, b: User, rev: User, threshold: float) -> tuple[int, set[str]]:
    """40 texts about sport or food; both annotators give 4 of them the wrong topic. A reviewer
    decides two of those (agreeing with the wrong label): t0000 before the second annotator
    answers it, a decision that answer reopens, and t0001 after every answer, which stands."""
    pid = world.project(owner, schema=TWO, overlap=2, members={"annotator": (a, b), "reviewer": (rev,)})
    patch(world, owner, pid, quality={"review_below": 0.0},
          loop={"autolabel_target": None, "label_error_confidence": threshold})
    truth = corpus(40, seed=6)
    rng = random.Random(8)
    world.import_records(owner, pid, [{"id": k, "text": text(v, rng)} for k, v in truth.items()])
    wrong = set(list(truth)[:4])

    def given(ext: str) -> str:
        return next(x for x in WORDS if x != truth[ext]) if ext in wrong else truth[ext]

    def flag_and_decide(ext: str) -> None:
        iid = by_external_id(world, owner, pid)[ext]["id"]
        assert world.client.post(f"/api/projects/{pid}/items/{iid}/flag", headers=rev.headers).status_code == 204
        decide(world, rev, pid, iid, given(ext))  # the reviewer agrees with the wrong label

    answer_all(world, a, pid, given)
    flag_and_decide("t0000")
    answer_all(world, b, pid, given)  # answers t0000 after its decision
    flag_and_decide("t0001")
    return pid, wrong


def test_flags_respect_the_threshold_and_reviewer_decisions(world: World) -> None:
    owner, a, b, rev = world.user("o"), world.user("a"), world.user("b"), world.user("r")
    # The same project twice: one flags whatever the model leans to, the other at 0.9.
    lenient, wrong = two_topic_project(world, owner, a, b, rev, threshold=0.51)
    strict, _ = two_topic_project(world, owner, a, b, rev, threshold=0.9)
    loose, firm = round_(world, owner, lenient), round_(world, owner, strict)
    for result in (loose, firm):
        assert result["flagging"]["allowed"] is True and result["flagging"]["reason"] is None
        assert result["flagging"]["lower_bound"] > result["flagging"]["chance"]

    seen = {k: i for k, i in by_external_id(world, owner, lenient).items() if i["label_issue"]}
    sure = {k: i["label_issue"]["model_answer"]["confidence"] for k, i in seen.items()}
    assert set(sure) <= wrong and min(sure.values()) < 0.9 <= max(sure.values())  # the threshold matters

    items = by_external_id(world, owner, strict)
    flagged = {k for k, i in items.items() if i["label_issue"]}
    assert flagged == {k for k, c in sure.items() if c >= 0.9} and firm["label_issues"] == len(flagged)
    pending = {k for k, i in items.items() if i["review"] == "pending"}
    assert pending == flagged  # agreed items the model doubts less than 0.9 stay out of review
    for k in flagged:
        issue = items[k]["label_issue"]
        assert issue["model_answer"]["confidence"] >= 0.9
        assert items[k]["review_reasons"] == issue["reasons"] and "model_disagrees" in issue["reasons"]

    # The decision on t0001 stands: not suspected, not sent back, still final.
    for pid in (lenient, strict):
        decided = by_external_id(world, owner, pid)["t0001"]
        assert decided["label_issue"] is None and decided["review"] == "done"
        assert decided["review_reasons"] == ["flagged"] and decided["consensus"]["final"] is True
    # t0000 was answered again after its decision, so a round may send it back to review.
    reopened = items["t0000"]
    assert "t0000" in flagged and reopened["review"] == "pending"
    assert reopened["review_reasons"] == reopened["label_issue"]["reasons"]  # a fresh visit, fresh reasons

    # A second round does not pile up reasons on the items already waiting.
    round_(world, owner, strict)
    again = by_external_id(world, owner, strict)
    assert {k for k, i in again.items() if i["review"] == "pending"} == pending
    assert all(again[k]["review_reasons"] == items[k]["review_reasons"] for k in pending)

    # A decision made while a round trains stands too: flagging reads decisions in its own
    # transaction, not from the snapshot the model was trained on.
    late = again["t0001"]
    suspect = loop_flags.Suspect(("model_disagrees",), {"value": {"topic": "food"}, "confidence": 0.99})
    assert loop_flags.record(world.runtime.db, strict, firm["model_version"], {late["id"]: suspect}) == []
    assert by_external_id(world, owner, strict)["t0001"] == late


def test_each_way_into_review_says_why(world: World) -> None:
    owner, a, b, rev = world.user("o"), world.user("a"), world.user("b"), world.user("r")
    pid = world.project(owner, schema=THREE, overlap=2, members={"annotator": (a, b), "reviewer": (rev,)})
    world.import_records(owner, pid, [{"id": "calm", "text": "x"}, {"id": "torn", "text": "y"}])
    answer_all(world, a, pid, lambda ext: "sport")
    answer_all(world, b, pid, lambda ext: "food" if ext == "torn" else "sport")
    items = by_external_id(world, owner, pid)
    assert items["torn"]["review"] == "pending" and items["torn"]["review_reasons"] == ["low_confidence"]
    assert items["calm"]["review"] is None and items["calm"]["review_reasons"] == []

    # flagging by hand adds its reason once; the decision keeps the record; a new flag starts afresh
    for _ in range(2):
        r = world.client.post(f"/api/projects/{pid}/items/{items['torn']['id']}/flag", headers=owner.headers)
        assert r.status_code == 204
    assert by_external_id(world, owner, pid)["torn"]["review_reasons"] == ["low_confidence", "flagged"]
    decide(world, rev, pid, items["torn"]["id"], "food")
    torn = by_external_id(world, owner, pid)["torn"]
    assert torn["review"] == "done" and torn["review_reasons"] == ["low_confidence", "flagged"]
    world.client.post(f"/api/projects/{pid}/items/{items['torn']['id']}/flag", headers=owner.headers)
    assert by_external_id(world, owner, pid)["torn"]["review_reasons"] == ["flagged"]
    nxt = world.client.get(f"/api/projects/{pid}/review/next", headers=rev.headers).json()
    assert nxt["item"]["external_id"] == "torn" and nxt["item"]["review_reasons"] == ["flagged"]


def test_the_chance_bar_is_the_exact_binomial_test() -> None:
    from scipy.stats import binomtest

    assert loop_flags.least_passing(9, 1 / 3) == 6 and loop_flags.least_passing(40, 0.5) == 26
    assert loop_flags.least_passing(3, 0.5) is None  # even 3 of 3 is not shown better than a coin
    assert loop_flags.lower_bound(0, 10) == 0.0
    rng = random.Random(5)
    for _ in range(200):
        n = rng.randint(1, 300)
        chance = rng.choice([1 / 2, 1 / 3, rng.uniform(0.05, 0.95)])
        need = loop_flags.least_passing(n, chance)
        for c in {0, n, rng.randint(0, n), *([need - 1, need] if need else [])}:
            low = loop_flags.lower_bound(c, n)
            if c:  # scipy's one-sided exact (Clopper-Pearson) interval is the oracle
                assert abs(low - binomtest(c, n, chance, alternative="greater").proportion_ci(0.95, "exact").low) < 1e-9
            assert (low > chance) == (need is not None and c >= need)
