"""Ranking in the browser: by keys (a digit takes a row, ↑ ↓ move it, a digit places it, Escape lets
go) and by dragging with the mouse; a partial ranking; the stored order exactly as shown."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Watch
from tests.web.feedback_items import (
    feedback_project,
    open_workbench,
    schema_with,
    stored,
    submit_and_wait_for_the_end,
)
from tests.web.site import Site
from tests.web.waits import wait_for_the_end

RESPONSES = [{"id": f"r{i}", "content": f"Answer number {i}, in **bold** {i}."} for i in range(1, 5)]
RANKING = {"name": "order", "type": "ranking", "target": "responses", "label": "Rank the responses"}


def rows(page: Any) -> list[str]:
    """The ids in the order the list shows them (ranked first)."""
    return [str(x) for x in page.locator(".rank-list li[data-response]").evaluate_all(
        "els => els.map(e => e.dataset.response)")]


def drag_row(page: Any, source: str, target: str, *, below: bool = False) -> None:
    """Drag the row of `source` with the mouse onto the upper (or lower) part of the row of `target`."""
    a = page.locator(f".rank-list li[data-response='{source}']").bounding_box()
    b = page.locator(f".rank-list li[data-response='{target}']").bounding_box()
    page.mouse.move(a["x"] + 20, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + 20, b["y"] + b["height"] * (0.8 if below else 0.2), steps=8)
    page.mouse.up()


def test_rank_by_keys(page: Any, site: Site, watch: Watch) -> None:
    owner, [ann], pid = feedback_project(site, schema_with(RANKING), [{"id": "k", "prompt": "p", "responses": RESPONSES}])
    open_workbench(page, site, ann, pid)
    page.locator(".rank-list li[data-response]").nth(3).wait_for()
    start = rows(page)
    assert sorted(start) == ["r1", "r2", "r3", "r4"]

    page.keyboard.press("Enter")  # the shuffle is not an answer until someone orders it
    page.get_by_role("status").get_by_text("“Rank the responses” needs an answer").wait_for()

    page.keyboard.press("3")  # takes the third row: the keyboard is on it now
    third = start[2]
    page.locator(f".rank-list li[data-response='{third}']:focus").wait_for()
    page.keyboard.press("1")  # ... puts it first
    page.locator(".rank-list li[data-response]").first.and_(page.locator(f"[data-response='{third}']")).wait_for()
    expected = [third] + [x for x in start if x != third]
    assert rows(page) == expected
    page.keyboard.press("ArrowDown")  # one place down
    expected[0], expected[1] = expected[1], expected[0]
    page.locator(".rank-list li[data-response]").nth(1).and_(page.locator(f"[data-response='{third}']")).wait_for()
    page.keyboard.press("ArrowDown")  # and another: ↓ moved the row, not the question
    expected[1], expected[2] = expected[2], expected[1]
    assert rows(page) == expected
    page.keyboard.press("Escape")  # lets go of the row
    page.locator(".rank-list li:focus").wait_for(state="detached")

    # the answer's words in the responses' panes: ranked 1st … 4th
    first = expected[0]
    page.locator(f"article.candidate[data-response='{first}'] .candidate-note", has_text="ranked 1st").wait_for()
    submit_and_wait_for_the_end(page)
    assert stored(site, owner, pid) == [{"order": {"order": expected}}]
    assert watch.dialogs == [] and watch.errors == []


def test_rank_by_dragging_and_accept_an_order(page: Any, site: Site, watch: Watch) -> None:
    records = [{"id": f"d{i}", "prompt": f"p{i}", "responses": RESPONSES[:3]} for i in range(2)]
    owner, [ann], pid = feedback_project(site, schema_with(RANKING), records)
    open_workbench(page, site, ann, pid)
    page.locator(".rank-list li[data-response]").nth(2).wait_for()
    start = rows(page)
    drag_row(page, start[2], start[0])  # the last row onto the top of the first: it goes first
    expected = [start[2], start[0], start[1]]
    page.locator(".rank-list li[data-response]").first.and_(page.locator(f"[data-response='{start[2]}']")).wait_for()
    assert rows(page) == expected
    drag_row(page, expected[0], expected[2], below=True)  # and back to the bottom
    expected = [expected[1], expected[2], expected[0]]
    page.locator(".rank-list li[data-response]").nth(2).and_(page.locator(f"[data-response='{start[2]}']")).wait_for()
    assert rows(page) == expected
    page.get_by_role("button", name="Submit").click()
    item = page.locator("form.task")
    page.get_by_role("button", name="This order is right").wait_for()

    second = rows(page)
    page.get_by_role("button", name="This order is right").click()
    page.get_by_role("button", name="Ranked").wait_for()
    page.get_by_role("button", name="Submit").click()
    wait_for_the_end(page)
    assert item.count() == 0
    assert sorted(map(str, (v["order"]["order"] for v in stored(site, owner, pid)))) == sorted(map(str, [expected, second]))
    assert watch.dialogs == [] and watch.errors == []


def test_a_partial_ranking_takes_only_what_was_placed(page: Any, site: Site, watch: Watch) -> None:
    question = {**RANKING, "partial": True}
    owner, [ann], pid = feedback_project(site, schema_with(question), [{"id": "p", "prompt": "p", "responses": RESPONSES}])
    open_workbench(page, site, ann, pid)
    page.locator(".rank-list li[data-response]").nth(3).wait_for()
    start = rows(page)
    assert page.locator(".rank-list li[data-response].unranked").count() == 4
    page.keyboard.press("Enter")
    page.get_by_role("status").get_by_text("needs an answer").wait_for()

    page.keyboard.press("4")  # the fourth row (unranked) ...
    page.locator(f".rank-list li[data-response='{start[3]}']:focus").wait_for()
    page.keyboard.press("1")  # ... ranked first
    page.locator(f".rank-list li[data-response='{start[3]}']:not(.unranked)").wait_for()
    page.keyboard.press("Escape")
    drag_row(page, start[0], start[3], below=True)  # the first unranked row dragged below the ranked one
    page.locator(f".rank-list li[data-response='{start[0]}']:not(.unranked)").wait_for()
    assert page.locator(".rank-list li[data-response].unranked").count() == 2
    # a row taken out again by its key
    page.locator(f".rank-list li[data-response='{start[0]}']").focus()
    page.keyboard.press("Delete")
    page.locator(f".rank-list li[data-response='{start[0]}'].unranked").wait_for()
    page.keyboard.press("Escape")
    submit_and_wait_for_the_end(page)
    assert stored(site, owner, pid) == [{"order": {"order": [start[3]]}}]
    assert watch.dialogs == [] and watch.errors == []
