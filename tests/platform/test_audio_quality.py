"""Transcripts on the platform (docs/quality.md, "Transcripts on the platform"): the project-wide
recompute votes words with the transcript aggregator (each annotator's weight learned from all their
clips, a model's hypothesis one more voter), as each answer arrives the same vote with the weights
already known; agreement (pairwise WER, segment F1 and IoU) in the quality report; WER against the
consensus and against gold clips per annotator. jiwer is the oracle for every word error rate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jiwer
import numpy as np
import pytest
from sqlalchemy import insert, select

from labelloop.quality.texts.weighted import log_odds_weights, weighted_rover
from labelloop.schema import parse_schema
from labelloop.services.quality.consensus import settle
from labelloop.store.models import (
    annotator_quality,
    answers,
    consensus,
    items,
    model_versions,
    predictions,
    utcnow,
)
from tests.platform.world import User, World

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "clip", "type": "audio"}],
    "questions": [
        {"name": "turns", "type": "audio_segments", "target": "clip", "labels": ["speech", "noise"],
         "transcript": True},
        {"name": "said", "type": "text", "required": False},  # one transcript per file
    ],
}
NO_GOLD = {"gold_first": 0, "gold_rate": 0.0, "review_below": 0.0}
N_CLIPS = 24
WORDS = ["river", "stone", "quiet", "morning", "letter", "garden", "window", "summer", "bright", "little",
         "yellow", "house", "north", "travel", "open", "paper", "silver", "market", "castle", "winter"]
GARBAGE = ["aa", "ab", "ac", "ad", "ae", "af", "ag", "ah", "ai", "aj"]  # sorts before every real word


def seg(start: float, end: float, text: str | None, label: str = "speech") -> dict[str, Any]:
    return {"start": start, "end": end, "label": label, "text": text, "words": None}


def _project(world: World, owner: User, people: tuple[User, ...], records: list[dict[str, Any]], *,
             overlap: int, **quality: Any) -> int:
    pid = world.project(owner, schema=SCHEMA, overlap=overlap, members={"annotator": people})
    r = world.client.patch(f"/api/projects/{pid}", json={"quality": {**NO_GOLD, **quality}}, headers=owner.headers)
    assert r.status_code == 200, r.text
    world.import_records(owner, pid, records)
    return pid


def _answer_all(world: World, pid: int, user: User, answer: Callable[[str], dict[str, Any]]) -> dict[str, int]:
    ids = {}
    while (r := world.next(user, pid)).status_code == 200:
        t = r.json()
        ids[t["external_id"]] = t["item_id"]
        s = world.submit(user, pid, t["item_id"], answer(t["external_id"]))
        assert s.status_code == 201, s.text
    return ids


def _recompute(world: World, owner: User, pid: int) -> dict[str, Any]:
    r = world.client.post(f"/api/projects/{pid}/quality/recompute", params={"wait": "true"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    return dict(r.json()["result"])


def _consensus(world: World, pid: int) -> dict[str, Any]:
    with world.runtime.db.read() as conn:
        rows = conn.execute(select(items.c.external_id, consensus.c.value, consensus.c.confidences,
                                   consensus.c.method)
                            .join(consensus, consensus.c.item_id == items.c.id)
                            .where(items.c.project_id == pid)).all()
    return {r.external_id: r for r in rows}


def _skills(world: World, pid: int) -> dict[int, float | None]:
    with world.runtime.db.read() as conn:
        return {r.user_id: r.skill for r in conn.execute(
            select(annotator_quality.c.user_id, annotator_quality.c.skill)
            .where(annotator_quality.c.project_id == pid))}


def _texts(value: list[dict[str, Any]]) -> list[str | None]:
    return [s["text"] for s in value]


# --- a crowd of three: two careful transcribers who slip once in a while, one sloppy one ---------

class Crowd:
    """Per clip two segments of four known words. Annotator 0 drops word i % 4 of the first segment
    of even clips i, annotator 1 mishears word i % 4 of the second segment of odd clips, annotator 2
    mishears two other words of each segment: in every slot two of three are right, yet no two
    annotators typed the same text of a clip (no exact-match vote could settle it)."""

    def __init__(self, seed: int = 3) -> None:
        rng = np.random.default_rng(seed)
        self.truth: dict[str, tuple[str, str]] = {}
        for i in range(N_CLIPS):
            words = [str(w) for w in rng.choice(WORDS, 8, replace=False)]
            self.truth[f"c{i:02d}"] = (" ".join(words[:4]), " ".join(words[4:]))

    def text(self, who: int, ext: str) -> tuple[str, str]:
        first, second = self.truth[ext]
        i = int(ext[1:])
        if who == 0 and i % 2 == 0:
            w = first.split()
            first = " ".join(w[:i % 4] + w[i % 4 + 1:])
        elif who == 1 and i % 2 == 1:
            w = second.split()
            w[i % 4] = "wrong"
            second = " ".join(w)
        elif who == 2:
            a, b = first.split(), second.split()
            for k in (1, 2):
                a[(i + k) % 4] = GARBAGE[(i + k) % len(GARBAGE)]
                b[(i + k) % 4] = GARBAGE[(i + k + 5) % len(GARBAGE)]
            first, second = " ".join(a), " ".join(b)
        return first, second

    def answer(self, who: int, ext: str) -> dict[str, Any]:
        first, second = self.text(who, ext)
        jitter = (0.0, 0.1, -0.1)[who]  # boundaries a little apart: IoU about 0.95
        return {"turns": [seg(0.0, 2.0 + jitter, first), seg(2.5 + abs(jitter), 5.0, second)],
                "said": f"{first} {second}"}

    def records(self) -> list[dict[str, Any]]:
        return [{"id": ext, "clip": f"https://media.example/{ext}.wav"} for ext in self.truth]

@pytest.fixture
def crowd(world: World) -> tuple[World, User, list[User], int, Crowd, dict[str, int]]:
    owner = world.user("owner")
    people = [world.user(f"ann{w}") for w in range(3)]
    truth = Crowd()
    pid = _project(world, owner, tuple(people), truth.records(), overlap=3)
    ids: dict[str, int] = {}
    for w, person in enumerate(people):
        ids.update(_answer_all(world, pid, person, lambda ext, w=w: truth.answer(w, ext)))
    assert len(ids) == N_CLIPS
    return world, owner, people, pid, truth, ids


def test_the_recompute_learns_who_is_careful_and_the_consensus_is_the_reference(
    crowd: tuple[World, User, list[User], int, Crowd, dict[str, int]],
) -> None:
    world, owner, people, pid, truth, _ = crowd
    for ext in truth.truth:
        assert len({truth.text(w, ext) for w in range(3)}) == 3
    # As answers came, the same vote with everyone's prior weight (0.7): already the reference.
    before = _consensus(world, pid)
    assert all(r.method.startswith("one-coin") for r in before.values())
    assert {e: _texts(before[e].value["turns"]) for e in truth.truth} == {e: list(t) for e, t in truth.truth.items()}

    result = _recompute(world, owner, pid)
    assert result["items"] == N_CLIPS and result["annotators"] == 3
    after = _consensus(world, pid)
    for ext, (first, second) in truth.truth.items():
        value = after[ext].value
        assert _texts(value["turns"]) == [first, second], ext
        assert value["said"] == f"{first} {second}", ext
        # the segments are the label type's: weighted medians of the bounds, labels voted
        assert [(s["start"], s["end"], s["label"]) for s in value["turns"]] == [(0.0, 2.0, "speech"),
                                                                                 (2.6, 5.0, "speech")]
        assert 0.0 < after[ext].confidences["turns"] <= 1.0 and 0.0 < after[ext].confidences["said"] <= 1.0
    skills = _skills(world, pid)
    careful = [skills[p.id] or 0.0 for p in people[:2]]
    sloppy = skills[people[2].id] or 1.0
    assert min(careful) > 0.9 and sloppy < 0.8, skills  # about 0.97 and 0.75: 1 - word error rate


def test_the_recompute_is_idempotent(crowd: tuple[World, User, list[User], int, Crowd, dict[str, int]]) -> None:
    world, owner, _, pid, _, _ = crowd
    _recompute(world, owner, pid)
    first, skills = _consensus(world, pid), _skills(world, pid)
    _recompute(world, owner, pid)
    again = _consensus(world, pid)
    assert {e: (r.value, r.confidences) for e, r in again.items()} == {e: (r.value, r.confidences)
                                                                       for e, r in first.items()}
    assert _skills(world, pid) == pytest.approx(skills)


def test_between_recomputes_each_answer_votes_with_the_learned_weights(
    crowd: tuple[World, User, list[User], int, Crowd, dict[str, int]],
) -> None:
    """The incremental path is the recompute's vote with the weights fixed: on every clip it settles
    what the recompute settled, and a new clip answered by the garbage typist and one careful
    annotator gets the careful one's words at once."""
    world, owner, people, pid, _, ids = crowd
    _recompute(world, owner, pid)
    stored = _consensus(world, pid)
    skills = _skills(world, pid)
    schema = parse_schema(SCHEMA)
    with world.runtime.db.read() as conn:
        rows = conn.execute(select(answers.c.item_id, answers.c.user_id, answers.c.value)
                            .where(answers.c.project_id == pid).order_by(answers.c.id)).all()
    for ext, item in ids.items():
        votes = [(r.user_id, r.value) for r in rows if r.item_id == item]
        again = settle(schema, votes, {u: s for u, s in skills.items() if s is not None})
        assert again.value == stored[ext].value, ext

    # A new clip, answered first by the garbage typist, then by a careful annotator.
    world.import_records(owner, pid, [{"id": "new", "clip": "https://media.example/new.wav"}])
    spoken = ("silver river open", "north market castle")
    for who in (2, 0):
        t = world.next(people[who], pid).json()
        assert t["external_id"] == "new"
        first, second = spoken if who == 0 else ("aa ab ac", "ad ae af")
        s = world.submit(people[who], pid, t["item_id"], {"turns": [seg(0, 2, first), seg(2.5, 5, second)],
                                                          "said": f"{first} {second}"})
        assert s.status_code == 201, s.text
    new = _consensus(world, pid)["new"]
    assert new.method.startswith("one-coin")
    assert _texts(new.value["turns"]) == list(spoken) and new.value["said"] == " ".join(spoken)
    # With the prior's equal weights the same two answers tie word by word, and the sloppy words win.
    with world.runtime.db.read() as conn:
        votes = [(r.user_id, r.value) for r in conn.execute(
            select(answers.c.user_id, answers.c.value).where(answers.c.item_id == t["item_id"]))]
    assert settle(schema, votes, {}).value["said"] == "aa ab ac ad ae af"


def test_per_item_vote_is_the_weighted_rover_of_the_answers() -> None:
    """The incremental vote of a text transcript is weighted ROVER with log-odds weights of the skills."""
    schema = parse_schema(SCHEMA)
    votes = [(1, {"said": "the cat sat down"}), (2, {"said": "the hat sat"}), (3, {"said": "a cat sat down"})]
    skills = {1: 0.9, 2: 0.6, 3: 0.6}
    out = settle(schema, votes, skills)
    w = log_odds_weights([0.9, 0.6, 0.6])
    expected = weighted_rover([0, 0, 0], [v["said"] for _, v in votes], w)
    assert out.value["said"] == expected.text.iloc[0] == "the cat sat down"
    assert out.confidences["said"] == pytest.approx(float(expected.support.iloc[0]))


# --- a model's hypothesis breaks a tie ------------------------------------------------------------

def _predict(world: World, pid: int, item: int, value: dict[str, Any]) -> None:
    def go(conn: Any) -> None:
        version = conn.execute(insert(model_versions).values(
            project_id=pid, job_id=None, question="turns", encoder="stt:test", classes=["speech", "noise"],
            metrics={}, created_at=utcnow()).returning(model_versions.c.id)).scalar_one()
        conn.execute(insert(predictions).values(model_version_id=version, item_id=item, value=value,
                                                confidence=0.9))
    world.runtime.db.run(go)


def test_the_models_hypothesis_is_one_more_voter(world: World) -> None:
    owner, a, b = world.user("owner"), world.user("a"), world.user("b")
    pid = _project(world, owner, (a, b), [{"id": "x", "clip": "https://media.example/x.wav"}], overlap=2)
    # Two annotators, one word apart in each segment: ties, which go to the word that sorts first.
    said = {a.id: "the hat sat on the mat", b.id: "the cat sat on the mat"}
    bye = {a.id: "bye now", b.id: "bye cow"}
    for person in (a, b):
        ids = _answer_all(world, pid, person, lambda _e, p=person: {
            "turns": [seg(0.0, 3.0, said[p.id]), seg(4.0, 5.0, bye[p.id])], "said": said[p.id]})
    _recompute(world, owner, pid)
    value = _consensus(world, pid)["x"].value
    assert _texts(value["turns"]) == ["the cat sat on the mat", "bye cow"] and value["said"] == said[b.id]

    # A speech-to-text model heard "hat": with its vote the tie is broken. Its first segment is
    # matched to the annotators' by time (IoU 0.97); its extra segment, which nobody marked, and its
    # differently cut last one (IoU 0.11) vote for nothing, though "now" would win with it. The
    # model answers the segments only (as the speech-to-text job does): for the file's text question
    # its segments' texts in time order vote, and its extra words ("um bye now") are outvoted.
    _predict(world, pid, ids["x"], {"turns": [seg(0.1, 3.0, "The hat sat on the mat."), seg(3.0, 3.5, "um"),
                                              seg(4.8, 5.9, "bye now")]})
    _recompute(world, owner, pid)
    value = _consensus(world, pid)["x"].value
    assert _texts(value["turns"]) == ["the hat sat on the mat", "bye cow"]
    assert value["said"] == said[a.id]
    assert [(s["start"], s["end"]) for s in value["turns"]] == [(0.0, 3.0), (4.0, 5.0)]  # the humans' segments
    assert all(v is None for v in _skills(world, pid).values())  # three clips teach nobody's skill


# --- agreement, and scores against the consensus ---------------------------------------------------

AGREE = {  # (item, annotator) -> segments; the words and the IoUs below are worked out by hand
    ("x1", 0): [seg(0.0, 2.0, "a b c d")],
    ("x1", 1): [seg(0.0, 2.5, "a b x d")],
    ("x1", 2): [seg(0.5, 2.0, "a b c d e")],
    ("x2", 0): [seg(1.0, 2.0, "hum", "noise")],
    ("x2", 1): [seg(1.2, 2.0, "hum hum", "noise")],
    ("x2", 2): [seg(3.0, 4.0, "hum")],
}


def _errors(a: str, b: str) -> int:
    o = jiwer.process_words(a, b)
    return int(o.substitutions + o.deletions + o.insertions)


def test_agreement_in_the_report_pairwise_wer_segment_f1_and_iou(world: World) -> None:
    owner = world.user("owner")
    people = [world.user(f"ann{w}") for w in range(3)]
    pid = _project(world, owner, tuple(people), [{"id": e, "clip": f"https://media.example/{e}.wav"}
                                                  for e in ("x1", "x2")], overlap=3)
    for w, person in enumerate(people):
        _answer_all(world, pid, person, lambda ext, w=w: {"turns": AGREE[(ext, w)]})
    report = world.client.get(f"/api/projects/{pid}/quality", headers=owner.headers).json()
    q = next(x for x in report["questions"] if x["question"] == "turns")

    # Oracle: jiwer's edit distances; symmetric WER divides by the pair's mean length.
    per_item = {}
    for ext in ("x1", "x2"):
        texts = [" ".join(s["text"] for s in AGREE[(ext, w)]) for w in range(3)]
        pairs = [(i, j) for i in range(3) for j in range(i + 1, 3)]
        errors = sum(_errors(texts[i], texts[j]) for i, j in pairs)
        words = sum((len(texts[i].split()) + len(texts[j].split())) / 2 for i, j in pairs)
        per_item[ext] = (errors, words)
    assert per_item == {"x1": (4, 13.0), "x2": (2, 4.0)}  # the hand count
    assert q["wer"] == pytest.approx(6 / 17)
    assert q["item_wer"] == pytest.approx((4 / 13 + 2 / 4) / 2)
    assert [(w["external_id"], w["annotators"]) for w in q["worst_items"]] == [("x2", 3), ("x1", 3)]
    assert q["worst_items"][0]["wer"] == pytest.approx(0.5)
    # x1: every pair matches (IoU 0.8, 0.75, 0.6): F1 1; x2: one pair of three (IoU 0.8).
    assert q["segment_f1"] == pytest.approx((1 + 1 / 3) / 2) == pytest.approx(q["percent_agreement"])
    assert q["segment_iou"] == pytest.approx((0.8 + 0.75 + 0.6 + 0.8) / 4)

    # Per annotator, WER against the consensus (here settled as answers came, equal weights):
    # x1 "a b c d" (the slot of "e" has one voter of three), x2 "hum hum" (the cluster at 3-4 s
    # has one annotator of three and is dropped; a word two of two put... is kept on a tie).
    settled = _consensus(world, pid)
    assert _texts(settled["x1"].value["turns"]) == ["a b c d"] and _texts(settled["x2"].value["turns"]) == ["hum hum"]
    rows = {r["username"]: r for r in world.client.get(f"/api/projects/{pid}/quality/annotators",
                                                       headers=owner.headers).json()}
    for w in range(3):
        mine = [(" ".join(s["text"] for s in AGREE[(e, w)]), " ".join(_texts(settled[e].value["turns"])))
                for e in ("x1", "x2")]
        errors = sum(_errors(ref, hyp) for hyp, ref in mine)
        words = sum(len(ref.split()) for _, ref in mine)
        got = rows[f"ann{w}"]["transcripts"]["turns"]
        assert (got["answers"], got["errors"], got["words"]) == (2, errors, words)
        assert got["wer"] == pytest.approx(errors / words)
        assert rows[f"ann{w}"]["gold_transcripts"] == {}


# --- gold clips score annotators by WER (and segments by F1 and IoU) --------------------------------

GOLD = {"turns": [seg(0.0, 2.0, "the quick brown fox"), seg(2.5, 5.0, "jumps over the lazy dog")],
        "said": "the quick brown fox jumps over the lazy dog"}


def test_gold_clips_score_each_annotator_by_wer_and_segment_f1(world: World) -> None:
    owner, a, b = world.user("owner"), world.user("a"), world.user("b")
    records = [{"id": "gold", "clip": "https://media.example/gold.wav", "gold": GOLD},
               {"id": "plain", "clip": "https://media.example/plain.wav"}]
    pid = _project(world, owner, (a, b), records, overlap=2, gold_first=1, trust_min_accuracy=None)
    given = {
        # "fox" misheard, "the" dropped: 2 errors of 9 words; the first segment ends late (IoU 2/2.2)
        a.id: {"turns": [seg(0.0, 2.2, "The quick brown box"), seg(2.5, 5.0, "jumps over lazy dog.")],
               "said": "The quick brown fox, jumps over the lazy dog."},
        # every word right, the second segment labelled noise, and two words nobody said
        b.id: {"turns": [seg(0.0, 2.0, "the quick brown fox"), seg(2.5, 5.0, "jumps over the lazy dog", "noise"),
                         seg(6.0, 7.0, "extra words")],
               "said": "the quick brown fox jumped over the dog"},
    }
    for person in (a, b):
        t = world.next(person, pid).json()
        assert t["external_id"] == "gold"
        assert "lazy" not in str(t)  # the gold answer is never shown
        assert world.submit(person, pid, t["item_id"], given[person.id]).status_code == 201

    rows = {r["user_id"]: r for r in world.client.get(f"/api/projects/{pid}/quality/annotators",
                                                      headers=owner.headers).json()}
    ref = " ".join(s["text"] for s in GOLD["turns"])
    for person, (matched, missed, extra, f1, mean_iou) in ((a, (2, 0, 0, 1.0, (2 / 2.2 + 1) / 2)),
                                                            (b, (1, 1, 2, 2 / 5, 1.0))):
        scored = rows[person.id]["gold_transcripts"]
        joined = " ".join(s["text"] for s in given[person.id]["turns"])
        normal = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation()])
        errors = _errors(ref, normal(joined))
        assert scored["turns"]["answers"] == 1 and scored["turns"]["errors"] == errors == 2
        assert scored["turns"]["wer"] == pytest.approx(jiwer.wer(ref, normal(joined))) == pytest.approx(2 / 9)
        assert (scored["turns"]["matched"], scored["turns"]["missed"], scored["turns"]["extra"]) == (matched, missed,
                                                                                                      extra)
        assert scored["turns"]["f1"] == pytest.approx(f1) and scored["turns"]["mean_iou"] == pytest.approx(mean_iou)
        said = normal(given[person.id]["said"])
        assert scored["said"]["wer"] == pytest.approx(jiwer.wer(GOLD["said"], said))
        assert "matched" not in scored["said"]
    assert rows[a.id]["gold_transcripts"]["said"]["wer"] == 0.0  # case and punctuation do not count
    assert rows[b.id]["gold_transcripts"]["said"]["wer"] == pytest.approx(2 / 9)
    # The gold record keeps the label type's rule (docs/audio.md): segments right when F1 is 1 at
    # IoU 0.5 with the same labels, whatever the words; the typed transcript when its WER against the
    # gold's is at most gold_max_wer (0 here: the same words once case and punctuation are dropped).
    assert (rows[a.id]["gold_answered"], rows[b.id]["gold_answered"]) == (1, 1)
    assert rows[b.id]["gold_correct"] == 0


def test_annotators_see_neither_the_report_nor_others_transcripts(world: World) -> None:
    owner, a, b = world.user("owner"), world.user("a"), world.user("b")
    pid = _project(world, owner, (a, b), [{"id": "x", "clip": "https://media.example/x.wav"}], overlap=2)
    _answer_all(world, pid, a, lambda _e: {"turns": [seg(0, 1, "secret words")], "said": "secret words"})
    for path in ("quality", "quality/annotators"):
        r = world.client.get(f"/api/projects/{pid}/{path}", headers=b.headers)
        assert r.status_code == 403, (path, r.text)
    t = world.next(b, pid).json()
    assert "secret" not in str(t)  # the task carries neither a's answer nor the consensus
    r = world.client.post(f"/api/projects/{pid}/quality/recompute", headers=b.headers)
    assert r.status_code == 403
