"""Keypoints in the browser: named points placed in skeleton order (the next name shown), v for
hidden, s to skip, points dragged and unlabelled; stored as COCO's [x, y, v] exactly."""

from __future__ import annotations

from typing import Any

from tests.web.canvas_page import click, drag, image_project, open_canvas, submit_and_get, wait_objects
from tests.web.conftest import Watch
from tests.web.site import Site

POSE = {
    "name": "pose", "type": "keypoints", "target": "photo", "labels": ["person"],
    "skeleton": {"points": ["nose", "left_eye", "right_eye", "neck"],
                 "edges": [["nose", "left_eye"], ["nose", "right_eye"], ["nose", "neck"]]},
}


def test_place_skip_hide_drag_and_unlabel_keypoints(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid = image_project(site, [POSE], size=(640, 480))
    open_canvas(page, site, ann, pid)
    status = page.locator(".canvas-status")

    click(page, 100, 100)  # a new person, at its nose
    wait_objects(page, 1)
    status.get_by_text("Next point: left_eye (2 of 4)").wait_for()
    page.keyboard.press("v")  # the nose is labelled but hidden
    status.get_by_text("nose is now hidden").wait_for()
    click(page, 90, 90)
    page.keyboard.press("s")  # no right eye to be seen
    status.get_by_text("Next point: neck (4 of 4)").wait_for()
    click(page, 100, 130)
    status.get_by_text("All points placed").wait_for()

    page.keyboard.press("Escape")  # done with this one (the point cursor) ...
    page.keyboard.press("Escape")  # ... and let go of the object: the next click starts another
    for x, y in ((300, 200), (290, 190), (310, 190), (300, 230)):
        click(page, x, y)
    wait_objects(page, 2)
    drag(page, (310, 190), (315, 185))  # its right eye, dragged
    click(page, 300, 230)  # its neck, selected ...
    page.keyboard.press("Delete")  # ... and unlabelled
    page.keyboard.press("ArrowLeft")  # then the whole object moves 1 px left (no point selected now)

    value = submit_and_get(page, site, owner, pid)
    assert value == {"pose": [
        {"label": "person", "points": {"nose": [100, 100, 1], "left_eye": [90, 90, 2], "right_eye": [0, 0, 0],
                                       "neck": [100, 130, 2]}},
        {"label": "person", "points": {"nose": [299, 200, 2], "left_eye": [289, 190, 2], "right_eye": [314, 185, 2],
                                       "neck": [0, 0, 0]}},
    ]}
    assert watch.dialogs == [] and watch.errors == []
