"""Dataset releases in the data browser, in a real browser: the list with each release's state (a
release an erasure withdrew says so and cannot be opened), a release's card and its files, and the
difference between two releases."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Watch
from tests.web.site import Site
from tests.web.test_workbench import log_in
from tests.web.waits import wait_until

SCHEMA = {"fields": [{"name": "text", "type": "text"}],
          "questions": [{"name": "c", "type": "choice", "options": ["a", "b"]}]}


def test_releases_list_card_files_and_difference(page: Any, site: Site, watch: Watch) -> None:
    owner = site.person("owner")
    pid = site.project(owner, SCHEMA)
    site.import_records(owner, pid, [{"id": f"t{i}", "text": f"text {i}", "meta": {"license": "cc-by-4.0"}}
                                     for i in range(6)])

    def answer_open() -> None:
        while (t := site.http.post(f"/api/projects/{pid}/tasks/next", headers=owner.headers)).status_code == 200:
            task = t.json()
            r = site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=owner.headers,
                               json={"value": {"c": "a" if task["external_id"] < "t3" else "b"}})
            assert r.status_code == 201, r.text

    def release(name: str) -> None:
        r = site.http.post(f"/api/projects/{pid}/releases", json={"name": name, "split": [50, 25, 25]},
                           headers=owner.headers)
        assert r.status_code == 201, r.text

    answer_open()
    release("v1")
    site.import_records(owner, pid, [{"id": "t9", "text": "text 9"}])
    answer_open()
    release("v2")
    release("v3")
    items = site.http.get(f"/api/projects/{pid}/items", params={"q": "text 9"}, headers=owner.headers).json()
    r = site.http.post(f"/api/projects/{pid}/erasure", json={"items": [items[0]["id"]]}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["releases_withdrawn"] == ["v2", "v3"], r.text

    log_in(page, site, owner, f"p/{pid}/items?view=releases")
    wait_until(page, "document.querySelectorAll('tr[data-release]').length === 3")
    states = {n: page.locator(f"tr[data-release='{n}'] td.state").inner_text() for n in ("v1", "v2", "v3")}
    assert states["v1"] == "standing" and states["v2"].startswith("withdrawn (erasure, audit entry ")
    assert page.locator("tr[data-release='v2'] button").count() == 0  # its files are gone

    page.locator("tr[data-release='v1'] button").click()
    card = page.locator("section.release-card")
    card.wait_for()
    assert card.locator("h2").inner_text() == "Release v1 · 6 items"
    splits = card.locator("table[aria-label='Split'] tbody tr")
    assert sum(int(splits.nth(k).locator("td").nth(1).inner_text()) for k in range(splits.count())) == 6
    licences = card.locator("table[aria-label='Licence of the source'] tbody tr")
    assert licences.count() == 1 and licences.first.inner_text().split() == ["cc-by-4.0", "6"]
    files = {card.locator("tr[data-file]").nth(k).get_attribute("data-file")
             for k in range(card.locator("tr[data-file]").count())}
    assert {"items.parquet", "train.parquet", "card.json", "card.md"} <= files
    link = card.locator("tr[data-file='card.md'] a")
    assert link.get_attribute("href") == f"/api/projects/{pid}/releases/v1/files/card.md"
    got = site.http.get(link.get_attribute("href"), headers=owner.headers)
    assert got.status_code == 200 and got.text.startswith("# ")
    assert page.locator("form.release-diff").count() == 0  # one standing release: nothing to compare
    assert watch.dialogs == [] and watch.errors == []


def test_two_standing_releases_are_compared(page: Any, site: Site, watch: Watch) -> None:
    owner = site.person("owner")
    pid = site.project(owner, SCHEMA)
    site.import_records(owner, pid, [{"id": f"t{i}", "text": f"text {i}"} for i in range(4)])
    while (t := site.http.post(f"/api/projects/{pid}/tasks/next", headers=owner.headers)).status_code == 200:
        r = site.http.post(f"/api/projects/{pid}/items/{t.json()['item_id']}/answers", headers=owner.headers,
                           json={"value": {"c": "a"}})
        assert r.status_code == 201, r.text
    for name in ("v1", "v2"):
        assert site.http.post(f"/api/projects/{pid}/releases", json={"name": name, "split": None},
                              headers=owner.headers).status_code == 201
        site.import_records(owner, pid, [{"id": f"n{name}", "text": f"new in {name}"}])
        while (t := site.http.post(f"/api/projects/{pid}/tasks/next", headers=owner.headers)).status_code == 200:
            site.http.post(f"/api/projects/{pid}/items/{t.json()['item_id']}/answers", headers=owner.headers,
                           json={"value": {"c": "b"}})
    log_in(page, site, owner, f"p/{pid}/items?view=releases")
    form = page.locator("form.release-diff")
    form.wait_for()
    form.get_by_role("button", name="Compare").click()
    out = form.locator("output")
    out.wait_for()
    assert out.inner_text() == "v1 → v2: 1 added, 0 removed, 0 relabelled"
    assert watch.dialogs == [] and watch.errors == []
