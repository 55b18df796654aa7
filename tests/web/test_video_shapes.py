"""Per-frame shapes in the video workbench, in real Chromium (docs/video.md, "Workbench"): in the
per-frame mode (`f`) a drawn box is a shape on the frame on screen only: drawn solid there, absent on
the next frame, listed in the panel with its frame, a tick on the timeline; moved by keys, deleted
and undone like a box; submitted and read back from the API exactly. The shortcuts dialog (?)
lists the video keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import Watch
from tests.web.site import Site
from tests.web.test_video_workbench import TRACKS, submit
from tests.web.video_page import card, drag, go_to, open_player, video_project, wait_frame
from tests.web.waits import wait_until

pytest.importorskip("av")


def shape_on_screen(page: Any) -> list[dict[str, Any]]:
    """The per-frame shapes drawn on the frame on screen: their exact boxes and whether dashed."""
    return list(page.evaluate(
        """() => [...document.querySelectorAll('.video-svg .objects [data-shape]')].map((g) => ({
                 shape: Number(g.dataset.shape), box: g.dataset.box.split(',').map(Number),
                 dashed: getComputedStyle(g.querySelector('rect')).strokeDasharray !== 'none'}))"""))


def test_per_frame_shape_on_its_frame_only_submitted(page: Any, site: Site, watch: Watch, tmp_path: Path) -> None:
    clip = card(tmp_path, "street.mp4", 20, width=320, height=240, fps=25)
    owner, ann, pid = video_project(site, [TRACKS], {"street.mp4": clip})
    open_player(page, site, ann, pid)
    wait_frame(page, 0)

    # Frame 5, per-frame mode by its key, the second class (person) by its digit: drag a box.
    go_to(page, 5)
    page.locator(".video-view").focus()
    page.keyboard.press("f")
    assert page.get_by_role("checkbox", name="Per-frame shapes").is_checked()
    page.keyboard.press("2")
    drag(page, (60, 50), (140, 170))
    page.locator(".shape-list li[data-shape='0']", has_text="frame 5").wait_for()
    [drawn] = shape_on_screen(page)
    assert not drawn["dashed"]
    box = drawn["box"]
    assert box[0] < box[2] and box[1] < box[3]
    # No track was made: the box is a shape.
    assert page.locator(".track-list li").count() == 0
    assert page.locator(".video-timeline .tl-shapes .tick[data-frame='5']").count() == 1

    # The arrow moves it one pixel (it is selected); Delete removes it; Backspace (undo) brings it back.
    page.keyboard.press("ArrowRight")
    wait_until(page, f"document.querySelector('.video-svg [data-shape=\"0\"]').dataset.box === '{box[0] + 1},{box[1]},{box[2] + 1},{box[3]}'")
    moved = [box[0] + 1, box[1], box[2] + 1, box[3]]
    page.keyboard.press("Delete")
    wait_until(page, "!document.querySelector('.video-svg [data-shape]')")
    assert page.locator(".shape-list li").count() == 0
    page.keyboard.press("Backspace")
    page.locator(".shape-list li[data-shape='0']").wait_for()
    assert [s["box"] for s in shape_on_screen(page)] == [moved]

    # Frame 6: not drawn there; its own frame only (also not on 4).
    page.locator(".video-view").focus()
    page.keyboard.press(".")
    wait_frame(page, 6)
    assert shape_on_screen(page) == []
    go_to(page, 4)
    assert shape_on_screen(page) == []
    # The timeline's tick jumps back to frame 5, where it is drawn again.
    page.locator(".video-timeline .tl-shapes .tick[data-frame='5']").click()
    wait_frame(page, 5)
    assert [s["box"] for s in shape_on_screen(page)] == [moved]

    # Back to tracks (f again): a drag now starts a track, not a shape.
    page.locator(".video-view").focus()
    page.keyboard.press("f")
    assert not page.get_by_role("checkbox", name="Per-frame shapes").is_checked()
    drag(page, (200, 60), (260, 120))
    page.locator(".track-list li[data-track='t1']").wait_for()
    assert page.locator(".shape-list li").count() == 1

    # The shortcuts dialog lists the video keys on a project with a video question.
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    for key in ("f", ", / . (Shift: 10)", "o", "/", "y / Y"):
        assert dialog.locator("tr", has=page.get_by_text(key, exact=True)).filter(has_text="video").count() == 1, key
    dialog.get_by_text("video: per-frame shapes on / off", exact=False).wait_for()
    page.keyboard.press("Escape")
    wait_until(page, "!document.querySelector('[aria-modal=\"true\"]')")

    value = submit(page, site, owner, pid)
    assert value["objects"]["shapes"] == [{"frame": 5, "label": "person", "box": moved}]
    [t1] = value["objects"]["tracks"]
    assert t1["label"] == "person" and [k["frame"] for k in t1["keyframes"]] == [5]
    assert watch.dialogs == [] and watch.errors == []
