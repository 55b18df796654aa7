"""Polygons and polylines in the browser: points clicked, finished by Enter, a double click or the
first point; Backspace and Escape while drawing; vertices dragged, added on an edge and deleted;
stored exactly in image pixels."""

from __future__ import annotations

from typing import Any

from tests.web.canvas_page import (
    click,
    drag,
    image_project,
    open_canvas,
    screen,
    submit_and_get,
    wait_objects,
)
from tests.web.conftest import Watch
from tests.web.site import Site

QUESTIONS = [
    {"name": "roofs", "type": "polygon", "target": "photo", "labels": ["roof", "yard"]},
    {"name": "lanes", "type": "polyline", "target": "photo", "labels": ["lane"]},
]


def test_polygons_drawn_and_edited_then_a_polyline(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid = image_project(site, QUESTIONS, size=(640, 480))
    open_canvas(page, site, ann, pid)

    # A square, finished by Enter; Backspace took a stray point back first.
    for x, y in ((100, 100), (200, 100), (200, 200), (400, 400)):
        click(page, x, y)
    page.locator(".canvas-status", has_text="4 points").wait_for()
    page.keyboard.press("Backspace")
    page.locator(".canvas-status", has_text="3 points").wait_for()
    click(page, 100, 200)
    page.keyboard.press("Enter")
    wait_objects(page, 1)

    # Two points are not a polygon: Enter says so and keeps drawing; Escape gives up.
    page.keyboard.press("Escape")  # let go of the square
    click(page, 300, 50)
    click(page, 350, 50)
    page.keyboard.press("Enter")
    page.locator(".canvas-status", has_text="at least 3 points").wait_for()
    page.keyboard.press("Escape")
    page.locator(".canvas-status", has_text="Drawing given up").wait_for()

    # A triangle of class 2, closed by a double click on its last point.
    page.keyboard.press("2")
    click(page, 300, 300)
    click(page, 380, 300)
    page.mouse.dblclick(*screen(page, 340, 360))
    wait_objects(page, 2)

    # A fourth-point shape closed by clicking its first point again.
    page.keyboard.press("Escape")
    page.keyboard.press("1")
    for x, y in ((500, 100), (600, 100), (600, 150), (500, 100)):
        click(page, x, y)
    wait_objects(page, 3)

    # Edit the square: drag a vertex, drag an edge's middle (a new vertex), delete a vertex.
    page.keyboard.press("Escape")
    click(page, 150, 150)  # inside the square selects it
    drag(page, (200, 200), (220, 210))  # vertex 2
    drag(page, (150, 100), (150, 80))  # middle of edge 0: a new vertex 1 at (150, 80)
    page.locator(".shape-list li", has_text="5 points").wait_for()
    click(page, 100, 200)  # select the last vertex (no drag) ...
    page.keyboard.press("Delete")  # ... and remove it
    page.locator(".shape-list li", has_text="4 points").wait_for()
    page.keyboard.press("ArrowUp")  # the arrows move a selected vertex (here vertex 3, gone: the object)

    # The polyline question: ↓ after letting go of the selection; its lines on the same image.
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowDown")
    page.locator(".canvas-stage[data-question='lanes'] svg").wait_for()
    for x, y in ((10, 470), (320, 240)):
        click(page, x, y)
    page.mouse.dblclick(*screen(page, 630, 10))
    page.locator("fieldset[data-question='lanes'] .shape-list li").wait_for()

    value = submit_and_get(page, site, owner, pid)
    assert value == {
        "roofs": [
            {"label": "roof", "points": [[100, 99], [150, 79], [200, 99], [220, 209]]},
            {"label": "yard", "points": [[300, 300], [380, 300], [340, 360]]},
            {"label": "roof", "points": [[500, 100], [600, 100], [600, 150]]},
        ],
        "lanes": [{"label": "lane", "points": [[10, 470], [320, 240], [630, 10]]}],
    }
    assert watch.dialogs == [] and watch.errors == []
