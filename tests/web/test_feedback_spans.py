"""Flagged words in a response, in the browser: the spans widget over one response's text (keys and
mouse selection), < > to pick the response, 0 for nothing to flag; offsets into that response."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Watch
from tests.web.feedback_items import (
    feedback_project,
    open_workbench,
    schema_with,
    stored,
    submit_and_wait_for_the_end,
)
from tests.web.site import Site
from tests.web.test_spans_ui import drag
from tests.web.waits import wait_for_the_end

RESPONSES = [
    {"id": "r1", "content": "Paris is the capital of Italy since 1200."},
    {"id": "r2", "content": "The Eiffel Tower is in Berlin."},
]
FLAGS = {"name": "flags", "type": "response_spans", "target": "responses", "label": "Flag problems",
         "labels": ["hallucination", "unsafe"]}


def selected(page: Any) -> str:
    return str(page.locator("article.candidate.selected").get_attribute("data-response"))


def test_flag_words_by_keyboard_in_the_response_picked(page: Any, site: Site, watch: Watch) -> None:
    owner, [ann], pid = feedback_project(site, schema_with(FLAGS), [{"id": "f", "prompt": "p", "responses": RESPONSES}])
    open_workbench(page, site, ann, pid)
    if selected(page) != "r1":
        page.keyboard.press(">")
        page.locator("article.candidate.selected[data-response='r1']").wait_for()
    text = page.locator("article.candidate.selected .span-text")
    assert text.inner_text() == RESPONSES[0]["content"]
    for _ in range(6):  # Paris is the capital of Italy
        page.keyboard.press("ArrowRight")
    page.keyboard.press("1")
    page.get_by_role("status").get_by_text("Tagged “Italy” as hallucination").wait_for()
    for _ in range(2):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowLeft")  # "since 1200"
    page.keyboard.press("1")
    page.locator(".span-list li").nth(1).wait_for()
    submit_and_wait_for_the_end(page)
    assert stored(site, owner, pid) == [{"flags": {"response": "r1", "spans": [
        {"start": 24, "end": 29, "label": "hallucination"},
        {"start": 30, "end": 40, "label": "hallucination"},
    ]}}]
    assert watch.dialogs == [] and watch.errors == []


def test_flag_by_mouse_switch_responses_and_say_there_is_nothing(page: Any, site: Site, watch: Watch) -> None:
    records = [{"id": f"f{i}", "prompt": f"p{i}", "responses": RESPONSES} for i in range(2)]
    owner, [ann], pid = feedback_project(site, schema_with(FLAGS), records)
    open_workbench(page, site, ann, pid)
    page.locator("article.candidate[data-response='r2']").click()  # a click on a response flags in it
    page.locator("article.candidate.selected[data-response='r2']").wait_for()
    page.get_by_role("radio", name="unsafe").click()
    drag(page, 5, 5)  # "Berlin": the words of the selected response are the tokens
    page.get_by_role("status").get_by_text("Tagged “Berlin” as unsafe").wait_for()
    page.keyboard.press("<")  # another response: the flags on this one go, Backspace brings them back
    page.get_by_role("status").get_by_text("Flags on Response").wait_for()
    assert page.locator(".span-list li").count() == 0
    page.keyboard.press("Backspace")
    page.locator(".span-list li").first.wait_for()
    assert selected(page) == "r2"
    page.get_by_role("button", name="Submit").click()
    page.locator(".span-list li").first.wait_for(state="detached")

    page.locator("form.task .span-text").wait_for()
    page.keyboard.press("0")  # the next item: nothing to flag in the response on screen
    shown = selected(page)
    page.get_by_role("button", name="Submit").click()
    wait_for_the_end(page)
    values = sorted((v["flags"] for v in stored(site, owner, pid)), key=lambda v: len(v["spans"]))
    assert values == [{"response": shown, "spans": []},
                      {"response": "r2", "spans": [{"start": 23, "end": 29, "label": "unsafe"}]}]
    assert watch.dialogs == [] and watch.errors == []
