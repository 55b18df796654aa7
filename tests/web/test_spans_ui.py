"""Tagging text spans in the browser: by keyboard, by mouse selection snapped to words, nested."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Watch
from tests.web.screens import screenshot
from tests.web.site import Site
from tests.web.test_workbench import log_in

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
    page.get_by_text("Nothing left for you in this project").wait_for()
    [stored] = site.answers(owner, pid)
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
