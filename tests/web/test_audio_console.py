"""The console's speech-model controls, in a real browser (docs/audio.md, "Speech-to-text
pre-labels"): the transcriber settings in the loop settings form (a choice of whisper / vad / a URL /
an entry point, the audio question and the label of its segments), read back through the API, with
the server's problem under the setting it names; and the pre-label job run from its button, followed
by its progress bar to the result summary (files transcribed, kept, left out; held-out WER and
segment F1, or "not measured").

The speech model is a stub of a team's model over HTTP (the documented protocol, docs/loop.md
"Audio"), so these tests need neither the speech extra nor its weights; it holds each request until
the test lets it go, so the page is seen at each step without timing anything. With the speech extra
installed, the built-in voice-activity detector runs too."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from importlib.util import find_spec
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from labelloop.store.models import model_versions
from tests.platform.sounds import espeak
from tests.platform.stub_http import JsonHandler, serving
from tests.web.audio_page import audio_project
from tests.web.conftest import Watch
from tests.web.screens import screenshot
from tests.web.site import Person, Site
from tests.web.test_workbench import log_in

TURNS = {"name": "turns", "type": "audio_segments", "target": "clip", "transcript": True,
         "labels": ["speech", {"value": "spk_a", "label": "Speaker A"}]}
EVENTS = {"name": "events", "type": "audio_segments", "target": "clip", "labels": ["noise", "music", "voice"]}
TEXTS = {"fox.wav": "The quick brown fox jumps over the lazy dog.", "store.wav": "Please call Stella and ask her to bring these things."}
STUB_TEXT = "hello there"
LABEL = "Label of the speech model\u2019s segments"
EMPTY_URL = "enter the URL of your team\u2019s speech model"  # the browser's own check
SERVER_PROBLEM = "Value error, whisper, vad, an http(s) URL, python:<entry point name>, or null"


class Speech(JsonHandler):
    """A team's speech model: one segment per file, each request held until the test releases it."""

    gate: ClassVar[threading.Semaphore] = threading.Semaphore(0)
    items: ClassVar[list[str]] = []
    answer: ClassVar[Any] = None

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        Speech.items.append(parse_qs(urlparse(self.path).query)["item"][0])
        if not Speech.gate.acquire(timeout=60):
            self.reply_json({"error": "the test never let this request go"}, 503)
            return
        self.reply_json(Speech.answer or {"segments": [
            {"start": 0.5, "end": 1.5, "text": STUB_TEXT, "score": 0.75,
             "words": [{"start": 0.5, "end": 0.9, "word": "hello"}, {"start": 1.0, "end": 1.4, "word": "there"}]}]})


@pytest.fixture
def speech_url() -> Iterator[str]:
    Speech.gate, Speech.items, Speech.answer = threading.Semaphore(0), [], None
    with serving(Speech) as url:
        yield url


def clips() -> dict[str, bytes]:
    return {name: espeak(text) for name, text in TEXTS.items()}


def loop_of(site: Site, owner: Person, pid: int) -> dict[str, Any]:
    r = site.http.get(f"/api/projects/{pid}", headers=owner.headers)
    assert r.status_code == 200, r.text
    return dict(r.json()["loop"])


def open_loop(page: Any, site: Site, owner: Person, pid: int) -> Any:
    log_in(page, site, owner, f"p/{pid}/loop")
    form = page.get_by_role("form", name="loop settings")
    form.wait_for()
    return form


def save(page: Any, note: str) -> None:
    page.get_by_role("button", name="Save loop settings").click()
    page.locator("form.settings [role=status]", has_text=note).wait_for()


def watch_progress(page: Any) -> None:
    """Record in `window.seen` what the status line and the progress bar show, at each change."""
    page.evaluate("""() => {
        window.seen = [];
        const run = document.querySelector("div.prelabel-run");
        new MutationObserver(() => {
            const bar = run.querySelector("progress");
            const value = bar && bar.hasAttribute("value") ? bar.value : null;  // null: not known yet
            window.seen.push([run.querySelector("p.prelabel-status").textContent, bar && [value, bar.max]]);
        }).observe(run, {subtree: true, childList: true, characterData: true, attributes: true});
    }""")


def option_texts(select: Any) -> list[str]:
    return [str(t).strip() for t in select.locator("option").all_inner_texts()]


def test_the_transcriber_settings_are_set_in_the_form_and_the_server_problem_is_shown(
    page: Any, site: Site, watch: Watch,
) -> None:
    owner, _ann, pid = audio_project(site, [TURNS, EVENTS], {"fox.wav": espeak(TEXTS["fox.wav"])})
    form = open_loop(page, site, owner, pid)
    model = form.get_by_label("Speech model that pre-labels audio segments")
    question = form.get_by_label("Audio question the speech model pre-labels")
    label = form.get_by_label(LABEL)
    # The defaults: no model, the first question and its first label (null on the server).
    assert model.input_value() == "" and question.input_value() == "" and label.input_value() == ""
    assert option_texts(question) == ["turns", "events"]
    assert option_texts(label) == ["speech", "Speaker A (spk_a)"]
    assert form.locator("#ls-transcriber-text").count() == 0  # no URL box until a URL is chosen

    model.select_option("whisper")
    save(page, "Saved.")
    assert loop_of(site, owner, pid)["transcriber"] == "whisper"

    # Another question: the labels are its own, the label goes back to its first (the default).
    label.select_option("spk_a")
    question.select_option("events")
    assert option_texts(label) == ["noise", "music", "voice"] and label.input_value() == ""
    label.select_option("music")
    save(page, "Saved.")
    saved = loop_of(site, owner, pid)
    assert (saved["transcriber"], saved["transcriber_question"], saved["transcriber_label"]) == (
        "whisper", "events", "music")

    # A URL the server refuses: its problem under the setting, named by the field; nothing saved.
    model.select_option("url")
    url = form.get_by_label("URL of the speech model")
    assert url.input_value() == ""
    save(page, "Not saved: see the marked settings.")  # left empty: the browser says so, sends nothing
    assert EMPTY_URL in page.locator("#ls-transcriber-problem").inner_text()
    url.fill("asr.example.org/transcribe")
    save(page, "Not saved: see the marked settings.")
    problem = page.locator("#ls-transcriber-problem")
    assert problem.inner_text() == SERVER_PROBLEM
    assert page.locator(".setting.invalid[data-setting='transcriber']").count() == 1
    assert url.get_attribute("aria-invalid") == "true" and model.get_attribute("aria-invalid") == "true"
    assert "ls-transcriber-problem" in (url.get_attribute("aria-describedby") or "")
    assert loop_of(site, owner, pid)["transcriber"] == "whisper"

    url.fill("https://asr.example.org/v1")
    save(page, "Saved.")
    assert page.locator("#ls-transcriber-problem").count() == 0
    assert loop_of(site, owner, pid)["transcriber"] == "https://asr.example.org/v1"

    # An entry point: its name typed, sent with python:, shown again as a name after a reload.
    model.select_option("entry")
    form.get_by_label("Entry point name (group labelloop.transcribers)").fill("team_asr")
    save(page, "Saved.")
    assert loop_of(site, owner, pid)["transcriber"] == "python:team_asr"
    page.reload()
    form = page.get_by_role("form", name="loop settings")
    form.wait_for()
    assert form.get_by_label("Speech model that pre-labels audio segments").input_value() == "entry"
    assert form.get_by_label("Entry point name (group labelloop.transcribers)").input_value() == "team_asr"
    assert form.get_by_label("Audio question the speech model pre-labels").input_value() == "events"
    assert form.get_by_label(LABEL).input_value() == "music"

    # None again: null on the server; the other settings stay.
    form.get_by_label("Speech model that pre-labels audio segments").select_option("")
    save(page, "Saved.")
    saved = loop_of(site, owner, pid)
    assert (saved["transcriber"], saved["transcriber_question"]) == (None, "events")
    assert watch.dialogs == [] and watch.errors == []


def test_the_pre_label_job_runs_from_the_console_with_progress_and_its_result(
    page: Any, site: Site, watch: Watch, speech_url: str,
) -> None:
    owner, _ann, pid = audio_project(site, [TURNS], clips(), suggest_min_accuracy=0.5)
    site.import_records(owner, pid, [{"id": "remote", "clip": "https://example.com/remote.wav"}])
    items = {i["external_id"]: int(i["id"]) for i in
             site.http.get(f"/api/projects/{pid}/items", headers=owner.headers).json()}
    # Gold on one file: the stub says "hello there" where "hello there world" was said.
    r = site.http.put(f"/api/projects/{pid}/items/{items['fox.wav']}/gold", headers=owner.headers, json={
        "value": {"turns": [{"start": 0.5, "end": 1.5, "label": "speech", "text": "hello there world"}]}})
    assert r.status_code == 200, r.text

    form = open_loop(page, site, owner, pid)
    panel = page.get_by_role("region", name="Pre-label audio")
    panel.get_by_text("No speech model is set").wait_for()
    form.get_by_label("Speech model that pre-labels audio segments").select_option("url")
    form.get_by_label("URL of the speech model").fill(speech_url)
    save(page, "Saved.")
    panel.get_by_text(f"The speech model: {speech_url}").wait_for()

    watch_progress(page)
    button = panel.get_by_role("button", name="Pre-label audio")
    button.click()
    status = panel.locator("p.prelabel-status")
    bar = panel.get_by_role("progressbar", name="Pre-labelling progress")
    # The first file is with the model, held there: 0 of 2 (the URL item is never sent).
    status.filter(has_text="transcribing: 0 of 2 files…").wait_for()
    assert (bar.get_attribute("max"), bar.get_attribute("value")) == ("2", "0")
    assert Speech.items == ["fox.wav"]
    before = page.evaluate("window.seen")
    # Before the job knows its files the bar shows no number (indeterminate), never a made-up one.
    assert all(b[0] is None for text, b in before if b is not None and "transcribing" not in text), before
    # A reload while it runs: the page finds the running job and follows it.
    page.reload()
    panel.locator("p.prelabel-status", has_text="transcribing: 0 of 2 files…").wait_for()
    watch_progress(page)
    # The job writes its progress a few times a second at most: whether "1 of 2" is ever written
    # depends on the clock, so the second file is let go at once and only the order is checked.
    Speech.gate.release(2)
    status.filter(has_text="Pre-labelling is done.").wait_for(timeout=30_000)
    assert panel.locator("progress").count() == 0
    assert Speech.items == ["fox.wav", "store.wav"]
    seen = before + page.evaluate("window.seen")
    bars = [b for _, b in seen if b is not None and b[0] is not None]  # once the job knows its files
    assert [0, 2] in bars and all(b[1] == 2 for b in bars), seen
    assert [b[0] for b in bars] == sorted(b[0] for b in bars), seen  # never backwards
    assert all(b is None for text, b in seen if text == "Pre-labelling is done."), seen

    result = panel.locator("section.prelabel-result")
    jobs = site.http.get(f"/api/projects/{pid}/jobs", headers=owner.headers).json()
    [job] = [j for j in jobs if j["kind"] == "prelabel"]
    version = job["result"]["model_version"]
    assert result.get_by_role("heading").inner_text() == f"Result (model {version}, {speech_url})"
    lines = result.locator("li").all_inner_texts()
    assert lines == [
        "Pre-labelled 2 items of 3: 2 segments, 4 timed words.",
        "Transcribed 2 files now; kept 0 files transcribed before with the same settings.",
        "Left out 1 item whose audio is a URL, not a stored file (never fetched).",
        "Held-out WER: 33.3% on 1 item (gold and consensus given without its suggestion).",
        "Held-out segment F1: 100.0% on 1 item (same label, overlap at least half of the union).",
        "Its held-out score, 66.7%, reaches the bar for suggestions (50.0%).",
    ], lines
    assert job["result"]["wer"] == pytest.approx(1 / 3) and job["result"]["without_audio"] == 1
    screenshot(page, "loop-audio")

    # Again with the same settings: both files kept, nothing sent to the model.
    button.click()
    result.locator("li", has_text="Transcribed 0 files now; kept 2 files").wait_for(timeout=30_000)
    assert sorted(Speech.items) == ["fox.wav", "store.wav"]
    assert button.evaluate("b => document.activeElement === b")  # the button kept the focus
    assert watch.dialogs == [] and watch.errors == []


def test_a_model_answering_past_the_end_fails_the_job_and_the_page_says_where(
    page: Any, site: Site, watch: Watch, speech_url: str,
) -> None:
    owner, _ann, pid = audio_project(site, [TURNS], {"fox.wav": espeak(TEXTS["fox.wav"])},
                                     transcriber=speech_url)
    Speech.answer = {"segments": [{"start": 1.0, "end": 99.0, "text": "far too long", "score": 0.5}]}
    Speech.gate.release()
    open_loop(page, site, owner, pid)
    panel = page.get_by_role("region", name="Pre-label audio")
    panel.get_by_role("button", name="Pre-label audio").click()
    panel.locator("p.prelabel-status", has_text="Pre-labelling failed.").wait_for(timeout=30_000)
    alert = panel.get_by_role("alert")
    assert alert.locator("p").inner_text() == "Pre-labelling failed: the speech model answered badly"
    problem = alert.locator("li").inner_text()
    assert problem.startswith("turns[0].end: item 'fox.wav': ") and "past the end of the audio" in problem, problem
    assert panel.locator("section.prelabel-result").count() == 0
    with site.runtime.db.read() as conn:  # nothing written: no model version, so no suggestion
        assert conn.execute(select(func.count()).select_from(model_versions)
                            .where(model_versions.c.project_id == pid)).scalar_one() == 0
    assert watch.dialogs == [] and watch.errors == []


@pytest.mark.skipif(not os.environ.get("CI") and find_spec("faster_whisper") is None,
                    reason="the built-in voice-activity detector needs the speech extra (pip install -e '.[speech]')")
def test_the_built_in_voice_activity_detector_pre_labels_regions_from_the_console(
    page: Any, site: Site, watch: Watch,
) -> None:
    owner, _ann, pid = audio_project(site, [EVENTS], {"fox.wav": espeak(TEXTS["fox.wav"])},
                                     suggest_min_accuracy=0.5)
    form = open_loop(page, site, owner, pid)
    form.get_by_label("Speech model that pre-labels audio segments").select_option("vad")
    form.get_by_label(LABEL).select_option("voice")
    save(page, "Saved.")
    panel = page.get_by_role("region", name="Pre-label audio")
    panel.get_by_role("button", name="Pre-label audio").click()
    panel.locator("p.prelabel-status", has_text="Pre-labelling is done.").wait_for(timeout=120_000)
    result = panel.locator("section.prelabel-result")
    lines = result.locator("li").all_inner_texts()
    assert lines[0].startswith("Pre-labelled 1 item of 1: ") and "timed word" not in lines[0], lines
    assert lines[1] == "Transcribed 1 file now; kept 0 files transcribed before with the same settings."
    assert lines[2] == "Left out no item: every audio file is stored."
    # No transcripts on this question: no WER; no references: F1 not measured, suggestions held back.
    assert result.locator("li[data-measure='wer']").count() == 0
    assert result.locator("li[data-measure='segment-f1']").inner_text().startswith("Held-out segment F1: not measured")
    assert lines[-1] == "Unmeasured, its suggestions are held back while the bar for suggestions is 50.0%."
    [job] = [j for j in site.http.get(f"/api/projects/{pid}/jobs", headers=owner.headers).json()
             if j["kind"] == "prelabel"]
    assert job["result"]["transcriber"]["label"] == "voice" and job["result"]["segments"] >= 1
    assert watch.dialogs == [] and watch.errors == []
