"""The items a loop round suspects of a wrong label, in a real browser: the learning loop's page
leads to them, the data browser filters on the server by "suspected by the model" and says why
in each row, and the item's page says it too; item content stays text."""

from __future__ import annotations

import random
from typing import Any

from tests.platform.test_loop_flow import SCHEMA, WORDS, corpus, text
from tests.web.conftest import Watch
from tests.web.screens import screenshot
from tests.web.site import Site
from tests.web.test_console import matching
from tests.web.test_workbench import log_in


def test_the_data_browser_shows_what_the_model_suspects(page: Any, site: Site, watch: Watch) -> None:
    owner, ann = site.person("owner"), site.person("ann")
    pid = site.project(owner, SCHEMA, members={"annotator": [ann]})
    r = site.http.patch(f"/api/projects/{pid}", headers=owner.headers,
                        json={"quality": {"review_below": 0.0}, "loop": {"autolabel_target": None}})
    assert r.status_code == 200, r.text
    truth = corpus(120, seed=6)
    rng = random.Random(8)
    # Markup in the content must show as text, never as elements.
    site.import_records(owner, pid, [{"id": k, "text": f"{text(v, rng)} <b>x</b>"} for k, v in truth.items()])
    planted = 0
    while (t := site.http.post(f"/api/projects/{pid}/tasks/next", headers=ann.headers)).status_code == 200:
        task = t.json()
        right = truth[task["external_id"]]
        wrong = planted < 12 and rng.random() < 0.15
        planted += wrong
        given = next(x for x in WORDS if x != right) if wrong else right
        r = site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=ann.headers,
                           json={"value": {"topic": given}})
        assert r.status_code == 201, r.text
    r = site.http.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    assert r.json()["status"] == "succeeded", r.text
    result = r.json()["result"]
    flagged = {str(i) for i in result["label_issue_items"]}
    assert flagged and len(flagged) == result["label_issues"]

    # the loop page leads to the data browser, filtered to the suspects by the server
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if f"/api/projects/{pid}/items?" in r.url else None)
    log_in(page, site, owner, f"p/{pid}/loop")
    page.get_by_role("link", name="Items the model suspects").click()
    page.wait_for_url("**/#/p/*/items?label_issue=true")
    matching(page, len(flagged))
    assert page.get_by_label("Model").input_value() == "true"
    assert "label_issue=true" in asked[-1]
    rows = page.locator("tbody tr")
    assert {rows.nth(k).get_attribute("data-item") for k in range(rows.count())} == flagged
    for k in range(rows.count()):
        why = rows.nth(k).locator("td.suspect").inner_text()
        assert "unlikely label" in why or "confidently disagrees" in why, why
        assert f"model {result['model_version']} says topic: " in why
        # beside it, the label the crowd gave (one annotator here: their answer)
        label = rows.nth(k).locator("td.label").inner_text()
        assert label.startswith("topic: ") and label.removeprefix("topic: ") in WORDS
        assert rows.nth(k).locator("td:nth-child(2)").inner_text().endswith("<b>x</b>")
    assert page.locator("tbody b").count() == 0
    screenshot(page, "console-label-issues")

    # the other way round, combined with another filter; the choice lives in the URL
    page.get_by_label("Model").select_option(label="not suspected")
    matching(page, 50, more=True)
    assert "label_issue=false" in asked[-1]
    assert page.locator("tbody td.suspect").all_inner_texts() == [""] * 50
    page.get_by_label("Model").select_option(label="suspected by the model")
    page.get_by_label("Review").select_option(label="waiting for review")
    matching(page, len(flagged))  # every suspect went to review
    assert "label_issue=true" in asked[-1] and "review=pending" in asked[-1]
    page.reload()
    matching(page, len(flagged))
    assert page.get_by_label("Model").input_value() == "true"

    # the item's page says why, and which model
    first = page.locator("tbody tr").first
    first.get_by_role("link").click()
    box = page.get_by_role("region", name="suspected label")
    box.get_by_text("The model suspects this label:").wait_for()
    assert f"model {result['model_version']} says topic: " in box.inner_text()
    assert "The consensus is topic: " in box.inner_text()
    assert page.locator("section.item b").count() == 0 and "<b>x</b>" in page.locator("section.item").inner_text()
    assert watch.dialogs == [] and watch.errors == []
