"""Personal data in transcripts (docs/privacy.md, "Transcripts"): a model's pre-label transcripts are
scanned when its version is written, annotators are served them with placeholders (words' timings
kept), an unchanged accept stores the original words, reviewers see placeholders until they reveal,
and redacted exports (JSONL and every audio format) hold no original string, annotators' own typed
transcripts included, while original exports do."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from labelloop.privacy import Numbering, detect_many
from labelloop.schema import parse_schema
from labelloop.services.loop.prelabelling import new_version
from labelloop.services.privacy.transcripts import Redactor, Restorer
from labelloop.store.models import answers, audit_log, item_pii, items, predictions
from tests.platform.pictures import zipped
from tests.platform.sounds import encode, tone
from tests.platform.stub_http import JsonHandler, serving
from tests.platform.world import User, World

pytest.importorskip("spacy", reason="names need the pii-ner extra (pip install -e '.[pii-ner]')")

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "clip", "type": "audio"}],
    "questions": [{"name": "turns", "type": "audio_segments", "target": "clip", "labels": ["speech"],
                   "transcript": True}],
}
POLICY = {"enabled": True, "kinds": ["email", "person"]}
NAME, EMAIL = "John Smith", "john.smith@example.com"
SAID = f"please call {NAME} at {EMAIL} tomorrow"
# Whisper's way: each word after the first with its leading space.
WORDS: list[dict[str, Any]] = [{"start": s, "end": e, "word": w} for s, e, w in (
    (0.5, 0.7, "please"), (0.7, 0.9, " call"), (0.9, 1.1, " John"), (1.1, 1.3, " Smith"), (1.3, 1.4, " at"),
    (1.4, 2.0, f" {EMAIL}"), (2.0, 2.4, " tomorrow"))]
# What the annotator of the second file types: a name heard in the audio, not the model's.
TYPED_NAME, TYPED_EMAIL = "Mary Johnson", "mary.johnson@example.org"
TYPED = f"send it to {TYPED_NAME} at {TYPED_EMAIL} today"
SECRETS = (NAME, "Smith", EMAIL, "example.com", TYPED_NAME, "Johnson", TYPED_EMAIL, "example.org")


class Speech(JsonHandler):
    """A team's speech model over HTTP: a segment naming a person and an e-mail for `call.wav`,
    nothing personal for `memo.wav`."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        item = parse_qs(urlparse(self.path).query)["item"][0]
        if item == "call.wav":
            segment = {"start": 0.5, "end": 2.5, "text": SAID, "score": 0.9, "words": WORDS}
        else:
            segment = {"start": 0.5, "end": 1.5, "text": "thanks for listening", "score": 0.9}
        self.reply_json({"segments": [segment]})


@pytest.fixture
def speech_url() -> Iterator[str]:
    with serving(Speech) as url:
        yield url


def setup(world: World, url: str, policy: dict[str, Any] = POLICY) -> tuple[User, User, User, int, dict[str, Any]]:
    owner, ann, reviewer = world.user(), world.user(), world.user()
    pid = world.project(owner, schema=SCHEMA, members={"annotator": (ann,), "reviewer": (reviewer,)})
    r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={
        "loop": {"transcriber": url, "suggest_min_accuracy": None},
        "quality": {"gold_first": 0, "gold_rate": 0.0, "review_below": 0.0}})
    assert r.status_code == 200, r.text
    r = world.client.patch(f"/api/projects/{pid}/privacy", json=policy, headers=owner.headers)
    assert r.status_code == 200, r.text
    wav = encode(tone(3.0, 16000))
    r = world.upload(owner, pid, zipped({"call.wav": wav, "memo.wav": wav}), "calls.zip")
    assert r.status_code == 201, r.text
    r = world.client.post(f"/api/projects/{pid}/loop/prelabel", params={"wait": "true"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    return owner, ann, reviewer, pid, r.json()["result"]


def tasks(world: World, ann: User, pid: int) -> dict[str, Any]:
    """Both tasks, by item id (the first is leased again after the second is asked for)."""
    first = world.next(ann, pid).json()
    second = world.next(ann, pid, exclude=[first["item_id"]]).json()
    return {t["external_id"]: t for t in (first, second)}


def export(world: World, owner: User, pid: int, fmt: str, **params: Any) -> bytes:
    r = world.client.get(f"/api/projects/{pid}/export", params={"format": fmt, **params}, headers=owner.headers)
    assert r.status_code == 200, r.text
    return r.content


def unzipped(body: bytes) -> bytes:
    """Every file of an archive, decompressed and joined (a zip deflates what it holds)."""
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return b"\n".join(z.read(n) for n in z.namelist() if not n.endswith(".wav"))


def test_prelabel_transcripts_are_scanned_served_with_placeholders_and_accepted_back(
        world: World, speech_url: str) -> None:
    _, ann, reviewer, pid, result = setup(world, speech_url)
    # Writing the version scanned its transcripts: findings at the segment's path, hashes only.
    assert result["privacy_scan"]["by_kind"] == {"email": 1, "person": 1}
    with world.runtime.db.read() as conn:
        found = conn.execute(select(item_pii.c.field, item_pii.c.kind)).all()
        (prediction,) = [v for (v,) in conn.execute(select(predictions.c.value))
                         if v["turns"][0]["text"] == SAID]
    assert sorted(found) == [("@pred/turns/0", "email"), ("@pred/turns/0", "person")]

    served = tasks(world, ann, pid)
    for t in served.values():
        assert not any(s in str(t) for s in SECRETS)
    call = served["call.wav"]
    (segment,) = call["prelabel"]["value"]["turns"]
    assert segment["text"] == "please call [PERSON_1] at [EMAIL_1] tomorrow"
    # The words a finding touches become one word over the same time; the others are as they were.
    assert segment["words"] == [
        WORDS[0], WORDS[1], {"start": 0.9, "end": 1.3, "word": " [PERSON_1]"}, WORDS[4],
        {"start": 1.4, "end": 2.0, "word": " [EMAIL_1]"}, WORDS[6]]

    # Accepted as shown: the stored answer is the model's segment, original words and timings.
    r = world.submit(ann, pid, call["item_id"], call["prelabel"]["value"], key="a1",
                     suggestion_version=call["prelabel"]["model_version"])
    assert r.status_code == 201, r.text
    assert not any(s in r.text for s in SECRETS)  # what the submit returns is shown redacted
    assert r.json()["value"]["turns"][0]["text"] == segment["text"]
    with world.runtime.db.read() as conn:
        stored, suggestion = conn.execute(select(answers.c.value, answers.c.suggestion)
                                          .where(answers.c.id == r.json()["id"])).one()
    assert stored["turns"] == prediction["turns"]
    assert stored["turns"][0]["words"] == WORDS and stored["turns"][0]["text"] == SAID
    assert suggestion["questions"] == {"turns": "unchanged"}  # the model's suggestion, taken as it was
    accepted = r.json()["id"]

    # Their own answer and the answers list show it as it was served; a revision on it, as shown,
    # changes nothing in what is stored.
    mine = world.client.get(f"/api/projects/{pid}/answers/{accepted}", headers=ann.headers)
    assert mine.status_code == 200, mine.text
    assert not any(s in mine.text for s in SECRETS)
    assert mine.json()["answer"]["value"]["turns"][0]["words"] == segment["words"]
    listed = world.client.get(f"/api/projects/{pid}/answers", headers=ann.headers)
    assert listed.status_code == 200 and "[PERSON_1]" in listed.text
    assert not any(s in listed.text for s in SECRETS)
    r = world.client.post(f"/api/projects/{pid}/answers/{accepted}/revisions",
                          json={"value": mine.json()["answer"]["value"]}, headers=ann.headers)
    assert r.status_code == 201, r.text
    with world.runtime.db.read() as conn:
        revised = conn.execute(select(answers.c.value).where(answers.c.id == r.json()["id"])).scalar_one()
    assert revised["turns"] == prediction["turns"]

    # An edited transcript that keeps a placeholder gets the original words there.
    memo = served["memo.wav"]
    edited = {"turns": [{"start": 0.5, "end": 1.5, "label": "speech", "text": "ask [PERSON_1] first"}]}
    r = world.submit(ann, pid, memo["item_id"], edited, key="a2")
    assert r.status_code == 201, r.text
    with world.runtime.db.read() as conn:
        stored = conn.execute(select(answers.c.value).where(answers.c.id == r.json()["id"])).scalar_one()
    # [PERSON_1] is this item's numbering: memo.wav's own pre-label names nobody, so it stays as typed.
    assert stored["turns"][0]["text"] == "ask [PERSON_1] first"

    # Reviewers: the item's answers placeholdered, until they reveal (logged).
    r = world.client.get(f"/api/projects/{pid}/items/{call['item_id']}", headers=reviewer.headers)
    assert r.status_code == 200, r.text
    assert not any(s in r.text for s in SECRETS) and "[PERSON_1]" in r.text
    listed = world.client.get(f"/api/projects/{pid}/answers", headers=reviewer.headers)
    assert listed.status_code == 200 and "[PERSON_1]" in listed.text
    assert not any(s in listed.text for s in SECRETS)
    r = world.client.post(f"/api/projects/{pid}/items/{call['item_id']}/reveal", headers=reviewer.headers)
    assert r.status_code == 200, r.text
    assert r.json()["legend"] == {"[PERSON_1]": NAME, "[EMAIL_1]": EMAIL}
    assert "answer/" in " ".join(r.json()["fields"])
    with world.runtime.db.read() as conn:
        reveals = conn.execute(select(audit_log.c.details).where(audit_log.c.action == "item.reveal")).all()
    assert len(reveals) == 1


def test_typed_transcripts_are_redacted_in_every_redacted_export(world: World, speech_url: str) -> None:
    owner, ann, reviewer, pid, _ = setup(world, speech_url)
    served = tasks(world, ann, pid)
    call, memo = served["call.wav"], served["memo.wav"]
    # An edited transcript that keeps the placeholders: stored with the original words in their place.
    edited = {"turns": [{"start": 0.5, "end": 2.5, "label": "speech",
                         "text": "please call [PERSON_1] at [EMAIL_1] now"}]}
    r = world.submit(ann, pid, call["item_id"], edited, key="b1")
    assert r.status_code == 201, r.text
    with world.runtime.db.read() as conn:
        kept = conn.execute(select(answers.c.value).where(answers.c.id == r.json()["id"])).scalar_one()
    assert kept["turns"][0]["text"] == f"please call {NAME} at {EMAIL} now"
    typed = {"turns": [{"start": 0.5, "end": 1.5, "label": "speech", "text": TYPED}]}
    r = world.submit(ann, pid, memo["item_id"], typed, key="b2")
    assert r.status_code == 201, r.text
    # The annotator's own answer is kept as typed...
    with world.runtime.db.read() as conn:
        kept = conn.execute(select(answers.c.value).where(answers.c.id == r.json()["id"])).scalar_one()
    assert kept["turns"][0]["text"] == TYPED
    # ...and shown back to them redacted.
    assert TYPED_NAME not in r.text and TYPED_EMAIL not in r.text
    # A reviewer sees it placeholdered, numbered as the reveal's legend says.
    page = world.client.get(f"/api/projects/{pid}/items/{memo['item_id']}", headers=reviewer.headers)
    assert page.status_code == 200, page.text
    assert not any(s in page.text for s in SECRETS)
    assert page.json()["answers"][0]["value"]["turns"][0]["text"] == "send it to [PERSON_1] at [EMAIL_1] today"
    r = world.client.post(f"/api/projects/{pid}/items/{memo['item_id']}/reveal", headers=reviewer.headers)
    assert r.json()["legend"] == {"[PERSON_1]": TYPED_NAME, "[EMAIL_1]": TYPED_EMAIL}

    plain = {"jsonl": export(world, owner, pid, "jsonl"),
             "nemo": unzipped(export(world, owner, pid, "nemo", source="answers")),
             "srt": unzipped(export(world, owner, pid, "srt")),
             "webvtt": unzipped(export(world, owner, pid, "webvtt"))}
    red = {"jsonl": export(world, owner, pid, "jsonl", redact="true"),
           "nemo": unzipped(export(world, owner, pid, "nemo", source="answers", redact="true")),
           "srt": unzipped(export(world, owner, pid, "srt", redact="true")),
           "webvtt": unzipped(export(world, owner, pid, "webvtt", redact="true"))}
    for fmt in plain:
        # The original export has both transcripts: the model's accepted one and the typed one.
        for secret in (NAME, EMAIL, TYPED_NAME, TYPED_EMAIL):
            assert secret.encode() in plain[fmt], (fmt, secret)
        # The redacted one: none of it anywhere in its bytes, placeholders in their place.
        for secret in SECRETS:
            assert secret.encode() not in red[fmt], (fmt, secret)
        assert b"[PERSON_1]" in red[fmt] and b"[EMAIL_1]" in red[fmt], fmt
    # RTTM has no text; a redacted one is the original.
    assert unzipped(export(world, owner, pid, "rttm", redact="true")) == unzipped(export(world, owner, pid, "rttm"))
    # Formats that cannot hold a redaction still refuse it, naming the parameter.
    r = world.client.get(f"/api/projects/{pid}/export", params={"format": "coco", "redact": "true"},
                         headers=owner.headers)
    assert r.status_code == 422 and "redact" in r.text


def test_masked_transcripts_keep_every_word_and_length(world: World, speech_url: str) -> None:
    _, ann, _, pid, _ = setup(world, speech_url, {**POLICY, "annotators": "masked"})
    call = tasks(world, ann, pid)["call.wav"]
    (segment,) = call["prelabel"]["value"]["turns"]
    assert len(segment["text"]) == len(SAID) and not any(s in segment["text"] for s in SECRETS)
    assert [(w["start"], w["end"], len(w["word"])) for w in segment["words"]] == [
        (w["start"], w["end"], len(w["word"])) for w in WORDS]
    assert segment["words"][2]["word"] == " ••••"
    r = world.submit(ann, pid, call["item_id"], call["prelabel"]["value"], key="c1")
    assert r.status_code == 201, r.text
    with world.runtime.db.read() as conn:
        stored = conn.execute(select(answers.c.value).where(answers.c.id == r.json()["id"])).scalar_one()
    assert stored["turns"][0]["text"] == SAID and stored["turns"][0]["words"] == WORDS



# The redaction of one segment, without a server: what is shown and what comes back.

ONE = parse_schema(SCHEMA)
VOCAB = ["hello", "call", "me", "at", "ann@example.org", "bob.lee@example.com", "ok,", "now."]


def _redactor(mode: str) -> Redactor:
    return Redactor(mode, Numbering(), Restorer(), detect=lambda texts: detect_many(texts, kinds=("email",)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=12), st.sampled_from(["placeholders", "masked"]),
       st.booleans())
def test_a_segment_shown_and_sent_back_unchanged_is_the_original(words: list[str], mode: str, spelled: bool) -> None:
    text = " ".join(words)
    timed: list[dict[str, Any]] = [{"start": round(0.1 * i, 3), "end": round(0.1 * i + 0.1, 3), "word": (" " if i else "") + w}
             for i, w in enumerate(words)]
    if not spelled:  # a model whose words are not its text's: read as a text of their own
        timed = [{**w, "word": w["word"].upper()} for w in timed]
    value = {"turns": [{"start": 0.0, "end": 2.0, "label": "speech", "text": text, "words": timed}]}
    red = _redactor(mode)
    shown = red.redact(ONE, value)
    seg = shown["turns"][0]
    assert "@" not in seg["text"] and all("@" not in w["word"] for w in seg["words"])
    # Timings cover the same stretch, in order; masked keeps every word.
    assert seg["words"][0]["start"] == timed[0]["start"] and seg["words"][-1]["end"] == timed[-1]["end"]
    if mode == "masked":
        assert [len(w["word"]) for w in seg["words"]] == [len(w["word"]) for w in timed]
    assert red.restorer.restore(ONE, shown) == value


def test_words_spelled_otherwise_are_redacted_over_their_own_text() -> None:
    timed = [{"start": 0.0, "end": 0.2, "word": "CALL"}, {"start": 0.2, "end": 0.9, "word": "BOB.LEE@EXAMPLE.COM"}]
    value = {"turns": [{"start": 0.0, "end": 1.0, "label": "speech", "text": "Call bob.lee@example.com",
                        "words": timed}]}
    red = _redactor("placeholders")
    seg = red.redact(ONE, value)["turns"][0]
    # The same address in two spellings is one placeholder (case folded).
    assert seg["text"] == "Call [EMAIL_1]"
    assert seg["words"] == [timed[0], {"start": 0.2, "end": 0.9, "word": "[EMAIL_1]"}]


def test_a_version_not_scanned_yet_is_read_as_it_is_served(world: World, speech_url: str) -> None:
    owner, ann, _, pid, _ = setup(world, speech_url)
    # A version written without the scan that follows a job (a round crashed between the two):
    # the items' scan named the version before, so they are read on the fly.
    other = "write to ann.lee@example.net today"
    with world.runtime.db.write() as conn:
        version = new_version(conn, project_id=pid, job_id=None, question="turns", encoder="test",
                              classes=["speech"], metrics={})
        for item_id, in conn.execute(select(items.c.id).where(items.c.project_id == pid)):
            conn.execute(insert(predictions).values(model_version_id=version, item_id=item_id, confidence=0.9,
                                                    value={"turns": [{"start": 0.5, "end": 1.5, "label": "speech",
                                                                      "text": other}]}))
    r = world.next(ann, pid)
    assert r.status_code == 200, r.text
    assert r.json()["prelabel"]["model_version"] == version
    assert r.json()["prelabel"]["value"]["turns"][0]["text"] == "write to [EMAIL_1] today"
    assert "ann.lee" not in r.text
    # A scan reads the new version and marks the items with it.
    r = world.client.post(f"/api/projects/{pid}/privacy/scan", params={"wait": "true"}, headers=owner.headers)
    assert r.json()["result"]["items"] == 2 and r.json()["result"]["by_kind"] == {"email": 2}


def test_turning_the_policy_on_after_the_pre_labels_hides_them_at_once(world: World, speech_url: str) -> None:
    owner, ann, _, pid, result = setup(world, speech_url, {"enabled": False})
    assert "privacy_scan" not in result
    r = world.client.patch(f"/api/projects/{pid}/privacy", json=POLICY, headers=owner.headers)
    assert r.status_code == 200, r.text
    served = tasks(world, ann, pid)
    assert served["call.wav"]["prelabel"]["value"]["turns"][0]["text"] == "please call [PERSON_1] at [EMAIL_1] tomorrow"
    assert not any(s in str(served) for s in SECRETS)
