"""Video questions in the browser (docs/video.md, "Workbench"): projects over numbered test-card
videos (`labelloop.services.video.testcard`: each frame shows its number as a bar code along the
top) imported as stored files (a zip), the player's own frame clock read from the page, and the
frame on screen read back from a screenshot of the video element (decoded with Pillow)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tests.web.site import Person, Site
from tests.web.test_workbench import log_in
from tests.web.waits import wait_until

STAGE = ".video-stage"
CLOCK = ".video-frame-no"


def card(folder: Path, name: str, frames: int, **kw: Any) -> bytes:
    """The bytes of a test-card video (testcard.write_video's options: fps, vfr, bframes, size)."""
    from labelloop.services.video.testcard import write_video

    path = folder / name
    write_video(path, frames, **kw)
    return path.read_bytes()


def import_videos(site: Site, owner: Person, pid: int, files: dict[str, bytes]) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    r = site.http.post(f"/api/projects/{pid}/imports", params={"filename": "videos.zip", "wait": "true"},
                       content=buf.getvalue(), headers=owner.headers, timeout=300)
    assert r.status_code == 201, r.text


def video_project(site: Site, questions: list[dict[str, Any]], files: dict[str, bytes]) -> tuple[Person, Person, int]:
    owner, ann = site.person("owner"), site.person("ann")
    schema = {"fields": [{"name": "clip", "type": "video", "label": "Clip"}], "questions": questions}
    pid = site.project(owner, schema, members={"annotator": [ann]})
    import_videos(site, owner, pid, files)
    return owner, ann, pid


def open_player(page: Any, site: Site, who: Person, pid: int) -> None:
    log_in(page, site, who, f"p/{pid}/label")
    page.locator(f"{STAGE}[data-ready='true']").wait_for(timeout=30_000)


def clock(page: Any) -> dict[str, Any]:
    """The player's frame clock as the page shows it."""
    return dict(page.evaluate(
        """() => { const d = document.querySelector('.video-frame-no').dataset;
                   return {frame: Number(d.frame), target: Number(d.target), confirmed: d.confirmed === 'true',
                           count: Number(d.count), variant: d.variant,
                           seek_ms: d.seekMs === '' ? null : Number(d.seekMs), via: d.via,
                           media_time: d.mediaTime === '' ? null : Number(d.mediaTime),
                           current_time: document.querySelector('video.video-el').currentTime}; }"""))


def wait_frame(page: Any, n: int, *, timeout_s: float = 15.0) -> None:
    try:
        wait_until(page, "(() => { const d = document.querySelector('.video-frame-no').dataset;"
                   f" return d.confirmed === 'true' && Number(d.frame) === {n}; }})()", timeout_s=timeout_s)
    except AssertionError as e:
        raise AssertionError(f"frame {n} not confirmed; the player: {clock(page)}") from e


def go_to(page: Any, n: int) -> None:
    """Type n in the player's "go to" box and press Enter; wait until frame n is confirmed."""
    box = page.get_by_label("go to frame")
    box.fill(str(n))
    box.press("Enter")
    wait_frame(page, n)


def shown_number(page: Any) -> int:
    """The number the frame on screen shows: its bar code, from a screenshot of the video."""
    from labelloop.services.video.testcard import read_number

    # A uniform screenshot is a video layer the compositor has not painted yet (seen under load:
    # all black, which would read as 0), not a frame: it is taken again. A wrong frame on screen
    # still reads as its own number.
    for _ in range(50):
        png = page.locator("video.video-el").screenshot()
        pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
        if pixels.std() > 8:
            return int(read_number(pixels))
        page.wait_for_timeout(100)
    raise AssertionError("the video element stayed blank for 5 s")


def box_of(page: Any, track: str) -> dict[str, Any] | None:
    """The drawn box of a track on the frame on screen: its exact numbers and whether it is a keyframe."""
    got = page.evaluate(
        """(id) => { const g = document.querySelector(`.video-svg .objects [data-track="${id}"]`);
                     return g ? {box: g.dataset.box.split(',').map(Number), keyframe: g.dataset.keyframe === 'true',
                                 dashed: getComputedStyle(g.querySelector('rect')).strokeDasharray !== 'none'} : null; }""",
        track)
    return dict(got) if got else None


def screen_point(page: Any, x: float, y: float) -> tuple[float, float]:
    """Where the original's pixel (x, y) is on the page now."""
    r = page.evaluate(
        """() => { const s = document.querySelector('.video-svg'); const r = s.getBoundingClientRect();
                   const [,, w, h] = s.getAttribute('viewBox').split(' ').map(Number);
                   return {left: r.left, top: r.top, sx: r.width / w, sy: r.height / h}; }""")
    return r["left"] + x * r["sx"], r["top"] + y * r["sy"]


def drag(page: Any, a: tuple[float, float], b: tuple[float, float], steps: int = 6) -> None:
    """Press at the original's pixel a, move to b, release."""
    page.mouse.move(*screen_point(page, *a))
    page.mouse.down()
    page.mouse.move(*screen_point(page, *b), steps=steps)
    page.mouse.up()
