"""The quality page in a real browser: charts drawn as SVG, pauses, a recompute, the settings."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Watch
from tests.web.screens import screenshot
from tests.web.site import Person, Site
from tests.web.test_workbench import log_in

OPTIONS = ["pos", "neg", "neu"]
SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "sentiment", "type": "choice", "options": OPTIONS}],
}


def crowd_project(site: Site) -> tuple[Person, dict[str, Person], int]:
    """Twelve items and four gold ones; two careful annotators and one sloppy, fast one."""
    owner = site.person("owner")
    crowd = {"good": site.person("good"), "fine": site.person("fine"), "sloppy": site.person("sloppy")}
    pid = site.project(owner, SCHEMA, overlap=3, members={"annotator": list(crowd.values())})
    truth = {f"t{i}": OPTIONS[i % 3] for i in range(16)}
    site.import_records(owner, pid, [
        {"id": k, "text": f"review {k}", **({"gold": {"sentiment": v}} if int(k[1:]) >= 12 else {})}
        for k, v in truth.items()])
    r = site.http.patch(f"/api/projects/{pid}", headers=owner.headers, json={"quality": {"gold_first": 4}})
    assert r.status_code == 200, r.text  # every annotator gets every gold item, first
    for n, (role, who) in enumerate(crowd.items()):
        for step in range(16):
            r = site.http.post(f"/api/projects/{pid}/tasks/next", headers=who.headers)
            assert r.status_code == 200, r.text
            task = r.json()
            right = truth[task["external_id"]]
            wrong = OPTIONS[(OPTIONS.index(right) + 1) % 3]
            value = right if role != "sloppy" and not (role == "fine" and step == 5) else wrong
            ms = 700 + step * 10 if role == "sloppy" else 4000 + 600 * n + step * 50
            r = site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=who.headers,
                               json={"value": {"sentiment": value}, "duration_ms": ms})
            assert r.status_code == 201, r.text
    return owner, crowd, pid


def test_the_quality_page_charts_pauses_recomputes_and_edits_settings(
    page: Any, site: Site, watch: Watch
) -> None:
    owner, crowd, pid = crowd_project(site)
    sloppy = crowd["sloppy"].username
    log_in(page, site, owner, f"p/{pid}/manage")
    page.get_by_role("link", name="Quality details and annotators").click()

    histogram = page.get_by_role("img", name="Consensus confidence: items per band")
    histogram.wait_for()
    assert histogram.locator("rect.bar-rect").count() == 8
    assert histogram.locator("rect > title").first.text_content() == "0 items between 0\u201350% confidence"

    gold = page.get_by_role("img", name="Gold accuracy per annotator")
    assert gold.locator("g.estimate").count() == 3
    assert gold.locator("g.estimate circle.dot").count() == 3
    assert gold.locator("g.estimate line.whisker").count() == 3  # each accuracy with its interval
    assert gold.locator("g.threshold").count() == 1  # the pause bar
    note = gold.locator(f"g.estimate[data-label='{sloppy}'] > title").text_content()
    assert note.startswith(f"{sloppy}: gold accuracy") and "0 of 4 gold answers right" in note

    speed = page.get_by_role("img", name="Speed and volume per annotator")
    assert speed.locator("g.point circle").count() == 3
    assert "16 answers" in speed.locator(f"g.point[data-label='{sloppy}'] > title").text_content()
    assert page.get_by_role("img", name="Krippendorff's alpha per question").locator("circle.dot").count() == 1
    screenshot(page, "quality")

    # pause the sloppy annotator with a reason, then lift it
    row = page.locator(f"tr[data-annotator='{sloppy}']")
    row.get_by_role("button", name=f"Pause {sloppy}…").click()
    page.get_by_label(f"Reason for pausing {sloppy}").fill("guessing on gold")
    page.get_by_label(f"Reason for pausing {sloppy}").press("Enter")
    row.get_by_text("guessing on gold").wait_for()
    page.locator("[data-stat='paused']", has_text="1").wait_for()
    people = {p["username"]: p for p in site.http.get(
        f"/api/projects/{pid}/quality/annotators", headers=owner.headers).json()}
    assert people[sloppy]["paused"] is True and people[sloppy]["paused_reason"] == "guessing on gold"
    assert gold.locator("g.estimate.paused").count() == 1
    row.get_by_role("button", name=f"Resume {sloppy}").click()
    row.get_by_role("button", name=f"Pause {sloppy}…").wait_for()
    people = {p["username"]: p for p in site.http.get(
        f"/api/projects/{pid}/quality/annotators", headers=owner.headers).json()}
    assert people[sloppy]["paused"] is False

    page.get_by_role("button", name="Recompute consensus").click()
    page.get_by_text("Recomputed.").wait_for()

    # quality settings: saved, or refused with the problem next to its setting
    settings = page.get_by_role("form", name="quality settings")
    settings.get_by_label("Share of later tasks that are gold").fill("0.25")
    settings.get_by_role("button", name="Save quality settings").click()
    settings.get_by_text("Saved.").wait_for()
    project = site.http.get(f"/api/projects/{pid}", headers=owner.headers).json()
    assert project["quality"]["gold_rate"] == 0.25
    settings.get_by_label("Adaptive overlap").check()
    settings.get_by_label("Adaptive: answers every item gets").fill("5")
    settings.get_by_role("button", name="Save quality settings").click()
    settings.get_by_text("must not exceed the project's overlap (3)").wait_for()
    field = settings.get_by_label("Adaptive: answers every item gets")
    assert field.get_attribute("aria-invalid") == "true"
    assert site.http.get(f"/api/projects/{pid}", headers=owner.headers).json()["quality"]["adaptive"] is False
    assert watch.dialogs == [] and watch.errors == []
