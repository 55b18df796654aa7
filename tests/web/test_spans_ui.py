"""Tagging text spans in the browser: by keyboard, by mouse selection snapped to words, nested."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Watch
from tests.web.screens import screenshot
from tests.web.site import Site
from tests.web.test_workbench import log_in
from tests.web.waits import wait_for_the_end

TEXT = "Ada Lovelace met Charles Babbage in London."
SCHEMA = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "ents", "type": "spans", "target": "text", "labels": ["PER", "ORG", "LOC"],
                   "allow_overlap": True}],
}


def drag(page: Any, first: int, last: int, *, into: float = 0.3) -> None:
    """Select with the mouse from inside token `first` to inside token `last` (not word-aligned)."""
    a = page.locator(f".span-text .tok[data-t='{first}']").bounding_box()
    b = page.locator(f".span-text .tok[data-t='{last}']").bounding_box()
    page.mouse.move(a["x"] + a["width"] * into, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] * (1 - into), b["y"] + b["height"] / 2, steps=5)
    page.mouse.up()


def test_tag_spans_by_keyboard_and_by_mouse_with_nesting(page: Any, site: Site, watch: Watch) -> None:
    owner, ann = site.person("owner"), site.person("ann")
    pid = site.project(owner, SCHEMA, members={"annotator": [ann]})
    site.import_records(owner, pid, [{"id": "s1", "text": TEXT}])
    log_in(page, site, ann, f"p/{pid}/label")
    page.locator(".span-text").wait_for()
    spans = page.locator(".span-list li")

    # keyboard: caret to "Ada", extend over "Lovelace", tag with label 1 (PER)
    for key in ("ArrowRight", "Shift+ArrowRight", "1"):
        page.keyboard.press(key)
    spans.first.wait_for()
    assert spans.first.inner_text().startswith("PER") and "Ada Lovelace" in spans.first.inner_text()

    # mouse: ] picks the next label (ORG); a sloppy selection snaps out to whole words
    page.keyboard.press("]")
    drag(page, 3, 4)  # from inside "Charles" to inside "Babbage"
    page.locator(".span-list q", has_text="Charles Babbage").wait_for()

    # nested inside the ORG span: "Babbage" alone as PER, picked by [
    page.keyboard.press("[")
    drag(page, 4, 4)
    page.locator(".span-list li").nth(2).wait_for()
    assert page.locator(".tok.stacked").count() == 1  # "Babbage" is under two spans

    # and one removed again, with the mouse
    page.keyboard.press("3")  # LOC
    drag(page, 6, 6)  # "London"
    page.get_by_role("button", name="remove LOC span London").click()
    assert spans.count() == 3
    screenshot(page, "workbench-spans")
    page.keyboard.press("?")
    page.get_by_role("dialog", name="Keyboard shortcuts").wait_for()
    screenshot(page, "workbench-shortcuts")
    page.keyboard.press("Escape")
    assert page.get_by_role("dialog").count() == 0

    page.keyboard.press("Enter")
    wait_for_the_end(page)
    [stored] = site.answers(owner, pid, expect=1)
    assert stored["value"] == {"ents": [
        {"start": 0, "end": 12, "label": "PER"},
        {"start": 17, "end": 32, "label": "ORG"},
        {"start": 25, "end": 32, "label": "PER"},
    ]}
    assert watch.dialogs == [] and watch.errors == []


def test_spans_may_not_overlap_unless_the_schema_allows_it(page: Any, site: Site, watch: Watch) -> None:
    owner, ann = site.person("owner"), site.person("ann")
    flat = {**SCHEMA, "questions": [{**SCHEMA["questions"][0], "allow_overlap": False}]}
    pid = site.project(owner, flat, members={"annotator": [ann]})
    site.import_records(owner, pid, [{"id": "s1", "text": TEXT}])
    log_in(page, site, ann, f"p/{pid}/label")
    page.locator(".span-text").wait_for()
    drag(page, 3, 4)
    page.locator(".span-list li").first.wait_for()
    drag(page, 4, 5)
    page.get_by_text("spans may not overlap in this project").wait_for()
    assert page.locator(".span-list li").count() == 1
    assert watch.errors == []


def test_a_label_key_tags_the_word_at_the_caret_and_says_when_there_is_nothing_to_tag(
    page: Any, site: Site, watch: Watch
) -> None:
    owner, ann = site.person("owner"), site.person("ann")
    pid = site.project(owner, SCHEMA, members={"annotator": [ann]})
    site.import_records(owner, pid, [{"id": "s1", "text": TEXT}])
    log_in(page, site, ann, f"p/{pid}/label")
    page.locator(".span-text").wait_for()
    spans = page.locator(".span-list li")
    notice = page.locator("fieldset[data-question='ents']").get_by_role("status")

    page.keyboard.press("ArrowRight")  # the caret on "Ada", nothing selected
    page.keyboard.press("1")
    spans.filter(has_text="Ada").wait_for()
    notice.get_by_text("Tagged “Ada” as PER").wait_for()
    for _ in range(6):
        page.keyboard.press("ArrowRight")  # on to "London"
    page.keyboard.press("3")
    notice.get_by_text("Tagged “London” as LOC").wait_for()
    page.locator(".span-text .tok[data-t='4']").click()  # a click puts the caret on "Babbage"
    page.keyboard.press("2")
    notice.get_by_text("Tagged “Babbage” as ORG").wait_for()
    drag(page, 3, 3)  # "Charles" with the mouse, as ORG: the keyboard caret steps aside
    notice.get_by_text("Tagged “Charles” as ORG").wait_for()

    page.keyboard.press("1")  # no caret, no selection: nothing to tag, and the page says so
    notice.get_by_text("Nothing to tag").wait_for()
    assert "The next span gets PER" in notice.inner_text()
    assert spans.count() == 4

    page.keyboard.press("Enter")
    wait_for_the_end(page)
    [stored] = site.answers(owner, pid, expect=1)
    assert stored["value"] == {"ents": [
        {"start": 0, "end": 3, "label": "PER"},
        {"start": 17, "end": 24, "label": "ORG"},
        {"start": 25, "end": 32, "label": "ORG"},
        {"start": 36, "end": 42, "label": "LOC"},
    ]}
    assert watch.dialogs == [] and watch.errors == []


def test_the_text_to_tag_comes_first_in_the_item_under_its_label(page: Any, site: Site, watch: Watch) -> None:
    owner, ann = site.person("owner"), site.person("ann")
    schema = {
        "fields": [{"name": "body", "type": "text", "label": "Article"}],
        "questions": [{"name": "ents", "type": "spans", "target": "body", "labels": ["PER", "ORG", "LOC"]},
                      {"name": "ok", "type": "choice", "options": ["yes", "no"]}],
    }
    pid = site.project(owner, schema, members={"annotator": [ann]})
    site.import_records(owner, pid, [{"id": "s1", "body": TEXT}])
    log_in(page, site, ann, f"p/{pid}/label")
    item = page.get_by_role("region", name="item")
    item.locator(".span-text").wait_for()  # the text is the item's, not inside the question
    assert item.get_by_role("heading", name="Article").count() == 1
    assert item.locator(".span-text").inner_text() == TEXT
    question = page.locator("fieldset[data-question='ents']")
    assert question.locator(".span-text").count() == 0
    item_box, question_box = item.bounding_box(), question.bounding_box()
    assert item_box["y"] + item_box["height"] <= question_box["y"]  # content first, then the questions

    drag(page, 3, 4)  # the question works on that text
    page.locator(".span-list q", has_text="Charles Babbage").wait_for()
    assert question.locator(".span-list li").count() == 1
    page.keyboard.press("ArrowDown")
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    wait_for_the_end(page)
    [stored] = site.answers(owner, pid, expect=1)
    assert stored["value"] == {"ents": [{"start": 17, "end": 32, "label": "PER"}], "ok": "yes"}
    assert watch.dialogs == [] and watch.errors == []
