"""The audit log's console page in a real browser: each filter reaches the server and survives a
reload, the chain's status is shown, hostile text stays text, and annotators get no page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.web.conftest import Watch
from tests.web.site import Site
from tests.web.test_workbench import log_in
from tests.web.waits import wait_until

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "sentiment", "type": "choice", "options": ["pos", "neg"]}],
}
HOSTILE = "<img src=x onerror=\"document.title='owned'\">"


def rows(page: Any) -> list[dict[str, str]]:
    out = []
    for r in page.locator("table.audit-entries tbody tr").all():
        out.append({"seq": r.get_attribute("data-seq") or "", "actor": r.locator("td.actor").inner_text(),
                    "action": r.locator("td.action").inner_text(), "object": r.locator("td.object").inner_text(),
                    "details": r.locator("td.details").inner_text()})
    return out


def settled(page: Any) -> None:
    wait_until(page, "document.querySelector('main.audit p.muted[role=status][aria-busy=false]') !== null")


def test_a_manager_filters_the_project_log_and_sees_the_chain_hold(page: Any, site: Site, watch: Watch) -> None:
    owner = site.person("auditowner")
    ann = site.person("auditann")
    pid = site.project(owner, SCHEMA, members={"annotator": [ann]})
    r = site.http.patch(f"/api/projects/{pid}", headers=owner.headers, json={"description": HOSTILE})
    assert r.status_code == 200
    site.import_records(owner, pid, [{"id": f"i{n}", "text": f"text {n}"} for n in range(3)])
    served = []
    for _ in range(2):
        t = site.http.post(f"/api/projects/{pid}/tasks/next", headers=ann.headers).json()
        served.append(t["item_id"])
        r = site.http.post(f"/api/projects/{pid}/items/{t['item_id']}/answers", headers=ann.headers,
                           json={"value": {"sentiment": "pos"}})
        assert r.status_code == 201, r.text
    assert site.http.get(f"/api/projects/{pid}/export", params={"format": "csv"}, headers=owner.headers).status_code == 200

    asked: list[dict[str, list[str]]] = []
    page.on("request", lambda req: asked.append(parse_qs(urlparse(req.url).query))
            if "/api/audit?" in req.url else None)
    log_in(page, site, owner, f"p/{pid}/manage")
    page.get_by_role("link", name="Audit log").click()
    page.get_by_role("heading", name="Audit log").wait_for()
    status = page.locator("section.audit-verify p[role=status]")
    wait_until(page, "document.querySelector('section.audit-verify p[role=status]').textContent.includes('holds')")
    assert "The chain holds" in status.inner_text()
    settled(page)
    everything = rows(page)
    assert {"task.serve", "answer.submit", "export", "project.update", "member.set"} <= {r["action"] for r in everything}
    assert [int(r["seq"]) for r in everything] == sorted((int(r["seq"]) for r in everything), reverse=True)
    assert all(q["project"] == [str(pid)] for q in asked)
    # The description came from a user: shown as text in the details, never an element.
    assert any("<img src=x onerror=" in r["details"] for r in everything if r["action"] == "project.update")
    assert page.locator("table.audit-entries img").count() == 0 and page.title() != "owned"

    # Action: answers only.
    page.get_by_label("Action").select_option("answer")
    settled(page)
    wait_until(page, "[...document.querySelectorAll('td.action')].every(td => td.textContent === 'answer.submit')")
    assert [r["action"] for r in rows(page)] == ["answer.submit", "answer.submit"]
    assert asked[-1]["action"] == ["answer"]
    # Who, and an object: one item's entries by the annotator.
    page.get_by_label("Action").select_option("")
    page.get_by_label("Who").fill(ann.username)
    page.locator("select[name=object_type]").select_option("item")
    page.get_by_label("Object id").fill(str(served[0]))
    wait_until(page, "[...document.querySelectorAll('td.object')].length === 2")
    settled(page)
    got = rows(page)
    assert {r["action"] for r in got} == {"task.serve", "answer.submit"}
    assert {r["actor"] for r in got} == {ann.username} and {r["object"] for r in got} == {f"item {served[0]}"}
    last = asked[-1]
    assert (last["actor"], last["object_type"], last["object_id"]) == ([ann.username], ["item"], [str(served[0])])

    # The filters are in the URL: a reload shows the same entries.
    page.reload()
    page.get_by_role("heading", name="Audit log").wait_for()
    settled(page)
    assert page.get_by_label("Who").input_value() == ann.username
    assert {r["action"] for r in rows(page)} == {"task.serve", "answer.submit"}

    # Dates: from tomorrow nothing; up to today, everything again.
    page.get_by_label("Who").fill("")
    page.locator("select[name=object_type]").select_option("")
    page.get_by_label("Object id").fill("")
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    page.get_by_label("From", exact=True).fill(tomorrow)
    wait_until(page, "document.querySelectorAll('table.audit-entries tbody tr').length === 0")
    settled(page)
    assert "0 entries" in page.locator("main.audit p[role=status].muted").inner_text()
    assert "since" in asked[-1]
    page.get_by_label("From", exact=True).fill("")
    page.get_by_label("To", exact=True).fill(date.today().isoformat())
    wait_until(page, f"document.querySelectorAll('table.audit-entries tbody tr').length === {len(everything)}")
    assert "until" in asked[-1] and "since" not in asked[-1]
    assert watch.errors == [] and watch.dialogs == []


def test_an_annotator_gets_no_audit_page_and_an_admin_sees_every_project(page: Any, site: Site, watch: Watch) -> None:
    owner = site.person("auditowner")
    ann = site.person("auditann")
    admin = site.person("auditadmin", admin=True)
    pid = site.project(owner, SCHEMA, members={"annotator": [ann]})
    log_in(page, site, ann, f"p/{pid}/audit")
    page.get_by_role("heading", name="You need the manager role to see this").wait_for()
    assert page.locator("table.audit-entries").count() == 0
    assert page.get_by_role("link", name="Audit log").count() == 0  # no header link either
    # Straight at the whole log: the server refuses, and the page says so.
    page.goto(f"{site.url}/app/#/audit")
    page.get_by_role("alert").first.wait_for()
    assert "administrators" in page.get_by_role("alert").first.inner_text()
    assert page.locator("table.audit-entries tbody tr").count() == 0

    page.get_by_role("button", name="Sign out").click()
    log_in(page, site, admin)
    page.get_by_role("link", name="Audit log").click()
    page.get_by_role("heading", name="Audit log").wait_for()
    settled(page)
    assert page.get_by_role("columnheader", name="Project").count() == 1
    page.get_by_label("Action").select_option("project")
    wait_until(page, "[...document.querySelectorAll('td.action')].length > 0 && "
                     "[...document.querySelectorAll('td.action')].every(td => td.textContent.startsWith('project.'))")
    assert str(pid) in [c.inner_text() for c in page.locator("table.audit-entries tbody tr td:nth-child(5)").all()]
    assert watch.errors == [] and watch.dialogs == []
