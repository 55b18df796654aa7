"""Typed transcripts on gold clips pass by word error rate (docs/quality.md, "Transcripts on the
platform"): a `text` question of a project with audio is right on gold when its WER against the gold
transcript, both lower-cased and without punctuation, is at most the project's `gold_max_wer` (0 by
default: the same words). The rule decides the gold record at submit (hence the pause rule) and the
annotators report; the setting is checked (0 to 1) with a problem naming it, and a refused one
changes nothing. jiwer is the oracle for the word errors."""

from __future__ import annotations

from typing import Any

import jiwer
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from labelloop.schema import parse_schema
from labelloop.services.quality.settings import QualitySettings
from labelloop.services.quality.transcript_gold import transcript_matches, typed_transcripts, word_errors
from labelloop.services.quality.trust import gold_correct
from labelloop.store.models import annotator_quality
from tests.platform.world import User, World

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "clip", "type": "audio"}],
    "questions": [
        {"name": "said", "type": "text"},
        {"name": "mood", "type": "choice", "options": ["calm", "angry"], "required": False},
    ],
}
TEN = "one two three four five six seven eight nine ten"
ONE_WRONG = "one two three four five six seven eight nine then"  # one word in ten: WER 0.1
FOX = "The quick brown fox jumps over the lazy dog."
FOX_AS_TYPED = "the Quick, brown fox -- jumps over the lazy dog"  # case and punctuation only


def _project(world: World, owner: User, people: tuple[User, ...], golds: list[str], **quality: Any) -> int:
    pid = world.project(owner, schema=SCHEMA, overlap=2, members={"annotator": people})
    r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"quality": {
        "gold_first": len(golds), "gold_rate": 0.0, "review_below": 0.0, "trust_min_accuracy": None, **quality}})
    assert r.status_code == 200, r.text
    # Gold is mixed into work, never handed out alone: one ordinary clip each annotator answers too.
    r = world.import_records(owner, pid, [{"id": f"g{i}", "clip": f"https://media.example/g{i}.wav",
                                           "gold": {"said": text}} for i, text in enumerate(golds)]
                             + [{"id": "plain", "clip": "https://media.example/plain.wav"}])
    assert r.status_code == 201, r.text
    return pid


def _answer_gold(world: World, pid: int, user: User, said: dict[str, str]) -> None:
    """Answer every task with the text given for its item (the gold clips come first)."""
    while (r := world.next(user, pid)).status_code == 200:
        t = r.json()
        s = world.submit(user, pid, t["item_id"], {"said": said.get(t["external_id"], "anything")})
        assert s.status_code == 201, s.text


def _recorded(world: World, pid: int, user: User) -> tuple[int, int]:
    """(gold answered, gold right) as recorded at submit."""
    with world.runtime.db.read() as conn:
        row = conn.execute(select(annotator_quality.c.gold_answered, annotator_quality.c.gold_correct).where(
            annotator_quality.c.project_id == pid, annotator_quality.c.user_id == user.id)).one()
    return int(row.gold_answered), int(row.gold_correct)


def _report(world: World, owner: User, pid: int) -> dict[int, dict[str, Any]]:
    r = world.client.get(f"/api/projects/{pid}/quality/annotators", headers=owner.headers)
    assert r.status_code == 200, r.text
    return {row["user_id"]: row for row in r.json()}


def test_case_and_punctuation_alone_pass_at_the_default(world: World) -> None:
    owner, a, b = world.user("owner"), world.user("a"), world.user("b")
    pid = _project(world, owner, (a, b), [FOX])
    assert world.client.get(f"/api/projects/{pid}", headers=owner.headers).json()["quality"]["gold_max_wer"] == 0.0
    _answer_gold(world, pid, a, {"g0": FOX_AS_TYPED})
    _answer_gold(world, pid, b, {"g0": "The quick brown fox jumped over the lazy dog."})  # one word of nine
    assert _recorded(world, pid, a) == (1, 1)
    assert _recorded(world, pid, b) == (1, 0)
    rows = _report(world, owner, pid)
    assert (rows[a.id]["gold_correct"], rows[b.id]["gold_correct"]) == (1, 0)
    assert rows[a.id]["gold_transcripts"]["said"]["wer"] == 0.0  # the report's WER says the same


def test_one_word_wrong_in_ten_passes_at_a_tenth_not_at_a_twentieth(world: World) -> None:
    owner, a, b = world.user("owner"), world.user("a"), world.user("b")
    pid = _project(world, owner, (a, b), [TEN, FOX], gold_max_wer=0.1)
    assert jiwer.wer(TEN, ONE_WRONG) == pytest.approx(0.1)
    # Two of ten wrong (0.2) fails even at 0.1.
    _answer_gold(world, pid, a, {"g0": ONE_WRONG, "g1": "the quick brown box jumps over a lazy dog"})
    assert _recorded(world, pid, a) == (2, 1)

    r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"quality": {"gold_max_wer": 0.05}})
    assert r.status_code == 200, r.text
    _answer_gold(world, pid, b, {"g0": ONE_WRONG, "g1": FOX_AS_TYPED})
    assert _recorded(world, pid, b) == (2, 1)  # the ten words now fail; case and punctuation still pass
    # The report scores with today's setting: a's one wrong word in ten fails at 0.05 too.
    rows = _report(world, owner, pid)
    assert (rows[a.id]["gold_correct"], rows[b.id]["gold_correct"]) == (0, 1)


def test_the_pause_rule_counts_a_transcript_right_despite_its_punctuation(world: World) -> None:
    owner, a, b = world.user("owner"), world.user("a"), world.user("b")
    golds = [FOX, TEN, "Hello there, General Kenobi!"]
    pid = _project(world, owner, (a, b), golds, trust_min_accuracy=0.9, trust_min_gold=3)
    _answer_gold(world, pid, a, {"g0": FOX_AS_TYPED, "g1": "One, two, three; four five six seven eight nine TEN.",
                                 "g2": "hello there general kenobi"})
    _answer_gold(world, pid, b, {"g0": "a fox", "g1": "one two", "g2": "hello"})
    rows = _report(world, owner, pid)
    assert (rows[a.id]["gold_correct"], rows[a.id]["paused"]) == (3, False)
    assert (rows[b.id]["gold_correct"], rows[b.id]["paused"]) == (0, True)


@pytest.mark.parametrize("bad", [1.5, -0.1, "a lot"])
def test_the_setting_is_checked_and_a_refusal_changes_nothing(world: World, bad: Any) -> None:
    owner = world.user("owner")
    pid = _project(world, owner, (), [FOX], gold_max_wer=0.2)
    r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers,
                           json={"quality": {"gold_max_wer": bad, "gold_rate": 0.5}})
    assert r.status_code == 422, r.text
    problems = r.json()["error"]["problems"]
    assert [p["field"] for p in problems] == ["quality.gold_max_wer"]
    assert any(word in problems[0]["message"] for word in ("less than or equal to 1", "greater than or equal to 0",
                                                           "valid number"))
    quality = world.client.get(f"/api/projects/{pid}", headers=owner.headers).json()["quality"]
    assert (quality["gold_max_wer"], quality["gold_rate"]) == (0.2, 0.0)


def test_only_typed_transcripts_of_a_project_with_audio_are_scored_by_wer() -> None:
    with_audio = parse_schema(SCHEMA)
    without = parse_schema({"fields": [{"name": "text", "type": "text"}], "questions": SCHEMA["questions"]})
    assert typed_transcripts(with_audio) == {"said"} and typed_transcripts(without) == frozenset()
    lenient = QualitySettings(gold_max_wer=0.5)
    assert gold_correct({"said": FOX}, {"said": FOX_AS_TYPED}, with_audio, lenient)
    assert not gold_correct({"said": FOX}, {"said": FOX_AS_TYPED}, without, lenient)  # free text: equal
    # Other questions keep their rule, and an unanswered transcript is not right.
    assert not gold_correct({"said": FOX, "mood": "calm"}, {"said": FOX, "mood": "angry"}, with_audio, lenient)
    assert not gold_correct({"said": FOX}, {"mood": "calm"}, with_audio, lenient)
    # "Nothing was said" passes only an answer with no word.
    assert transcript_matches(" ... ", "", 0.0) and not transcript_matches("uh", "", 1.0)


WORDS = st.lists(st.sampled_from(["a", "b", "cat", "dog", "it's", "x"]), max_size=12)


@settings(max_examples=200, deadline=None)
@given(hyp=WORDS, ref=WORDS.filter(bool), shout=st.booleans(), mark=st.sampled_from(["", ",", ".", "!", "?"]))
def test_word_errors_are_jiwers_after_normalisation_and_case_or_punctuation_never_count(
    hyp: list[str], ref: list[str], shout: bool, mark: str
) -> None:
    normal = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation()])
    out = jiwer.process_words(normal(" ".join(ref)), normal(" ".join(hyp)) or "")
    errors, words = word_errors(" ".join(hyp), " ".join(ref))
    assert (errors, words) == (out.substitutions + out.deletions + out.insertions, len(ref))
    typed = " ".join(w.upper() if shout else w for w in hyp) + mark
    assert word_errors(typed, " ".join(ref)) == (errors, words)
    # Passing is monotone in the bar and exact at it.
    assert transcript_matches(typed, " ".join(ref), errors / words)
    assert errors == 0 or not transcript_matches(typed, " ".join(ref), (errors - 0.5) / words)
