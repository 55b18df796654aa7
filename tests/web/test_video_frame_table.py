"""The frame table read back in Chromium (docs/video.md, "Frame table"): test-card videos (every
frame shows its number as a bar code) imported through the API, played by a `<video>` element
from the blob route (ranges, the signed-in session), seeked to the middle of frame i's interval
in random order and drawn onto a canvas: the bar code read from the drawn pixels is i, for every
frame, for a VFR MP4 with B-frames, a VFR WebM and the proxy of a VFR Matroska file."""

from __future__ import annotations

import hashlib
import io
import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labelloop.services.video import testcard
from tests.web.site import Site
from tests.web.test_workbench import log_in

# Plays `src`, seeks to each time in turn and returns, per seek, the RGB of one row through the
# middle of the bar code (the top eighth of the frame) as drawn by the browser.
SEEK_AND_DRAW = """async ([src, times]) => {
    const v = document.createElement('video');
    v.muted = true; v.preload = 'auto';
    document.body.appendChild(v);
    await new Promise((ok, fail) => { v.onloadeddata = ok; v.onerror = () => fail(new Error('no video')); v.src = src; });
    const c = document.createElement('canvas');
    c.width = v.videoWidth; c.height = v.videoHeight;
    const g = c.getContext('2d');
    const rows = [];
    for (const t of times) {
        await new Promise((ok) => { v.onseeked = () => requestAnimationFrame(() => requestAnimationFrame(ok)); v.currentTime = Math.min(t, v.duration); });
        g.drawImage(v, 0, 0);
        rows.push(Array.from(g.getImageData(0, Math.floor(c.height / 16), c.width, 1).data));
    }
    v.remove();
    return rows;
}"""
FRAMES = 48


def _number(row: list[int]) -> int:
    pixels = np.asarray(row, dtype=np.uint8).reshape(1, -1, 4)[:, :, :3]
    return testcard.read_number(np.repeat(pixels, 32, axis=0))


@pytest.mark.parametrize(("name", "options", "variant"), [
    ("vfr-bframes.mp4", {"vfr": True, "bframes": 3}, "original"),
    ("vfr.webm", {"vfr": True}, "original"),
    ("vfr.mkv", {"vfr": True, "bframes": 2}, "proxy"),
])
def test_every_frame_is_the_one_the_table_says(page: Any, site: Site, tmp_path: Path, name: str,
                                               options: dict[str, Any], variant: str) -> None:
    made = testcard.write_video(tmp_path / name, FRAMES, width=160, height=120, **options)
    data = made.path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    owner = site.person("owner")
    pid = site.project(owner, {"fields": [{"name": "clip", "type": "video"}],
                               "questions": [{"name": "scene", "type": "choice", "options": ["a", "b"]}]})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, data)
    r = site.http.post(f"/api/projects/{pid}/imports", params={"filename": "clips.zip", "wait": "true"},
                       content=buf.getvalue(), headers=owner.headers)
    assert r.status_code == 201, r.text
    base = f"/api/projects/{pid}/blobs/{digest}"
    info = site.http.get(f"{base}/info", headers=owner.headers).json()
    assert (info["proxy"] is not None) == (variant == "proxy")
    times = site.http.get(f"{base}?variant=frames", headers=owner.headers).json()["times"]
    assert times == list(made.times)

    log_in(page, site, owner)
    order = list(range(FRAMES))
    random.Random(7).shuffle(order)
    ends = [*times[1:], info["video"]["duration"] + times[0]]
    middles = [(times[i] + ends[i]) / 2 for i in order]
    rows = page.evaluate(SEEK_AND_DRAW, [f"{site.url}{base}?variant={variant}", middles])
    shown = [_number(row) for row in rows]
    assert shown == order
