"""The manager's console in a real browser: create a project, upload, watch progress, browse, export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from tests.web.conftest import Watch
from tests.web.screens import screenshot
from tests.web.site import Site
from tests.web.test_workbench import log_in

REVIEWS = [
    "A gorgeous, witty film that never overstays its welcome.",
    "The plot collapses under its own weight by the second act.",
    "Ada Lovelace is played with wit and restraint; London never looked better.",
    "A tedious, overlong exercise in style over substance.",
    "Funny, warm, and surprisingly moving.",
    "The soundtrack is the only thing worth remembering.",
]

SCHEMA_YAML = """title: Movie reviews
fields:
  - {name: text, type: text, label: Review}
questions:
  - name: sentiment
    type: choice
    options: [positive, negative, neutral]
  - {name: people, type: spans, target: text, labels: [PER, ORG, LOC], required: false}
"""


def test_a_manager_creates_a_project_uploads_watches_progress_and_exports(
    page: Any, site: Site, watch: Watch, tmp_path: Path
) -> None:
    manager = site.person("manager")
    ann = site.person("ann")
    log_in(page, site, manager)
    page.get_by_role("link", name="New project").click()
    page.get_by_label("Name").fill("Movie reviews " + manager.username)

    schema = page.get_by_label("Label schema")
    schema.fill(SCHEMA_YAML.replace("type: choice", "type: chioce"))
    page.get_by_role("alert", name="schema problems").get_by_text("unknown question type 'chioce'").wait_for()
    assert page.get_by_role("button", name="Create project").is_disabled()
    schema.fill(SCHEMA_YAML)
    page.get_by_text("The schema is valid.").wait_for()
    preview = page.get_by_label("preview of the annotator's view")
    preview.get_by_role("radio", name="positive").wait_for()  # the workbench's own renderer
    preview.locator(".span-text").wait_for()
    screenshot(page, "console-new-project")
    page.get_by_role("button", name="Create project").click()
    page.get_by_role("heading", name="Progress").wait_for()
    pid = int(page.url.split("/p/")[1].split("/")[0])

    data = tmp_path / "reviews.jsonl"
    data.write_text("".join(json.dumps({"id": f"r{i}", "text": t, "meta": {"source": "demo"}}) + "\n"
                            for i, t in enumerate(REVIEWS)))
    page.get_by_label("Data file").set_input_files(str(data))
    page.get_by_role("button", name="Upload").click()
    page.get_by_text(f"Imported: {len(REVIEWS)} new items").wait_for()
    page.locator("[data-stat='items']", has_text=str(len(REVIEWS))).wait_for()
    page.locator("[data-stat='untouched']", has_text=str(len(REVIEWS))).wait_for()

    # members: the annotator joins, then works through three items over the API
    r = site.http.put(f"/api/projects/{pid}/members/{ann.id}", headers=manager.headers, json={"role": "annotator"})
    assert r.status_code == 200
    for n in range(3):
        task = site.http.post(f"/api/projects/{pid}/tasks/next", headers=ann.headers).json()
        site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=ann.headers,
                       json={"value": {"sentiment": ["positive", "negative", "neutral"][n]}, "duration_ms": 4000})
    page.locator("[data-stat='done']", has_text="3").wait_for()  # the console polls the status
    page.reload()
    page.get_by_role("img", name="Answers per hour").wait_for()
    screenshot(page, "console-project")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert len(rows) == len(REVIEWS)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download JSONL").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert sum(len(json.loads(line)["answers"]) for line in lines) == 3

    page.get_by_role("link", name="Browse items").click()
    page.get_by_text(f"{len(REVIEWS)} of {len(REVIEWS)} loaded items").wait_for()
    page.get_by_label("Text").fill("london")
    page.get_by_text(f"1 of {len(REVIEWS)} loaded items").wait_for()
    page.get_by_label("Text").fill("")
    page.get_by_label("Annotator").fill(ann.username)
    page.get_by_text(f"3 of {len(REVIEWS)} loaded items").wait_for()
    page.get_by_label("Status").select_option("done")
    page.get_by_text("3 of 3 loaded items").wait_for()
    screenshot(page, "console-items")
    page.get_by_role("row").nth(1).get_by_role("link").click()
    page.get_by_role("heading", name="Answers").wait_for()
    assert page.get_by_role("cell", name=ann.username).count() == 1
    assert watch.dialogs == [] and watch.errors == []


def test_annotators_cannot_reach_the_console(page: Any, site: Site, watch: Watch) -> None:
    owner, ann = site.person("owner"), site.person("ann")
    pid = site.project(owner, {"fields": [{"name": "text"}], "questions": [{"name": "q", "type": "text"}]},
                       members={"annotator": [ann]})
    log_in(page, site, ann, f"p/{pid}/items")
    page.get_by_role("alert").wait_for()  # the API refuses; the page shows why and nothing else
    assert "role" in page.get_by_role("alert").inner_text()
    assert page.locator("table.data tbody tr").count() == 0
