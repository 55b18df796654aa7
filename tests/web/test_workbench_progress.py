"""The workbench tells annotators what they have done and what is left, and keeps half-typed answers."""

from __future__ import annotations

import json
from typing import Any

from tests.web.conftest import Watch
from tests.web.site import Person, Site
from tests.web.test_workbench import (
    answer_by_keyboard,
    labelling_project,
    log_in,
    shown_item,
    wait_until_gone,
)
from tests.web.waits import wait_for_the_end, wait_until


def my_progress(page: Any, text: str) -> None:
    page.locator(".my-progress", has_text=text).wait_for()


def test_an_annotator_sees_their_own_count_done_and_left(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid = labelling_project(site, 5)
    other = site.person("other")
    r = site.http.put(f"/api/projects/{pid}/members/{other.id}", headers=owner.headers, json={"role": "annotator"})
    assert r.status_code == 200, r.text
    task = site.http.post(f"/api/projects/{pid}/tasks/next", headers=other.headers).json()
    r = site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=other.headers,
                       json={"value": {"sentiment": "pos", "stars": 1}})
    assert r.status_code == 201, r.text

    log_in(page, site, ann, f"p/{pid}/label")
    my_progress(page, "0 done · about 4 left")  # someone else's answer is not mine, and that item is gone
    item = answer_by_keyboard(page)
    wait_until_gone(page, item)
    my_progress(page, "1 done · about 3 left")
    page.locator("form.task").wait_for()
    skipped = shown_item(page)
    page.keyboard.press("Shift+Enter")
    wait_until_gone(page, skipped)
    my_progress(page, "1 done · about 2 left")
    for _ in range(2):
        wait_until_gone(page, answer_by_keyboard(page))
    wait_for_the_end(page)
    my_progress(page, "3 done · none left")
    assert len([a for a in site.answers(owner, pid) if a["user_id"] == ann.id]) == 3
    assert watch.dialogs == [] and watch.errors == []


def drafts(page: Any, who: Person) -> dict[str, Any]:
    raw = page.evaluate(f"localStorage.getItem('labelloop.outbox.{who.id}.drafts')")
    return dict(json.loads(raw)) if raw else {}


def wait_draft_gone(page: Any, who: Person, key: str) -> None:
    """The draft is dropped once the submit or skip is done, which may follow the next screen."""
    store = f"labelloop.outbox.{who.id}.drafts"
    wait_until(page, f"!({json.dumps(key)} in JSON.parse(localStorage.getItem({json.dumps(store)}) || '{{}}'))")


def test_a_half_typed_answer_survives_a_reload_until_it_is_submitted_or_skipped(
    page: Any, site: Site, watch: Watch
) -> None:
    owner, ann, pid = labelling_project(site, 2)
    log_in(page, site, ann, f"p/{pid}/label")
    page.locator("form.task").wait_for()
    first = shown_item(page)
    page.keyboard.press("2")  # sentiment: neg
    note = page.get_by_role("textbox", name="note")
    note.click()
    note.type("the acting was")
    page.reload()

    page.locator("form.task").wait_for()
    assert shown_item(page) == first  # the same item comes back, with what was entered
    page.get_by_text("Restored what you had entered").wait_for()
    sentiment = page.locator("fieldset[data-question='sentiment']")
    assert sentiment.get_by_role("radio", name="neg").get_attribute("aria-checked") == "true"
    assert note.input_value() == "the acting was"
    assert list(drafts(page, ann)) == [f"{pid}/{first}"]
    note.click()
    note.press("End")
    note.type(" superb")
    note.press("Escape")
    for key in ("ArrowUp", "4", "Enter"):  # stars: 4, then submit
        page.keyboard.press(key)
    wait_until_gone(page, first)
    wait_draft_gone(page, ann, f"{pid}/{first}")  # submitted: the draft is gone

    page.locator("form.task").wait_for()
    second = shown_item(page)
    page.keyboard.press("1")
    page.reload()
    page.locator(f"form.task[data-item='{second}']").wait_for()
    sentiment.get_by_role("radio", name="pos").wait_for()
    assert sentiment.get_by_role("radio", name="pos").get_attribute("aria-checked") == "true"
    page.keyboard.press("Shift+Enter")  # skipped: the draft goes too
    wait_for_the_end(page)
    wait_draft_gone(page, ann, f"{pid}/{second}")
    assert drafts(page, ann) == {}

    page.get_by_text("All answers saved").wait_for()
    [stored] = site.answers(owner, pid, expect=1)
    assert stored["item_id"] == int(first)
    assert stored["value"] == {"sentiment": "neg", "stars": 4, "note": "the acting was superb"}
    assert watch.dialogs == [] and watch.errors == []
