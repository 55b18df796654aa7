"""Pairwise preference in the browser: 1/2/3 and Shift+1..3 by keyboard, the buttons by mouse, a
required reason, the sides each annotator sees (random per item and person, stable on reload,
recorded in the value), and no model name or meta on the page."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Watch
from tests.web.feedback_items import (
    PROMPT,
    RESPONSES,
    feedback_project,
    open_workbench,
    schema_with,
    sides,
    stored,
    submit_and_wait_for_the_end,
)
from tests.web.screens import screenshot
from tests.web.site import Site
from tests.web.waits import wait_for_the_end

PREFERENCE = {"name": "better", "type": "preference", "target": "responses", "label": "Which response is better?",
              "strength": True, "reason": "optional"}


def test_prefer_by_keyboard_with_strength_and_the_value_records_the_sides_shown(
    page: Any, site: Site, watch: Watch,
) -> None:
    owner, [ann], pid = feedback_project(site, schema_with(PREFERENCE), [{"id": "p1", "prompt": PROMPT, "responses": RESPONSES}])
    open_workbench(page, site, ann, pid)
    left, right = sides(page)
    assert {left, right} == {"r1", "r2"}
    panes = page.locator(".candidates article.candidate")
    assert panes.nth(0).get_attribute("aria-label") == "Response A"
    # Markdown shown as such: the prompt's bold, the response's code block as code, as text.
    page.locator(".prompt strong", has_text="recursion").wait_for()
    page.locator(".candidate pre code", has_text="def f(n):").wait_for()
    # blind: neither the model nor the meta reaches the page
    body = page.locator("body").inner_text()
    assert "secret-model" not in body and "meta-leak" not in body and "temperature" not in body

    page.keyboard.press("2")  # B, the right one
    page.locator(".candidate.chosen[aria-label='Response B']").wait_for()
    page.keyboard.press("Shift+Digit3")  # much better ("#" on this layout)
    page.get_by_role("radio", name="much better").and_(page.locator("[aria-checked='true']")).wait_for()
    page.get_by_label("Why? (optional)").fill("B shows the code, too")
    page.keyboard.press("Escape")  # out of the reason box: the page's keys work again
    screenshot(page, "workbench-preference")
    submit_and_wait_for_the_end(page)
    assert stored(site, owner, pid) == [{"better": {
        "left": left, "right": right, "winner": "right", "strength": 3, "reason": "B shows the code, too"}}]
    assert watch.dialogs == [] and watch.errors == []


def test_prefer_by_mouse_with_a_required_reason_and_a_tie(page: Any, site: Site, watch: Watch) -> None:
    question = {**PREFERENCE, "reason": "required", "strength": False}
    records = [{"id": f"p{i}", "prompt": f"{PROMPT} ({i})", "responses": RESPONSES} for i in range(2)]
    owner, [ann], pid = feedback_project(site, schema_with(question), records)
    open_workbench(page, site, ann, pid)
    left, right = sides(page)
    page.get_by_role("radio", name="Response A is better").click()
    page.get_by_role("button", name="Submit").click()
    page.get_by_role("status").get_by_text("“Which response is better?”: say why (the reason is required)").wait_for()
    page.get_by_label("Why? (required)").fill("A <b>explains</b> it; B only shows code")
    page.get_by_role("button", name="Submit").click()
    page.locator(".candidate.chosen").wait_for(state="detached")  # the next item

    left2, right2 = sides(page)
    page.get_by_role("radio", name="Tie").click()
    page.get_by_label("Why? (required)").fill("both fine")
    page.get_by_role("button", name="Submit").click()
    wait_for_the_end(page)
    values = sorted(stored(site, owner, pid), key=lambda v: v["better"]["winner"])
    assert values == [
        {"better": {"left": left, "right": right, "winner": "left", "strength": None,
                    "reason": "A <b>explains</b> it; B only shows code"}},
        {"better": {"left": left2, "right": right2, "winner": "tie", "strength": None, "reason": "both fine"}},
    ]
    assert watch.dialogs == [] and watch.errors == []


def test_sides_are_drawn_per_item_and_person_and_stay_on_reload(page: Any, site: Site, watch: Watch) -> None:
    question = {"name": "better", "type": "preference", "target": "responses"}
    records = [{"id": f"s{i}", "prompt": f"question {i}", "responses": ["first answer", "second answer"]}
               for i in range(16)]
    owner, [ann], pid = feedback_project(site, schema_with(question), records)
    open_workbench(page, site, ann, pid)
    first = sides(page)
    item = page.locator("form.task").get_attribute("data-item")
    page.reload()
    page.locator(f"form.task[data-item='{item}']").wait_for()
    assert sides(page) == first  # the same person sees the same sides again

    seen: list[tuple[str, str]] = []
    for _ in range(16):
        shown_item = page.locator("form.task").get_attribute("data-item")
        seen.append(sides(page))
        page.keyboard.press("1")  # left; nothing else asked, so the pick moves on and Enter submits
        page.keyboard.press("Enter")
        page.locator(f"form.task[data-item='{shown_item}']").wait_for(state="detached")
    wait_for_the_end(page)
    assert set(seen) == {("r1", "r2"), ("r2", "r1")}  # both sides occur (each has 16 chances)
    values = [v["better"] for v in stored(site, owner, pid, expect=len(seen))]
    assert sorted((v["left"], v["right"]) for v in values) == sorted(seen)
    assert all(v["winner"] == "left" and v["strength"] is None and v["reason"] is None for v in values)
    assert watch.dialogs == [] and watch.errors == []


def test_ties_can_be_refused_and_three_says_so(page: Any, site: Site, watch: Watch) -> None:
    question = {"name": "better", "type": "preference", "target": "responses", "ties": False}
    owner, [ann], pid = feedback_project(site, schema_with(question), [{"id": "t", "prompt": "p", "responses": RESPONSES}])
    open_workbench(page, site, ann, pid)
    assert page.get_by_role("radio", name="Tie").count() == 0
    page.keyboard.press("3")
    page.get_by_role("status").get_by_text("This question allows no ties").wait_for()
    page.keyboard.press("1")
    left, right = sides(page)
    submit_and_wait_for_the_end(page)
    assert stored(site, owner, pid) == [{"better": {"left": left, "right": right, "winner": "left",
                                                    "strength": None, "reason": None}}]
    assert watch.errors == []
