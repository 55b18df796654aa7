"""The console shows the schema's labels, not the stored values (issue #10, finding 9): option
labels, span label names with the words they cover, statuses in words; the stored values stay
in the tooltips for managers."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Watch
from tests.web.site import Person, Site
from tests.web.test_workbench import log_in

TEXT = "I bought the Acme Pro blender and it is <b>great</b>."
START = TEXT.index("Acme Pro")
END = START + len("Acme Pro")
SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [
        {"name": "category", "label": "Category", "type": "choice", "options": [
            {"value": "fresh", "label": "Positive review"}, {"value": "rotten", "label": "Negative review"}]},
        {"name": "entities", "label": "Entities", "type": "spans", "target": "text", "required": False,
         "labels": [{"value": "PRODUCT", "label": "Product"}, {"value": "BRAND", "label": "Brand"}]},
        {"name": "stars", "type": "rating", "min": 1, "max": 5},
    ],
}
ANSWER = {"category": "fresh", "entities": [{"start": START, "end": END, "label": "PRODUCT"}], "stars": 5}
SHOWN = "Category: Positive review; Entities: Product \u201cAcme Pro\u201d; stars: 5"


def labelled_project(site: Site) -> tuple[Person, Person, int]:
    """Three items of two answers each: ann answers all, bob one of them (done); two are in progress."""
    owner, ann, bob = site.person("owner"), site.person("ann"), site.person("bob")
    pid = site.project(owner, SCHEMA, overlap=2, members={"annotator": [ann, bob]})
    site.import_records(owner, pid, [{"id": f"r{i}", "text": TEXT} for i in range(3)])
    for who, n in ((ann, 3), (bob, 1)):
        for _ in range(n):
            task = site.http.post(f"/api/projects/{pid}/tasks/next", headers=who.headers).json()
            r = site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=who.headers,
                               json={"value": ANSWER, "duration_ms": 2000})
            assert r.status_code == 201, r.text
    return owner, ann, pid


def test_the_console_shows_the_schemas_labels_not_the_stored_values(
    page: Any, browser: Any, site: Site, watch: Watch
) -> None:
    owner, ann, pid = labelled_project(site)
    items = {i["external_id"]: i for i in site.http.get(f"/api/projects/{pid}/items", headers=owner.headers).json()}
    done = next(k for k, i in items.items() if i["status"] == "done")
    busy = next(k for k, i in items.items() if i["status"] == "in_progress")
    assert items[done]["consensus"]["value"]["category"] == "fresh"

    # the data browser: the consensus in the schema's words, the status as the filter says it
    log_in(page, site, owner, f"p/{pid}/items")
    page.get_by_text("3 matching items", exact=True).wait_for()
    label = page.locator(f"tr[data-item='{items[done]['id']}'] td.label")
    assert label.inner_text() == SHOWN
    assert "category: fresh" in str(label.get_attribute("title"))  # the stored value, for managers
    assert f"PRODUCT[{START}:{END}]" in str(label.get_attribute("title"))
    status = page.locator(f"tr[data-item='{items[busy]['id']}'] td.status")
    assert status.inner_text() == "in progress" and status.get_attribute("title") == "in_progress"
    page.get_by_label("Status").select_option(label="in progress")
    page.get_by_text("2 matching items", exact=True).wait_for()
    assert page.locator("tbody td.status").all_inner_texts() == ["in progress"] * 2  # as the filter says it
    assert page.locator("tbody b").count() == 0  # the item's text stayed text

    # the item's page: every answer, the consensus and the status in words
    page.goto(f"{site.url}/app/#/p/{pid}/items/{items[done]['id']}")
    page.get_by_role("heading", name="Answers").wait_for()
    assert page.locator("td.answer").all_inner_texts() == [SHOWN, SHOWN]
    assert SHOWN in page.locator("p.consensus").inner_text()
    assert page.get_by_test_id("item-status").inner_text().startswith("done \u00b7 2 of 2 answers")
    assert "fresh" not in page.locator("main").inner_text()

    # the quality page names questions by their labels (the name in the tooltip)
    page.goto(f"{site.url}/app/#/p/{pid}/quality")
    agreement = page.locator("table.data", has=page.locator("caption", has_text="Agreement per question"))
    row = agreement.locator("tbody th[scope='row']", has_text="Category")
    row.wait_for()
    assert row.get_attribute("title") == "category"
    assert agreement.locator("tbody th[scope='row']").all_inner_texts() == ["Category", "Entities", "stars"]

    # the annotator's own history: labels too (it has no item text, so a span gives its characters)
    mine = browser.new_context(viewport={"width": 1200, "height": 860})
    try:
        history = mine.new_page()
        log_in(history, site, ann, f"p/{pid}/history")
        cells = history.locator("tbody tr[data-answer] td.answer")
        cells.nth(2).wait_for()
        assert cells.all_inner_texts() == [
            f"Category: Positive review; Entities: Product (characters {START}\u2013{END}); stars: 5"] * 3
    finally:
        mine.close()
    assert watch.dialogs == [] and watch.errors == []
