"""Curation in the data browser, in a real browser (#17 §1-§2): the embedding map, whose lasso
filters the browser to exactly the items inside it and is saved as a slice; items like one item
and like a text; the duplicate groups with keep one, restore and send to review."""

from __future__ import annotations

import random
import re
from typing import Any

from tests.platform.test_duplicates import RECORDS as DUPLICATES
from tests.platform.test_loop_flow import SCHEMA, WORDS, corpus, text
from tests.web.conftest import Watch
from tests.web.screens import screenshot
from tests.web.site import Person, Site
from tests.web.test_console import matching
from tests.web.test_workbench import log_in
from tests.web.waits import wait_until

N = 60
W, H = 640, 480  # the map's viewBox (console/EmbeddingMap.tsx)


def looped_project(site: Site) -> tuple[int, Person, Person]:
    """A project whose items were all answered, then embedded by a loop round."""
    owner, ann = site.person("owner"), site.person("ann")
    pid = site.project(owner, SCHEMA, members={"annotator": [ann]})
    truth = corpus(N, seed=11)
    rng = random.Random(4)
    site.import_records(owner, pid, [{"id": k, "text": text(v, rng)} for k, v in truth.items()])
    while (t := site.http.post(f"/api/projects/{pid}/tasks/next", headers=ann.headers)).status_code == 200:
        task = t.json()
        r = site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=ann.headers,
                           json={"value": {"topic": truth[task["external_id"]]}})
        assert r.status_code == 201, r.text
    r = site.http.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    assert r.json()["status"] == "succeeded", r.text
    return pid, owner, ann


def inside(x: float, y: float, poly: list[tuple[float, float]]) -> bool:
    """The even-odd rule, as console/lasso.ts writes it."""
    odd = False
    j = len(poly) - 1
    for i in range(len(poly)):
        (xi, yi), (xj, yj) = poly[i], poly[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            odd = not odd
        j = i
    return odd


def points(page: Any) -> dict[int, tuple[float, float]]:
    got = page.evaluate("""() => [...document.querySelectorAll('.chart.map circle[data-id]')].map(
        (c) => [Number(c.dataset.id), Number(c.getAttribute('cx')), Number(c.getAttribute('cy'))])""")
    return {int(i): (float(x), float(y)) for i, x, y in got}


def shown_ids(page: Any) -> set[int]:
    rows = page.locator("table.data tbody tr")
    return {int(rows.nth(k).get_attribute("data-item")) for k in range(rows.count())}


def test_a_lasso_on_the_map_filters_the_browser_to_exactly_the_items_inside(
        page: Any, site: Site, watch: Watch) -> None:
    pid, owner, _ann = looped_project(site)
    log_in(page, site, owner, f"p/{pid}/items?view=map")
    wait_until(page, f"document.querySelectorAll('.chart.map circle[data-id]').length === {N}")
    pts = points(page)
    assert len(pts) == N and all(0 <= x <= W and 0 <= y <= H for x, y in pts.values())
    # a lasso around the left half of the points, with a slanted edge
    mid = sorted(x for x, _ in pts.values())[N // 2]
    corners = [(2.0, 2.0), (mid + 30, 2.0), (mid - 30, H - 2.0), (2.0, H - 2.0)]
    box = page.locator(".chart.map svg").bounding_box()
    scale = box["width"] / W

    def screen(x: float, y: float) -> tuple[float, float]:
        return box["x"] + x * scale, box["y"] + y * scale

    page.mouse.move(*screen(*corners[0]))
    page.mouse.down()
    for corner in [*corners[1:], corners[0]]:
        page.mouse.move(*screen(*corner), steps=12)
    page.mouse.up()
    # what the page drew is what it selected: the outline's own vertices decide the expected items
    d = page.locator(".chart.map path.lasso").get_attribute("d")
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
    poly = list(zip(numbers[0::2], numbers[1::2], strict=True))
    assert len(poly) >= 4
    expected = {i for i, (x, y) in pts.items() if inside(x, y, poly)}
    assert 0 < len(expected) < N
    page.get_by_text(f"{len(expected)} selected", exact=True).wait_for()
    assert page.locator(".chart.map circle.chosen").count() == len(expected)
    screenshot(page, "console-embedding-map-lasso")

    # colour by the model's disagreement: the legend counts every point
    page.get_by_label("Colour by").select_option(label="model disagreement")
    legend = page.locator("table.legend tbody tr")
    wait_until(page, "document.querySelector('table.legend tbody tr[data-key=\"agrees\"]') !== null")
    assert sum(int(legend.nth(k).locator("td").nth(2).inner_text()) for k in range(legend.count())) == N

    # the browser shows exactly the items inside
    page.get_by_role("button", name="Show the selected items").click()
    matching(page, len(expected))
    assert shown_ids(page) == expected
    page.get_by_text(f"Only the {len(expected)} items selected on the map.").wait_for()

    # saved as a slice: chosen in the browser, stored with exactly those ids
    page.get_by_label("New slice name").fill("left of the map")
    page.get_by_role("button", name="Save these filters as a slice").click()
    page.get_by_text("Saved the slice left of the map.").wait_for()
    saved = site.http.get(f"/api/projects/{pid}/slices", headers=owner.headers).json()
    assert [(s["name"], s["filter"]) for s in saved] == [("left of the map", {"ids": sorted(expected)})]
    assert page.locator("select[name=slice]").input_value() == str(saved[0]["id"])
    matching(page, len(expected))
    assert shown_ids(page) == expected
    # the slice lives in the URL: a reload shows the same items
    page.reload()
    matching(page, len(expected))
    assert shown_ids(page) == expected
    # its items go first in the queue
    page.get_by_label("Queue priority").fill("7")
    page.get_by_role("button", name="Set for the slice").click()
    page.get_by_text(f"{len(expected)} items now have queue priority 7.").wait_for()
    listed = site.http.get(f"/api/projects/{pid}/items", params={"limit": 1000}, headers=owner.headers).json()
    assert {i["id"] for i in listed if i["priority"] == 7} == expected
    assert watch.dialogs == [] and watch.errors == []


def test_items_like_one_item_and_like_a_text(page: Any, site: Site, watch: Watch) -> None:
    pid, owner, _ann = looped_project(site)
    log_in(page, site, owner, f"p/{pid}/items")
    matching(page, 50, more=True)
    first = page.locator("table.data tbody tr").first
    first_id = int(first.get_attribute("data-item"))
    name = first.get_by_role("link").inner_text()
    first.get_by_role("button", name=f"Items like {name}").click()
    page.get_by_text(f"20 items like item {first_id}").wait_for()
    rows = page.locator("section.found tbody tr")
    assert rows.count() == 20
    assert int(rows.first.get_attribute("data-item")) == first_id
    assert rows.first.locator("td.similarity").inner_text() == "1.000"
    sims = [float(t) for t in page.locator("section.found td.similarity").all_inner_texts()]
    assert sims == sorted(sims, reverse=True)
    assert f"like={first_id}" in page.url
    # free text: the words of one topic find items of that topic first
    page.get_by_label("Like (by meaning)").fill("goal team coach stadium")
    page.get_by_text("20 items like “goal team coach stadium”").wait_for()
    top = int(page.locator("section.found tbody tr").first.get_attribute("data-item"))
    item = site.http.get(f"/api/projects/{pid}/items/{top}", headers=owner.headers).json()["item"]
    assert set(item["data"]["text"].split()) & set(WORDS["sport"])
    page.get_by_role("button", name="Back to the list").click()
    matching(page, 50, more=True)
    # from an item's own page
    page.goto(f"{site.url}/app/#/p/{pid}/items/{top}")
    page.get_by_role("link", name="Similar items").click()
    page.get_by_text(f"20 items like item {top}").wait_for()
    assert int(page.locator("section.found tbody tr").first.get_attribute("data-item")) == top
    assert watch.dialogs == [] and watch.errors == []


def test_duplicate_groups_keep_one_restore_and_go_to_review(page: Any, site: Site, watch: Watch) -> None:
    owner = site.person("owner")
    pid = site.project(owner, {"fields": [{"name": "text"}],
                               "questions": [{"name": "sentiment", "type": "choice", "options": ["pos", "neg"]}]})
    site.import_records(owner, pid, DUPLICATES)
    ids = {i["external_id"]: i["id"] for i in site.http.get(
        f"/api/projects/{pid}/items", headers=owner.headers).json()}
    log_in(page, site, owner, f"p/{pid}/items")
    page.get_by_role("link", name="Duplicates").click()
    page.get_by_text("0 groups", exact=True).wait_for()
    page.get_by_role("button", name="Find duplicates").click()
    page.get_by_text("Found 2 groups.").wait_for()
    groups = page.locator("section.dup-group")
    wait_until(page, "document.querySelectorAll('section.dup-group').length === 2")
    a_group = page.locator(f"section.dup-group[data-group='{ids['a']}']")
    assert {int(x) for x in a_group.locator("tbody tr").evaluate_all("rs => rs.map(r => r.dataset.item)")} == {
        ids["a"], ids["a-typo"], ids["a-cut"]}
    assert groups.nth(1).locator("tbody tr").count() == 2  # b and b-same
    screenshot(page, "console-duplicates")

    # keep one: the others leave the queue
    a_group.get_by_role("button", name="Keep a-typo").click()
    page.get_by_text(f"Kept a-typo; the other items of group {ids['a']} left the queue.").wait_for()
    queue = a_group.locator("td.queue")
    wait_until(page, f"document.querySelectorAll(\"section.dup-group[data-group='{ids['a']}'] tr.set-aside\").length === 2")
    assert sorted(queue.all_inner_texts()) == ["in the queue", "set aside", "set aside"]
    for ext, needed in (("a", 0), ("a-cut", 0), ("a-typo", 1)):
        item = site.http.get(f"/api/projects/{pid}/items/{ids[ext]}", headers=owner.headers).json()["item"]
        assert item["needed"] == needed, ext
    # restore: back in the queue
    a_group.get_by_role("button", name="Restore the group").click()
    page.get_by_text(f"Put 2 items of group {ids['a']} back in the queue.").wait_for()
    wait_until(page, f"document.querySelectorAll(\"section.dup-group[data-group='{ids['a']}'] tr.set-aside\").length === 0")
    for ext in ("a", "a-cut", "a-typo"):
        assert site.http.get(f"/api/projects/{pid}/items/{ids[ext]}", headers=owner.headers).json()["item"]["needed"] == 1
    # the whole group to review
    b_group = page.locator(f"section.dup-group[data-group='{ids['b']}']")
    b_group.get_by_role("button", name="Send the group to review").click()
    page.get_by_text(f"Sent the 2 items of group {ids['b']} to review.").wait_for()
    pending = site.http.get(f"/api/projects/{pid}/items", params={"review": "pending"}, headers=owner.headers).json()
    assert {i["external_id"] for i in pending} == {"b", "b-same"}
    assert watch.dialogs == [] and watch.errors == []
