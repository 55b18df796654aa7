"""The video workbench in real Chromium (docs/video.md, "Workbench"): a numbered test-card video
imported as a stored file; a track drawn on one frame and moved on another (two keyframes), the
interpolated box between them read from the page exactly and, after submitting, from the API;
outside, split, events by keys; the stored keyframes read back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import Watch
from tests.web.screens import screenshot
from tests.web.site import Site
from tests.web.video_page import box_of, card, clock, drag, go_to, open_player, video_project, wait_frame
from tests.web.waits import wait_until

pytest.importorskip("av")

TRACKS = {"name": "objects", "type": "video_tracks", "target": "clip", "labels": ["car", "person"]}
EVENTS = {"name": "actions", "type": "video_segments", "target": "clip", "labels": ["walk", "run"]}


def lerp(a: list[float], b: list[float], f: int, fa: int, fb: int) -> list[float]:
    return [a[i] + (b[i] - a[i]) * (f - fa) / (fb - fa) for i in range(4)]


def submit(page: Any, site: Site, owner: Any, pid: int) -> dict[str, Any]:
    page.keyboard.press("Enter")
    page.get_by_text("Nothing left for you in this project").wait_for()
    [stored] = site.answers(owner, pid, expect=1)
    return dict(stored["value"])


def test_track_on_two_keyframes_interpolated_outside_split_submitted(
        page: Any, site: Site, watch: Watch, tmp_path: Path) -> None:
    clip = card(tmp_path, "cars.mp4", 40, width=320, height=240, fps=25)
    owner, ann, pid = video_project(site, [TRACKS, EVENTS], {"cars.mp4": clip})
    open_player(page, site, ann, pid)
    assert clock(page)["count"] == 40
    wait_frame(page, 0)

    # Frame 2: drag a box: a new track (car, the first class) with a keyframe here.
    go_to(page, 2)
    page.locator(".video-view").focus()
    drag(page, (40, 60), (120, 140))
    page.locator(".track-list li[data-track='t1']").wait_for()
    first = box_of(page, "t1")
    assert first and first["keyframe"] and not first["dashed"]
    k2 = first["box"]

    # Frame 12 by keys (. ten times with Shift): the box held, interpolated (dashed); move it.
    page.locator(".video-view").focus()
    page.keyboard.press("Shift+.")
    wait_frame(page, 12)
    held = box_of(page, "t1")
    assert held and not held["keyframe"] and held["dashed"] and held["box"] == k2
    cx, cy = (k2[0] + k2[2]) / 2, (k2[1] + k2[3]) / 2
    drag(page, (cx, cy), (cx + 100, cy + 40))
    wait_until(page, "document.querySelector('.video-svg [data-track=\"t1\"]').dataset.keyframe === 'true'")
    k12 = box_of(page, "t1")["box"]  # type: ignore[index]
    assert k12 != k2

    # Frame 7, between the keyframes: the box is the interpolation, to the bit.
    go_to(page, 7)
    mid = box_of(page, "t1")
    assert mid and not mid["keyframe"] and mid["dashed"]
    assert mid["box"] == lerp(k2, k12, 7, 2, 12)
    # Stepping back one frame with , lands on 6 and shows its own interpolation.
    page.locator(".video-view").focus()
    page.keyboard.press(",")
    wait_frame(page, 6)
    assert box_of(page, "t1")["box"] == lerp(k2, k12, 6, 2, 12)  # type: ignore[index]

    # Outside at frame 20 (o): nothing drawn from there on.
    go_to(page, 20)
    page.locator(".video-view").focus()
    page.keyboard.press("o")
    wait_until(page, "!document.querySelector('.video-svg .objects [data-track=\"t1\"]')")

    # Split at frame 9 (/): t1 ends outside at 9, t2 starts there with the box at 9.
    go_to(page, 9)
    page.locator(".video-view").focus()
    page.keyboard.press("/")
    page.locator(".track-list li[data-track='t2']").wait_for()
    at9 = lerp(k2, k12, 9, 2, 12)
    assert box_of(page, "t2") == {"box": at9, "keyframe": True, "dashed": False}
    assert box_of(page, "t1") is None
    # Undo (Backspace, the page's own) takes the split back; redo (Ctrl+Y) brings it again.
    page.keyboard.press("Backspace")
    wait_until(page, "!document.querySelector('.track-list li[data-track=\"t2\"]')")
    assert box_of(page, "t1") == {"box": at9, "keyframe": False, "dashed": True}
    page.keyboard.press("Control+y")
    page.locator(".track-list li[data-track='t2']").wait_for()
    assert box_of(page, "t1") is None

    # An event by keys on the events question (active once its class is picked): [ at 3, ] at 15.
    walk = page.locator("fieldset[data-question='actions']").get_by_role("radio", name="walk")
    go_to(page, 3)
    walk.click()
    page.keyboard.press("[")
    page.locator("fieldset[data-question='actions']", has_text="marked at frame 3").wait_for()
    go_to(page, 15)
    walk.click()
    page.keyboard.press("]")
    page.locator(".event-list li[data-event='0']", has_text="frames 3\u201315").wait_for()
    screenshot(page, "workbench-video-tracks")

    value = submit(page, site, owner, pid)
    tracks = {t["id"]: t for t in value["objects"]["tracks"]}
    assert set(tracks) == {"t1", "t2"}
    t1, t2 = tracks["t1"]["keyframes"], tracks["t2"]["keyframes"]
    assert [k["frame"] for k in t1] == [2, 8, 9]
    assert t1[0]["box"] == k2 and not t1[0]["outside"]
    assert t1[1]["box"] == lerp(k2, k12, 8, 2, 12)
    assert t1[2]["outside"] and t1[2]["box"] == at9
    assert [k["frame"] for k in t2] == [9, 12, 20]
    assert t2[0]["box"] == at9 and t2[1]["box"] == k12
    assert t2[2]["outside"]
    assert tracks["t1"]["label"] == tracks["t2"]["label"] == "car"
    assert value["actions"] == [{"label": "walk", "start": 3, "end": 15}]
    assert watch.dialogs == [] and watch.errors == []


def test_events_alone_have_their_own_player(page: Any, site: Site, watch: Watch, tmp_path: Path) -> None:
    clip = card(tmp_path, "walk.webm", 30, width=320, height=240, fps=25)
    owner, ann, pid = video_project(site, [EVENTS], {"walk.webm": clip})
    open_player(page, site, ann, pid)
    run = page.get_by_role("radio", name="run")
    go_to(page, 4)
    run.click()
    page.keyboard.press("]")  # the end first: the two marks make the event in either order
    go_to(page, 9)
    run.click()
    page.keyboard.press("[")
    page.locator(".event-list li[data-event='0']", has_text="frames 4\u20139").wait_for()
    # The event's row on the timeline, and a click on the event jumps to its start.
    assert page.locator(".video-timeline .tl-events").count() == 1
    page.locator(".event-list li[data-event='0'] button").first.click()
    wait_frame(page, 4)
    assert submit(page, site, owner, pid) == {"actions": [{"label": "run", "start": 4, "end": 9}]}
    assert watch.dialogs == [] and watch.errors == []
