"""Model suggestions in a real browser (issue #10, finding 2): shown beside the questions and
applied with one key, pre-filled only when the project turns pre-selection on; an answer that
kept the suggestion is exported as `unchanged`, a corrected one as `edited`; a model below the
accuracy bar suggests nothing; a page open when a round ends gets the new suggestion."""

from __future__ import annotations

import itertools
import json
from typing import Any

from tests.web.conftest import Watch
from tests.web.screens import screenshot
from tests.web.site import Person, Site
from tests.web.test_workbench import log_in, shown_item, wait_until_gone

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [
        {"name": "topic", "type": "choice", "options": ["sport", "food"]},
        {"name": "note", "type": "text", "required": False},
    ],
}
WORDS = {"sport": "match goal team score coach", "food": "recipe dinner sauce bread chef"}


def loop_project(site: Site, *, lease_seconds: int = 600) -> tuple[Person, Person, Person, int]:
    """A project whose items say their topic plainly; one annotator labels by API, one in the page."""
    owner, helper, ann = site.person("owner"), site.person("helper"), site.person("ann")
    pid = site.project(owner, SCHEMA, lease_seconds=lease_seconds, members={"annotator": [helper, ann]})
    r = site.http.patch(f"/api/projects/{pid}", headers=owner.headers,
                        json={"loop": {"autolabel_target": None, "min_labels": 10}})
    assert r.status_code == 200, r.text
    site.import_records(owner, pid, [{"id": f"i{n}", "text": f"{WORDS[t]} number {n}", "topic": t}
                                     for n, t in enumerate(["sport", "food"] * 15)])
    return owner, helper, ann, pid


def label_by_api(site: Site, pid: int, who: Person, n: int, answer: Any) -> None:
    for _ in range(n):
        t = site.http.post(f"/api/projects/{pid}/tasks/next", headers=who.headers).json()
        r = site.http.post(f"/api/projects/{pid}/items/{t['item_id']}/answers", headers=who.headers,
                           json={"value": {"topic": answer(t)}})
        assert r.status_code == 201, r.text


def run_round(site: Site, owner: Person, pid: int) -> dict[str, Any]:
    r = site.http.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    assert r.json()["status"] == "succeeded", r.text
    return dict(r.json()["result"])


def topic_of_shown(page: Any) -> str:
    return "sport" if "match goal" in page.locator("form.task").inner_text() else "food"


def radio(page: Any, value: str) -> Any:
    return page.locator("fieldset[data-question='topic']").get_by_role("radio", name=value)


def checked(page: Any) -> list[str]:
    return [v for v in WORDS if radio(page, v).get_attribute("aria-checked") == "true"]


def exported_answers(site: Site, owner: Person, pid: int, annotator: Person) -> dict[str, dict[str, Any]]:
    r = site.http.get(f"/api/projects/{pid}/export", params={"format": "jsonl"}, headers=owner.headers)
    assert r.status_code == 200, r.text
    rows = [json.loads(line) for line in r.text.splitlines()]
    return {row["id"]: a for row in rows for a in row["answers"] if a["annotator"] == annotator.username}


def test_a_suggestion_is_shown_not_pre_filled_and_the_export_says_what_was_kept(
    page: Any, site: Site, watch: Watch
) -> None:
    owner, helper, ann, pid = loop_project(site)
    label_by_api(site, pid, helper, 20, lambda t: t["meta"]["topic"])
    v = run_round(site, owner, pid)["model_version"]

    log_in(page, site, ann, f"p/{pid}/label")
    hint = page.get_by_role("complementary", name="suggestion")
    hint.wait_for()
    first = shown_item(page)
    said = topic_of_shown(page)  # the model is right on these texts
    assert f"Model {v} suggests" in hint.inner_text() and said in hint.inner_text()
    assert checked(page) == []  # shown, not pre-filled
    assert page.locator("fieldset[data-question='topic']").get_by_text("model suggestion").count() == 0
    screenshot(page, "workbench-suggestion")
    page.keyboard.press("Enter")  # nothing chosen yet: nothing is submitted
    page.get_by_text("“topic” needs an answer").wait_for()
    page.keyboard.press("a")  # one key applies the suggestion
    assert checked(page) == [said]
    page.locator("fieldset[data-question='topic']").get_by_text("model suggestion").wait_for()
    assert hint.get_by_role("button", name="Suggestion in use").is_disabled()
    page.keyboard.press("Enter")
    wait_until_gone(page, first)

    second = shown_item(page)
    said2 = topic_of_shown(page)
    hint.get_by_role("button", name="Use the suggestion").click()  # a click does the same
    assert checked(page) == [said2]
    page.keyboard.press("1" if said2 == "food" else "2")  # the annotator corrects the model
    assert checked(page) == [next(t for t in WORDS if t != said2)]
    page.keyboard.press("Enter")
    wait_until_gone(page, second)
    page.get_by_text("All answers saved").wait_for()

    got = exported_answers(site, owner, pid, ann)
    by_item = {a["answer_id"]: a for a in got.values()}
    assert len(by_item) == 2 and all(a["source"] == "human" for a in by_item.values())
    first_answer, second_answer = sorted(by_item.values(), key=lambda a: a["answer_id"])
    assert first_answer["value"] == {"topic": said}
    assert first_answer["suggestion"] == {"from": "model", "model_version": v, "preselected": False,
                                          "questions": {"topic": "unchanged", "note": "none"}}
    assert second_answer["suggestion"]["questions"] == {"topic": "edited", "note": "none"}
    assert watch.dialogs == [] and watch.errors == []


def test_pre_selection_is_a_project_setting(page: Any, site: Site, watch: Watch) -> None:
    owner, helper, ann, pid = loop_project(site)
    label_by_api(site, pid, helper, 20, lambda t: t["meta"]["topic"])
    run_round(site, owner, pid)

    log_in(page, site, owner, f"p/{pid}/loop")
    form = page.get_by_role("form", name="loop settings")
    box = form.get_by_label("Pre-fill answers with the suggestion")
    assert not box.is_checked()  # off unless the project turns it on
    box.check()
    form.get_by_role("button", name="Save loop settings").click()
    form.get_by_text("Saved.").wait_for()
    project = site.http.get(f"/api/projects/{pid}", headers=owner.headers).json()
    assert project["loop"]["preselect"] is True

    page.get_by_role("button", name="Sign out").click()
    log_in(page, site, ann, f"p/{pid}/label")
    topic = page.locator("fieldset[data-question='topic']")
    topic.get_by_text("model suggestion").wait_for()
    said = topic_of_shown(page)
    assert checked(page) == [said]  # pre-filled: Enter accepts it
    first = shown_item(page)
    page.keyboard.press("Enter")
    wait_until_gone(page, first)
    page.get_by_text("All answers saved").wait_for()
    [answer] = exported_answers(site, owner, pid, ann).values()
    assert answer["suggestion"]["preselected"] is True
    assert answer["suggestion"]["questions"]["topic"] == "unchanged"
    assert watch.dialogs == [] and watch.errors == []


def test_a_model_below_the_bar_suggests_nothing(page: Any, site: Site, watch: Watch) -> None:
    owner, helper, ann, pid = loop_project(site)
    # items come in id order, sport and food in turn: labels in pairs say nothing about the texts
    turn = itertools.cycle(["sport", "sport", "food", "food"])
    label_by_api(site, pid, helper, 20, lambda t: next(turn))
    result = run_round(site, owner, pid)
    assert result["oof_accuracy"] < 0.8, result  # under the default bar

    log_in(page, site, ann, f"p/{pid}/label")
    page.locator("form.task").wait_for()
    page.get_by_role("button", name="Submit").wait_for()
    assert page.get_by_role("complementary", name="suggestion").count() == 0
    assert page.get_by_text("model suggestion").count() == 0 and checked(page) == []

    # the same model with the bar lifted does suggest: the page above hid a real suggestion
    r = site.http.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"suggest_min_accuracy": None}})
    assert r.status_code == 200, r.text
    page.reload()
    hint = page.get_by_role("complementary", name="suggestion")
    hint.wait_for()
    assert f"Model {result['model_version']} suggests" in hint.inner_text()
    assert watch.dialogs == [] and watch.errors == []


def test_an_open_page_gets_a_new_rounds_suggestion_without_a_reload(page: Any, site: Site, watch: Watch) -> None:
    owner, helper, ann, pid = loop_project(site, lease_seconds=3)  # leases renewed every second
    r = site.http.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"preselect": True}})
    assert r.status_code == 200, r.text
    label_by_api(site, pid, helper, 20, lambda t: t["meta"]["topic"])

    log_in(page, site, ann, f"p/{pid}/label")
    page.locator("form.task").wait_for()
    shown = shown_item(page)
    page.evaluate("() => { window.notReloaded = true; }")
    topic = page.locator("fieldset[data-question='topic']")
    assert topic.get_by_text("model suggestion").count() == 0 and checked(page) == []  # no model yet

    v = run_round(site, owner, pid)["model_version"]
    topic.get_by_text("model suggestion").wait_for()  # the round's suggestion, pre-filled in place
    assert page.evaluate("() => window.notReloaded === true") and shown_item(page) == shown
    assert checked(page) == [topic_of_shown(page)]
    assert f"Model {v} suggests" in page.get_by_role("complementary", name="suggestion").inner_text()
    page.keyboard.press("Enter")
    wait_until_gone(page, shown)
    # the item fetched ahead before the round shows the round's suggestion too
    topic.get_by_text("model suggestion").wait_for()
    assert checked(page) == [topic_of_shown(page)]
    page.get_by_text("All answers saved").wait_for()
    [answer] = exported_answers(site, owner, pid, ann).values()
    assert answer["suggestion"] == {"from": "model", "model_version": v, "preselected": True,
                                    "questions": {"topic": "unchanged", "note": "none"}}
    assert watch.dialogs == [] and watch.errors == []
