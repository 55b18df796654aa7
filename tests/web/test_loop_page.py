"""The learning loop's page in a real browser: a round run from the button and followed to its
result, the learning curve (one point per round), a saved setting and a refused one."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Watch
from tests.web.screens import screenshot
from tests.web.site import Site
from tests.web.test_workbench import log_in

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "topic", "type": "choice", "options": ["sport", "food"]}],
}
WORDS = {"sport": "match goal team score coach", "food": "recipe dinner sauce bread chef"}
CURVE = "Learning curve: accuracy against human answers"


def test_the_loop_page_runs_a_round_draws_the_curve_and_edits_settings(
    page: Any, site: Site, watch: Watch
) -> None:
    owner = site.person("owner")
    ann = site.person("ann")
    pid = site.project(owner, SCHEMA, members={"annotator": [ann]})
    r = site.http.patch(f"/api/projects/{pid}", headers=owner.headers, json={
        "loop": {"min_labels": 10}, "quality": {"gold_first": 4, "gold_rate": 0}})  # gold first, then none
    assert r.status_code == 200, r.text
    site.import_records(owner, pid, [
        {"id": f"i{n}", "text": f"{WORDS[t]} number {n}", "topic": t, **({"gold": {"topic": t}} if n < 4 else {})}
        for n, t in enumerate(["sport", "food"] * 22)])

    def label(n: int) -> None:  # the annotator labels n items (gold ones first) through the API
        for _ in range(n):
            t = site.http.post(f"/api/projects/{pid}/tasks/next", headers=ann.headers).json()
            r = site.http.post(f"/api/projects/{pid}/items/{t['item_id']}/answers", headers=ann.headers,
                               json={"value": {"topic": t["meta"]["topic"]}})
            assert r.status_code == 201, r.text

    def round_by_api() -> dict[str, Any]:
        r = site.http.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
        assert r.json()["status"] == "succeeded", r.text
        return dict(r.json()["result"])

    assert round_by_api()["trained"] is False  # nothing labelled yet: a cold start
    label(14)
    assert round_by_api()["labelled"] == 10  # the four gold items are not training data
    label(10)

    log_in(page, site, owner, f"p/{pid}/manage")
    page.get_by_role("link", name="Learning loop").click()
    chart = page.get_by_role("img", name=CURVE)
    chart.wait_for()
    # the cold start measured no accuracy: it is in the table, not a point on the curve
    assert chart.locator("g.round").count() == 1
    assert chart.locator("g.round[data-round='1'], circle.cold").count() == 0
    assert "(cold start) is in the table only" in page.locator("figure.chart figcaption").inner_text()
    assert "not trained" in page.locator("table.rounds tr[data-round='1']").inner_text()
    assert "out-of-fold accuracy" in chart.locator("g.round[data-round='2'] > title").text_content()

    # run a round with the button and follow it to its result
    run = page.get_by_role("button", name="Run a round")
    page.evaluate("""() => {  // what the round's status line and progress bar showed on the way
        window.seen = [];
        const status = document.querySelector("p.round-status");
        new MutationObserver(() => {
            const bar = document.querySelector("progress.round-progress");
            window.seen.push([status.textContent, bar && `${bar.value}/${bar.max}`]);
        }).observe(document.querySelector("div.round-run"), {subtree: true, childList: true, characterData: true});
    }""")
    # A round on 44 items can end before the first poll: the first answer about the job is made
    # to say it is embedding (as a real round says for a moment), so the page must show that step.
    polls: list[int] = []

    def first_poll_running(route: Any) -> None:
        polls.append(1)
        if len(polls) > 1:
            return route.continue_()
        job = route.fetch().json()
        route.fulfill(json={**job, "status": "running", "progress_done": 1, "progress_total": 7,
                            "message": "embedding 44 items", "result": None, "finished_at": None})

    page.route("**/api/jobs/*", first_poll_running)
    run.click()
    page.get_by_role("status").filter(has_text="The round is done.").wait_for(timeout=60_000)
    result = page.locator("section.round-result")
    result.get_by_text("Trained on 20 labelled items (24 human answers so far)").wait_for()
    result.get_by_text("Out-of-fold accuracy:").wait_for()
    result.get_by_text("Accuracy on 4 gold items:").wait_for()
    assert run.evaluate("b => document.activeElement === b")  # the button kept the focus
    seen = [tuple(x) for x in page.evaluate("window.seen")]
    assert ("Step 2 of 7: embedding 44 items…", "1/7") in seen, seen
    assert all(bar is None for text, bar in seen if text == "The round is done."), seen

    # the curve: one point per round, the new one with its accuracy, and the table with it
    chart.locator("g.round[data-round='3']").wait_for()
    rounds = site.http.get(f"/api/projects/{pid}/loop/rounds", headers=owner.headers).json()
    assert [r["metrics"]["human_answers"] for r in rounds] == [0, 14, 24]
    assert chart.locator("g.round").count() == 2  # the two trained rounds
    assert chart.locator("g.round circle.dot").count() == 2  # out-of-fold accuracy
    assert chart.locator("g.round rect.gold-mark").count() == 2  # accuracy on gold
    assert chart.locator("polyline.curve").count() == 2
    note = chart.locator("g.round[data-round='3'] > title").text_content()
    assert note.startswith(f"Round 3 (model {rounds[2]['model_version']}): 24 human answers, 20 labelled items")
    assert "out-of-fold accuracy" in note and "on 4 gold items" in note
    assert page.locator("table.rounds tbody tr").count() == 3
    screenshot(page, "loop")

    # a setting saved: only the changed key is sent
    settings = page.get_by_role("form", name="loop settings")
    settings.get_by_label("Queue order after a round").select_option("margin")
    settings.get_by_role("button", name="Save loop settings").click()
    settings.get_by_text("Saved.").wait_for()
    loop = site.http.get(f"/api/projects/{pid}", headers=owner.headers).json()["loop"]
    assert loop["strategy"] == "margin" and loop["min_labels"] == 10
    # the text model's settings: n-grams on by default, fine-tuning off, its budget
    assert settings.get_by_label("Stack word and character n-grams").is_checked()
    settings.get_by_label("Fine-tune MiniLM on part of the labels each round").check()
    settings.get_by_label("Time budget of the fine-tuning, in seconds").fill("90")
    settings.get_by_role("button", name="Save loop settings").click()
    settings.get_by_text("Saved.").wait_for()
    loop = site.http.get(f"/api/projects/{pid}", headers=owner.headers).json()["loop"]
    assert (loop["finetune"], loop["finetune_seconds"], loop["ngrams"]) == (True, 90, True)

    # a setting refused by the server: its problem is shown next to it
    target = settings.get_by_label("Auto-label when accuracy is provably at least")
    target.fill("2")
    settings.get_by_role("button", name="Save loop settings").click()
    problem = settings.locator("[data-setting='autolabel_target'] p.error")
    problem.wait_for()
    assert "less than 1" in problem.text_content()
    assert target.get_attribute("aria-invalid") == "true"
    assert target.get_attribute("aria-describedby") == problem.get_attribute("id")
    assert site.http.get(f"/api/projects/{pid}", headers=owner.headers).json()["loop"]["autolabel_target"] == 0.95

    # label issues lead to the data browser, filtered to what waits for review
    page.get_by_role("link", name="Items waiting for review").click()
    page.wait_for_url("**/#/p/*/items?review=pending")
    assert page.locator("select[name='review']").input_value() == "pending"
    assert watch.dialogs == [] and watch.errors == []


def test_a_round_that_fails_shows_why(page: Any, site: Site, watch: Watch) -> None:
    owner = site.person("owner")
    schema = {"fields": [{"name": "text", "type": "text"}],
              "questions": [{"name": "tags", "type": "multi_choice", "options": ["a", "b"]}]}
    pid = site.project(owner, schema)
    site.import_records(owner, pid, [{"id": f"i{n}", "text": f"item {n}"} for n in range(3)])
    log_in(page, site, owner, f"p/{pid}/loop")
    page.get_by_text("No round has run yet").wait_for()
    page.get_by_role("button", name="Run a round").click()
    alert = page.get_by_role("alert").filter(has_text="The round failed")
    alert.wait_for()
    assert "single-choice question" in alert.text_content()
    assert page.get_by_role("status").filter(has_text="The round failed.").count() == 1
    assert watch.dialogs == [] and watch.errors == []


def test_only_a_cold_start_draws_no_curve_and_each_question_is_listed_once(
    page: Any, site: Site, watch: Watch
) -> None:
    owner = site.person("owner")
    schema = {"fields": [{"name": "text", "type": "text"}], "questions": [
        {"name": "topic", "label": "Topic", "type": "choice", "options": ["sport", "food"]},
        {"name": "tags", "type": "multi_choice", "options": ["a", "b"]},
        {"name": "tone", "type": "choice", "options": ["calm", "angry"]},
    ]}
    pid = site.project(owner, schema)
    site.import_records(owner, pid, [{"id": f"i{n}", "text": f"item {n}"} for n in range(3)])
    r = site.http.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    assert r.json()["result"]["trained"] is False  # nothing labelled: a cold start
    log_in(page, site, owner, f"p/{pid}/loop")
    page.get_by_text("No round has trained a model yet").wait_for()
    assert page.get_by_role("img", name=CURVE).count() == 0  # no accuracy to plot, so no point at all
    assert "not trained" in page.locator("table.rounds tr[data-round='1']").inner_text()

    # the model learns a single-choice question: each is offered once, the first (the default) chosen
    settings = page.get_by_role("form", name="loop settings")
    question = settings.get_by_label("Question the model learns")
    assert question.locator("option").all_inner_texts() == ["Topic (topic)", "tone"]
    assert question.locator("option:checked").inner_text() == "Topic (topic)"
    settings.get_by_role("button", name="Save loop settings").click()
    settings.get_by_text("Nothing to save.").wait_for()  # the default shown is not a change
    for label, name in (("tone", "tone"), ("Topic (topic)", "topic")):
        question.select_option(label=label)
        with page.expect_response(lambda r: r.request.method == "PATCH") as saved:
            settings.get_by_role("button", name="Save loop settings").click()
        assert saved.value.request.post_data_json == {"loop": {"question": name}}  # only what changed
        settings.get_by_text("Saved.").wait_for()
        assert site.http.get(f"/api/projects/{pid}", headers=owner.headers).json()["loop"]["question"] == name
        assert question.locator("option").all_inner_texts() == ["Topic (topic)", "tone"]
    assert watch.dialogs == [] and watch.errors == []
