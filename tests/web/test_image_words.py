"""Shape answers in words wherever answers are shown as text ("My answers", the data browser, an
item's page): "3 boxes: 2 Person, 1 Car", "polygon (14 points): Roof", "mask: Road, 12,480 px",
"keypoints: Person, 3 of 4 points"; never coordinates or an RLE string, not even in a tooltip."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pycocotools import mask as coco_mask

from tests.web.canvas_page import import_images, photo
from tests.web.conftest import Watch
from tests.web.site import Site
from tests.web.test_workbench import log_in

W, H = 640, 480
LABELS = [{"value": "car", "label": "Car"}, {"value": "person", "label": "Person"}]
SCHEMA = {
    "fields": [{"name": "photo", "type": "image"}],
    "questions": [
        {"name": "boxes", "type": "bbox", "target": "photo", "label": "Boxes", "labels": LABELS},
        {"name": "roofs", "type": "polygon", "target": "photo", "label": "Roofs",
         "labels": [{"value": "roof", "label": "Roof"}]},
        {"name": "regions", "type": "mask", "target": "photo", "label": "Regions",
         "labels": [{"value": "road", "label": "Road"}]},
        {"name": "people", "type": "keypoints", "target": "photo", "label": "People",
         "labels": [{"value": "person", "label": "Person"}],
         "skeleton": {"points": ["head", "left_hand", "right_hand", "feet"], "edges": [["head", "feet"]]}},
    ],
}


def road_rle() -> dict[str, Any]:
    m = np.zeros((H, W), dtype=np.uint8)
    m[300:420, 100:204] = 1  # 120 x 104 = 12,480 pixels
    return {"size": [H, W], "counts": coco_mask.encode(np.asfortranarray(m))["counts"].decode()}


def fourteen_gon() -> list[list[int]]:
    return [[round(300 + 80 * math.cos(2 * math.pi * k / 14)), round(200 + 80 * math.sin(2 * math.pi * k / 14))]
            for k in range(14)]


WORDS = {
    "Boxes": "3 boxes: 2 Person, 1 Car",
    "Roofs": "polygon (14 points): Roof",
    "Regions": "mask: Road, 12,480 px",
    "People": "keypoints: Person, 3 of 4 points",
}


def test_shape_answers_read_as_words_everywhere(page: Any, browser: Any, site: Site, watch: Watch) -> None:
    owner, ann = site.person("owner"), site.person("ann")
    pid = site.project(owner, SCHEMA, members={"annotator": [ann]})
    import_images(site, owner, pid, {"street.png": photo(W, H)})
    rle = road_rle()
    value = {
        "boxes": [{"label": "person", "box": [10, 10, 50, 120]}, {"label": "car", "box": [100, 100, 300, 200]},
                  {"label": "person", "box": [400, 50, 450, 200]}],
        "roofs": [{"label": "roof", "points": fourteen_gon()}],
        "regions": [{"label": "road", "rle": rle}],
        "people": [{"label": "person", "points": {"head": [10, 10, 2], "left_hand": [20, 30, 1],
                                                   "right_hand": [0, 0, 0], "feet": [30, 60, 2]}}],
    }
    task = site.http.post(f"/api/projects/{pid}/tasks/next", headers=ann.headers).json()
    r = site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=ann.headers, json={"value": value})
    assert r.status_code == 201, r.text

    def says_it_in_words(p: Any) -> None:
        text = p.locator("main").inner_text()
        for question, words in WORDS.items():
            assert f"{question}: {words}" in text, (question, text)
        html = p.content()
        assert rle["counts"] not in html and '"counts"' not in html and "[100,100,300,200]" not in html

    log_in(page, site, ann, f"p/{pid}/history")  # "My answers"
    page.locator("td.answer").first.wait_for()
    says_it_in_words(page)

    manager = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        console = manager.new_page()
        log_in(console, site, owner, f"p/{pid}/items")  # the data browser
        console.locator("td.label").first.wait_for()
        console.get_by_text("3 boxes: 2 Person, 1 Car", exact=False).first.wait_for()
        says_it_in_words(console)
        console.goto(f"{site.url}/app/#/p/{pid}/items/{task['item_id']}")  # the item's page
        console.get_by_text("mask: Road, 12,480 px", exact=False).first.wait_for()
        says_it_in_words(console)
    finally:
        manager.close()
    assert watch.dialogs == [] and watch.errors == []
