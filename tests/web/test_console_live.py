"""The console's live panels (issue #10, findings 8 and 14): the quality cards follow the
progress without a reload, "confident enough" names its target, answers per hour are bars of a
sane width with time labels, and an empty project is not "100% done"."""

from __future__ import annotations

import re
from typing import Any

from tests.web.conftest import Watch
from tests.web.site import Site
from tests.web.test_workbench import log_in

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "sentiment", "type": "choice", "options": ["pos", "neg"]}],
}


def test_the_quality_cards_follow_the_progress_without_a_reload(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, bob = site.person("owner"), site.person("ann"), site.person("bob")
    pid = site.project(owner, SCHEMA, overlap=2, members={"annotator": [ann, bob]})
    r = site.http.patch(f"/api/projects/{pid}", headers=owner.headers, json={"quality": {"target_confidence": 0.9}})
    assert r.status_code == 200, r.text
    site.import_records(owner, pid, [{"id": f"r{i}", "text": f"review {i}"} for i in range(4)])
    log_in(page, site, owner, f"p/{pid}/manage")
    summary = page.get_by_test_id("quality-summary")
    summary.locator("[data-stat='disputed']", has_text="0").wait_for()
    assert "at or above the 90% target confidence" in summary.inner_text()  # what "confident enough" means
    assert page.get_by_role("img", name="Answers per hour").count() == 0  # no answers yet

    # while the page is open, two annotators disagree on one item: it goes to review
    for who, value in ((ann, "pos"), (bob, "neg")):
        task = site.http.post(f"/api/projects/{pid}/tasks/next", headers=who.headers).json()
        r = site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=who.headers,
                           json={"value": {"sentiment": value}})
        assert r.status_code == 201, r.text
    report = site.http.get(f"/api/projects/{pid}/quality", headers=owner.headers).json()
    assert report["review"]["pending"] == 1

    # the progress and the quality cards move together, and the throughput appears: no reload
    page.locator("[data-stat='done']", has_text="1").wait_for()
    summary.locator("[data-stat='disputed']", has_text="1").wait_for()
    mean = round(report["consensus"]["mean_confidence"] * 100)
    assert summary.locator("[data-stat='mean_confidence']").inner_text() == f"{mean}%"
    chart = page.get_by_role("img", name="Answers per hour")
    chart.wait_for()

    # one hour of answers is one narrow bar among at least twelve hours, labelled with times
    bars = chart.locator("rect.bar-rect")
    assert bars.count() >= 12
    assert max(float(str(b.get_attribute("width"))) for b in bars.all()) <= 40  # of a 640-wide chart
    notes = [str(b.locator("title").text_content()) for b in bars.all()]
    assert sum(int(n.split()[0]) for n in notes) == 2, notes
    assert all(re.fullmatch(r"\d+ answers? from \d\d:00 to \d\d:00 on .+", n) for n in notes), notes
    labels = chart.locator("text.bar-label").all_text_contents()
    assert len(labels) >= 2 and all(re.fullmatch(r"\d\d:00", t) for t in labels), labels
    assert watch.dialogs == [] and watch.errors == []


def test_an_empty_project_is_not_done(page: Any, site: Site, watch: Watch) -> None:
    owner = site.person("owner")
    pid = site.project(owner, SCHEMA)
    assert site.status(owner, pid)["percent_done"] == 0.0  # the API: nothing done, not 100%
    log_in(page, site, owner, f"p/{pid}/manage")
    page.get_by_test_id("no-items").wait_for()
    assert page.get_by_role("img", name="no items yet").count() == 1
    assert "100%" not in page.locator("main").inner_text()
    assert page.locator("svg.progress title").first.text_content() == "no items yet"
    assert watch.dialogs == [] and watch.errors == []
