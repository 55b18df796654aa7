"""What a failed import tells its user: a missing column once, how many problems there are
beyond those listed, and what to do with a .txt file (issue #10, finding 10)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from labelloop.services.importing.writer import MAX_PROBLEMS
from tests.platform.world import World


def jsonl(records: list[Any]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


@pytest.fixture
def setup(world: World) -> tuple[World, Any, int]:
    owner = world.user("owner")
    schema = {
        "fields": [{"name": "text"}, {"name": "title", "required": False}],
        "questions": [{"name": "q", "type": "text"}],
    }
    return world, owner, world.project(owner, schema=schema)


def refused(world: World, owner: Any, pid: int, body: bytes, filename: str, **params: Any) -> dict[str, Any]:
    r = world.upload(owner, pid, body, filename, **params)
    assert r.status_code == 422, r.text
    error: dict[str, Any] = r.json()["error"]
    return error


@pytest.mark.parametrize(("filename", "sep"), [("a.csv", ","), ("a.tsv", "\t")])
def test_a_csv_without_a_required_column_says_so_once(
    setup: tuple[World, Any, int], filename: str, sep: str
) -> None:
    world, owner, pid = setup
    rows = "".join(f"r{i}{sep}body {i}\n" for i in range(300))
    error = refused(world, owner, pid, f"id{sep}body\n{rows}".encode(), filename)
    assert error["problems"] == [{"line": 1, "message": "no column 'text' (found: id, body)"}]
    assert error["message"] == f"{filename}: nothing was imported"


def test_only_required_columns_are_asked_for(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    r = world.upload(owner, pid, b"id,text\na,one\nb,two\n", "a.csv")
    assert r.status_code == 201 and r.json()["result"]["created"] == 2


def test_the_missing_columns_name_all_of_them_and_a_long_header_is_cut(world: World) -> None:
    owner = world.user("owner")
    pid = world.project(owner, schema={
        "fields": [{"name": "text"}, {"name": "title"}], "questions": [{"name": "q", "type": "text"}]})
    header = ",".join(f"c{i}" for i in range(25))
    error = refused(world, owner, pid, f"{header}\n{','.join('x' * 25)}\n".encode(), "wide.csv")
    found = ", ".join(f"c{i}" for i in range(20))
    assert error["problems"] == [{"line": 1, "message": f"no columns 'text', 'title' (found: {found} and 5 more)"}]


def test_a_failure_that_stopped_early_says_so(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    error = refused(world, owner, pid, jsonl([{"id": i} for i in range(200)]), "many.jsonl")
    assert len(error["problems"]) == MAX_PROBLEMS
    assert error["message"] == (f"many.jsonl: nothing was imported; stopped after {MAX_PROBLEMS} problems "
                                "(the rest of the file was not checked)")


def test_exactly_the_limit_with_nothing_after_it_is_the_whole_list(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    error = refused(world, owner, pid, jsonl([{"id": i} for i in range(MAX_PROBLEMS)]), "fifty.jsonl")
    assert len(error["problems"]) == MAX_PROBLEMS
    assert error["message"] == "fifty.jsonl: nothing was imported"


def test_more_problems_than_are_listed_are_counted(setup: tuple[World, Any, int]) -> None:
    """One batch of conflicting ids finds more problems at once than the list holds."""
    world, owner, pid = setup
    first = [{"id": f"x{i}", "text": "original"} for i in range(80)]
    assert world.upload(owner, pid, jsonl(first), "first.jsonl").status_code == 201
    error = refused(world, owner, pid, jsonl([{"id": f"x{i}", "text": "edited"} for i in range(80)]),
                    "second.jsonl")
    assert len(error["problems"]) == MAX_PROBLEMS
    assert error["message"] == f"second.jsonl: nothing was imported; 80 problems; the first {MAX_PROBLEMS} are listed"


def test_a_single_txt_file_is_refused_with_what_to_do_instead(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    for params in ({}, {"format": "txt"}):
        error = refused(world, owner, pid, b"one text\n", "notes.txt", **params)
        assert error["message"].startswith("a single .txt file cannot be imported")
        [problem] = error["problems"]
        assert problem["field"] == "format" and "zip archive" in problem["message"]
        assert "give the format (jsonl, csv or tsv)" in problem["message"]
    # ... and the format it names is what a .txt of JSON lines needs.
    r = world.upload(owner, pid, jsonl([{"id": "t1", "text": "from a .txt"}]), "lines.txt", format="jsonl")
    assert r.status_code == 201 and r.json()["result"]["created"] == 1


def test_an_unknown_suffix_names_the_formats_an_upload_can_give(setup: tuple[World, Any, int]) -> None:
    world, owner, pid = setup
    error = refused(world, owner, pid, b"x", "data.dat")
    assert error["problems"] == [{"field": "format", "message": "name it .jsonl, .json, .csv, .tsv or .zip, "
                                  "or give its format (jsonl, json, csv, tsv or zip)"}]
