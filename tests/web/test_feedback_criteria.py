"""Ratings on criteria in the browser: digits rate the highlighted row and move on, [ ] move between
rows, clicks rate any row; per response and for the item as a whole; the stored value exactly."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Watch
from tests.web.feedback_items import (
    RESPONSES,
    feedback_project,
    open_workbench,
    schema_with,
    sides,
    stored,
    submit_and_wait_for_the_end,
)
from tests.web.site import Site
from tests.web.waits import wait_for_the_end

CRITERIA = {"name": "rate", "type": "criteria", "target": "responses", "label": "Rate each response",
            "criteria": [{"name": "helpful", "label": "Helpful"}, {"name": "correct", "label": "Correct"}],
            "labels": {"1": "poor", "5": "excellent"}}
NOTE = {"name": "note", "type": "text", "required": False}


def current_row(page: Any) -> str:
    return str(page.locator(".criteria-table tr.current th").inner_text()).replace("\n", " ")


def test_rate_every_response_by_keys(page: Any, site: Site, watch: Watch) -> None:
    owner, [ann], pid = feedback_project(site, schema_with(CRITERIA, NOTE),
                                         [{"id": "c", "prompt": "p", "responses": RESPONSES}])
    open_workbench(page, site, ann, pid)
    a, b = sides(page)  # Response A and B, as this annotator sees them
    assert current_row(page) == "Response A Helpful"
    page.keyboard.press("4")
    page.locator(".criteria-table tr.current th", has_text="Correct").wait_for()
    assert current_row(page) == "Response A Correct"
    page.keyboard.press("5")
    page.keyboard.press("]")  # skip B's helpful for now
    page.locator(".criteria-table tr.current th", has_text="Correct").wait_for()
    assert current_row(page) == "Response B Correct"
    page.keyboard.press("2")
    page.locator(".criteria-table tr.current th", has_text="Helpful").wait_for()  # back to the row left open

    page.keyboard.press("Enter")  # one row unrated: the page says which
    page.get_by_role("status").get_by_text("rate Helpful for Response B").wait_for()
    assert current_row(page) == "Response B Helpful"
    page.keyboard.press("3")  # the last row: the pick moves on to the next question
    page.locator("fieldset[data-question='note'].active").wait_for()
    page.locator(f"article.candidate[data-response='{a}'] .candidate-note", has_text="Helpful 4 · Correct 5").wait_for()
    submit_and_wait_for_the_end(page)
    assert stored(site, owner, pid) == [{"rate": {a: {"helpful": 4, "correct": 5}, b: {"helpful": 3, "correct": 2}}}]
    assert watch.dialogs == [] and watch.errors == []


def test_rate_the_item_as_a_whole_by_mouse(page: Any, site: Site, watch: Watch) -> None:
    question = {**CRITERIA, "per_response": False, "min": 0, "max": 3, "labels": {}}
    owner, [ann], pid = feedback_project(site, schema_with(question), [{"id": "c", "prompt": "p", "responses": RESPONSES}])
    open_workbench(page, site, ann, pid)
    page.get_by_role("radiogroup", name="Correct").get_by_role("radio", name="0").click()
    page.get_by_role("radiogroup", name="Helpful").get_by_role("radio", name="3").click()
    page.get_by_role("radiogroup", name="Helpful").get_by_role("radio", name="2").click()  # changed my mind
    assert page.get_by_role("radiogroup", name="Helpful").locator("[aria-checked='true']").inner_text() == "2"
    page.get_by_role("button", name="Submit").click()
    wait_for_the_end(page)
    assert stored(site, owner, pid) == [{"rate": {"helpful": 2, "correct": 0}}]
    assert watch.dialogs == [] and watch.errors == []
