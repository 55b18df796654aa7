"""Feedback answers where answers are listed: the review queue's cards (a preference in words, a
ranking as 1. 2. 3., criteria as a table, a rewrite as its diff, flagged words quoted), a decision
started from an answer, and the item page's words."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Watch
from tests.web.feedback_items import schema_with
from tests.web.site import Person, Site
from tests.web.test_review import showing
from tests.web.test_workbench import log_in

RESPONSES = [
    {"id": "r1", "content": "Paris is the capital of Italy.", "model": "m-one"},
    {"id": "r2", "content": "Paris is the capital of France.", "model": "m-two"},
    {"id": "r3", "content": "It is Paris.", "model": "m-three"},
]
SCHEMA = schema_with(
    {"name": "better", "type": "preference", "target": "responses", "strength": True, "reason": "optional"},
    {"name": "order", "type": "ranking", "target": "responses"},
    {"name": "rate", "type": "criteria", "target": "responses",
     "criteria": [{"name": "helpful", "label": "Helpful"}, {"name": "correct", "label": "Correct"}]},
    {"name": "fix", "type": "rewrite", "target": "responses"},
    {"name": "flags", "type": "response_spans", "target": "responses", "labels": [{"value": "halluc", "label": "Hallucination"}]},
)
ANSWERS = [
    {"better": {"left": "r1", "right": "r2", "winner": "right", "strength": 3, "reason": "r1 is <b>wrong</b>"},
     "order": {"order": ["r2", "r3", "r1"]},
     "rate": {"r1": {"helpful": 2, "correct": 1}, "r2": {"helpful": 5, "correct": 5}, "r3": {"helpful": 3, "correct": 5}},
     "fix": {"response": "r1", "text": "Paris is the capital of France."},
     "flags": {"response": "r1", "spans": [{"start": 24, "end": 29, "label": "halluc"}]}},
    {"better": {"left": "r2", "right": "r3", "winner": "tie", "strength": None, "reason": None},
     "order": {"order": ["r3", "r2", "r1"]},
     "rate": {"r1": {"helpful": 1, "correct": 1}, "r2": {"helpful": 4, "correct": 5}, "r3": {"helpful": 4, "correct": 5}},
     "fix": {"response": "r3", "text": "It is Paris, in France."},
     "flags": {"response": "r2", "spans": []}},
]


def answered(site: Site) -> tuple[Person, Person, int, int]:
    owner, reviewer = site.person("owner"), site.person("reviewer")
    people = [site.person("ann"), site.person("bob")]
    pid = site.project(owner, SCHEMA, overlap=2, members={"reviewer": [reviewer], "annotator": people})
    site.import_records(owner, pid, [{"id": "q1", "prompt": "What is the capital of France?", "responses": RESPONSES}])
    for who, value in zip(people, ANSWERS, strict=True):
        task = site.http.post(f"/api/projects/{pid}/tasks/next", headers=who.headers).json()
        r = site.http.post(f"/api/projects/{pid}/items/{task['item_id']}/answers", headers=who.headers,
                           json={"value": value, "duration_ms": 5000})
        assert r.status_code == 201, r.text
    item_id = int(task["item_id"])
    assert site.http.post(f"/api/projects/{pid}/items/{item_id}/flag", headers=owner.headers).status_code == 204
    return owner, reviewer, pid, item_id


def shown(card: Any, question: str) -> Any:
    """What an answer card shows for one question."""
    return card.locator("dt", has_text=question).locator("xpath=following-sibling::dd[1]")


def test_review_cards_show_feedback_answers_in_words_and_a_decision_starts_from_one(
    page: Any, site: Site, watch: Watch,
) -> None:
    owner, reviewer, pid, item_id = answered(site)
    log_in(page, site, reviewer, f"p/{pid}/review")
    showing(page, "q1")
    card = page.locator("article.answer-card").first
    card.locator(".fb-ranking li").nth(2).wait_for()
    assert shown(card, "better").inner_text() == "B (r2) better than A (r1), much better: “r1 is <b>wrong</b>”"
    assert card.locator(".fb-ranking li").all_inner_texts() == ["r2", "r3", "r1"]
    assert card.locator(".fb-criteria tbody tr").all_inner_texts() == ["r1\t2\t1", "r2\t5\t5", "r3\t3\t5"]
    # the server's diff (difflib's, on characters), drawn as it is stored
    [stored_fix] = [a["value"]["fix"] for a in site.answers(owner, pid) if a["value"]["fix"]["response"] == "r1"]
    before, after = RESPONSES[0]["content"], ANSWERS[0]["fix"]["text"]
    assert "".join(card.locator(".fb-rewrite del").all_inner_texts()) == "".join(
        before[a0:a1] for op, a0, a1, _b0, _b1 in stored_fix["diff"] if op in ("delete", "replace"))
    assert "".join(card.locator(".fb-rewrite ins").all_inner_texts()) == "".join(
        after[b0:b1] for op, _a0, _a1, b0, b1 in stored_fix["diff"] if op in ("insert", "replace"))
    assert shown(card, "flags").inner_text() == "r1: Hallucination “Italy”"
    second = page.locator("article.answer-card").nth(1)
    assert shown(second, "better").inner_text() == "A (r2) and B (r3) tie"
    assert shown(second, "flags").inner_text() == "r2: nothing flagged"
    assert page.locator("main b, main script, main img").count() == 0
    assert "m-one" not in page.locator("main").inner_text()  # the models stay out of the widgets

    # the decision starts from the first answer: its preference keeps the pair the annotator saw
    card.get_by_role("button", name="start from the answer of").click()
    page.locator(".candidates article.candidate.chosen[data-response='r2']").first.wait_for()
    page.keyboard.press("Enter")
    page.get_by_text("Nothing waits for review.").wait_for()
    [decision] = [a for a in site.answers(owner, pid) if a["source"] == "review"]
    expected = {**ANSWERS[0], "fix": {**ANSWERS[0]["fix"], "diff": decision["value"]["fix"]["diff"]}}
    assert decision["value"] == expected
    assert decision["value"]["fix"]["diff"][0] == ["equal", 0, 24, 0, 24]

    # the item page lists every answer in words
    page.goto(f"{site.url}/app/#/p/{pid}/items/{item_id}")
    rows = page.locator("table.data td.answer")
    rows.nth(2).wait_for()
    text = rows.first.inner_text()
    assert "better: B (r2) better than A (r1), much better" in text
    assert "order: 1. r2 2. r3 3. r1" in text
    assert "rate: r1: Helpful 2, Correct 1; r2: Helpful 5, Correct 5; r3: Helpful 3, Correct 5" in text
    deleted = sum(a1 - a0 for op, a0, a1, _b0, _b1 in stored_fix["diff"] if op != "equal")
    inserted = sum(b1 - b0 for op, _a0, _a1, b0, b1 in stored_fix["diff"] if op != "equal")
    assert f"fix: r1 rewritten ({deleted} characters deleted, {inserted} inserted): “Paris is the capital of France.”" in text
    assert "flags: r1: Hallucination “Italy”" in text
    assert watch.dialogs == [] and watch.errors == []
