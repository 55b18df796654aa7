"""Pre-labels on a waveform, in a real browser: a model version's predicted segments (text and word
timings, as a speech-to-text model gives them) shown dashed under the waveform until taken, one
at a time (a click, y; x dismisses) or all at once (A). Accepted unchanged, a segment keeps its
words; once its bounds or text change they are dropped (they no longer hold). What the answer did
with the suggestion is decided by the server, and the export says it.

The prediction is written the way the loop's jobs write it (a `model_versions` row and its
`predictions`), in the documented value format (docs/audio.md, "Segments")."""

from __future__ import annotations

from typing import Any

from tests.platform.sounds import espeak
from tests.web.audio_page import DASH, audio_project, open_waveform, screen_x, wait_segments
from tests.web.conftest import Watch
from tests.web.site import Site
from tests.web.test_audio_workbench import SPOKEN, TURNS, submit
from tests.web.test_image_prelabels import exported, predict
from tests.web.waits import wait_until

SUGGESTED = [
    {"start": 0.2, "end": 1.1, "label": "speech", "text": "hello there",
     "words": [{"start": 0.2, "end": 0.55, "word": "hello"}, {"start": 0.6, "end": 1.05, "word": "there"}]},
    {"start": 1.3, "end": 3.2, "label": "spk_b", "text": "the quick brown fox",
     "words": [{"start": 1.3, "end": 1.5, "word": "the"}, {"start": 1.5, "end": 1.9, "word": "quick"},
               {"start": 1.9, "end": 2.4, "word": "brown"}, {"start": 2.5, "end": 3.1, "word": "fox"}]},
]


def suggested_project(site: Site, **loop: Any) -> tuple[Any, Any, int, int]:
    owner, ann, pid = audio_project(site, [TURNS], {"speech.wav": espeak(SPOKEN)}, suggest_min_accuracy=0.5, **loop)
    [item] = site.http.get(f"/api/projects/{pid}/items", headers=owner.headers).json()
    version = predict(site, pid, int(item["id"]), {"turns": SUGGESTED})
    return owner, ann, pid, version


def stored(s: dict[str, Any]) -> dict[str, Any]:
    """A segment as the server stores it (text and words always present)."""
    return {"text": None, "words": None, **s}


def test_suggested_segments_are_shown_apart_and_taken_one_by_one(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid, version = suggested_project(site)
    open_waveform(page, site, ann, pid)
    wait_until(page, "document.querySelectorAll('.wave-sug').length === 2")
    assert page.locator(".seg-list > li").count() == 0
    hint = page.get_by_role("complementary", name="suggestion").inner_text()
    assert f"Model {version} suggests" in hint and "2 segments: 1 speech, 1 Speaker B" in hint
    assert "dashed under the waveform" in hint
    assert page.locator(".wave-sug[data-sug='1']").inner_text() == "the quick brown fox"
    lane = page.locator(".wave-sug[data-sug='0']").bounding_box()

    page.mouse.click(screen_x(page, 0.6), lane["y"] + lane["height"] / 2)  # a click on one accepts it
    wait_segments(page, 1)
    page.locator(".seg-list li[data-seg='0']", has_text="(2 timed words)").wait_for()
    words = page.locator(".seg-words").inner_text()
    assert f"hello (0.20{DASH}0.55) there (0.60{DASH}1.05)" in words
    assert page.locator("textarea.seg-text").input_value() == "hello there"
    assert page.locator(".wave-sug").count() == 1
    page.keyboard.press("y")  # y accepts the next one
    wait_segments(page, 2)
    assert page.locator(".wave-sug").count() == 0
    # Editable like any segment: the second one's end 50 ms later (>) drops its word timings.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.locator(".seg-list li.sel[data-seg='1']").wait_for()
    page.keyboard.press(">")
    page.locator(".seg-list li[data-seg='1']", has_text=f"1.300{DASH}3.250 s").wait_for()
    assert "timed words" not in page.locator(".seg-list li[data-seg='1']").inner_text()
    assert page.locator("textarea.seg-text").input_value() == "the quick brown fox"

    value = submit(page, site, owner, pid)
    assert value == {"turns": [stored(SUGGESTED[0]), stored({**SUGGESTED[1], "end": 3.25, "words": None})]}
    assert exported(site, owner, pid)["suggestion"]["questions"] == {"turns": "edited"}
    assert watch.dialogs == [] and watch.errors == []


def test_accepted_unchanged_the_suggestion_keeps_its_words(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid, _version = suggested_project(site)
    open_waveform(page, site, ann, pid)
    wait_until(page, "document.querySelectorAll('.wave-sug').length === 2")
    page.keyboard.press("n")  # pick the next suggestion, dismiss it, then bring it back by A
    page.keyboard.press("x")
    wait_until(page, "document.querySelectorAll('.wave-sug').length === 1")
    page.keyboard.press("a")  # the page's key: the whole suggestion as the answer
    wait_segments(page, 2)
    page.locator(".wave-stage.suggested").wait_for()  # marked as the model's until changed
    # Typing in the transcript drops the words (they belong to the model's text); the page's undo
    # brings the suggested segment back, words included.
    page.locator(".seg-list li[data-seg='0'] .seg-pick").click()
    box = page.locator("textarea.seg-text")
    box.press("End")
    box.type("!")
    page.locator(".seg-list li[data-seg='0']", has_text="hello there!").wait_for()
    assert "timed words" not in page.locator(".seg-list li[data-seg='0']").inner_text()
    page.keyboard.press("Backspace")  # in the box: deletes the character
    page.keyboard.press("Escape")
    page.keyboard.press("Backspace")  # on the page: undo, back to the suggested segment
    page.keyboard.press("Backspace")
    page.locator(".seg-list li[data-seg='0']", has_text="(2 timed words)").wait_for()
    value = submit(page, site, owner, pid)
    assert value == {"turns": [stored(s) for s in SUGGESTED]}
    assert exported(site, owner, pid)["suggestion"]["questions"] == {"turns": "unchanged"}
    assert watch.dialogs == [] and watch.errors == []
