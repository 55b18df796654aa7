"""Interactive masks in the browser: p, a box dragged around an object, and the project's segmenter
(GrabCut, built in) proposes its mask, which goes into the answer as an editable mask; scribbles
inside (i) ask again and replace it; y keeps it and the brush refines it; x discards it. The
prompt reaches the server in the original image's pixels, and the stored mask is exactly the
proposal plus the brush's pixels. While the segmenter works the page shows a spinner; a refusal
(422) or no answer at all (60 s) is said in words, and nothing is added."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
from PIL import Image
from pycocotools import mask as coco_mask

from tests.web.canvas_page import (
    brush_rule,
    click,
    drag,
    import_images,
    open_canvas,
    submit_and_get,
    wait_objects,
)
from tests.web.conftest import Watch
from tests.web.site import Person, Site

MASKS = {"name": "regions", "type": "mask", "target": "photo", "labels": ["lake", "grass"]}
W, H = 320, 240
BOX = (90, 65, 230, 175)


def lake() -> np.ndarray:
    """The object: an ellipse centred at (160, 120) with radii 60 and 45 (pixel centres inside)."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64) + 0.5
    return np.asarray(((xx - 160) / 60) ** 2 + ((yy - 120) / 45) ** 2 <= 1)


def lake_photo() -> bytes:
    """A dark blue lake on light, textured grass: something GrabCut can tell apart."""
    rng = np.random.default_rng(1)
    img = np.full((H, W, 3), (170, 210, 150), dtype=np.int16) + rng.integers(-20, 20, (H, W, 3))
    inside = lake()
    img[inside] = np.array((30, 60, 160), dtype=np.int16) + rng.integers(-20, 20, (int(inside.sum()), 3))
    buf = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def lake_project(site: Site) -> tuple[Person, Person, int]:
    owner, ann = site.person("owner"), site.person("ann")
    schema = {"fields": [{"name": "photo", "type": "image"}], "questions": [MASKS]}
    pid = site.project(owner, schema, members={"annotator": [ann]})
    import_images(site, owner, pid, {"lake.png": lake_photo()})
    return owner, ann, pid


def decoded(rle: dict[str, Any]) -> np.ndarray:
    assert rle["size"] == [H, W]
    return coco_mask.decode({"size": rle["size"], "counts": rle["counts"].encode()}).astype(bool)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def propose(page: Any, gesture: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Do the gesture; the request body the page sent to /segment and the server's answer."""
    with page.expect_response(lambda r: r.url.endswith("/segment")) as info:
        gesture()
    response = info.value
    assert response.status == 200, response.text()
    return dict(json.loads(response.request.post_data)), dict(response.json())


def status(page: Any) -> Any:
    return page.locator(".canvas-status")


def test_a_box_brings_a_mask_which_scribbles_correct_and_the_brush_refines(
    page: Any, site: Site, watch: Watch
) -> None:
    owner, ann, pid = lake_project(site)
    open_canvas(page, site, ann, pid)
    page.locator(".canvas-view").focus()
    page.keyboard.press("p")
    status(page).get_by_text("Propose a mask").wait_for()

    sent, got = propose(page, lambda: drag(page, BOX[:2], BOX[2:]))
    assert sent == {"box": list(BOX), "foreground": [], "background": [], "field": "photo"}
    wait_objects(page, 1)
    status(page).get_by_text("Proposed mask").wait_for()
    first = decoded(got["rle"])
    assert got["area"] == int(first.sum()) and iou(first, lake()) > 0.85

    # Scribbles inside the lake ask again, with the box; the new proposal replaces the old one.
    page.keyboard.press("i")
    sent, got = propose(page, lambda: drag(page, (150, 110), (170, 130), steps=4))
    assert sent["box"] == list(BOX) and sent["background"] == []
    assert len(sent["foreground"]) >= 2 and sent["foreground"][0] == [150, 110] and sent["foreground"][-1] == [170, 130]
    assert all(150 <= x <= 170 and 110 <= y <= 130 for x, y in sent["foreground"])
    proposal = decoded(got["rle"])
    wait_objects(page, 1)
    page.locator(".shape-list li", has_text=f"{int(proposal.sum()):,} pixels").wait_for()

    page.keyboard.press("y")  # kept: the brush now paints into it
    status(page).get_by_text("Kept as object 1").wait_for()
    click(page, 20.5, 20.5)
    page.locator(".shape-list li", has_text=f"{int((proposal | brush_rule(H, W, [(20.5, 20.5)], 3)).sum()):,} pixels").wait_for()

    value = submit_and_get(page, site, owner, pid)
    [stored] = value["regions"]
    assert stored["label"] == "lake"
    assert np.array_equal(decoded(stored["rle"]), proposal | brush_rule(H, W, [(20.5, 20.5)], 3))
    assert iou(decoded(stored["rle"]), lake()) > 0.85
    assert watch.dialogs == [] and watch.errors == []


def test_a_proposal_is_discarded_with_x_or_escape(page: Any, site: Site, watch: Watch) -> None:
    _owner, ann, pid = lake_project(site)
    open_canvas(page, site, ann, pid)
    page.get_by_role("button", name="Propose a mask").click()  # the button does what p does
    page.locator(".canvas-svg").evaluate("e => e.scrollIntoView()")  # the button is under the image
    propose(page, lambda: drag(page, BOX[:2], BOX[2:]))
    wait_objects(page, 1)
    page.keyboard.press("x")
    wait_objects(page, 0)
    status(page).get_by_text("Proposal discarded").wait_for()
    propose(page, lambda: drag(page, BOX[:2], BOX[2:]))  # still proposing: another box
    wait_objects(page, 1)
    page.keyboard.press("Escape")  # stop proposing: a proposal not kept goes
    wait_objects(page, 0)
    assert page.get_by_role("button", name="Propose a mask").get_attribute("aria-pressed") == "false"
    assert watch.dialogs == [] and watch.errors == []


def test_a_spinner_while_waiting_and_a_clear_message_on_failure(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid = lake_project(site)
    # The server's own refusal of a prompt (a box with x1 = x2), to hand to the page below.
    [item] = site.http.get(f"/api/projects/{pid}/items", headers=owner.headers).json()
    refused = site.http.post(f"/api/projects/{pid}/items/{item['id']}/segment", headers=owner.headers,
                             json={"box": [90, 65, 90, 175]})
    assert refused.status_code == 422, refused.text
    held: list[Any] = []
    page.route("**/segment", lambda route: held.append(route))  # requests wait here until answered
    page.clock.install()
    open_canvas(page, site, ann, pid)
    page.locator(".canvas-view").focus()
    page.keyboard.press("p")
    drag(page, BOX[:2], BOX[2:])
    page.locator(".canvas-status .spinner").wait_for()
    page.locator(".canvas-view[aria-busy='true']").wait_for()
    status(page).get_by_text("Asking the segmenter for a mask").wait_for()
    held.pop().fulfill(status=422, headers={"Content-Type": "application/json"}, body=refused.text)
    alert = page.get_by_role("alert")
    alert.get_by_text("No mask (422): the mask prompt is not usable").wait_for()
    assert "box" in alert.inner_text()
    assert page.locator(".canvas-status .spinner").count() == 0 and page.locator(".shape-list > li").count() == 0

    # No answer at all: after 60 s the page stops waiting and says so.
    drag(page, BOX[:2], BOX[2:])
    page.locator(".canvas-status .spinner").wait_for()
    page.clock.fast_forward(61_000)
    alert.get_by_text("did not answer within 60 s").wait_for()
    assert page.locator(".canvas-status .spinner").count() == 0 and page.locator(".shape-list > li").count() == 0
    assert held, "the second request reached the server's route"
    assert watch.dialogs == [] and watch.errors == []
