"""The retention and erasure page in a real browser: a manager sets a retention (shown in words),
runs it after a preview and a typed confirmation, previews and erases a data subject; the API then
finds the content gone and the audit log holding the tombstone the page named. Strings from the
import stay text. An annotator gets no page, and the API refuses them too."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from labelloop.store.models import items, utcnow
from tests.web.conftest import Watch
from tests.web.site import Site
from tests.web.test_workbench import log_in
from tests.web.waits import wait_until

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "sentiment", "type": "choice", "options": ["pos", "neg"]}],
}
EMAIL = "jane.doe@example.org"
NAME = "Jane Doebright"
HOSTILE_ID = "<img src=x onerror=\"document.title='owned'\">"


def audit_entry(site: Site, who: Any, pid: int, seq: int) -> dict[str, Any]:
    r = site.http.get("/api/audit", params={"project": pid, "limit": 1000}, headers=who.headers)
    assert r.status_code == 200, r.text
    found = [e for e in r.json()["entries"] if e["seq"] == seq]
    assert found, f"no audit entry {seq}"
    return dict(found[0])


def seq_in(text: str) -> int:
    return int(text.split("entry #")[1].rstrip(".").split()[0].rstrip("."))


def test_a_manager_sets_retention_runs_it_and_erases_a_data_subject(page: Any, site: Site, watch: Watch) -> None:
    owner = site.person("protowner")
    ann = site.person("protann")
    pid = site.project(owner, SCHEMA, members={"annotator": [ann]})
    project_name = site.http.get(f"/api/projects/{pid}", headers=owner.headers).json()["name"]
    site.import_records(owner, pid, [
        {"id": "ticket-1", "text": f"Please write to {EMAIL} about the refund"},
        {"id": HOSTILE_ID, "text": "a ticket whose id came from a stranger"},
        {"id": "ticket-3", "text": f"Call {NAME} back"},
        {"id": "ticket-4", "text": "an old ticket"},
    ])
    ids: dict[str, int] = {}
    for _ in range(4):  # the annotator answers every item
        t = site.http.post(f"/api/projects/{pid}/tasks/next", headers=ann.headers).json()
        ids[t["external_id"]] = t["item_id"]
        r = site.http.post(f"/api/projects/{pid}/items/{t['item_id']}/answers", headers=ann.headers,
                           json={"value": {"sentiment": "pos"}})
        assert r.status_code == 201, r.text

    log_in(page, site, owner, f"p/{pid}/manage")
    page.get_by_role("link", name="Retention and erasure").click()
    page.get_by_role("heading", name="Retention and erasure").wait_for()
    meaning = page.locator("p.retention-meaning")
    meaning.wait_for()
    assert "kept until someone erases it" in meaning.inner_text()

    # Retention: 30 days, shown in words, and stored.
    page.get_by_label("Delete raw content after (days)").fill("30")
    page.get_by_role("button", name="Save retention").click()
    wait_until(page, "document.querySelector('p.retention-meaning').textContent.includes('30 days after')")
    assert "labels stay" in meaning.inner_text()
    got = site.http.get(f"/api/projects/{pid}/retention", headers=owner.headers).json()
    assert got == {"days": 30, "items": 4, "deleted": 0, "due": 0}

    # One item is 40 days old: a run would delete its content. Preview first, then confirm.
    site.runtime.db.run(lambda c: c.execute(update(items).where(items.c.id == ids["ticket-4"])
                                            .values(created_at=utcnow() - timedelta(days=40))))
    page.get_by_role("button", name="Run retention now…").click()
    preview = page.get_by_role("region", name="retention preview")
    preview.wait_for()
    assert "The content of 1 item will be deleted" in preview.inner_text()
    delete_now = page.get_by_role("button", name="Delete content now")
    assert delete_now.is_disabled()
    preview.get_by_label("Type the project's name").fill(project_name + "x")
    assert delete_now.is_disabled()
    preview.get_by_label("Type the project's name").fill(project_name)
    delete_now.click()
    note = page.locator("div.retention p.note[role=status]")
    wait_until(page, "document.querySelector('div.retention p.note').textContent.includes('entry #')")
    assert "Deleted the content of 1 item" in note.inner_text()
    run_seq = seq_in(note.inner_text())
    entry = audit_entry(site, owner, pid, run_seq)
    assert entry["action"] == "retention.run" and entry["details"]["items"] == 1
    old = site.http.get(f"/api/projects/{pid}/items/{ids['ticket-4']}", headers=owner.headers).json()["item"]
    assert old["data"] == {}

    # Erasure of a data subject: preview (counts, the items' ids as text), then the typed name.
    page.get_by_label("Identifiers of the data subject").fill(f"{EMAIL}\n{NAME.upper()}")
    page.get_by_role("button", name="Preview erasure").click()
    plan = page.get_by_role("region", name="erasure preview")
    plan.wait_for()
    assert "Will erase 2 items and 2 answers" in plan.inner_text()
    assert [li.inner_text() for li in plan.locator("ul.preview-ids li").all()] == ["ticket-1", "ticket-3"]
    erase = page.get_by_role("button", name="Erase for good")
    assert erase.is_disabled()
    plan.get_by_label("Type the project's name").fill(project_name)
    erase.click()
    result = page.locator("p.erasure-result")
    result.wait_for()
    assert "Erased 2 items, 2 answers" in result.inner_text()
    tombstone = seq_in(result.inner_text())
    assert result.get_by_role("link", name=f"#{tombstone}").get_attribute("href") == f"#/p/{pid}/audit?action=erasure"

    # Through the API: the item is gone, nothing mentions the subject, the tombstone is logged.
    export = site.http.get(f"/api/projects/{pid}/export", params={"format": "jsonl"}, headers=owner.headers)
    assert export.status_code == 200
    rows = [json.loads(line) for line in export.text.splitlines()]
    assert sorted(row["id"] for row in rows) == sorted([HOSTILE_ID, "ticket-4"])
    assert EMAIL not in export.text and NAME not in export.text
    assert len(site.answers(owner, pid)) == 2
    entry = audit_entry(site, owner, pid, tombstone)
    assert entry["action"] == "erasure"
    assert entry["details"]["kind"] == "subject"
    assert (entry["details"]["items"], entry["details"]["answers"]) == (2, 2)
    assert EMAIL not in json.dumps(entry) and NAME not in json.dumps(entry)

    # Erasing by item shows the hostile id as text, never markup.
    page.get_by_label("Items, by id").check()
    page.get_by_label("Item ids").fill(str(ids[HOSTILE_ID]))
    page.get_by_role("button", name="Preview erasure").click()
    plan.wait_for()
    assert [li.inner_text() for li in plan.locator("ul.preview-ids li").all()] == [HOSTILE_ID]
    assert page.locator("main.protection img").count() == 0 and page.title() != "owned"
    assert watch.errors == [] and watch.dialogs == []


def test_an_annotator_gets_no_page_and_the_api_refuses_them(page: Any, site: Site, watch: Watch) -> None:
    owner = site.person("protowner")
    ann = site.person("protann")
    pid = site.project(owner, SCHEMA, members={"annotator": [ann]})
    site.import_records(owner, pid, [{"id": "a", "text": EMAIL}])
    log_in(page, site, ann, f"p/{pid}/protection")
    page.get_by_role("heading", name="You need the manager role to see this").wait_for()
    assert page.locator("main.protection").count() == 0
    for method, path, body in (
        ("GET", f"/api/projects/{pid}/retention", None),
        ("PUT", f"/api/projects/{pid}/retention", {"days": 1}),
        ("POST", f"/api/projects/{pid}/retention/run", {"dry_run": True}),
        ("GET", f"/api/projects/{pid}/erasure/sources", None),
        ("POST", f"/api/projects/{pid}/erasure", {"subject": [EMAIL], "dry_run": True}),
    ):
        r = site.http.request(method, path, headers=ann.headers, json=body)
        assert r.status_code == 403, (path, r.text)
    assert site.http.get(f"/api/projects/{pid}/retention", headers=owner.headers).json()["days"] is None
    assert watch.errors == [] and watch.dialogs == []
