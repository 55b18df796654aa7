"""What each role sees of the pages it may not use (issue #10, finding 13): one clear page saying
which role is needed, no manager UI, a missing project said once, and no role offered that the
server would refuse."""

from __future__ import annotations

import time
from typing import Any

from tests.web.conftest import Watch
from tests.web.site import Site
from tests.web.test_workbench import log_in

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text"}],
    "questions": [{"name": "sentiment", "type": "choice", "options": ["positive", "negative"]}],
}


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Username").wait_for()  # signed out and sent to the start


def test_an_annotator_on_a_managers_page_is_told_which_role_it_needs(page: Any, site: Site, watch: Watch) -> None:
    owner, ann, rev = site.person("owner"), site.person("ann"), site.person("rev")
    pid = site.project(owner, SCHEMA, members={"annotator": [ann], "reviewer": [rev]})
    name = site.http.get(f"/api/projects/{pid}", headers=owner.headers).json()["name"]
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/items" in r.url or "/status" in r.url else None)
    log_in(page, site, ann, f"p/{pid}/items")
    page.get_by_role("heading", name="You need the reviewer role to see this").wait_for()
    main = page.locator("main")
    assert f"Your role in {name} is annotator." in main.inner_text()
    assert page.get_by_role("search").count() == 0 and page.locator("table").count() == 0
    assert page.locator(".error").count() == 0  # no red line from a refused request
    for route in ("manage", "quality", "loop"):
        page.goto(f"{site.url}/app/#/p/{pid}/{route}")
        page.get_by_role("heading", name="You need the manager role to see this").wait_for()
        assert page.get_by_role("heading", name="Add data").count() == 0
    assert asked == []  # the manager pages never even asked the server
    main.get_by_role("link", name="Start labelling").click()
    page.wait_for_url(f"**/#/p/{pid}/label")

    sign_out(page)
    log_in(page, site, rev, f"p/{pid}/items")
    page.get_by_role("search", name="filter items").wait_for()  # reviewers may browse items
    page.goto(f"{site.url}/app/#/p/{pid}/manage")
    page.get_by_role("heading", name="You need the manager role to see this").wait_for()
    assert watch.errors == []


def test_a_non_member_is_told_once_that_the_project_is_not_found(page: Any, site: Site, watch: Watch) -> None:
    owner, outsider = site.person("owner"), site.person("outsider")
    pid = site.project(owner, SCHEMA)
    log_in(page, site, outsider, f"p/{pid}/label")
    for route in ("label", "history", "items", "manage", "review", "quality", "loop", "items/1"):
        page.goto(f"{site.url}/app/#/p/{pid}/{route}")
        page.get_by_role("heading", name=f"Project {pid} not found").wait_for()
        text = page.locator("main").inner_text()
        assert text.lower().count("not found") == 1, (route, text)
        assert page.locator(".error").count() == 0, route
    assert watch.errors == []


def test_a_manager_is_not_offered_the_owner_role_only_owners_may_grant(page: Any, site: Site, watch: Watch) -> None:
    owner, manager, ann = site.person("owner"), site.person("manager"), site.person("ann")
    pid = site.project(owner, SCHEMA, members={"manager": [manager], "annotator": [ann]})
    log_in(page, site, manager, f"p/{pid}/manage")
    members = page.get_by_role("heading", name="Members").locator("xpath=..")
    members.locator(f"tr[data-member='{owner.username}']").wait_for()
    owner_row = members.locator(f"tr[data-member='{owner.username}']")
    assert owner_row.get_by_role("combobox").count() == 0 and owner_row.get_by_role("button").count() == 0
    assert "only an owner may change" in owner_row.inner_text()
    for select in (members.get_by_label(f"role of {ann.username}"), members.get_by_label("Role of the new member")):
        assert select.locator("option").all_inner_texts() == ["annotator", "reviewer", "manager"]
    with page.expect_response(lambda r: r.request.method == "PUT" and f"/members/{ann.id}" in r.url) as put:
        members.get_by_label(f"role of {ann.username}").select_option("reviewer")
    assert put.value.status == 200  # what the page offers, the server grants
    roles = {m["username"]: m["role"] for m in
             site.http.get(f"/api/projects/{pid}/members", headers=owner.headers).json()}
    assert roles[ann.username] == "reviewer"
    assert members.get_by_role("alert").count() == 0

    sign_out(page)
    log_in(page, site, owner, f"p/{pid}/manage")
    page.get_by_label(f"role of {manager.username}").wait_for()
    assert "owner" in page.get_by_label("Role of the new member").locator("option").all_inner_texts()
    assert page.get_by_label(f"role of {owner.username}").count() == 1  # owners may change owners
    assert watch.errors == []


def test_a_late_refusal_meant_for_the_last_user_does_not_sign_out_the_next(page: Any, site: Site, watch: Watch) -> None:
    """A request sent in one session and refused (401) after the next person signed in on the same
    tab answers the ended session: it must not send the new user back to the sign-in form."""
    owner, manager = site.person("owner"), site.person("manager")
    pid = site.project(owner, SCHEMA, members={"manager": [manager]})
    held: list[Any] = []

    def hold_the_first(route: Any) -> None:
        if not held and route.request.method == "GET":
            held.append(route)
        else:
            route.continue_()

    page.route(f"**/api/projects/{pid}/members", hold_the_first)
    log_in(page, site, manager, f"p/{pid}/manage")
    page.get_by_role("heading", name="Members").wait_for()
    deadline = time.monotonic() + 15
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert held, "the manager's member list was never asked for"
    sign_out(page)
    log_in(page, site, owner, f"p/{pid}/manage")
    page.get_by_label(f"role of {manager.username}").wait_for()
    with page.expect_response(lambda r: r.status == 401):
        held[0].fulfill(status=401, json={"error": {"message": "not signed in"}})
    page.wait_for_timeout(300)  # time for the app to act on the refusal, had it been going to
    assert page.get_by_role("button", name="Sign in").count() == 0
    assert page.get_by_label(f"role of {manager.username}").is_visible()
    assert watch.errors == []


def test_anyone_signed_in_may_start_a_project_and_owns_it(page: Any, site: Site, watch: Watch) -> None:
    """docs/architecture.md, "Who may do what": creating a project needs no role, so every
    signed-in user is offered "New project" and becomes the new project's owner."""
    ann = site.person("ann")
    log_in(page, site, ann)
    page.get_by_role("link", name="New project").click()
    page.get_by_label("Name").fill(f"my own {ann.username}")
    page.get_by_text("The schema is valid.").wait_for()
    page.get_by_role("button", name="Create project").click()
    page.get_by_role("heading", name="Progress").wait_for()
    mine = [p for p in site.http.get("/api/projects", headers=ann.headers).json() if p["name"] == f"my own {ann.username}"]
    assert [p["role"] for p in mine] == ["owner"]
    assert watch.errors == []
