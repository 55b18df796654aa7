"""Language-model feedback on the platform (docs/feedback.md, "Aggregation and agreement"): the
project-wide recompute fits Crowd-BT to preferences (winners with their probability of being
best, annotators' reliability as their skill), Plackett-Luce to rankings, HMM-Crowd to flagged
words and the robust mean to each criterion; the arena leaderboard of the generating models; and
agreement in the quality report. The library on the same answers is the oracle throughout."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from labelloop.quality import (
    RobustMean,
    default_ranking_aggregator,
    default_span_aggregator,
    pairwise_span_agreement,
)
from labelloop.quality.pairwise import best_in_task, model_leaderboard, preference_fleiss_kappa
from labelloop.quality.rankings import mean_kendall_tau
from labelloop.store.models import annotator_quality, consensus, items
from tests.platform.world import User, World

MODELS = {"strong": 1.0, "mid": 0.0, "weak": -1.0}  # true strength of each generating model
N_ITEMS = 30
FLIPPER = 5  # of annotators 0..5: always reports the other side
PREFERENCE_SCHEMA: dict[str, Any] = {
    "fields": [{"name": "prompt", "type": "text"}, {"name": "responses", "type": "responses"}],
    "questions": [{"name": "better", "type": "preference", "target": "responses"}],
}
NO_GOLD = {"gold_first": 0, "gold_rate": 0.0, "review_below": 0.0}


def _set_quality(world: World, owner: User, pid: int, **settings: Any) -> None:
    r = world.client.patch(f"/api/projects/{pid}", json={"quality": settings}, headers=owner.headers)
    assert r.status_code == 200, r.text


def _recompute(world: World, owner: User, pid: int) -> dict[str, Any]:
    r = world.client.post(f"/api/projects/{pid}/quality/recompute", params={"wait": "true"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    return dict(r.json()["result"])


def _consensus(world: World, pid: int) -> dict[str, Any]:
    """External id -> the consensus row."""
    with world.runtime.db.read() as conn:
        rows = conn.execute(select(items.c.external_id, consensus.c.value, consensus.c.confidence,
                                   consensus.c.confidences, items.c.review_state)
                            .join(consensus, consensus.c.item_id == items.c.id)
                            .where(items.c.project_id == pid)).all()
    return {r.external_id: r for r in rows}


def _answer_all(world: World, pid: int, user: User, answer: Any) -> None:
    while (r := world.next(user, pid)).status_code == 200:
        t = r.json()
        s = world.submit(user, pid, t["item_id"], answer(t["external_id"]))
        assert s.status_code == 201, s.text


# --- preferences: 30 prompts x 3 candidates (one per model), 6 annotators, one always flips ---------

class Arena:
    """True utilities (the model's strength plus the prompt's noise) and each annotator's answers."""

    def __init__(self, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.models: dict[str, dict[str, str]] = {}
        self.utility: dict[str, dict[str, float]] = {}
        self.answers: dict[tuple[int, str], dict[str, Any]] = {}
        for i in range(N_ITEMS):
            ext = f"q{i:02d}"
            order = rng.permutation(list(MODELS))  # which candidate id each model got: no pattern
            self.models[ext] = {f"r{k + 1}": str(m) for k, m in enumerate(order)}
            self.utility[ext] = {r: MODELS[m] + float(rng.normal(0, 0.7)) for r, m in self.models[ext].items()}
            pairs = list(itertools.combinations(sorted(self.utility[ext]), 2))
            for w in range(6):  # each pair compared by two annotators, the flipper's pair rotating
                left, right = pairs[(w + i) % 3]
                if rng.random() < 0.5:
                    left, right = right, left
                u = self.utility[ext]
                winner = "left" if rng.random() < 1 / (1 + np.exp(u[right] - u[left])) else "right"
                if w == FLIPPER:
                    winner = {"left": "right", "right": "left"}[winner]
                self.answers[(w, ext)] = {"left": left, "right": right, "winner": winner}

    def best(self, ext: str) -> str:
        u = self.utility[ext]
        return max(u, key=lambda r: u[r])

    def records(self) -> list[dict[str, Any]]:
        return [{"id": ext, "prompt": f"prompt {ext}",
                 "responses": [{"id": r, "content": f"answer {r} to {ext}", "model": m} for r, m in models.items()]}
                for ext, models in self.models.items()]


@pytest.fixture
def arena(world: World) -> tuple[World, User, list[User], int, Arena, dict[str, int]]:
    owner = world.user("owner")
    people = [world.user(f"ann{w}") for w in range(6)]
    reviewer, annotator_only = world.user("reviewer"), world.user("outsider")
    pid = world.project(owner, schema=PREFERENCE_SCHEMA, overlap=6,
                        members={"annotator": (*people, annotator_only), "reviewer": (reviewer,)})
    _set_quality(world, owner, pid, **NO_GOLD)
    truth = Arena()
    world.import_records(owner, pid, truth.records())
    ids: dict[str, int] = {}
    for w, person in enumerate(people):
        def answer(ext: str, w: int = w) -> dict[str, Any]:
            return {"better": truth.answers[(w, ext)]}
        while (r := world.next(person, pid)).status_code == 200:
            t = r.json()
            ids[t["external_id"]] = t["item_id"]
            s = world.submit(person, pid, t["item_id"], answer(t["external_id"]))
            assert s.status_code == 201, s.text
    return world, owner, [*people, reviewer, annotator_only], pid, truth, ids


def _comparisons(truth: Arena, ids: dict[str, int], people: list[User]) -> pd.DataFrame:
    """Every answer as the platform must fit it: candidates keyed `<item id>:<response id>`."""
    rows = []
    for (w, ext), a in truth.answers.items():
        i = ids[ext]
        key = {side: f"{i}:{a[side]}" for side in ("left", "right")}
        rows.append((i, people[w].id, key["left"], key["right"], key[a["winner"]]))
    return pd.DataFrame(rows, columns=["task", "worker", "left", "right", "label"])


def test_the_recompute_picks_winners_with_annotator_reliability_and_the_flipper_scores_lowest(
    arena: tuple[World, User, list[User], int, Arena, dict[str, int]],
) -> None:
    world, owner, people, pid, truth, ids = arena
    before = _consensus(world, pid)
    majority_right = sum(before[e].value["better"]["winner"] == truth.best(e) for e in truth.models)
    assert all("p_best" not in r.value["better"] for r in before.values())  # per item, as answers came

    # Review reads the new confidence like any other: with the bar raised now, exactly the items
    # the recompute is unsure of go to review.
    _set_quality(world, owner, pid, **{**NO_GOLD, "review_below": 0.7})
    result = _recompute(world, owner, pid)
    assert result["items"] == N_ITEMS and result["annotators"] == 6
    after = _consensus(world, pid)
    model_right = sum(after[e].value["better"]["winner"] == truth.best(e) for e in truth.models)
    # 19 against 9 of 30: the flipper's votes split pairs the majority then calls a tie, or win them
    assert model_right >= majority_right + 6, (model_right, majority_right)
    assert {e for e, r in after.items() if r.review_state == "pending"} == {
        e for e, r in after.items() if r.confidence < 0.7}

    # The library on the same comparisons is the oracle: winner, its P(best), the others' too.
    oracle = best_in_task(_comparisons(truth, ids, people))
    for ext, i in ids.items():
        mine = oracle[oracle.task == i]
        value = after[ext].value["better"]
        assert value["winner"] == mine.item.iloc[0].split(":")[1]
        assert after[ext].confidence == pytest.approx(mine.p_best.iloc[0])
        assert after[ext].confidences["better"] == pytest.approx(mine.p_best.iloc[0])
        assert value["p_best"] == pytest.approx({k.split(":")[1]: p for k, p in zip(mine.item, mine.p_best, strict=True)})
        # each compared pair, ids in order, decided by the scores, with the votes as cast
        cast = [a for (_, e), a in truth.answers.items() if e == ext]
        assert len(value["pairs"]) == 3 and all(p["left"] < p["right"] for p in value["pairs"])
        assert sum(p["left_votes"] + p["right_votes"] + p["tie_votes"] for p in value["pairs"]) == len(cast)
        scores = dict(zip(mine.item.map(lambda k: k.split(":")[1]), mine.score, strict=True))
        for p in value["pairs"]:
            assert p["winner"] == ("left" if scores[p["left"]] > scores[p["right"]] else "right")

    with world.runtime.db.read() as conn:
        skill = {r.user_id: r.skill for r in conn.execute(
            select(annotator_quality.c.user_id, annotator_quality.c.skill)
            .where(annotator_quality.c.project_id == pid))}
    flipper = people[FLIPPER].id
    assert skill[flipper] == min(skill.values()) and skill[flipper] < 0.2
    assert all(skill[p.id] > 0.9 for p in people[:FLIPPER])
    report = {u["username"]: u for u in world.client.get(
        f"/api/projects/{pid}/quality/annotators", headers=owner.headers).json()}
    assert report[people[FLIPPER].name]["skill"] == pytest.approx(skill[flipper])
    # reading the flipper's votes backwards, everyone else agrees with the consensus more than they do
    agree = {name: row["agreement_with_consensus"] for name, row in report.items()}
    assert agree[people[FLIPPER].name] == min(agree.values()) < 0.3


def test_too_little_data_keeps_the_per_item_consensus(world: World) -> None:
    owner, a, b = world.user("owner"), world.user("a"), world.user("b")
    pid = world.project(owner, schema=PREFERENCE_SCHEMA, overlap=2, members={"annotator": (a, b)})
    _set_quality(world, owner, pid, **NO_GOLD)
    truth = Arena()
    world.import_records(owner, pid, truth.records()[:19])  # 19 items answered twice: one short of 20
    for w, person in enumerate((a, b)):
        _answer_all(world, pid, person, lambda ext, w=w: {"better": truth.answers[(w, ext)]})
    before = _consensus(world, pid)
    _recompute(world, owner, pid)
    after = _consensus(world, pid)
    assert {e: r.value for e, r in after.items()} == {e: r.value for e, r in before.items()}
    assert all("p_best" not in r.value["better"] for r in after.values())


def test_the_leaderboard_orders_the_models_by_their_strength(
    arena: tuple[World, User, list[User], int, Arena, dict[str, int]],
) -> None:
    world, owner, people, pid, truth, ids = arena
    reviewer, annotator = people[6], people[7]
    r = world.client.get(f"/api/projects/{pid}/feedback/leaderboard", headers=reviewer.headers)
    assert r.status_code == 200, r.text
    board = r.json()
    assert [m["model"] for m in board["models"]] == ["strong", "mid", "weak"]
    assert board["question"] == "better" and board["confidence"] == 0.95 and board["resamples"] == 200
    assert board["comparisons"] == board["battles"] == len(truth.answers)  # every pair is two models
    assert board["annotators"] == 6
    assert sum(m["comparisons"] for m in board["models"]) == 2 * board["battles"]
    for m in board["models"]:
        assert m["low"] < m["score"] < m["high"]
    assert board["models"][0]["low"] > board["models"][2]["high"]  # strong and weak told apart

    # the library on the same answers is the oracle (seeded bootstrap: the same numbers)
    table = _comparisons(truth, ids, people)
    models = pd.Series({f"{ids[e]}:{r}": m for e, ms in truth.models.items() for r, m in ms.items()})
    oracle = model_leaderboard(table, models, unit="task", seed=0)
    assert [m["model"] for m in board["models"]] == list(oracle.model)
    for m, o in zip(board["models"], oracle.itertuples(), strict=True):
        assert (m["score"], m["low"], m["high"], m["win_rate"]) == pytest.approx((o.score, o.low, o.high, o.win_rate))
        assert m["comparisons"] == o.n_comparisons
    # the same again: the intervals are seeded
    assert world.client.get(f"/api/projects/{pid}/feedback/leaderboard", params={"question": "better"},
                            headers=owner.headers).json() == board

    # annotators never see it; a question that is not a preference is named
    assert world.client.get(f"/api/projects/{pid}/feedback/leaderboard",
                            headers=annotator.headers).status_code == 403
    bad = world.client.get(f"/api/projects/{pid}/feedback/leaderboard", params={"question": "nope"},
                           headers=owner.headers)
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["field"] == "question"
    assert "'nope' is no question" in bad.json()["error"]["message"]


def test_the_leaderboard_groups_candidates_without_a_model_and_waits_for_two_models(world: World) -> None:
    owner, a = world.user("owner"), world.user("a")
    pid = world.project(owner, schema=PREFERENCE_SCHEMA, members={"annotator": (a,)})
    world.import_records(owner, pid, [
        {"id": "x", "prompt": "p", "responses": [{"id": "r1", "content": "one", "model": "m"},
                                                   {"id": "r2", "content": "two", "model": "m"}]},
        {"id": "y", "prompt": "p", "responses": ["plain", "text"]},  # no model: "unknown"
    ])
    url = f"/api/projects/{pid}/feedback/leaderboard"
    empty = world.client.get(url, headers=owner.headers).json()
    assert empty["models"] == [] and empty["comparisons"] == 0
    _answer_all(world, pid, a, lambda ext: {"better": {"left": "r1", "right": "r2", "winner": "left"}})
    board = world.client.get(url, headers=owner.headers).json()
    assert board["comparisons"] == 2 and board["battles"] == 0 and board["models"] == []
    world.import_records(owner, pid, [{"id": "z", "prompt": "p", "responses": [
        {"id": "r1", "content": "one", "model": "m"}, "three"]}])
    _answer_all(world, pid, a, lambda ext: {"better": {"left": "r2", "right": "r1", "winner": "left"}})
    board = world.client.get(url, headers=owner.headers).json()
    assert board["battles"] == 1 and [m["model"] for m in board["models"]] == ["unknown", "m"]
    assert board["models"][0]["win_rate"] == 1.0


def test_the_quality_report_has_fleiss_kappa_on_preferences(
    arena: tuple[World, User, list[User], int, Arena, dict[str, int]],
) -> None:
    world, owner, people, pid, truth, ids = arena
    report = world.client.get(f"/api/projects/{pid}/quality", headers=owner.headers).json()
    [q] = report["questions"]
    assert q["type"] == "preference" and q["items"] == N_ITEMS
    assert q["fleiss_kappa"] == pytest.approx(preference_fleiss_kappa(_comparisons(truth, ids, people)))
    assert q["kendall_tau"] is None and q["span_f1"] is None


# --- rankings, flagged words and criteria ----------------------------------------------------------

FEEDBACK_SCHEMA: dict[str, Any] = {
    "fields": [{"name": "prompt", "type": "text"}, {"name": "responses", "type": "responses"}],
    "questions": [
        {"name": "order", "type": "ranking", "target": "responses"},
        {"name": "flags", "type": "response_spans", "target": "responses", "labels": ["wrong", "unsafe"]},
        {"name": "rate", "type": "criteria", "target": "responses", "min": 1, "max": 5,
         "criteria": [{"name": "helpful"}, {"name": "correct"}]},
    ],
}
TEXT = "Paris is the capital of Italy and of France."  # "Italy" is wrong: [24, 29)


def _feedback_answer(who: str, i: int) -> dict[str, Any]:
    """a and b: the true order r1 > r2 > r3, flag "Italy"; c: the reverse, flags nothing. Ratings:
    r1 is worth `1 + i % 4` on both criteria, r2 and r3 one point less (at least 1); b is lenient
    (one point more, at most 5), a and c exact."""
    order = ["r1", "r2", "r3"] if who != "c" else ["r3", "r2", "r1"]
    spans = [{"start": 24, "end": 29, "label": "wrong"}] if who != "c" else []
    worth = {"r1": 1 + i % 4, "r2": max(1, i % 4), "r3": max(1, i % 4)}
    lift = 1 if who == "b" else 0
    return {"order": {"order": order}, "flags": {"response": "r1", "spans": spans},
            "rate": {r: {"helpful": min(5, v + lift), "correct": min(5, v + lift)} for r, v in worth.items()}}


@pytest.fixture
def feedback(world: World) -> tuple[World, User, dict[str, User], int, dict[str, int]]:
    owner = world.user("owner")
    people = {n: world.user(n) for n in "abc"}
    pid = world.project(owner, schema=FEEDBACK_SCHEMA, overlap=3, members={"annotator": tuple(people.values())})
    _set_quality(world, owner, pid, **NO_GOLD)
    world.import_records(owner, pid, [
        {"id": f"f{i:02d}", "prompt": "What is the capital of France?",
         "responses": [{"id": "r1", "content": TEXT, "model": "m1"}, {"id": "r2", "content": "Lyon.", "model": "m2"},
                       {"id": "r3", "content": "I do not know.", "model": "m3"}]}
        for i in range(24)])
    ids: dict[str, int] = {}
    for name, person in people.items():
        while (r := world.next(person, pid)).status_code == 200:
            t = r.json()
            ids[t["external_id"]] = t["item_id"]
            s = world.submit(person, pid, t["item_id"], _feedback_answer(name, int(t["external_id"][1:])))
            assert s.status_code == 201, s.text
    return world, owner, people, pid, ids


def _long(people: dict[str, User], ids: dict[str, int]) -> list[tuple[int, int, str, dict[str, Any]]]:
    return [(i, people[n].id, n, _feedback_answer(n, int(e[1:]))) for e, i in ids.items() for n in people]


def test_rankings_flags_and_criteria_are_aggregated_over_the_project(
    feedback: tuple[World, User, dict[str, User], int, dict[str, int]],
) -> None:
    world, owner, people, pid, ids = feedback
    _recompute(world, owner, pid)
    after = _consensus(world, pid)
    long = _long(people, ids)

    # rankings: Plackett-Luce over every ranking; the reversed ranker weighs nothing
    rk = pd.DataFrame({"task": [i for i, *_ in long], "worker": [u for _, u, _, _ in long],
                       "ranking": [[f"{i}:{r}" for r in v["order"]["order"]] for i, _, _, v in long]})
    strength = default_ranking_aggregator().fit_predict(rk)
    for ext, i in ids.items():
        value = after[ext].value["order"]
        assert value["order"] == ["r1", "r2", "r3"]
        s = strength.reindex([f"{i}:r{k}" for k in (1, 2, 3)]).to_numpy()
        first = np.exp(s) / np.exp(s).sum()  # P(ranked first) among the item's candidates
        assert [value["scores"][f"r{k}"] for k in (1, 2, 3)] == pytest.approx(first)
        assert after[ext].confidences["order"] == pytest.approx(first[0])
        # two rankings agree, the third is reversed and weighs nothing: P(first) 2/3 under the prior
        assert after[ext].confidences["order"] == pytest.approx(2 / 3, abs=1e-3)

    # flagged words: HMM-Crowd per response, its text the candidate's content
    sp = pd.DataFrame({"task": [f"{i}:r1" for i, *_ in long], "worker": [u for _, u, _, _ in long],
                       "spans": [[[s["start"], s["end"], s["label"]] for s in v["flags"]["spans"]] for *_, v in long],
                       "text": TEXT})
    fused = default_span_aggregator().fit_predict(sp)
    for ext, i in ids.items():
        assert after[ext].value["flags"] == {"r1": [{"start": s, "end": e, "label": lab} for s, e, lab in fused[f"{i}:r1"]]}
        assert after[ext].value["flags"] == {"r1": [{"start": 24, "end": 29, "label": "wrong"}]}
        assert 0.5 < after[ext].confidences["flags"] <= 1.0

    # criteria: the lenient rater's extra point is taken off; the rounded robust mean per cell
    for ext in ids:
        n = int(ext[1:])
        worth = {"r1": 1 + n % 4, "r2": max(1, n % 4), "r3": max(1, n % 4)}
        assert after[ext].value["rate"] == {r: {"helpful": v, "correct": v} for r, v in worth.items()}
        assert list(after[ext].value["rate"]) == ["r1", "r2", "r3"]
    cells = pd.DataFrame([(f"{i}:{r}", u, float(s["helpful"])) for i, u, _, v in long for r, s in v["rate"].items()],
                         columns=["task", "worker", "label"])
    mean = RobustMean().fit_predict(cells)
    for ext, i in ids.items():
        got = after[ext].value["rate"]
        assert all(got[r]["helpful"] == int(np.floor(mean[f"{i}:{r}"] + 0.5)) for r in ("r1", "r2", "r3"))

    with world.runtime.db.read() as conn:
        skill = {r.user_id: r.skill for r in conn.execute(
            select(annotator_quality.c.user_id, annotator_quality.c.skill)
            .where(annotator_quality.c.project_id == pid))}
    assert skill[people["c"].id] == min(skill.values()) < 0.5 < skill[people["a"].id]


def test_the_quality_report_has_kendall_tau_on_rankings_and_span_f1_on_flags(
    feedback: tuple[World, User, dict[str, User], int, dict[str, int]],
) -> None:
    world, owner, people, pid, ids = feedback
    report = {q["question"]: q for q in world.client.get(
        f"/api/projects/{pid}/quality", headers=owner.headers).json()["questions"]}
    # a and b agree (tau 1), each disagrees with c (tau -1): the mean of 1, -1, -1
    assert report["order"]["kendall_tau"] == pytest.approx(-1 / 3)
    long = _long(people, ids)
    rk = pd.DataFrame({"task": [i for i, *_ in long], "worker": [u for _, u, _, _ in long],
                       "ranking": [v["order"]["order"] for *_, v in long]})
    assert report["order"]["kendall_tau"] == pytest.approx(mean_kendall_tau(rk))
    # a and b flag the same word (F1 1), c nothing (F1 0 with each): one pair in three agrees
    sp = pd.DataFrame({"task": [f"{i}:r1" for i, *_ in long], "worker": [u for _, u, _, _ in long],
                       "spans": [[[s["start"], s["end"], s["label"]] for s in v["flags"]["spans"]] for *_, v in long]})
    assert report["flags"]["span_f1"] == pytest.approx(pairwise_span_agreement(sp))
    assert report["flags"]["span_f1"] == pytest.approx(1 / 3)
    assert report["rate"]["kendall_tau"] is None and report["order"]["fleiss_kappa"] is None
