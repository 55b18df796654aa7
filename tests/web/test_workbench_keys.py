"""Keys on the workbench: a pick that moves on by itself, and ↓ right after it."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Watch
from tests.web.site import Site
from tests.web.test_workbench import labelling_project, log_in
from tests.web.waits import wait_for_the_end, wait_until


def active_question(page: Any) -> str:
    """The active question's name, once the page has drawn what the last key did."""
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(null))))")
    return str(page.locator("fieldset.question.active").get_attribute("data-question"))


def test_down_right_after_a_pick_moved_on_goes_to_that_question(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid = labelling_project(site, 1)
    log_in(page, site, ann, f"p/{pid}/label")
    page.locator("form.task").wait_for()
    assert active_question(page) == "sentiment"

    page.keyboard.press("1")  # sentiment: pos, and the page moves on to "topics" by itself
    assert active_question(page) == "topics"
    page.keyboard.press("ArrowDown")  # "next question" after sentiment: topics, not the one after it
    assert active_question(page) == "topics"
    page.keyboard.press("ArrowDown")
    assert active_question(page) == "stars"
    page.keyboard.press("5")  # moves on to "note"
    assert active_question(page) == "note"
    page.keyboard.press("ArrowDown")  # goes to the note, and into its text field
    wait_until(page, "document.activeElement && document.activeElement.getAttribute('aria-label') === 'note'")
    page.keyboard.type("fine")
    page.keyboard.press("Control+Enter")
    wait_for_the_end(page)

    page.keyboard.press("?")  # and the help says how it works
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    dialog.get_by_text("Moving on by itself").wait_for()
    assert "↓ stays on the question it moved to" in dialog.inner_text()
    page.keyboard.press("Escape")

    page.get_by_text("All answers saved").wait_for()
    [stored] = site.answers(owner, pid, expect=1)
    assert stored["value"] == {"sentiment": "pos", "stars": 5, "note": "fine"}
    assert watch.dialogs == [] and watch.errors == []
