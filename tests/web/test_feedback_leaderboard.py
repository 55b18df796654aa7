"""The arena view on the quality page in a real browser: the models' table and the interval chart
show the numbers the leaderboard endpoint gives; projects without a preference question have no
leaderboard (a ranking's agreement column instead), and annotators never reach the page."""

from __future__ import annotations

import itertools
from typing import Any

from tests.web.conftest import Watch
from tests.web.feedback_items import schema_with
from tests.web.screens import screenshot
from tests.web.site import Person, Site
from tests.web.test_workbench import log_in

PREFERENCE = {"name": "better", "type": "preference", "target": "responses", "label": "Which is better?"}
# Each prompt has one response per model; "<b>" in a name stays text.
MODELS = {"r1": "model <b>strong</b>", "r2": "mid-7b", "r3": "weak-1b"}
RANK = {"r1": 0, "r2": 1, "r3": 2}


def _arena(site: Site) -> tuple[Person, Person, int]:
    owner = site.person("owner")
    crowd = [site.person("ann") for _ in range(3)]
    pid = site.project(owner, schema_with(PREFERENCE), overlap=3, members={"annotator": crowd})
    site.import_records(owner, pid, [
        {"id": f"p{i}", "prompt": f"Prompt {i}",
         "responses": [{"id": r, "content": f"{r} answers {i}", "model": m} for r, m in MODELS.items()]}
        for i in range(12)])
    pairs = list(itertools.combinations(MODELS, 2))
    for n, who in enumerate(crowd):
        while (r := site.http.post(f"/api/projects/{pid}/tasks/next", headers=who.headers)).status_code == 200:
            task = r.json()
            i = int(task["external_id"][1:])
            left, right = pairs[(n + i) % 3]
            better = left if RANK[left] < RANK[right] else right
            if (i + n) % 5 == 0:  # now and then the weaker one: finite strengths, real intervals
                better = right if better == left else left
            value = {"left": left, "right": right, "winner": "left" if better == left else "right"}
            s = site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=who.headers,
                               json={"value": {"better": value}})
            assert s.status_code == 201, s.text
    return owner, crowd[0], pid


def test_the_leaderboard_table_and_chart_show_the_api_numbers(page: Any, site: Site, watch: Watch) -> None:
    owner, _, pid = _arena(site)
    board = site.http.get(f"/api/projects/{pid}/feedback/leaderboard", headers=owner.headers).json()
    assert [m["model"] for m in board["models"]] == list(MODELS.values())

    log_in(page, site, owner, f"p/{pid}/quality")
    section = page.get_by_role("region", name="Leaderboard of the models")
    table = section.locator("table.leaderboard")
    table.wait_for()
    rows = table.locator("tbody tr")
    assert rows.count() == 3
    for n, m in enumerate(board["models"]):
        row = rows.nth(n)
        assert row.get_attribute("data-model") == m["model"]
        assert row.locator("th").text_content() == m["model"]  # the name as text, never markup
        assert row.locator("[data-col='score']").text_content() == f"{m['score']:.2f}"
        assert row.locator("[data-col='interval']").text_content() == f"{m['low']:.2f} \u2013 {m['high']:.2f}"
        assert row.locator("[data-col='comparisons']").text_content() == str(m["comparisons"])
        assert row.locator("[data-col='win_rate']").text_content() == f"{round(m['win_rate'] * 100)}%"
    assert section.locator("b").count() == 0

    chart = section.get_by_role("img", name="Model strength on “Which is better?”")
    assert chart.locator("g.estimate").count() == 3
    assert chart.locator("g.estimate circle.dot").count() == 3
    assert chart.locator("g.estimate line.whisker").count() == 3  # each strength with its interval
    for m in board["models"]:
        mark = chart.locator("g.estimate").filter(has=page.locator(f"text.row-label:text-is('{m['model'][:22]}')"))
        tip = str(mark.locator("> title").text_content())
        assert tip.startswith(f"{m['model']}: strength {m['score']:.2f}, 95% interval {m['low']:.2f} to {m['high']:.2f}")
        assert f"{m['comparisons']} comparisons" in tip
    # the dots in the board's order, left to right from the weakest: higher strength, further right
    xs = [float(chart.locator("g.estimate circle.dot").nth(n).get_attribute("cx") or 0) for n in range(3)]
    assert xs[0] > xs[1] > xs[2]
    section.scroll_into_view_if_needed()
    screenshot(page, "quality-leaderboard")


def test_annotators_never_reach_the_leaderboard(page: Any, site: Site, watch: Watch) -> None:
    _, annotator, pid = _arena(site)
    log_in(page, site, annotator, f"p/{pid}/quality")
    page.get_by_role("heading", name="You need the manager role to see this").wait_for()
    assert page.locator("table.leaderboard").count() == 0
    denied = site.http.get(f"/api/projects/{pid}/feedback/leaderboard", headers=annotator.headers)
    assert denied.status_code == 403


def test_no_leaderboard_without_a_preference_question(page: Any, site: Site, watch: Watch) -> None:
    owner = site.person("owner")
    pid = site.project(owner, schema_with({"name": "order", "type": "ranking", "target": "responses"}))
    log_in(page, site, owner, f"p/{pid}/quality")
    page.get_by_role("heading", name="Agreement").wait_for()
    assert page.get_by_role("region", name="Leaderboard of the models").count() == 0
    # rankings get their agreement column (nobody has answered: a dash)
    assert page.get_by_role("columnheader", name="Kendall τ").count() == 1
    assert page.locator("td[data-col='kendall_tau']").text_content() == "\u2013"
