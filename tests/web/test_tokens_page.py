"""The API tokens page: a token made with chosen scopes works with exactly those, and is revoked."""

from __future__ import annotations

from typing import Any

import httpx

from tests.web.site import Site
from tests.web.test_workbench import log_in


def test_a_read_only_token_made_on_the_page_reads_but_cannot_change(page: Any, site: Site) -> None:
    me = site.person("tok")
    log_in(page, site, me)
    page.get_by_role("link", name="API tokens").click()
    form = page.get_by_role("form", name="New token")
    form.get_by_label("Name").fill("nightly export")
    form.get_by_label("Expires after (days; empty: never)").fill("7")
    assert form.get_by_label("read: see what your roles show, and export").is_checked()
    form.get_by_role("button", name="Create token").click()
    secret = page.locator("code.secret").inner_text()
    assert secret.startswith("llt_")
    row = page.locator("tr", has_text="nightly export")
    assert row.locator("td").nth(2).inner_text() == "read"

    auth = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{site.url}/api/projects", headers=auth).status_code == 200
    refused = httpx.post(f"{site.url}/api/projects", headers=auth, json={"name": "nope", "label_schema": {}})
    assert refused.status_code == 403 and "needs the 'manage' scope" in refused.json()["error"]["message"]

    row.get_by_role("button", name="Revoke").click()
    row.get_by_text("revoked").wait_for()
    assert httpx.get(f"{site.url}/api/projects", headers=auth).status_code == 401
