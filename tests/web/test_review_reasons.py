"""The review page says why each item is there, in a real browser: disputed answers (who said
what), an unsure consensus against the project's threshold, a flag by hand, and a model's
suspicion with its answer in the schema's labels and its confidence; and the Loop page says why
a round flagged nothing."""

from __future__ import annotations

import random
from typing import Any

from tests.platform.test_loop_flow import WORDS, corpus, text
from tests.web.conftest import Watch
from tests.web.screens import screenshot
from tests.web.site import Person, Site
from tests.web.test_review import showing
from tests.web.test_workbench import log_in

LABELS = {"sport": "Sport", "food": "Food", "music": "Music"}
SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "topic", "label": "Topic", "type": "choice",
                   "options": [{"value": v, "label": lab} for v, lab in LABELS.items()]}],
}
TWO: dict[str, Any] = {**SCHEMA, "questions": [{**SCHEMA["questions"][0], "options": [
    {"value": v, "label": LABELS[v]} for v in WORDS]}]}


def answer(site: Site, who: Person, pid: int, value: Any) -> None:
    """`who` answers every task left for them with value(external_id)."""
    while (t := site.http.post(f"/api/projects/{pid}/tasks/next", headers=who.headers)).status_code == 200:
        task = t.json()
        r = site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=who.headers,
                           json={"value": {"topic": value(task["external_id"])}})
        assert r.status_code == 201, r.text


def reasons_on_screen(page: Any, external_id: str) -> dict[str, str]:
    showing(page, external_id)
    why = page.get_by_role("region", name="why this item is in review")
    items = why.locator("li")
    return {str(items.nth(k).get_attribute("data-reason")): items.nth(k).inner_text() for k in range(items.count())}


def test_each_reason_shows_its_sentence(page: Any, site: Site, watch: Watch) -> None:
    owner, reviewer = site.person("owner"), site.person("reviewer")
    a, b = site.person("ann"), site.person("bob")
    pid = site.project(owner, SCHEMA, overlap=2, members={"reviewer": [reviewer], "annotator": [a, b]})
    r = site.http.patch(f"/api/projects/{pid}", headers=owner.headers, json={"quality": {"review_below": 0.95}})
    assert r.status_code == 200, r.text
    site.import_records(owner, pid, [{"id": k, "text": f"{k} <b>x</b>"} for k in ("calm", "torn", "agreed")])
    items = {i["external_id"]: i["id"] for i in site.http.get(f"/api/projects/{pid}/items", headers=owner.headers).json()}
    r = site.http.post(f"/api/projects/{pid}/items/{items['calm']}/flag", headers=owner.headers)
    assert r.status_code == 204  # flagged by hand before anyone answered
    answer(site, a, pid, lambda ext: "sport")
    answer(site, b, pid, lambda ext: "food" if ext == "torn" else "sport")
    sure = {k: site.http.get(f"/api/projects/{pid}/items/{i}", headers=owner.headers).json()["item"]["consensus"]["confidence"]
            for k, i in items.items()}
    pct = {k: f"{round(100 * c)}%" for k, c in sure.items()}

    log_in(page, site, reviewer, f"p/{pid}/review")
    assert reasons_on_screen(page, "calm") == {
        "flagged": "Flagged by hand: a reviewer or manager sent this item to review."}
    page.keyboard.press("Shift+Enter")
    assert reasons_on_screen(page, "torn") == {"low_confidence": (
        f"Disputed: the answers disagree (Topic: {a.username} says Sport, {b.username} says Food), and the "
        f"consensus is only {pct['torn']} sure, below the project's review threshold of 95%.")}
    screenshot(page, "review-reasons")
    page.keyboard.press("Shift+Enter")
    assert reasons_on_screen(page, "agreed") == {"low_confidence": (
        f"Unsure consensus: the consensus is only {pct['agreed']} sure, below the project's review "
        "threshold of 95%, though no answers disagree.")}
    assert page.locator("main b").count() == 0
    assert watch.dialogs == [] and watch.errors == []


def test_a_model_suspicion_says_what_the_model_answers(page: Any, site: Site, watch: Watch) -> None:
    owner, reviewer, ann = site.person("owner"), site.person("reviewer"), site.person("ann")
    pid = site.project(owner, TWO, members={"reviewer": [reviewer], "annotator": [ann]})
    r = site.http.patch(f"/api/projects/{pid}", headers=owner.headers,
                        json={"quality": {"review_below": 0.0}, "loop": {"autolabel_target": None}})
    assert r.status_code == 200, r.text
    truth = corpus(40, seed=6)
    rng = random.Random(8)
    site.import_records(owner, pid, [{"id": k, "text": text(v, rng)} for k, v in truth.items()])
    wrong = set(list(truth)[:4])
    answer(site, ann, pid, lambda ext: next(x for x in WORDS if x != truth[ext]) if ext in wrong else truth[ext])
    round_ = site.http.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers).json()
    result = round_["result"]
    assert round_["status"] == "succeeded" and result["flagging"]["allowed"] and result["label_issues"] >= 1
    first = site.http.get(f"/api/projects/{pid}/review/next", headers=reviewer.headers).json()["item"]
    issue = first["label_issue"]
    model_says = issue["model_answer"]["value"]["topic"]
    given = first["consensus"]["value"]["topic"]
    assert model_says != given and first["review_reasons"] == issue["reasons"]

    log_in(page, site, reviewer, f"p/{pid}/review")
    shown = reasons_on_screen(page, first["external_id"])
    assert shown["model_disagrees"] == (
        f"Model suspicion: Model {result['model_version']} answers Topic: {LABELS[model_says]} with "
        f"{round(100 * issue['model_answer']['confidence'])}% confidence, against the consensus "
        f"Topic: {LABELS[given]} (it flags from 90%).")
    if "unlikely_label" in issue["reasons"]:
        assert shown["unlikely_label"] == (
            "The label is also unlikely: its out-of-fold probability is among the low group of all the labels.")
    assert set(shown) == set(issue["reasons"])
    assert watch.dialogs == [] and watch.errors == []


def test_the_loop_page_says_why_a_round_flagged_nothing(page: Any, site: Site, watch: Watch) -> None:
    owner, ann = site.person("owner"), site.person("ann")
    pid = site.project(owner, SCHEMA, members={"annotator": [ann]})
    r = site.http.patch(f"/api/projects/{pid}", headers=owner.headers,
                        json={"loop": {"min_labels": 5, "autolabel_target": None, "label_error_min_per_class": 3}})
    assert r.status_code == 200, r.text
    noise = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta", "zeta", "lambda"]
    rng = random.Random(1)
    site.import_records(owner, pid, [{"id": f"i{k}", "text": " ".join(rng.sample(noise, 5))} for k in range(9)])
    answer(site, ann, pid, lambda ext: list(LABELS)[int(ext[1:]) % 3])

    log_in(page, site, owner, f"p/{pid}/loop")
    page.get_by_role("button", name="Run a round").click()
    page.get_by_role("status").filter(has_text="The round is done.").wait_for()
    withheld = page.locator(".round-result li.flags-withheld").inner_text()
    assert withheld.startswith("No label errors flagged: model not yet better than chance: ")
    assert "at 95%; always answering the commonest class gets 33%" in withheld
    page.get_by_text("The last round flagged nothing: model not yet better than chance").wait_for()
    assert watch.dialogs == [] and watch.errors == []
