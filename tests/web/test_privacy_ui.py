"""Personal data in a real browser: a manager turns the policy on and scans, an annotator labels
spans on placeholders (stored on the original), a reviewer reveals the original (logged)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from labelloop.store.models import audit_log
from tests.web.conftest import Watch
from tests.web.site import Site
from tests.web.test_spans_ui import drag
from tests.web.test_workbench import log_in
from tests.web.waits import wait_for_the_end, wait_until

EMAIL = "jean.dupont@example.fr"
IBAN = "FR76 3000 6000 0112 3456 7890 189"
TEXT = f"Write to {EMAIL} about the invoice; pay IBAN {IBAN} by Friday."
SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "ents", "type": "spans", "target": "text", "labels": ["WHO", "MISC"]}],
}


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Username").wait_for()


def test_policy_scan_placeholders_and_reveal(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, rev = site.person("pvowner"), site.person("pvann"), site.person("pvrev")
    pid = site.project(owner, SCHEMA, members={"annotator": [ann], "reviewer": [rev]})
    site.import_records(owner, pid, [{"id": "letter", "text": TEXT}])

    # The manager turns the policy on in the console and scans the items already there.
    log_in(page, site, owner, f"p/{pid}/manage")
    panel = page.locator("section[aria-labelledby=privacy-h]")
    panel.get_by_label("Hide personal data from annotators").check()
    panel.get_by_role("button", name="Save privacy settings").click()
    wait_until(page, "document.querySelector('.privacy-note').textContent === 'Saved.'")
    panel.get_by_role("button", name="Scan for personal data").click()
    wait_until(page, "(document.querySelector('.privacy-scan-status') || {}).textContent?.startsWith('Scan done')")
    assert "1 items read, 2 pieces of personal data found" in panel.locator(".privacy-scan-status").inner_text()
    wait_until(page, "document.querySelector('table[aria-label=\"Personal data found per kind\"]') !== null")
    counts = panel.locator("table[aria-label='Personal data found per kind'] tbody tr").all_inner_texts()
    assert sorted(c.replace("\t", " ") for c in counts) == ["email 1", "iban 1"]

    # The annotator sees placeholders and tags the word after one: stored on the original text.
    sign_out(page)
    log_in(page, site, ann, f"p/{pid}/label")
    page.locator(".span-text").wait_for()
    shown = page.locator(".span-text").inner_text()
    assert "[EMAIL_1]" in shown and "[IBAN_1]" in shown
    assert EMAIL not in page.content() and "3000 6000" not in page.content()
    about = page.locator(".span-text .tok", has_text="invoice").first.get_attribute("data-t")
    page.keyboard.press("2")  # MISC
    drag(page, int(str(about)), int(str(about)))
    page.locator(".span-list q", has_text="invoice").wait_for()
    page.keyboard.press("Enter")
    wait_for_the_end(page)
    [stored] = site.answers(owner, pid, expect=1)
    [span] = stored["value"]["ents"]
    assert TEXT[span["start"]:span["end"]] == "invoice" and span["label"] == "MISC"

    # The reviewer's item page shows the placeholders until they reveal; the reveal is logged.
    sign_out(page)
    log_in(page, site, rev, f"p/{pid}/items/{stored['item_id']}")
    page.get_by_role("button", name="Reveal personal data").wait_for()
    assert EMAIL not in page.content()
    page.get_by_role("button", name="Reveal personal data").click()
    original = page.locator("section.revealed pre[data-field=text]")
    original.wait_for()
    assert original.inner_text() == TEXT
    assert EMAIL in page.locator("table[aria-label=Placeholders]").inner_text()
    with site.runtime.db.read() as conn:
        reveals = conn.execute(select(audit_log).where(audit_log.c.action == "item.reveal")).all()
    assert [(r.actor_id, r.object_id) for r in reveals] == [(rev.id, str(stored["item_id"]))]
    assert watch.dialogs == [] and watch.errors == []
