"""The review queue on an image: every annotator's boxes drawn on the picture in a colour of their
own, named in a legend (as text) with a toggle each; the decision drawn on the same canvas,
started from one annotator's boxes, edited, and stored exactly; the gold boxes drawn for managers
only (the server sends gold to no one else)."""

from __future__ import annotations

from typing import Any

from tests.web.canvas_page import click, drag, import_images, photo, wait_objects
from tests.web.conftest import Watch
from tests.web.screens import screenshot
from tests.web.site import Person, Site
from tests.web.test_workbench import log_in
from tests.web.waits import wait_until

BOXES = {"name": "boxes", "type": "bbox", "target": "photo",
         "labels": ["car", {"value": "person", "label": "Person", "key": "p"}]}
SCHEMA = {"fields": [{"name": "photo", "type": "image"}], "questions": [BOXES]}
ANN = [{"label": "car", "box": [100, 100, 300, 250]}, {"label": "person", "box": [400, 80, 460, 240]}]
BOB = [{"label": "car", "box": [104, 96, 310, 260]}]
GOLD = [{"label": "car", "box": [102, 98, 305, 255]}, {"label": "person", "box": [398, 82, 462, 238]}]


def disputed_photo(site: Site) -> tuple[Person, Person, Person, Person, int, int, dict[str, int]]:
    """One photo answered by ann (a car and a person) and bob (a car), flagged, with gold boxes."""
    owner, reviewer = site.person("owner"), site.person("reviewer")
    ann, bob = site.person("ann"), site.person("bob")
    pid = site.project(owner, SCHEMA, overlap=2, members={"reviewer": [reviewer], "annotator": [ann, bob]})
    import_images(site, owner, pid, {"street.png": photo(640, 480)})
    answer_ids = {}
    for who, boxes in ((ann, ANN), (bob, BOB)):
        task = site.http.post(f"/api/projects/{pid}/tasks/next", headers=who.headers).json()
        r = site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=who.headers,
                           json={"value": {"boxes": boxes}})
        assert r.status_code == 201, r.text
        answer_ids[who.username] = int(r.json()["id"])
    item_id = int(task["item_id"])
    r = site.http.put(f"/api/projects/{pid}/items/{item_id}/gold", headers=owner.headers, json={"value": {"boxes": GOLD}})
    assert r.status_code == 200, r.text
    r = site.http.post(f"/api/projects/{pid}/items/{item_id}/flag", headers=owner.headers)
    assert r.status_code == 204, r.text
    return owner, reviewer, ann, bob, pid, item_id, answer_ids


def layer(page: Any, layer_id: str) -> Any:
    return page.locator(f".canvas-svg [data-layer='{layer_id}'] .oth")


def test_a_reviewer_sees_everyones_boxes_and_decides_on_the_same_canvas(
    page: Any, browser: Any, site: Site, watch: Watch
) -> None:
    owner, reviewer, ann, bob, pid, item_id, answer_ids = disputed_photo(site)
    # The server sends gold to managers only: the page has nothing to hide from a reviewer.
    assert site.http.get(f"/api/projects/{pid}/items/{item_id}", headers=reviewer.headers).json()["item"]["gold"] is None
    assert site.http.get(f"/api/projects/{pid}/items/{item_id}", headers=owner.headers).json()["item"]["gold"] == {"boxes": GOLD}

    # A manager sees the gold boxes too, as one more layer named in the legend.
    manager_view = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        manager = manager_view.new_page()
        log_in(manager, site, owner, f"p/{pid}/review")
        manager.locator(".canvas-svg image").wait_for()
        wait_until(manager, "document.querySelectorAll(\".canvas-svg [data-layer='gold'] .oth\").length === 2")
        assert manager.locator(".layer-list li[data-layer='gold']").inner_text().startswith("gold answer")
        assert manager.locator(".layer-list li").count() == 3
    finally:
        manager_view.close()

    log_in(page, site, reviewer, f"p/{pid}/review")
    page.locator(".canvas-svg image").wait_for()
    a_layer, b_layer = f"answer:{answer_ids[ann.username]}", f"answer:{answer_ids[bob.username]}"
    wait_until(page, "document.querySelectorAll('.canvas-svg .other .oth').length === 3")
    assert layer(page, a_layer).count() == 2 and layer(page, b_layer).count() == 1
    # Each person in a colour of their own, named as text; no gold for a reviewer, anywhere.
    legend = page.locator(".layer-list li")
    assert legend.count() == 2
    assert page.locator(f".layer-list li[data-layer='{a_layer}'] .who").inner_text() == ann.username
    assert page.locator(f".layer-list li[data-layer='{b_layer}'] .who").inner_text() == bob.username
    colours = {page.locator(f".canvas-svg [data-layer='{x}']").evaluate("e => getComputedStyle(e).color")
               for x in (a_layer, b_layer)}
    assert len(colours) == 2
    assert page.locator("[data-layer='gold']").count() == 0 and page.get_by_text("gold answer").count() == 0
    # The cards say what each drew, in words.
    card = page.get_by_role("article", name=f"answer by {ann.username}")
    assert card.locator("dd").first.inner_text() == "2 boxes: 1 car, 1 Person"
    assert page.get_by_role("article", name=f"answer by {bob.username}").locator("dd").first.inner_text() == "1 box: car"
    screenshot(page, "review-shapes")

    # A toggle hides one person's boxes, and shows them again.
    page.get_by_label(f"show the objects of {bob.username}").uncheck()
    assert layer(page, b_layer).count() == 0 and layer(page, a_layer).count() == 2
    page.get_by_label(f"show the objects of {bob.username}").check()
    assert layer(page, b_layer).count() == 1

    # The decision starts from ann's boxes, drawn above everyone's; then it is edited.
    page.get_by_role("button", name=f"start boxes from the objects of {ann.username}").click()
    wait_objects(page, 2)
    assert page.locator(".canvas-svg .objects [data-obj]").count() == 2
    click(page, 200, 175)  # the first box of the decision (the others' boxes let the pointer through)
    page.locator(".shape-list li.sel[data-obj='0']").wait_for()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Escape")
    drag(page, (500, 300), (600, 400))  # one more car
    wait_objects(page, 3)
    page.keyboard.press("Enter")
    page.get_by_text("Nothing waits for review.").wait_for()

    decisions = [a for a in site.answers(owner, pid) if a["source"] == "review"]
    assert [d["value"] for d in decisions] == [{"boxes": [
        {"label": "car", "box": [102, 100, 302, 250]},
        {"label": "person", "box": [400, 80, 460, 240]},
        {"label": "car", "box": [500, 300, 600, 400]},
    ]}]
    assert watch.dialogs == [] and watch.errors == []
