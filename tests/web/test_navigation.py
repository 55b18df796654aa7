"""Every page leads back to its project, and the header fits a laptop screen (issue #10, finding 12)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.conftest import Watch
from tests.web.site import Site
from tests.web.test_workbench import log_in

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text"}],
    "questions": [{"name": "sentiment", "type": "choice", "options": ["positive", "negative"]}],
}
LONG_NAME = "Customer support tickets, March 2025 (English and French)"


def crumbs(page: Any) -> Any:
    return page.get_by_role("navigation", name="breadcrumb")


def test_the_review_page_the_workbench_and_new_project_lead_back(page: Any, site: Site, watch: Watch) -> None:
    manager = site.person("manager")
    pid = site.project(manager, SCHEMA)
    name = site.http.get(f"/api/projects/{pid}", headers=manager.headers).json()["name"]
    log_in(page, site, manager, f"p/{pid}/review")
    for route, here in (("review", "Review"), ("label", "Labelling"), ("history", "My answers"),
                        ("items", "Items"), ("quality", "Quality"), ("loop", "Learning loop")):
        page.goto(f"{site.url}/app/#/p/{pid}/{route}")
        trail = crumbs(page)
        trail.get_by_text(here, exact=True).wait_for()
        assert trail.locator("[aria-current='page']").inner_text() == here
        trail.get_by_role("link", name=name, exact=True).click()
        page.get_by_role("heading", name="Progress").wait_for()  # the project's page
        assert page.url.endswith(f"#/p/{pid}/manage")
        # the project's own page is the end of its trail
        assert crumbs(page).locator("[aria-current='page']").inner_text() == name

    page.get_by_role("link", name="Projects", exact=True).click()
    page.get_by_role("link", name="New project").click()
    page.get_by_role("heading", name="New project").wait_for()
    assert crumbs(page).locator("[aria-current='page']").inner_text() == "New project"
    page.get_by_label("Name").fill("never created")
    page.get_by_role("link", name="Cancel").click()
    page.get_by_role("heading", name="Your projects").wait_for()
    assert "never created" not in [p["name"] for p in site.http.get("/api/projects", headers=manager.headers).json()]
    assert watch.errors == []


def test_an_annotator_goes_back_to_the_workbench_not_to_a_manager_page(
    page: Any, site: Site, watch: Watch
) -> None:
    owner, ann = site.person("owner"), site.person("ann")
    pid = site.project(owner, SCHEMA, members={"annotator": [ann]})
    name = site.http.get(f"/api/projects/{pid}", headers=owner.headers).json()["name"]
    log_in(page, site, ann, f"p/{pid}/history")
    crumbs(page).get_by_role("link", name=name, exact=True).click()
    page.wait_for_url(f"**/#/p/{pid}/label")
    # on the workbench the project is where the annotator already is: text, not a link
    crumbs(page).locator("[aria-current='page']", has_text="Labelling").wait_for()
    assert crumbs(page).get_by_role("link", name=name).count() == 0
    crumbs(page).get_by_role("link", name="Projects").click()
    page.get_by_role("heading", name="Your projects").wait_for()
    assert watch.errors == []


@pytest.fixture
def laptop(browser: Any, watch: Watch) -> Iterator[Any]:
    """A page the size of a common laptop screen."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.set_default_timeout(15_000)
    p = context.new_page()
    p.on("pageerror", lambda e: watch.errors.append(str(e)))
    yield p
    context.close()


BOXES = """els => els.map(e => {
  const r = e.getBoundingClientRect();
  const line = parseFloat(getComputedStyle(e).lineHeight) || 0;
  return {text: e.textContent.trim().slice(0, 40), top: r.top, bottom: r.bottom, height: r.height,
          lines: e.getClientRects().length, line, scroll: e.scrollWidth - e.clientWidth};
})"""


def one_row(page: Any, selector: str) -> list[dict[str, Any]]:
    """The elements' boxes, once checked to share one row with none broken over two lines."""
    boxes: list[dict[str, Any]] = page.eval_on_selector_all(selector, BOXES)
    assert boxes, selector
    middle = [(b["top"] + b["bottom"]) / 2 for b in boxes]
    assert max(middle) - min(middle) < 4, (selector, boxes)  # one row: same vertical middle
    for b in boxes:
        assert b["lines"] == 1, (selector, b)
        assert b["line"] == 0 or b["height"] < 2 * b["line"] + 20, (selector, b)  # text on one line
    return boxes


def test_headers_do_not_wrap_on_a_1366_pixel_screen(laptop: Any, site: Site, watch: Watch) -> None:
    manager = site.person("manager-with-a-long-name")
    r = site.http.post("/api/projects", headers=manager.headers, json={
        "name": f"{LONG_NAME} {manager.username}", "label_schema": SCHEMA})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    page = laptop
    log_in(page, site, manager, f"p/{pid}/manage")
    page.get_by_role("heading", name="Progress").wait_for()
    buttons = one_row(page, "main .bar > .button")
    assert [b["text"] for b in buttons] == ["Browse items", "Quality", "Learning loop", "Audit log", "Review", "Label"]
    title = page.eval_on_selector("main .bar > h1", "e => [e.getBoundingClientRect().top, e.getBoundingClientRect().bottom]")
    assert title[0] < buttons[0]["top"] and buttons[0]["bottom"] < title[1], (title, buttons)  # on the title's row
    top = one_row(page, "header.top > *")
    assert {"labelloop", "Sign out"} <= {b["text"] for b in top}
    one_row(page, "nav[aria-label='breadcrumb'] li")
    for route in ("label", "review", "items", "quality", "loop"):
        page.goto(f"{site.url}/app/#/p/{pid}/{route}")
        page.locator("main .bar").first.wait_for()
        one_row(page, "header.top > *")
        one_row(page, "main .bar > .button, main .bar > nav, main .bar > a")
    assert watch.errors == []
