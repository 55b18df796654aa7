"""The waveform widget of `audio_segments` questions in a real browser (docs/audio.md, "Waveform
widget"): a clip of espeak-ng speech of known text imported as a stored file, segments made by
mouse and by keys, one resized, labelled and transcribed, playback driven by keys, and the
stored answer read back through the API."""

from __future__ import annotations

import itertools
from typing import Any

from tests.platform.sounds import espeak
from tests.web.audio_page import (
    DASH,
    STAGE,
    audio_project,
    drag_time,
    duration,
    media,
    open_waveform,
    screen_x,
    set_time,
    wait_segments,
    wave_y,
)
from tests.web.conftest import Watch
from tests.web.screens import screenshot
from tests.web.site import Site
from tests.web.waits import wait_for_the_end, wait_until

SPOKEN = "hello there. the quick brown fox jumps over the lazy dog. good morning to you all."
TURNS = {
    "name": "turns", "type": "audio_segments", "target": "clip", "transcript": True,
    "labels": ["speech", "music", {"value": "spk_b", "label": "Speaker B", "key": "b"}],
    "attributes": [{"name": "tone", "type": "choice", "options": ["calm", "loud"], "required": False}],
}


def near(got: float, want: float, tol: float) -> bool:
    return abs(got - want) <= tol


def whole_ms(t: float) -> bool:
    return round(t, 3) == t


def test_segments_by_mouse_and_keys_transcribed_and_submitted(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid = audio_project(site, [TURNS], {"speech.wav": espeak(SPOKEN)})
    open_waveform(page, site, ann, pid)
    total = duration(page)
    assert 4.0 < total < 12.0
    spp = float(page.locator(STAGE).get_attribute("data-spp"))
    tol = 3 * spp + 0.001  # a few screen pixels

    # Two segments by mouse: the first is speech (the default label), the second gets Speaker B
    # by its key while selected.
    drag_time(page, 0.4, 1.2)
    wait_segments(page, 1)
    page.keyboard.press("Escape")
    drag_time(page, 1.6, 2.4)
    wait_segments(page, 2)
    page.keyboard.press("b")
    page.locator(".seg-list li.sel", has_text="Speaker B").wait_for()
    page.keyboard.press("Escape")

    # One by keys at the playhead: [ marks the start, ] the end.
    set_time(page, 3.0)
    page.keyboard.press("[")
    set_time(page, 3.75)
    page.keyboard.press("]")
    wait_segments(page, 3)
    # b also made Speaker B the label for new segments: this one is speech again by the picker.
    page.locator(".seg-list li.sel[data-seg='2']", has_text=f"3.000{DASH}3.750 s").wait_for()
    assert "Speaker B" in page.locator(".seg-list li[data-seg='2']").inner_text()
    page.get_by_role("radio", name="speech").click()
    page.locator(".seg-list li.sel[data-seg='2']", has_text="speech").wait_for()

    # Overlap is refused here, with a message, and nothing changes.
    drag_time(page, 3.5, 3.9)
    page.locator(".wave-status", has_text="may not overlap").wait_for()
    wait_segments(page, 3)

    # Resize the first segment by dragging its end edge out to 1.4 s.
    edge = page.locator(".wave-seg[data-seg='0'] .wave-edge.end").bounding_box()
    page.mouse.move(edge["x"] + edge["width"] / 2, wave_y(page))
    page.mouse.down()
    page.mouse.move(screen_x(page, 1.4), wave_y(page), steps=5)
    page.mouse.up()
    page.locator(".seg-list li[data-seg='0']", has_text=f"{DASH}1.4").wait_for()

    # Transcripts: select with Tab (the waveform has the focus), t puts the focus in the box;
    # typing there is text, not shortcuts ([, s, d, r, Space), and Escape leaves the box.
    page.locator(STAGE).focus()
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    page.locator(".seg-list li.sel[data-seg='0']").wait_for()
    page.keyboard.press("t")
    box = page.locator("textarea.seg-text")
    wait_until(page, "document.activeElement === document.querySelector('textarea.seg-text')")
    page.keyboard.type("hello there [sd r]")
    assert box.input_value() == "hello there [sd r]"
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    page.locator(".seg-list li.sel[data-seg='1']").wait_for()
    page.keyboard.press("t")
    wait_until(page, "document.activeElement === document.querySelector('textarea.seg-text')")
    page.keyboard.type("the quick brown fox")
    page.keyboard.press("Escape")
    page.locator(".seg-list li[data-seg='2']").get_by_role("button").first.click()
    page.locator("textarea.seg-text").fill("good morning")
    page.get_by_label("tone").select_option("calm")
    page.keyboard.press("Escape")
    wait_segments(page, 3)
    assert media(page)["rate"] == 1 and media(page)["paused"]
    screenshot(page, "workbench-audio-segments")

    value = submit(page, site, owner, pid)
    got = value["turns"]
    assert [s["label"] for s in got] == ["speech", "spk_b", "speech"]
    assert [s["text"] for s in got] == ["hello there [sd r]", "the quick brown fox", "good morning"]
    assert all(s["words"] is None for s in got)
    assert [s.get("attributes") for s in got] == [None, None, {"tone": "calm"}]
    assert all(whole_ms(s["start"]) and whole_ms(s["end"]) for s in got)
    assert near(got[0]["start"], 0.4, tol) and near(got[0]["end"], 1.4, tol)
    assert near(got[1]["start"], 1.6, tol) and near(got[1]["end"], 2.4, tol)
    assert (got[2]["start"], got[2]["end"]) == (3.0, 3.75)
    assert watch.dialogs == [] and watch.errors == []


def submit(page: Any, site: Site, owner: Any, pid: int) -> dict[str, Any]:
    page.keyboard.press("Enter")
    wait_for_the_end(page)
    [stored] = site.answers(owner, pid, expect=1)
    return dict(stored["value"])


def test_playback_keys_drive_the_audio_element(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid = audio_project(site, [TURNS], {"speech.wav": espeak(SPOKEN)})
    open_waveform(page, site, ann, pid)
    page.locator(STAGE).focus()
    # Play and pause (the element plays the original, fetched with range requests).
    page.keyboard.press(" ")
    wait_until(page, "!document.querySelector('audio.wave-audio').paused")
    page.keyboard.press(" ")
    wait_until(page, "document.querySelector('audio.wave-audio').paused")
    # Back 2 s from 3.5 s; not before the start.
    set_time(page, 3.5)
    page.keyboard.press("ArrowLeft")
    wait_until(page, "Math.abs(document.querySelector('audio.wave-audio').currentTime - 1.5) < 0.01")
    page.keyboard.press("ArrowLeft")
    wait_until(page, "document.querySelector('audio.wave-audio').currentTime === 0")
    # Speed: d faster, s slower, in steps from 0.5x to 2x, and the control says so.
    for key, rate in (("d", 1.25), ("d", 1.5), ("s", 1.25), ("s", 1), ("s", 0.75), ("s", 0.5), ("s", 0.5)):
        page.keyboard.press(key)
        wait_until(page, f"document.querySelector('audio.wave-audio').playbackRate === {rate}")
    assert page.locator(".wave-rate select").input_value() == "0.5"
    for _ in range(7):
        page.keyboard.press("d")
    wait_until(page, "document.querySelector('audio.wave-audio').playbackRate === 2")
    # Loop a segment: r with nothing selected says what to do; with one selected, playback jumps
    # to its start and comes back to it at its end, again and again.
    page.keyboard.press("r")
    page.locator(".wave-status", has_text="Select a segment to loop").wait_for()
    drag_time(page, 1.0, 1.6)
    page.locator(".seg-list li.sel[data-seg='0']").wait_for()
    set_time(page, 3.0)
    page.keyboard.press("r")
    page.locator(".wave-seg.looping[data-seg='0']").wait_for()
    start = float(page.locator(".seg-list li[data-seg='0']").inner_text().split(":")[1].split(DASH)[0])
    wait_until(page, f"Math.abs(document.querySelector('audio.wave-audio').currentTime - {start}) < 0.01")
    page.keyboard.press(" ")
    # Played at 2x for about 2 s, the 0.6 s segment ends several times over: the playhead comes
    # back to its start each time (unlooped it would be 3.6 s further on).
    seen = []
    for _ in range(12):
        page.wait_for_timeout(150)
        seen.append(media(page)["time"])
    page.keyboard.press(" ")
    end = start + 0.6
    assert all(start - 0.01 <= t <= end + 0.6 for t in seen), seen
    assert any(later < earlier for earlier, later in itertools.pairwise(seen)), seen  # it went round
    page.keyboard.press("r")
    page.locator(".wave-seg.looping").wait_for(state="detached")
    # The buttons do what the keys do.
    page.get_by_role("button", name="Play").click()
    wait_until(page, "!document.querySelector('audio.wave-audio').paused")
    page.get_by_role("button", name="Pause").click()
    wait_until(page, "document.querySelector('audio.wave-audio').paused")
    set_time(page, 2.5)
    page.get_by_role("button", name="Back 2 s").click()
    wait_until(page, "Math.abs(document.querySelector('audio.wave-audio').currentTime - 0.5) < 0.01")
    page.locator(".wave-rate select").select_option("0.75")
    wait_until(page, "document.querySelector('audio.wave-audio').playbackRate === 0.75")
    page.get_by_role("button", name="Loop segment").click()
    page.locator(".wave-seg.looping[data-seg='0']").wait_for()
    # Delete removes the selected segment (and its loop).
    page.keyboard.press("Delete")
    wait_segments(page, 0)
    page.locator(".wave-status", has_text="Segment 1 removed.").wait_for()
    assert watch.dialogs == [] and watch.errors == [] and owner.id != ann.id
