"""Boxes on an image in the browser: drawn, moved, resized, nudged, relabelled, deleted, undone and
redone with mouse and keyboard, and stored in the original image's pixels exactly."""

from __future__ import annotations

import math
import re
from typing import Any

from tests.web.canvas_page import (
    click,
    drag,
    image_project,
    open_canvas,
    px_per_image_px,
    screen,
    submit_and_get,
    wait_objects,
)
from tests.web.conftest import Watch
from tests.web.site import Site

BOXES = {"name": "boxes", "type": "bbox", "target": "photo", "labels": ["car", {"value": "person", "key": "p"}]}


def test_draw_move_resize_nudge_and_submit_boxes(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid = image_project(site, [BOXES], size=(640, 480))
    open_canvas(page, site, ann, pid)
    assert page.locator(".canvas-svg").get_attribute("viewBox") == "0 0 640 480"

    drag(page, (100, 80), (300, 240))  # a car (the first class)
    wait_objects(page, 1)
    drag(page, (200, 160), (220, 170))  # grab it in the middle: moved by (20, 10)
    drag(page, (320, 250), (350, 260))  # its bottom-right handle
    for key in ("ArrowRight", "ArrowRight", "Shift+ArrowDown"):  # 2 right, 10 down
        page.keyboard.press(key)

    page.keyboard.press("Escape")  # let go of it; p picks "person" for the next box
    page.keyboard.press("p")
    drag(page, (400, 300), (500, 420))
    wait_objects(page, 2)
    page.keyboard.press("Tab")  # Tab goes round: from the second to the first
    page.keyboard.press("p")  # the selected car is a person now
    page.locator(".canvas-status", has_text="Object 1 is now person").wait_for()
    page.keyboard.press("1")  # and a car again

    value = submit_and_get(page, site, owner, pid)
    assert value == {"boxes": [
        {"label": "car", "box": [122, 100, 352, 270]},
        {"label": "person", "box": [400, 300, 500, 420]},
    ]}
    assert watch.dialogs == [] and watch.errors == []


def test_delete_undo_redo_hide_and_lock(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid = image_project(site, [BOXES], size=(640, 480))
    open_canvas(page, site, ann, pid)
    drag(page, (10, 10), (110, 60))
    drag(page, (200, 200), (260, 300))
    wait_objects(page, 2)
    page.keyboard.press("Delete")  # the selected (second) box
    wait_objects(page, 1)
    page.keyboard.press("Backspace")  # the page's undo brings it back
    wait_objects(page, 2)
    page.keyboard.press("Backspace")  # and takes the second box away again
    wait_objects(page, 1)
    page.keyboard.press("Control+Shift+Z")  # redo: the second box is back
    wait_objects(page, 2)

    page.keyboard.press("Tab")
    page.keyboard.press("l")  # lock the first: the arrows do not move it
    page.keyboard.press("ArrowRight")
    page.locator(".canvas-status", has_text="is locked").wait_for()
    page.keyboard.press("h")  # hidden: no longer on the image, still in the list
    assert page.locator(".canvas-svg [data-obj='0']").count() == 0
    assert page.get_by_role("button", name="show object 1").count() == 1
    page.get_by_role("button", name="show object 1").click()
    page.locator(".canvas-svg [data-obj='0']").wait_for()

    value = submit_and_get(page, site, owner, pid)
    assert value == {"boxes": [
        {"label": "car", "box": [10, 10, 110, 60]},
        {"label": "car", "box": [200, 200, 260, 300]},
    ]}
    assert watch.dialogs == [] and watch.errors == []


def test_zoom_pan_and_fit_keep_coordinates_in_image_pixels(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid = image_project(site, [BOXES], size=(640, 480))
    open_canvas(page, site, ann, pid)
    fit = px_per_image_px(page)
    click(page, 320, 240)  # the stage takes the keys
    page.keyboard.press("+")
    page.keyboard.press("+")
    assert abs(px_per_image_px(page) - 2 * fit) < 1e-6
    # Zoomed in, a grid step is finer: a quarter or half pixel can be drawn.
    drag(page, (300.5, 200.25), (340, 250))
    wait_objects(page, 1)
    x, y = screen(page, 320, 240)
    page.mouse.move(x, y)
    page.mouse.wheel(0, -200)  # the wheel zooms about the pointer, which stays on (320, 240)
    after = screen(page, 320, 240)
    # (wheel events carry whole CSS pixels, pointer events fractions)
    assert abs(after[0] - x) < 1 and abs(after[1] - y) < 1
    page.keyboard.down(" ")  # space + drag pans
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 50, y - 20, steps=3)
    page.mouse.up()
    page.keyboard.up(" ")
    moved = screen(page, 320, 240)
    assert abs(moved[0] - (x - 50)) < 0.5 and abs(moved[1] - (y - 20)) < 0.5
    page.keyboard.press("0")  # fit
    assert abs(px_per_image_px(page) - fit) < 1e-6

    value = submit_and_get(page, site, owner, pid)
    # 645 px of stage height (75% of 860) for 480 image px, zoomed in twice: 2.69 screen pixels per
    # image pixel, so coordinates snap to quarter pixels, and the page took the pointer's fractions.
    assert 2 * fit == 645 / 480 * 2
    assert value == {"boxes": [{"label": "car", "box": [300.5, 200.25, 340, 250]}]}
    assert watch.dialogs == [] and watch.errors == []


ROTATED = {"name": "turned", "type": "rotated_bbox", "target": "photo", "labels": ["ship"]}


def handle(page: Any, name: str) -> tuple[float, float]:
    """The centre of a handle of the selected object, on the page."""
    box = page.locator(f".canvas-view .handle[data-handle='{name}']").bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_rotated_box_drawn_then_turned_resized_and_nudged(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid = image_project(site, [ROTATED], size=(640, 480))
    open_canvas(page, site, ann, pid)
    drag(page, (100, 100), (300, 200))  # 200 x 100 about (200, 150), not turned
    wait_objects(page, 1)

    # The turning handle sits above the top edge; with Shift it turns by whole 15° steps.
    start = handle(page, "rot")
    page.mouse.move(*start)
    page.mouse.down()
    page.keyboard.down("Shift")
    page.mouse.move(*screen(page, 200 + 100 * math.sin(math.radians(31)), 150 - 100 * math.cos(math.radians(31))),
                    steps=4)
    page.mouse.up()
    page.keyboard.up("Shift")
    page.locator(".shape-list li", has_text="turned 30°").wait_for()

    # Without Shift, to a tenth of a degree: a point 37.3° clockwise from straight up.
    page.mouse.move(*handle(page, "rot"))
    page.mouse.down()
    page.mouse.move(*screen(page, 200 + 100 * math.sin(math.radians(37.3)), 150 - 100 * math.cos(math.radians(37.3))),
                    steps=4)
    page.mouse.up()
    page.locator(".shape-list li", has_text="turned 37.3°").wait_for()

    # The right edge's handle, pulled 20 px further out along the box's own x axis: the box is
    # 20 px wider and its centre moves 10 px that way (snapped to the grid).
    t = math.radians(37.3)
    right = (200 + 100 * math.cos(t), 150 + 100 * math.sin(t))
    page.mouse.move(*handle(page, "e"))
    page.mouse.down()
    page.mouse.move(*screen(page, right[0] + 20 * math.cos(t), right[1] + 20 * math.sin(t)), steps=4)
    page.mouse.up()
    page.locator(".shape-list li", has_text=re.compile(r"220 \S 100")).wait_for()
    for _ in range(3):
        page.keyboard.press("ArrowLeft")

    value = submit_and_get(page, site, owner, pid)
    [obj] = value["turned"]
    cx, cy, w, h, angle = obj["box"]
    step = 0.5  # 1.34 screen px per image px
    assert (w, h, angle) == (220, 100, 37.3)
    assert abs(cx - (200 + 10 * math.cos(t) - 3)) <= step / 2 and abs(cy - (150 + 10 * math.sin(t))) <= step / 2
    assert cx % step == 0 and cy % step == 0
    assert watch.dialogs == [] and watch.errors == []


def test_attributes_per_object_and_the_help(page: Any, site: Site, watch: Watch) -> None:
    question = {**BOXES, "attributes": [
        {"name": "occluded", "type": "choice", "options": ["yes", "no"]},
        {"name": "note", "type": "text", "label": "Note", "required": False},
    ]}
    owner, ann, pid = image_project(site, [question], size=(640, 480))
    open_canvas(page, site, ann, pid)
    drag(page, (50, 50), (150, 120))
    wait_objects(page, 1)
    page.keyboard.press("Enter")  # a required attribute is missing: nothing is sent
    page.locator(".message", has_text="object 1 needs “occluded”").wait_for()

    page.get_by_label("occluded").select_option("yes")
    page.get_by_label("Note").fill("behind a tree")
    page.get_by_label("Note").press("Escape")  # leave the text field: the keys are the page's again
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    for line in ("Tab, Shift+Tab", "h / l", "Ctrl+Shift+Z, Ctrl+Y", "v / s"):
        assert dialog.get_by_text(line, exact=True).count() == 1
    page.keyboard.press("Escape")

    value = submit_and_get(page, site, owner, pid)
    assert value == {"boxes": [
        {"label": "car", "box": [50, 50, 150, 120], "attributes": {"occluded": "yes", "note": "behind a tree"}},
    ]}
    assert watch.dialogs == [] and watch.errors == []
