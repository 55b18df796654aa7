"""Pre-labels on an image, in a real browser: the model's suggested objects drawn on the canvas,
dashed, apart from the annotator's own, until taken: one at a time (a click, y; x dismisses one),
all at once (A), or pre-filled as normal objects when the project pre-selects suggestions. What
the answer did with the suggestion is decided by the server (services/loop/suggestions.py), and
the export says it.

The suggestion is a model version's prediction written the way the loop's detector job writes it
(a `model_versions` row and its `predictions`), in the documented value format of each shape type
(docs/images.md)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from pycocotools import mask as coco_mask
from sqlalchemy import insert

from labelloop.store.models import model_versions, predictions
from tests.web.canvas_page import click, import_images, open_canvas, photo, submit_and_get, wait_objects
from tests.web.conftest import Watch
from tests.web.screens import screenshot
from tests.web.site import Person, Site
from tests.web.waits import wait_until

BOXES = {"name": "boxes", "type": "bbox", "target": "photo",
         "labels": ["car", {"value": "person", "label": "Person"}]}
ROOFS = {"name": "roofs", "type": "polygon", "target": "photo", "labels": ["roof"]}
REGIONS = {"name": "regions", "type": "mask", "target": "photo", "labels": ["road", "sky"]}
SUGGESTED = [
    {"label": "car", "box": [40, 40, 200, 160]},
    {"label": "person", "box": [300, 60, 360, 220]},
    {"label": "car", "box": [420, 280, 600, 420]},
]
W, H = 640, 480


def photo_project(site: Site, questions: list[dict[str, Any]], **loop: Any) -> tuple[Person, Person, int, int]:
    owner, ann = site.person("owner"), site.person("ann")
    schema = {"fields": [{"name": "photo", "type": "image"}], "questions": questions}
    pid = site.project(owner, schema, members={"annotator": [ann]})
    r = site.http.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"suggest_min_accuracy": 0.5, **loop}})
    assert r.status_code == 200, r.text
    import_images(site, owner, pid, {"street.png": photo(W, H)})
    [item] = site.http.get(f"/api/projects/{pid}/items", headers=owner.headers).json()
    return owner, ann, pid, int(item["id"])


def predict(site: Site, pid: int, item_id: int, value: dict[str, Any]) -> int:
    """A model version (held-out accuracy 0.9, above the bar) whose prediction for the item is `value`."""

    def go(conn: Any) -> int:
        version = int(conn.execute(insert(model_versions).values(
            project_id=pid, question=next(iter(value)), encoder="detector:test", classes=[],
            metrics={"oof_accuracy": 0.9}).returning(model_versions.c.id)).scalar_one())
        conn.execute(insert(predictions).values(model_version_id=version, item_id=item_id, value=value, confidence=0.8))
        return version

    return int(site.runtime.db.run(go))


def exported(site: Site, owner: Person, pid: int) -> dict[str, Any]:
    r = site.http.get(f"/api/projects/{pid}/export", params={"format": "jsonl"}, headers=owner.headers)
    assert r.status_code == 200, r.text
    [row] = [json.loads(line) for line in r.text.splitlines()]
    [answer] = row["answers"]
    return dict(answer)


def suggested_on_canvas(page: Any) -> int:
    return int(page.locator(".canvas-svg [data-sug]").count())


def test_suggested_boxes_are_drawn_apart_and_taken_one_by_one(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid, item_id = photo_project(site, [BOXES])
    v = predict(site, pid, item_id, {"boxes": SUGGESTED})
    open_canvas(page, site, ann, pid)
    wait_until(page, "document.querySelectorAll('.canvas-svg [data-sug]').length === 3")
    # Dashed in the model's colour, in a layer of their own; not in the answer.
    dashes = page.locator(".canvas-svg [data-sug='0'] rect").evaluate("e => getComputedStyle(e).strokeDasharray")
    assert dashes not in ("", "none")
    assert page.locator(".shape-list > li").count() == 0
    hint = page.get_by_role("complementary", name="suggestion")
    assert f"Model {v} suggests" in hint.inner_text()
    assert "3 boxes: 2 car, 1 Person (dashed on the image)" in hint.inner_text()
    assert page.locator(".suggested-list li").count() == 3
    screenshot(page, "workbench-suggested-boxes")

    click(page, 330, 140)  # a click on the suggested person accepts it
    wait_objects(page, 1)
    assert suggested_on_canvas(page) == 2
    page.keyboard.press("y")  # y accepts the next one after it (the second car)
    wait_objects(page, 2)
    page.keyboard.press("x")  # x dismisses the one left (the first car)
    wait_until(page, "document.querySelectorAll('.canvas-svg [data-sug]').length === 0")
    assert page.locator(".suggested-list").count() == 0
    page.keyboard.press("Tab")  # from the car (selected) round to the person, then one pixel down
    page.locator(".shape-list li.sel[data-obj='0']").wait_for()
    page.keyboard.press("ArrowDown")
    page.locator(".shape-list li[data-obj='0']", has_text="300, 61").wait_for()
    assert suggested_on_canvas(page) == 0  # an edited accepted object is not offered again

    value = submit_and_get(page, site, owner, pid)
    assert value == {"boxes": [{"label": "person", "box": [300, 61, 360, 221]}, SUGGESTED[2]]}
    answer = exported(site, owner, pid)
    assert answer["suggestion"] == {"from": "model", "model_version": v, "preselected": False,
                                    "questions": {"boxes": "edited"}}
    assert watch.dialogs == [] and watch.errors == []


def test_a_applies_the_whole_suggestion(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid, item_id = photo_project(site, [BOXES])
    v = predict(site, pid, item_id, {"boxes": SUGGESTED})
    open_canvas(page, site, ann, pid)
    wait_until(page, "document.querySelectorAll('.canvas-svg [data-sug]').length === 3")
    page.keyboard.press("a")
    wait_objects(page, 3)
    assert suggested_on_canvas(page) == 0
    page.locator(".canvas-stage.suggested").wait_for()  # marked as the model's until changed
    value = submit_and_get(page, site, owner, pid)
    assert value == {"boxes": SUGGESTED}
    assert exported(site, owner, pid)["suggestion"]["questions"] == {"boxes": "unchanged"}
    assert v > 0 and watch.dialogs == [] and watch.errors == []


def rectangle_rle(x1: int, y1: int, x2: int, y2: int) -> dict[str, Any]:
    m = np.zeros((H, W), dtype=np.uint8)
    m[y1:y2, x1:x2] = 1
    rle = coco_mask.encode(np.asfortranarray(m))
    return {"size": [H, W], "counts": rle["counts"].decode()}


def test_polygons_and_masks_are_accepted_by_a_click(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid, item_id = photo_project(site, [ROOFS, REGIONS])
    roofs = [{"label": "roof", "points": [[100, 100], [250, 100], [175, 30]]},
             {"label": "roof", "points": [[400, 100], [550, 100], [550, 200], [400, 200]]}]
    regions = [{"label": "road", "rle": rectangle_rle(0, 300, 640, 480)}]
    predict(site, pid, item_id, {"roofs": roofs, "regions": regions})
    open_canvas(page, site, ann, pid)
    wait_until(page, "document.querySelectorAll('.canvas-svg [data-sug]').length === 2")
    hint = page.get_by_role("complementary", name="suggestion").inner_text()
    assert "2 polygons: 2 roof" in hint and "mask: road, 115,200 px" in hint
    assert "counts" not in page.content() and regions[0]["rle"]["counts"] not in page.content()

    click(page, 475, 150)  # inside the second roof: it is accepted (a click does not start a polygon)
    wait_objects(page, 1)
    page.keyboard.press("n")  # the next suggested roof is picked, y takes it
    page.keyboard.press("y")
    wait_objects(page, 2)
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowDown")  # the masks question: its own suggestion on the image
    page.locator(".canvas-stage[data-question='regions']").wait_for()
    wait_until(page, "document.querySelectorAll('.canvas-svg [data-sug]').length === 1")
    click(page, 320, 400)  # a click (no stroke) on the suggested road accepts it
    page.locator("fieldset[data-question='regions'] .shape-list li", has_text="115,200 pixels").wait_for()
    assert suggested_on_canvas(page) == 0

    value = submit_and_get(page, site, owner, pid)
    assert value == {"roofs": [roofs[1], roofs[0]], "regions": regions}
    # Accepting every suggested object, in any order, keeps the suggestion.
    assert exported(site, owner, pid)["suggestion"]["questions"] == {"roofs": "unchanged", "regions": "unchanged"}
    assert watch.dialogs == [] and watch.errors == []


def test_pre_selection_fills_in_the_suggested_objects(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid, item_id = photo_project(site, [BOXES], preselect=True)
    predict(site, pid, item_id, {"boxes": SUGGESTED})
    open_canvas(page, site, ann, pid)
    wait_objects(page, 3)  # normal objects, marked as the model's, and nothing dashed
    page.locator(".canvas-stage.suggested").wait_for()
    page.locator("fieldset[data-question='boxes']").get_by_text("model suggestion").wait_for()
    assert suggested_on_canvas(page) == 0 and page.locator(".canvas-svg .objects [data-obj]").count() == 3
    value = submit_and_get(page, site, owner, pid)
    assert value == {"boxes": SUGGESTED}
    suggestion = exported(site, owner, pid)["suggestion"]
    assert suggestion["preselected"] is True and suggestion["questions"] == {"boxes": "unchanged"}
    assert watch.dialogs == [] and watch.errors == []
