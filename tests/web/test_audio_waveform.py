"""The waveform as drawn, against a signal of known shape, and the question's local rules: with
`allow_overlap` a segment may be drawn over another, and `max_segments` is said before the server
would refuse."""

from __future__ import annotations

from typing import Any

import numpy as np

from tests.platform.sounds import encode, tone
from tests.web.audio_page import STAGE, audio_project, drag_time, open_waveform, wait_segments
from tests.web.conftest import Watch
from tests.web.site import Site
from tests.web.test_audio_workbench import submit
from tests.web.waits import wait_for_the_end

RATE = 16000

# Per canvas column, how many pixels are painted in the waveform's colour, and the canvas height.
COLUMNS = """() => {
    const c = document.querySelector('.wave-canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const out = new Array(c.width).fill(0);
    for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) {
        const i = 4 * (y * c.width + x);
        if (d[i] === 0x3b && d[i + 1] === 0x6f && d[i + 2] === 0xb6 && d[i + 3] === 255) out[x]++;
    }
    return [out, c.height];
}"""


def test_the_drawing_follows_the_peaks(page: Any, site: Site, watch: Watch) -> None:
    # Two seconds of silence, then two of a tone at half of full scale.
    signal = np.concatenate([np.zeros(2 * RATE, dtype=np.float32), tone(2.0, RATE, amplitude=0.5)])
    question = {"name": "turns", "type": "audio_segments", "target": "clip", "labels": ["speech"]}
    _owner, ann, pid = audio_project(site, [question], {"half.wav": encode(signal, "wav")})
    open_waveform(page, site, ann, pid)
    assert float(page.locator(STAGE).get_attribute("data-duration")) == 4.0
    columns, height = page.evaluate(COLUMNS)
    width = len(columns)
    quiet = columns[2: width // 2 - 2]
    loud = columns[width // 2 + 2: width - 2]
    # Silence is a one-pixel line through the middle; the tone spans half the height (peaks of
    # round(0.5 * 127) = 64 of 128 each way), give or take a pixel.
    assert set(quiet) == {1}, sorted(set(quiet))
    assert all(abs(n - height * 64 / 128) <= 2 for n in loud), sorted(set(loud))
    assert watch.errors == []


def test_overlap_allowed_and_the_most_segments(page: Any, site: Site, watch: Watch) -> None:
    question = {"name": "turns", "type": "audio_segments", "target": "clip", "labels": ["a", "b"],
                "allow_overlap": True, "max_segments": 2}
    owner, ann, pid = audio_project(site, [question], {"tone.wav": encode(tone(3.0, RATE), "wav")})
    open_waveform(page, site, ann, pid)
    drag_time(page, 0.5, 2.0)
    wait_segments(page, 1)
    page.keyboard.press("2")  # the selected one becomes b, and so will new ones
    drag_time(page, 1.0, 2.5)  # from over the first: speakers talking over each other
    wait_segments(page, 2)
    drag_time(page, 2.6, 2.9)
    page.locator(".wave-status", has_text="At most 2 segments.").wait_for()
    wait_segments(page, 2)
    value = submit(page, site, owner, pid)
    got = value["turns"]
    assert [s["label"] for s in got] == ["b", "b"]
    assert got[0]["start"] < got[1]["start"] < got[0]["end"] < got[1]["end"]
    assert all("text" not in s or s["text"] is None for s in got)
    assert watch.dialogs == [] and watch.errors == []


def test_the_next_item_gets_its_own_waveform(page: Any, site: Site, watch: Watch) -> None:
    question = {"name": "turns", "type": "audio_segments", "target": "clip", "labels": ["speech"]}
    owner, ann, pid = audio_project(site, [question], {"four.wav": encode(tone(4.0, RATE), "wav"),
                                                       "three.wav": encode(tone(3.0, RATE, amplitude=0.2), "wav")})
    open_waveform(page, site, ann, pid)
    first = float(page.locator(STAGE).get_attribute("data-duration"))
    assert first in (3.0, 4.0)
    drag_time(page, 0.5, 1.0)
    wait_segments(page, 1)
    item = page.locator("form.task").get_attribute("data-item")
    page.keyboard.press("Enter")
    page.locator(f"form.task[data-item='{item}']").wait_for(state="detached")
    page.locator(f"{STAGE}[data-drawn='true'][data-duration='{7.0 - first:g}']").wait_for()
    wait_segments(page, 0)
    assert page.locator(".wave-seg").count() == 0
    page.keyboard.press("Enter")  # nothing here
    wait_for_the_end(page)
    answers = site.answers(owner, pid, expect=2)
    assert sorted(len(a["value"]["turns"]) for a in answers) == [0, 1]
    assert watch.dialogs == [] and watch.errors == []
