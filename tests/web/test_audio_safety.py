"""What the waveform must never do: run what a label or a transcript holds (they are rendered as
text), or download the audio to draw it (the waveform comes from the server's peaks; the <audio>
element reads only what it needs through range requests). Also zoom, by keys and the wheel."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from tests.platform.sounds import espeak, write_long_wav
from tests.web.audio_page import (
    DASH,
    STAGE,
    audio_project,
    drag_time,
    open_waveform,
    screen_x,
    wait_segments,
    wave_y,
)
from tests.web.conftest import Watch
from tests.web.site import Site
from tests.web.test_audio_workbench import submit
from tests.web.test_image_prelabels import predict
from tests.web.waits import wait_until

HOSTILE = "<img src=x onerror=\"window.__pwned = 1\">"


def test_hostile_labels_and_transcripts_are_text(page: Any, site: Site, watch: Watch) -> None:
    question = {"name": "turns", "type": "audio_segments", "target": "clip", "transcript": True,
                "labels": [{"value": "evil", "label": HOSTILE}, "speech"]}
    owner, ann, pid = audio_project(site, [question], {"hi.wav": espeak("hello")}, suggest_min_accuracy=0.5)
    [item] = site.http.get(f"/api/projects/{pid}/items", headers=owner.headers).json()
    segment = {"start": 0.1, "end": 0.5, "label": "evil", "text": HOSTILE,
               "words": [{"start": 0.1, "end": 0.5, "word": HOSTILE}]}
    predict(site, pid, int(item["id"]), {"turns": [segment]})
    open_waveform(page, site, ann, pid)
    wait_until(page, "document.querySelectorAll('.wave-sug').length === 1")
    assert page.locator(".wave-sug").inner_text() == HOSTILE
    page.keyboard.press("y")
    wait_segments(page, 1)
    page.locator(".seg-list li[data-seg='0'] .seg-pick").click()
    page.locator("textarea.seg-text").fill(HOSTILE + " and more")
    page.keyboard.press("Escape")
    assert HOSTILE in page.locator(".wave-seg[data-seg='0']").inner_text()
    assert HOSTILE in page.locator(".seg-list li[data-seg='0']").inner_text()
    assert HOSTILE in page.get_by_role("radiogroup").inner_text()
    assert page.locator(".wave-stage img, .audio-segments img, aside.suggestion img").count() == 0
    assert page.evaluate("window.__pwned") is None
    value = submit(page, site, owner, pid)
    assert value["turns"][0]["text"] == HOSTILE + " and more" and value["turns"][0]["words"] is None
    assert page.evaluate("window.__pwned") is None
    assert watch.dialogs == [] and watch.errors == []


def test_the_waveform_comes_from_the_peaks_not_the_audio(page: Any, site: Site, watch: Watch) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.wav"
        write_long_wav(path, 600)  # ten minutes, 16 kHz mono: 19.2 MB
        data = path.read_bytes()
    question = {"name": "turns", "type": "audio_segments", "target": "clip", "labels": ["speech"]}
    _owner, ann, pid = audio_project(site, [question], {"long.wav": data})
    # Bytes as they came off the network (the DevTools protocol counts what was received, also
    # for a media request the browser abandons once it has read what it needs).
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    sent: dict[str, tuple[str, str, dict[str, str]]] = {}
    received: dict[str, int] = {}
    cdp.on("Network.requestWillBeSent",
           lambda e: sent.__setitem__(e["requestId"], (e["request"]["url"], e.get("type", ""), e["request"]["headers"])))
    cdp.on("Network.dataReceived",
           lambda e: received.__setitem__(e["requestId"], received.get(e["requestId"], 0) + e["encodedDataLength"]))
    open_waveform(page, site, ann, pid)
    assert float(page.locator(STAGE).get_attribute("data-duration")) == 600.0
    page.wait_for_timeout(1500)  # whatever the page goes on loading by itself

    def fetched(variant: str) -> list[tuple[str, dict[str, str], int]]:
        return [(kind, headers, received.get(rid, 0)) for rid, (url, kind, headers) in sent.items()
                if "/blobs/" in url and url.endswith(f"variant={variant}")]

    [(kind, _, size)] = fetched("peaks")
    assert kind == "Fetch" and size >= 20 + 2 * 60_000  # one bucket per 10 ms
    original = fetched("original")
    assert all(kind == "Media" for kind, _, _ in original)  # the <audio> element, never a fetch
    assert all(any(k.lower() == "range" for k in headers) for _, headers, _ in original)
    assert sum(size for _, _, size in original) < len(data) / 20, original

    # Zoom: + halves the seconds per pixel about the middle, - doubles them, 0 fits the file; the
    # wheel zooms about the pointer (the second under it stays there). Drawn again each time.
    spp = lambda: float(page.locator(STAGE).get_attribute("data-spp"))  # noqa: E731
    fit = spp()
    page.locator(STAGE).focus()
    page.keyboard.press("+")
    wait_until(page, f"Math.abs(Number(document.querySelector('.wave-stage').dataset.spp) - {fit / 2}) < 1e-9")
    page.keyboard.press("-")
    wait_until(page, f"Number(document.querySelector('.wave-stage').dataset.spp) === {fit}")
    x = screen_x(page, 300.0)
    page.mouse.move(x, wave_y(page))
    for _ in range(12):
        page.mouse.wheel(0, -200)
    wait_until(page, f"Number(document.querySelector('.wave-stage').dataset.spp) < {fit / 100}")
    assert abs(screen_x(page, 300.0) - x) < 3
    # Zoomed in to a few ms per pixel, a drag marks a short segment precisely.
    fine = spp()
    drag_time(page, 300.05, 300.25)
    wait_segments(page, 1)
    text = page.locator(".seg-list li[data-seg='0']").inner_text()
    start, end = (float(v) for v in text.split(": ")[1].split(" s")[0].split(DASH))
    assert abs(start - 300.05) <= 2 * fine + 0.001 and abs(end - 300.25) <= 2 * fine + 0.001
    page.keyboard.press("0")
    wait_until(page, f"Number(document.querySelector('.wave-stage').dataset.spp) === {fit}")
    assert watch.dialogs == [] and watch.errors == []
