"""What the console says when an upload or a schema is wrong (issue #10, findings 10 and 11)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.web.conftest import Watch
from tests.web.site import Person, Site
from tests.web.test_workbench import log_in

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text"}],
    "questions": [{"name": "sentiment", "type": "choice", "options": ["positive", "negative"]}],
}

GOOD_YAML = """title: Reviews
fields:
  - {name: text, type: text}
questions:
  - name: sentiment
    type: choice
    options: [positive, negative]
"""


def on_the_console(page: Any, site: Site) -> tuple[Person, int]:
    manager = site.person("manager")
    pid = site.project(manager, SCHEMA)
    log_in(page, site, manager, f"p/{pid}/manage")
    page.get_by_role("heading", name="Add data").wait_for()
    return manager, pid


def upload(page: Any, path: Path) -> None:
    page.get_by_label("Data file").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()


def upload_problems(page: Any) -> Any:
    return page.get_by_role("alert").filter(has=page.get_by_role("list"))


# -- finding 10: imports ------------------------------------------------------------------------

def test_a_csv_without_the_text_column_says_so_once(page: Any, site: Site, watch: Watch, tmp_path: Path) -> None:
    on_the_console(page, site)
    data = tmp_path / "tickets.csv"
    data.write_text("id,body\n" + "".join(f"t{i},ticket number {i}\n" for i in range(30)))
    upload(page, data)
    alert = upload_problems(page)
    alert.get_by_text("line 1: no column 'text' (found: id, body)").wait_for()
    assert alert.get_by_role("listitem").count() == 1
    assert watch.errors == []


def test_a_long_list_of_problems_says_how_many_more_there_are(
    page: Any, site: Site, watch: Watch, tmp_path: Path
) -> None:
    on_the_console(page, site)
    data = tmp_path / "no-text.jsonl"
    data.write_text("".join(json.dumps({"id": f"n{i}"}) + "\n" for i in range(200)))
    upload(page, data)
    alert = upload_problems(page)
    alert.get_by_text("stopped after 50 problems (the rest of the file was not checked)").wait_for()
    assert alert.get_by_role("listitem").filter(has_text="missing required field").count() == 20
    more = alert.get_by_role("button", name="Show 30 more")
    more.click()
    assert alert.get_by_role("listitem").filter(has_text="missing required field").count() == 50
    assert alert.get_by_text("line 50: text: missing required field").is_visible()
    assert watch.errors == []


def test_a_txt_file_is_explained_before_upload_and_its_format_can_be_chosen(
    page: Any, site: Site, watch: Watch, tmp_path: Path
) -> None:
    on_the_console(page, site)
    page.get_by_text("files or of images (one item per file)").first.wait_for()
    notes = tmp_path / "notes.txt"
    notes.write_text("".join(json.dumps({"id": f"x{i}", "text": f"line {i}"}) + "\n" for i in range(2)))
    page.get_by_label("Data file").set_input_files(str(notes))
    hint = page.get_by_text("A single .txt file cannot be imported as it is")
    hint.wait_for()
    assert "zip" in hint.inner_text()
    assert page.get_by_role("button", name="Upload").is_disabled()
    page.get_by_label("Format").select_option("jsonl")
    assert hint.count() == 0
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("Imported: 2 new items").wait_for()
    assert watch.errors == []


def test_a_reimport_says_how_many_items_were_unchanged(
    page: Any, site: Site, watch: Watch, tmp_path: Path
) -> None:
    on_the_console(page, site)
    body = "".join(json.dumps({"id": f"r{i}", "text": f"review {i}"}) + "\n" for i in range(20))
    first, again = tmp_path / "reviews.jsonl", tmp_path / "reviews-again.jsonl"
    first.write_text(body)
    again.write_text(body)
    upload(page, first)
    page.get_by_text("Imported: 20 new items").wait_for()
    upload(page, again)
    page.get_by_text("Imported: 0 new items, 20 unchanged (already in the project)").wait_for()
    assert watch.errors == []


# -- finding 11: schemas ------------------------------------------------------------------------

def on_new_project(page: Any, site: Site) -> Any:
    log_in(page, site, site.person("creator"), "new")
    page.get_by_role("heading", name="New project").wait_for()
    schema = page.get_by_label("Label schema")
    schema.fill(GOOD_YAML)
    page.get_by_text("The schema is valid.").wait_for()
    return schema


def schema_problems(page: Any) -> Any:
    return page.get_by_role("alert", name="schema problems")


def test_a_yaml_syntax_error_reads_line_and_column_without_caret_art(page: Any, site: Site, watch: Watch) -> None:
    schema = on_new_project(page, site)
    schema.fill(GOOD_YAML.replace("    options:", "   options:"))
    alert = schema_problems(page)
    alert.get_by_text("line 7, column 4: expected the end of the block").wait_for()
    text = alert.inner_text()
    assert "^" not in text and "<unicode string>" not in text and len(alert.get_by_role("listitem").all()) == 1
    assert watch.errors == []


def test_a_misspelled_key_is_named_with_the_one_meant(page: Any, site: Site, watch: Watch) -> None:
    schema = on_new_project(page, site)
    schema.fill(GOOD_YAML.replace("questions:", "questons:"))
    alert = schema_problems(page)
    alert.get_by_text("questons: unknown key 'questons'; did you mean 'questions'?").wait_for()
    assert alert.get_by_role("listitem").count() == 1  # not also "questions: Field required"
    schema.fill(GOOD_YAML.replace("    options:", "    option:"))
    alert.get_by_text("questions[0].option: unknown key 'option'; did you mean 'options'?").wait_for()
    assert watch.errors == []


def test_a_stale_preview_and_a_disabled_create_button_say_so(page: Any, site: Site, watch: Watch) -> None:
    schema = on_new_project(page, site)
    preview = page.get_by_label("preview of the annotator's view")
    preview.get_by_role("radio", name="positive").wait_for()
    create = page.get_by_role("button", name="Create project")
    enabled_look = create.evaluate("b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]")
    assert preview.get_by_text("Out of date").count() == 0

    schema.fill(GOOD_YAML.replace("type: choice", "type: chioce"))
    schema_problems(page).get_by_text("unknown question type 'chioce'").wait_for()
    stale = preview.get_by_text("Out of date: this is the last valid schema")
    stale.wait_for()
    assert preview.get_attribute("aria-describedby") == stale.get_attribute("id")
    assert create.is_disabled()
    disabled_look = create.evaluate("b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]")
    assert disabled_look[0] != enabled_look[0] and disabled_look[1] != enabled_look[1]
    why = page.locator(f"#{create.get_attribute('aria-describedby')}")
    assert why.inner_text() == "Fix the problems in the schema to create the project."

    schema.fill(GOOD_YAML)
    page.get_by_text("The schema is valid.").wait_for()
    stale.wait_for(state="detached")
    assert create.is_enabled() and why.count() == 0
    assert create.evaluate("b => getComputedStyle(b).backgroundColor") == enabled_look[0]
    assert watch.errors == []
