"""Masks in the browser: painted with the brush (a dot, strokes), its size changed, erased, a second
mask; the stored COCO RLE decodes (with pycocotools, the format's reference) to exactly the
pixels the brush rule gives: those whose centre lies within the radius of the stroke."""

from __future__ import annotations

from typing import Any

import numpy as np
from pycocotools import mask as coco_mask

from tests.web.canvas_page import (
    brush_rule,
    click,
    drag,
    image_project,
    open_canvas,
    submit_and_get,
    wait_objects,
)
from tests.web.conftest import Watch
from tests.web.site import Site

MASKS = {"name": "regions", "type": "mask", "target": "photo", "labels": ["road", "sky"]}
W, H = 320, 240


def stroke(points: list[tuple[float, float]], r: float) -> np.ndarray:
    return brush_rule(H, W, points, r)


def decoded(rle: dict[str, Any]) -> np.ndarray:
    assert rle["size"] == [H, W]
    return coco_mask.decode({"size": rle["size"], "counts": rle["counts"].encode()}).astype(bool)


def test_paint_erase_and_a_second_mask(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid = image_project(site, [MASKS], size=(W, H))
    open_canvas(page, site, ann, pid)
    status = page.locator(".canvas-status")
    # The brush starts at a hundredth of the longer side (3 px); ] makes it larger (4 px).
    page.locator(".canvas-view").focus()
    page.keyboard.press("]")
    status.get_by_text("Brush radius 4 px").wait_for()

    click(page, 50.5, 50.5)  # a dot: a new road mask, selected
    wait_objects(page, 1)
    drag(page, (100, 50), (160, 50))  # a stroke into it
    page.keyboard.press("e")  # the eraser ...
    status.get_by_text("Eraser").wait_for()
    click(page, 130, 50)  # ... takes a dot out of the stroke
    page.keyboard.press("e")

    page.keyboard.press("Escape")  # let go: the next stroke starts a second mask, of class 2
    page.keyboard.press("2")
    drag(page, (200.5, 150), (230, 190.5), steps=1)
    wait_objects(page, 2)

    value = submit_and_get(page, site, owner, pid)
    road, sky = value["regions"]
    assert road["label"] == "road" and sky["label"] == "sky"
    want_road = (stroke([(50.5, 50.5)], 4) | stroke([(100, 50), (160, 50)], 4)) & ~stroke([(130, 50)], 4)
    assert np.array_equal(decoded(road["rle"]), want_road)
    assert np.array_equal(decoded(sky["rle"]), stroke([(200.5, 150), (230, 190.5)], 4))
    # And what was stored is COCO's own encoding of those pixels, character for character.
    want = coco_mask.encode(np.asfortranarray(want_road.astype(np.uint8)))
    assert road["rle"]["counts"] == want["counts"].decode()
    assert watch.dialogs == [] and watch.errors == []
