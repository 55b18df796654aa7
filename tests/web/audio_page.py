"""Audio questions in the browser: projects over real audio files (espeak-ng speech of known text,
or tones encoded by FFmpeg; tests/platform/sounds.py) imported as stored files (a zip), and the
waveform's own mapping from seconds to the screen, so that a test points at times and checks the
stored ones."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from tests.web.site import Person, Site
from tests.web.test_workbench import log_in
from tests.web.waits import wait_until

STAGE = ".wave-stage"
DASH = "\u2013"  # between a segment's start and end, as the page writes it


def import_clips(site: Site, owner: Person, pid: int, clips: dict[str, bytes]) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in clips.items():
            z.writestr(name, data)
    r = site.http.post(f"/api/projects/{pid}/imports", params={"filename": "clips.zip", "wait": "true"},
                       content=buf.getvalue(), headers=owner.headers)
    assert r.status_code == 201, r.text


def audio_project(site: Site, questions: list[dict[str, Any]], clips: dict[str, bytes],
                  **loop: Any) -> tuple[Person, Person, int]:
    owner, ann = site.person("owner"), site.person("ann")
    schema = {"fields": [{"name": "clip", "type": "audio", "label": "Clip"}], "questions": questions}
    pid = site.project(owner, schema, members={"annotator": [ann]})
    if loop:
        r = site.http.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": loop})
        assert r.status_code == 200, r.text
    import_clips(site, owner, pid, clips)
    return owner, ann, pid


def open_waveform(page: Any, site: Site, who: Person, pid: int) -> None:
    log_in(page, site, who, f"p/{pid}/label")
    page.locator(f"{STAGE}[data-drawn='true']").wait_for()


def duration(page: Any) -> float:
    return float(page.locator(STAGE).first.get_attribute("data-duration"))


def screen_x(page: Any, t: float) -> float:
    """Where second t is on the page now (the track's left edge, scrolled, plus t / spp)."""
    return float(page.evaluate(
        """(t) => {
            const s = document.querySelector('.wave-scroll');
            const spp = Number(document.querySelector('.wave-stage').dataset.spp);
            return s.getBoundingClientRect().left - s.scrollLeft + t / spp;
        }""", t))


def wave_y(page: Any, part: float = 0.5) -> float:
    box = page.locator(".wave-canvas").bounding_box()
    return float(box["y"] + box["height"] * part)


def drag_time(page: Any, a: float, b: float, *, y: float | None = None, steps: int = 6) -> None:
    """Press at second a on the waveform, move to b in steps, release."""
    y = wave_y(page) if y is None else y
    page.mouse.move(screen_x(page, a), y)
    page.mouse.down()
    page.mouse.move(screen_x(page, b), y, steps=steps)
    page.mouse.up()


def segments_shown(page: Any) -> int:
    return int(page.locator(".seg-list > li").count())


def wait_segments(page: Any, n: int) -> None:
    wait_until(page, f"document.querySelectorAll('.seg-list > li').length === {n}")


def media(page: Any) -> dict[str, Any]:
    """The <audio> element's state."""
    return dict(page.evaluate(
        """() => { const a = document.querySelector('audio.wave-audio');
                   return {paused: a.paused, time: a.currentTime, rate: a.playbackRate, src: a.src}; }"""))


def set_time(page: Any, t: float) -> None:
    page.evaluate("(t) => { document.querySelector('audio.wave-audio').currentTime = t; }", t)
    wait_until(page, f"Math.abs(document.querySelector('audio.wave-audio').currentTime - {t}) < 0.01")
