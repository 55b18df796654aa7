"""The annotator workbench in a real browser: log in, label by keyboard, never lose work."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Watch
from tests.web.screens import screenshot
from tests.web.site import Person, Site
from tests.web.waits import wait_for_the_end

SCHEMA: dict[str, Any] = {
    "title": "Reviews",
    "fields": [{"name": "text", "type": "text"}],
    "questions": [
        {"name": "sentiment", "type": "choice", "options": ["pos", "neg", "neu"]},
        {"name": "topics", "type": "multi_choice", "options": ["plot", "acting", "music"], "required": False},
        {"name": "stars", "type": "rating", "min": 1, "max": 5},
        {"name": "note", "type": "text", "required": False},
    ],
}


def labelling_project(site: Site, n: int) -> tuple[Person, Person, int]:
    owner = site.person("owner")
    ann = site.person("ann")
    pid = site.project(owner, SCHEMA, members={"annotator": [ann]})
    site.import_records(owner, pid, [{"id": f"r{i}", "text": f"review number {i}"} for i in range(n)])
    return owner, ann, pid


def log_in(page: Any, site: Site, who: Person, route: str = "") -> None:
    page.goto(f"{site.url}/app/#/{route}")
    page.get_by_label("Username").fill(who.username)
    page.get_by_label("Password").fill(who.password)
    page.keyboard.press("Enter")
    page.get_by_role("link", name="labelloop").wait_for()


def shown_item(page: Any) -> str:
    return str(page.locator("form.task").get_attribute("data-item"))


def wait_until_gone(page: Any, item: str) -> None:
    """Until the item is no longer on screen (the next one, or the end of the queue)."""
    page.locator(f"form.task[data-item='{item}']").wait_for(state="detached")


def test_log_in_and_see_my_projects(page: Any, site: Site, watch: Watch) -> None:
    _owner, ann, _pid = labelling_project(site, 1)
    page.goto(f"{site.url}/")
    page.get_by_label("Username").fill(ann.username)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").get_by_text("wrong username or password").wait_for()
    page.get_by_label("Password").fill(ann.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Your projects").wait_for()
    page.get_by_role("link", name="Start labelling").wait_for()
    assert page.get_by_role("link", name="Start labelling").count() == 1
    assert page.get_by_role("link", name="Manage").count() == 0  # annotators do not manage
    page.get_by_role("link", name="Start labelling").click()
    page.locator("form.task").wait_for()
    assert watch.dialogs == [] and watch.errors == []


def test_label_ten_items_by_keyboard_only(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid = labelling_project(site, 10)
    log_in(page, site, ann, f"p/{pid}/label")
    seen = []
    for i in range(10):
        page.locator("form.task").wait_for()
        item = shown_item(page)
        assert item not in seen
        seen.append(item)
        k = page.keyboard
        k.press(str(i % 3 + 1))  # sentiment: pick option n, then the next question is active
        k.press("1")  # topics: toggle "plot"
        k.press("3")  # topics: toggle "music"
        k.press("ArrowDown")
        k.press(str(i % 5 + 1))  # stars
        k.press("Enter")
        wait_until_gone(page, item)
    wait_for_the_end(page)
    page.get_by_text("All answers saved").wait_for()
    stored = site.answers(owner, pid)
    assert len(stored) == 10
    by_item = {str(a["item_id"]): a["value"] for a in stored}
    for i, item in enumerate(seen):
        assert by_item[item] == {"sentiment": ["pos", "neg", "neu"][i % 3], "topics": ["plot", "music"],
                                 "stars": i % 5 + 1}
    assert all(a["duration_ms"] is not None for a in stored)
    assert watch.dialogs == [] and watch.errors == []


def answer_by_keyboard(page: Any, sentiment: int = 1, stars: int = 3) -> str:
    """Answer the shown item (sentiment and stars) and submit; the item's id."""
    page.locator("form.task").wait_for()
    item = shown_item(page)
    page.keyboard.press(str(sentiment))  # moves on to "topics" by itself
    page.keyboard.press("ArrowDown")  # right after that, ↓ stays on "topics"
    page.keyboard.press("ArrowDown")  # "stars"
    page.keyboard.press(str(stars))
    page.keyboard.press("Enter")
    return item


def test_answers_survive_an_unreachable_server_and_a_reload_and_are_stored_once(
    page: Any, site: Site, watch: Watch
) -> None:
    owner, ann, pid = labelling_project(site, 6)
    log_in(page, site, ann, f"p/{pid}/label")
    first = answer_by_keyboard(page)
    wait_until_gone(page, first)
    page.get_by_text("All answers saved").wait_for()

    lost_responses = []

    def unreachable(route: Any) -> None:
        if not lost_responses:  # the first one reaches the server, but its reply is lost
            lost_responses.append(route.fetch().status)
        route.abort("internetdisconnected")

    page.route("**/answers", unreachable)
    offline = []
    # The server holds at most three leases per annotator; the first answer did reach it,
    # so four answers go into the outbox before the page has to wait for them.
    for n in range(4):
        item = answer_by_keyboard(page, sentiment=2, stars=n + 1)
        offline.append(item)
        wait_until_gone(page, item)
    page.locator(".pending[data-pending='4']").wait_for()
    page.get_by_text("4 answers waiting to be sent").wait_for()
    page.get_by_text("Waiting for your 4 pending answers").wait_for()
    assert lost_responses == [201]
    screenshot(page, "workbench-offline")

    page.route("**/api/**", lambda route: route.abort("connectionrefused"))  # now the server is down
    page.reload()
    page.get_by_text("4 answers waiting to be sent").wait_for()  # the outbox survived the reload
    page.get_by_text("The server cannot be reached").wait_for()
    assert page.get_by_role("button", name="Sign in").count() == 0  # no login form that cannot work
    page.unroute("**/api/**")
    page.unroute("**/answers")  # the server is back
    page.get_by_text("All answers saved").wait_for(timeout=20_000)
    rest = [answer_by_keyboard(page)]
    wait_for_the_end(page)

    stored = site.answers(owner, pid)
    assert sorted(str(a["item_id"]) for a in stored) == sorted([first, *offline, *rest])  # each exactly once
    by_item = {str(a["item_id"]): a["value"] for a in stored}
    assert [by_item[i]["stars"] for i in offline] == [1, 2, 3, 4]
    assert site.status(owner, pid)["done"] == 6
    assert watch.dialogs == [] and watch.errors == []


def test_untrusted_item_content_is_shown_as_inert_text(page: Any, site: Site, watch: Watch) -> None:
    owner = site.person("owner")
    ann = site.person("ann")
    schema = {**SCHEMA, "title": "<b id=t>title</b>", "instructions": "<img src=x onerror=alert(3)>"}
    pid = site.project(owner, schema, members={"annotator": [ann]})
    payload = "<img src=x onerror=alert(1)>"
    site.import_records(owner, pid, [{"id": "x", "text": payload,
                                      "meta": {"source": "<script>alert(2)</script>", "<i>k</i>": "v"}}])
    response = site.http.get("/app/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "require-trusted-types-for 'script'" in response.headers["content-security-policy"]
    log_in(page, site, ann, f"p/{pid}/label")
    page.locator("form.task").wait_for()
    assert page.locator(".field-text").inner_text() == payload
    assert page.get_by_text("<script>alert(2)</script>").count() == 1
    assert page.get_by_text("<b id=t>title</b>").count() == 1
    assert page.locator("main img, main script, #t").count() == 0
    page.wait_for_timeout(300)  # give a planted handler every chance to fire
    answer_by_keyboard(page)
    wait_for_the_end(page)
    assert watch.dialogs == [] and watch.errors == []


def test_a_model_prelabel_is_an_editable_suggestion(page: Any, site: Site, watch: Watch) -> None:
    owner = site.person("owner")
    ann = site.person("ann")
    pid = site.project(owner, SCHEMA, members={"annotator": [ann]})
    # pre-filled answers are the project's choice (off by default: test_suggestions.py)
    site.http.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"preselect": True}})
    site.import_records(owner, pid, [{"id": "p", "text": "a fine film",
                                      "meta": {"prelabel": {"sentiment": "neg", "stars": 4}}}])
    log_in(page, site, ann, f"p/{pid}/label")
    sentiment = page.locator("fieldset[data-question='sentiment']")
    stars = page.locator("fieldset[data-question='stars']")
    for q in (sentiment, stars):
        q.get_by_text("model suggestion").wait_for()
    assert sentiment.get_by_role("radio", name="neg").get_attribute("aria-checked") == "true"
    screenshot(page, "workbench-prelabel")
    page.keyboard.press("1")  # the annotator corrects the model
    assert sentiment.get_by_text("model suggestion").count() == 0
    assert sentiment.get_by_role("radio", name="pos").get_attribute("aria-checked") == "true"
    stars.get_by_text("model suggestion").wait_for()  # untouched: still the model's
    page.keyboard.press("Backspace")  # undo brings the suggestion back
    sentiment.get_by_text("model suggestion").wait_for()
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    wait_for_the_end(page)
    [stored] = site.answers(owner, pid, expect=1)
    assert stored["value"] == {"sentiment": "pos", "stars": 4}
    assert watch.dialogs == [] and watch.errors == []


def test_my_recent_answers_can_be_corrected(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid = labelling_project(site, 2)
    log_in(page, site, ann, f"p/{pid}/label")
    first = answer_by_keyboard(page, sentiment=2, stars=2)
    wait_until_gone(page, first)
    answer_by_keyboard(page, sentiment=1, stars=5)
    wait_for_the_end(page)
    page.get_by_text("All answers saved").wait_for()
    page.get_by_role("link", name="My answers").click()
    page.get_by_role("button", name=f"edit answer to item {first}").click()
    editor = page.get_by_role("form", name="edit your answer to item")
    editor.get_by_role("radio", name="neg").wait_for()
    assert editor.get_by_role("radio", name="neg").get_attribute("aria-checked") == "true"
    editor.get_by_role("radio", name="neu").click()
    editor.get_by_role("button", name="Save the corrected answer").click()
    page.locator("tr", has_text="sentiment: neu").wait_for()
    assert page.locator("tbody tr[data-answer]").count() == 2  # the latest answer per item
    values = {a["item_id"]: a["value"]["sentiment"] for a in site.answers(owner, pid)}  # last one wins
    assert values[int(first)] == "neu"
    assert len(site.answers(owner, pid)) == 3 and site.status(owner, pid)["answers"] == 2
    screenshot(page, "workbench-history")
    assert watch.dialogs == [] and watch.errors == []


def test_the_page_keeps_its_leases_alive(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, other = site.person("owner"), site.person("ann"), site.person("other")
    pid = site.project(owner, SCHEMA, lease_seconds=2, members={"annotator": [ann, other]})
    site.import_records(owner, pid, [{"id": f"r{i}", "text": f"review {i}"} for i in range(2)])
    log_in(page, site, ann, f"p/{pid}/label")
    page.locator("form.task").wait_for()
    page.wait_for_timeout(4500)  # more than twice the lease: only renewals keep both items held
    r = site.http.post(f"/api/projects/{pid}/tasks/next", headers=other.headers)
    assert r.status_code == 204  # the shown and the prefetched item are still ann's
    assert watch.errors == []


def test_my_answers_come_newest_first_and_older_ones_on_demand(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, pid = labelling_project(site, 55)
    for n in range(55):
        task = site.http.post(f"/api/projects/{pid}/tasks/next", headers=ann.headers).json()
        r = site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=ann.headers,
                           json={"value": {"sentiment": "pos", "stars": n % 5 + 1}})
        assert r.status_code == 201, r.text
    newest = max(a["id"] for a in site.answers(owner, pid))
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/answers?" in r.url else None)
    log_in(page, site, ann, f"p/{pid}/history")
    rows = page.locator("tbody tr[data-answer]")
    rows.nth(49).wait_for()
    assert rows.count() == 50 and rows.first.get_attribute("data-answer") == str(newest)
    assert len(asked) == 1 and "newest_first=true" in asked[0]  # one page, not every answer
    oldest_shown = rows.last.get_attribute("data-answer")
    page.get_by_role("button", name="Show older answers").click()
    rows.nth(54).wait_for()
    assert f"before={oldest_shown}" in asked[-1]
    ids = [int(str(r.get_attribute("data-answer"))) for r in rows.all()]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 55
    assert page.get_by_role("button", name="Show older answers").count() == 0
    assert watch.dialogs == [] and watch.errors == []


def test_a_round_of_the_loop_pre_labels_the_next_tasks(page: Any, site: Site, watch: Watch) -> None:
    owner = site.person("owner")
    ann = site.person("ann")
    schema = {"fields": [{"name": "text"}],
              "questions": [{"name": "topic", "type": "choice", "options": ["sport", "food"]}]}
    pid = site.project(owner, schema, members={"annotator": [ann]})
    site.http.patch(f"/api/projects/{pid}", headers=owner.headers,
                    json={"loop": {"autolabel_target": None, "min_labels": 10, "preselect": True}})
    words = {"sport": "match goal team score coach", "food": "recipe dinner sauce bread chef"}
    site.import_records(owner, pid, [{"id": f"i{n}", "text": f"{words[t]} number {n}", "topic": t}
                                     for n, t in enumerate(["sport", "food"] * 15)])
    for _ in range(20):  # the annotator labels twenty items through the API
        t = site.http.post(f"/api/projects/{pid}/tasks/next", headers=ann.headers).json()
        site.http.post(f"/api/projects/{pid}/items/{t['item_id']}/answers", headers=ann.headers,
                       json={"value": {"topic": t["meta"]["topic"]}})
    r = site.http.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    assert r.json()["status"] == "succeeded", r.text
    log_in(page, site, ann, f"p/{pid}/label")
    topic = page.locator("fieldset[data-question='topic']")
    topic.get_by_text("model suggestion").wait_for()
    shown = page.locator("main").inner_text()
    expected = "sport" if "match goal" in shown else "food"
    assert topic.get_by_role("radio", name=expected).get_attribute("aria-checked") == "true"
    assert watch.errors == []
