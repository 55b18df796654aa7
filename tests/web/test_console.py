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
    data.write_text("".join(json.dumps({"id": f"r{i}", "text": t, "meta": {"lang": "fr" if i % 2 else "en"}}) + "\n"
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

    browse_with_server_side_filters(page, pid, ann.username)
    page.get_by_role("row").nth(1).get_by_role("link").click()
    page.get_by_role("heading", name="Answers").wait_for()
    assert page.get_by_role("cell", name=ann.username).count() == 1
    assert watch.dialogs == [] and watch.errors == []


def matching(page: Any, n: int, more: bool = False) -> None:
    """Wait until the data browser shows n items (and no request is in flight)."""
    text = f"{n} matching item{'' if n == 1 else 's'}{' shown; more to load' if more else ''}"
    page.get_by_text(text, exact=True).wait_for()


def browse_with_server_side_filters(page: Any, pid: int, annotator: str) -> None:
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if f"/api/projects/{pid}/items?" in r.url else None)
    page.get_by_role("link", name="Browse items").click()
    matching(page, len(REVIEWS))
    page.get_by_label("Text").fill("london")
    matching(page, 1)
    assert page.locator("tbody tr").count() == 1 and "London" in page.locator("tbody tr").inner_text()
    assert "q=london" in asked[-1]  # filtered by the server, not in the page
    page.get_by_label("Text").fill("")
    page.get_by_label("Answered by").select_option(label=annotator)
    matching(page, 3)
    page.get_by_label("Consensus").select_option(label="sentiment: negative")
    matching(page, 1)
    assert "label=sentiment%3Anegative" in asked[-1]
    page.get_by_label("Consensus").select_option(label="any")
    page.get_by_label("Answered by").select_option(label="anyone")
    page.get_by_label("Metadata").fill("lang")  # not yet key:value: nothing is asked
    page.get_by_text("Write the metadata filter as key:value").wait_for()
    page.get_by_label("Metadata").fill("lang:fr")
    matching(page, 3)  # r1, r3, r5
    assert "meta=lang%3Afr" in asked[-1] and "annotator=" not in asked[-1]
    page.get_by_label("Metadata").fill("")
    page.get_by_label("Answered by").select_option(label=annotator)
    page.get_by_label("Status").select_option("done")
    matching(page, 3)
    assert "status=done" in asked[-1] and "annotator=" in asked[-1]
    page.reload()  # the filters live in the URL
    matching(page, 3)
    assert page.get_by_label("Status").input_value() == "done"
    assert page.get_by_label("Answered by").locator("option:checked").inner_text() == annotator
    screenshot(page, "console-items")


def test_the_data_browser_pages_by_id_on_the_server(page: Any, site: Site, watch: Watch) -> None:
    owner = site.person("owner")
    pid = site.project(owner, {"fields": [{"name": "text"}], "questions": [{"name": "q", "type": "text"}]})
    site.import_records(owner, pid, [{"id": f"n{i}", "text": f"number {i} is {'even' if i % 2 == 0 else 'odd'}"}
                                     for i in range(110)])
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if f"/api/projects/{pid}/items?" in r.url else None)
    log_in(page, site, owner, f"p/{pid}/items?q=even")
    matching(page, 50, more=True)
    assert page.get_by_label("Text").input_value() == "even"
    last = page.locator("tbody tr").last.get_attribute("data-item")
    page.get_by_role("button", name="Load more").click()
    matching(page, 55)
    assert f"after={last}" in asked[-1] and "q=even" in asked[-1] and "limit=50" in asked[-1]
    assert page.get_by_role("button", name="Load more").count() == 0
    texts = page.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert len(texts) == 55 and all(t.endswith("even") for t in texts)
    assert watch.dialogs == [] and watch.errors == []


def test_a_manager_adds_members_by_username(page: Any, site: Site, watch: Watch) -> None:
    owner, newcomer = site.person("owner"), site.person("newcomer")
    pid = site.project(owner, {"fields": [{"name": "text"}], "questions": [{"name": "q", "type": "text"}]})
    log_in(page, site, owner, f"p/{pid}/manage")
    page.get_by_label("Username of the new member").fill("nobody-by-that-name")
    page.get_by_role("button", name="Add member").click()
    page.get_by_role("alert").get_by_text("user 'nobody-by-that-name' not found").wait_for()
    page.get_by_label("Username of the new member").fill(newcomer.username)
    page.get_by_label("Role of the new member").select_option("reviewer")
    page.get_by_role("button", name="Add member").click()
    page.get_by_text(f"{newcomer.username} is now a reviewer.").wait_for()
    row = page.locator(f"tr[data-member='{newcomer.username}']")
    assert row.get_by_label(f"role of {newcomer.username}").input_value() == "reviewer"
    members = site.http.get(f"/api/projects/{pid}/members", headers=owner.headers).json()
    assert {"user_id": newcomer.id, "username": newcomer.username, "role": "reviewer"} in members
    assert watch.dialogs == [] and watch.errors == []


def test_annotators_cannot_reach_the_console(page: Any, site: Site, watch: Watch) -> None:
    owner, ann = site.person("owner"), site.person("ann")
    pid = site.project(owner, {"fields": [{"name": "text"}], "questions": [{"name": "q", "type": "text"}]},
                       members={"annotator": [ann]})
    log_in(page, site, ann, f"p/{pid}/items")
    page.get_by_role("alert").wait_for()  # the API refuses; the page shows why and nothing else
    assert "role" in page.get_by_role("alert").inner_text()
    assert page.locator("table.data tbody tr").count() == 0
