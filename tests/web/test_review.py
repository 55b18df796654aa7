"""The review queue in a real browser: disputed items decided by keyboard, skips, flags."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Watch
from tests.web.screens import screenshot
from tests.web.site import Person, Site
from tests.web.test_workbench import log_in
from tests.web.waits import wait_until

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [
        {"name": "sentiment", "type": "choice", "options": ["pos", "neg", "neu"]},
        {"name": "note", "type": "text", "required": False},
    ],
}
PLANTED = "<img src=x onerror=alert(1)>"


def disputed_project(site: Site) -> tuple[Person, Person, int, dict[str, int]]:
    """Three items, each answered "pos" by one annotator and "neg" by another: all disputed."""
    owner, reviewer = site.person("owner"), site.person("reviewer")
    a, b = site.person("ann"), site.person("bob")
    pid = site.project(owner, SCHEMA, overlap=2, members={"reviewer": [reviewer], "annotator": [a, b]})
    site.import_records(owner, pid, [{"id": f"r{i}", "text": f"review {i}: fine, I suppose"} for i in range(3)])
    for who, value in ((a, {"sentiment": "pos", "note": PLANTED}), (b, {"sentiment": "neg"})):
        for _ in range(3):
            task = site.http.post(f"/api/projects/{pid}/tasks/next", headers=who.headers).json()
            r = site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=who.headers,
                               json={"value": value, "duration_ms": 3000})
            assert r.status_code == 201, r.text
    items = site.http.get(f"/api/projects/{pid}/items", headers=owner.headers).json()
    return owner, reviewer, pid, {i["external_id"]: i["id"] for i in items}


def showing(page: Any, external_id: str) -> None:
    """Wait until the review form shows this item."""
    page.locator(f"form.review-task[aria-label='review of item {external_id}']").wait_for()


def test_a_reviewer_decides_disputed_items_by_keyboard(page: Any, browser: Any, site: Site, watch: Watch) -> None:
    owner, reviewer, pid, ids = disputed_project(site)

    # the manager's console counts the disputed items
    manager_view = browser.new_context(viewport={"width": 1200, "height": 860})
    try:
        console = manager_view.new_page()
        log_in(console, site, owner, f"p/{pid}/manage")
        console.locator("[data-stat='disputed']", has_text="3").wait_for()
    finally:
        manager_view.close()

    log_in(page, site, reviewer)
    page.get_by_role("link", name="Review").click()
    showing(page, "r0")  # the oldest first
    cards = page.get_by_role("article")
    assert cards.count() == 2
    for name, value in ((site_name(page, "ann"), "pos"), (site_name(page, "bob"), "neg")):
        assert page.get_by_role("article", name=f"answer by {name}").locator("dd").first.inner_text() == value
    assert page.locator(".compare .badge.differ").count() == 4  # sentiment and note differ, on both cards
    assert page.get_by_text(PLANTED, exact=True).count() == 1  # an answer's text stays text
    assert page.locator("main img, main script").count() == 0
    screenshot(page, "review")

    page.keyboard.press("Shift+Enter")  # skip r0
    showing(page, "r1")
    page.get_by_text("Skipped item r0.").wait_for()
    page.keyboard.press("3")  # neu: neither annotator's answer
    page.keyboard.press("Enter")
    page.get_by_text("Decided item r1.").wait_for()
    showing(page, "r2")
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.get_by_text("Decided item r2.").wait_for()
    showing(page, "r0")  # the skipped item comes back once the others are done
    page.get_by_role("button", name="start from the answer of").first.click()  # ann's answer, then changed
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.get_by_text("Nothing waits for review.").wait_for()
    page.get_by_text("3 decided").wait_for()

    h = owner.headers
    done = site.http.get(f"/api/projects/{pid}/items", params={"review": "done"}, headers=h).json()
    assert len(done) == 3
    for label, expected in (("neu", ["r1"]), ("neg", ["r0", "r2"]), ("pos", [])):
        found = site.http.get(f"/api/projects/{pid}/items", params={"label": f"sentiment:{label}"}, headers=h).json()
        assert [i["external_id"] for i in found] == expected
    decisions = [a for a in site.answers(owner, pid) if a["source"] == "review"]
    assert {a["item_id"]: a["value"] for a in decisions} == {
        ids["r1"]: {"sentiment": "neu"}, ids["r2"]: {"sentiment": "neg"},
        ids["r0"]: {"sentiment": "neg", "note": PLANTED}}  # started from ann's answer, note kept
    assert all(a["username"] == reviewer.username for a in decisions)
    assert watch.dialogs == [] and watch.errors == []


def site_name(page: Any, prefix: str) -> str:
    """The username (prefix + number) on the answer card whose name starts with prefix."""
    return str(page.locator(f"article[data-who^='{prefix}']").get_attribute("data-who"))


def test_a_manager_flags_an_item_for_review(page: Any, site: Site, watch: Watch) -> None:
    owner, ann = site.person("owner"), site.person("ann")
    pid = site.project(owner, SCHEMA, members={"annotator": [ann]})
    site.import_records(owner, pid, [{"id": "calm", "text": "nobody disputes this one"}])
    task = site.http.post(f"/api/projects/{pid}/tasks/next", headers=ann.headers).json()
    site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=ann.headers,
                   json={"value": {"sentiment": "pos"}})
    assert site.http.get(f"/api/projects/{pid}/review/next", headers=owner.headers).status_code == 204
    log_in(page, site, owner, f"p/{pid}/items/{task['item_id']}")
    page.get_by_role("button", name="Flag for review").click()
    page.get_by_text("Sent to the review queue.").wait_for()
    r = site.http.get(f"/api/projects/{pid}/review/next", headers=owner.headers)
    assert r.status_code == 200 and r.json()["item"]["external_id"] == "calm"
    page.goto(f"{site.url}/app/#/p/{pid}/review")
    showing(page, "calm")
    assert page.get_by_role("article", name=f"answer by {ann.username}").count() == 1
    assert watch.dialogs == [] and watch.errors == []


def test_down_right_after_a_pick_moved_on_stays_on_that_question(page: Any, site: Site, watch: Watch) -> None:
    """The review page keys agree with the workbench's: ↓ after an auto-advance does not skip."""
    from tests.web.test_workbench_keys import active_question

    _, reviewer, pid, _ = disputed_project(site)
    log_in(page, site, reviewer, f"p/{pid}/review")
    showing(page, "r0")
    assert active_question(page) == "sentiment"
    page.keyboard.press("3")  # neu, and the page moves on to the note by itself
    assert active_question(page) == "note"
    page.keyboard.press("ArrowDown")  # stays on the note, and goes into its text field
    wait_until(page, "document.activeElement && document.activeElement.getAttribute('aria-label') === 'note'")
    assert watch.dialogs == [] and watch.errors == []


def test_a_saved_slice_narrows_the_review_queue(page: Any, site: Site, watch: Watch) -> None:
    owner, reviewer, pid, ids = disputed_project(site)
    r = site.http.post(f"/api/projects/{pid}/slices", headers=owner.headers,
                       json={"name": "the last two", "filter": {"ids": [ids["r1"], ids["r2"]]}})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    log_in(page, site, reviewer, f"p/{pid}/review")
    showing(page, "r0")  # every item waiting, the oldest first
    page.get_by_label("Slice").select_option(label="the last two")
    showing(page, "r1")
    assert f"slice={sid}" in page.url
    page.keyboard.press("Shift+Enter")
    showing(page, "r2")
    page.keyboard.press("Shift+Enter")
    showing(page, "r1")  # past the slice's last item: its oldest again, never r0
    page.reload()  # the slice stays chosen
    showing(page, "r1")
    assert page.get_by_label("Slice").input_value() == str(sid)
    assert watch.dialogs == [] and watch.errors == []
