"""The tracker from the video workbench in real Chromium (docs/video.md, "Workbench"): a textured
square moving over a textured background (tests/platform/test_video_tracker.py's video, with its
true box on every frame); a box drawn on frame 0, the tracker asked with `t`, its proposals shown
dashed, dropped with Escape, asked again and accepted with `y`: each becomes a keyframe near the
truth, and the run stops where the square vanishes. Also playback: Space plays and pauses on a
confirmed frame, at the speed chosen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import Watch
from tests.web.site import Site
from tests.web.video_page import clock, drag, open_player, video_project, wait_frame
from tests.web.waits import wait_until

pytest.importorskip("av")
pytest.importorskip("cv2")

from tests.platform.test_video_tracker import VANISH, iou, moving_square, square_at

TRACKS = {"name": "objects", "type": "video_tracks", "target": "clip", "labels": ["car"]}


def test_tracker_proposals_dropped_then_accepted(page: Any, site: Site, watch: Watch, tmp_path: Path) -> None:
    moving_square(tmp_path / "square.mp4")
    owner, ann, pid = video_project(site, [TRACKS], {"square.mp4": (tmp_path / "square.mp4").read_bytes()})
    open_player(page, site, ann, pid)
    wait_frame(page, 0)
    x1, y1, x2, y2 = square_at(0)
    page.locator(".video-view").focus()
    drag(page, (x1, y1), (x2, y2))
    page.locator(".track-list li[data-track='t1']").wait_for()

    # Ask, see the proposals (dashed, on the next frame), drop them: nothing changes.
    page.keyboard.press("t")
    page.locator(".video-status", has_text="The tracker proposes").wait_for(timeout=60_000)
    page.keyboard.press(".")
    wait_frame(page, 1)
    assert page.locator(".video-svg rect.proposal").count() == 1
    page.keyboard.press("Escape")
    page.locator(".video-status", has_text="dropped").wait_for()
    assert page.locator(".video-svg rect.proposal").count() == 0
    assert "1 keyframe," in page.locator(".track-list li[data-track='t1']").inner_text()

    # From frame 0 again: accept them all.
    page.keyboard.press(",")
    wait_frame(page, 0)
    page.keyboard.press("t")
    page.locator(".video-status", has_text="The tracker proposes").wait_for(timeout=60_000)
    page.keyboard.press("y")
    page.locator(".video-status", has_text="keyframes written from the tracker").wait_for()

    page.keyboard.press("Enter")
    page.get_by_text("Nothing left for you in this project").wait_for()
    [stored] = site.answers(owner, pid, expect=1)
    [track] = stored["value"]["objects"]["tracks"]
    frames = [k["frame"] for k in track["keyframes"]]
    assert frames == list(range(len(frames))) and 10 <= len(frames) <= VANISH + 1
    for k in track["keyframes"]:
        assert iou(k["box"], square_at(k["frame"])) > 0.6, k
    assert watch.dialogs == [] and watch.errors == []


def test_space_plays_and_pauses_on_a_confirmed_frame(page: Any, site: Site, watch: Watch, tmp_path: Path) -> None:
    moving_square(tmp_path / "square.mp4")
    _owner, ann, pid = video_project(site, [TRACKS], {"square.mp4": (tmp_path / "square.mp4").read_bytes()})
    open_player(page, site, ann, pid)
    wait_frame(page, 0)
    page.get_by_label("Speed").select_option("0.5")
    page.locator(".video-view").focus()
    page.keyboard.press("Space")
    wait_until(page, "document.querySelector('video.video-el').playbackRate === 0.5 && "
               "Number(document.querySelector('.video-frame-no').dataset.frame) >= 3")
    page.keyboard.press("Space")
    wait_until(page, "document.querySelector('.video-frame-no').dataset.confirmed === 'true'")
    c = clock(page)
    assert 3 <= c["frame"] < c["count"] and c["frame"] == c["target"]
    assert page.evaluate("document.querySelector('video.video-el').paused")
    assert watch.dialogs == [] and watch.errors == []
