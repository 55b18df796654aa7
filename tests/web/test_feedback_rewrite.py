"""Rewrites in the browser: the editor starts from the response, the live diff marks what changed,
"Reset to original" takes it back, < > pick the response; the server stores the text and its own
diff (difflib opcodes over the original)."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Watch
from tests.web.feedback_items import RESPONSES, feedback_project, open_workbench, schema_with, stored
from tests.web.site import Site
from tests.web.waits import wait_for_the_end

REWRITE = {"name": "fix", "type": "rewrite", "target": "responses", "label": "Rewrite the response"}
CONTENT = {r["id"]: str(r["content"]) for r in RESPONSES}


def editor(page: Any) -> Any:
    return page.locator("textarea.rewrite-text")


def test_rewrite_by_keyboard(page: Any, site: Site, watch: Watch) -> None:
    owner, [ann], pid = feedback_project(site, schema_with(REWRITE), [{"id": "w", "prompt": "p", "responses": RESPONSES}])
    open_workbench(page, site, ann, pid)
    first = page.locator("article.candidate.selected").get_attribute("data-response")
    page.keyboard.press(">")  # the other response
    other = "r2" if first == "r1" else "r1"
    page.locator(f"article.candidate.selected[data-response='{other}']").wait_for()
    assert editor(page).input_value() == CONTENT[other]

    page.keyboard.press("ArrowDown")  # to the question on purpose: the editor takes the keyboard
    page.locator("textarea.rewrite-text:focus").wait_for()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Indeed!")
    page.keyboard.press("Backspace")  # inside the editor, Backspace edits (it is not undo here)
    page.locator(".diff ins", has_text="Indeed").wait_for()
    assert page.locator(".diff ins").inner_text() == " Indeed"
    assert page.locator(".diff-count").inner_text() == "0 characters deleted, 7 inserted"
    page.keyboard.press(">")  # typed into the editor, not a key for the page
    assert editor(page).input_value() == CONTENT[other] + " Indeed>"
    page.keyboard.press("Backspace")
    page.keyboard.press("Escape")  # leaves the editor ...
    page.keyboard.press(">")  # ... where > would drop the edits: it refuses instead
    page.get_by_role("status").get_by_text("reset it first").wait_for()
    page.keyboard.press("Enter")
    wait_for_the_end(page)
    text = CONTENT[other] + " Indeed"
    n = len(CONTENT[other])
    assert stored(site, owner, pid) == [{"fix": {"response": other, "text": text,
                                                 "diff": [["equal", 0, n, 0, n], ["insert", n, n, n, n + 7]]}}]
    assert watch.dialogs == [] and watch.errors == []


def test_rewrite_by_mouse_with_reset_and_a_least_change(page: Any, site: Site, watch: Watch) -> None:
    question = {**REWRITE, "min_change": 4}
    owner, [ann], pid = feedback_project(site, schema_with(question), [{"id": "w", "prompt": "p", "responses": RESPONSES}])
    open_workbench(page, site, ann, pid)
    page.get_by_role("radiogroup", name="response to rewrite").get_by_role("radio").nth(1).click()
    chosen = str(page.locator("article.candidate.selected").get_attribute("data-response"))
    assert editor(page).input_value() == CONTENT[chosen]
    editor(page).fill("Something else entirely.")
    page.locator(".diff del").first.wait_for()
    assert page.get_by_role("radio", name="Response A").is_disabled()  # edits belong to this response
    page.get_by_role("button", name="Reset to original").click()
    assert editor(page).input_value() == CONTENT[chosen]
    page.get_by_text("No changes yet").wait_for()

    editor(page).fill(CONTENT[chosen].replace("itself", "itselF"))  # one character: not enough
    page.get_by_role("button", name="Submit").click()
    page.get_by_role("status").get_by_text("change at least 4 characters (1 so far)").wait_for()
    better = CONTENT[chosen].replace("itself", "itself, again")
    editor(page).fill(better)
    page.get_by_role("button", name="Submit").click()
    wait_for_the_end(page)
    [value] = stored(site, owner, pid)
    assert value["fix"]["response"] == chosen and value["fix"]["text"] == better
    assert [op[0] for op in value["fix"]["diff"]] == ["equal", "insert", "equal"]
    assert watch.dialogs == [] and watch.errors == []
