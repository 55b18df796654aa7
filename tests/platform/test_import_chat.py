"""Importing language-model data (docs/feedback.md, "Items"): prompts with candidate responses in
JSONL and CSV, OpenAI chat messages, Hugging Face datasets written by `save_to_disk` (as a folder
from the CLI, as a zip through the API), and the real PandaLM test set. Every problem names the
line or row and the field, and a file with one imports nothing."""

from __future__ import annotations

import datetime
import decimal
import io
import json
import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from labelloop.cli.main import app
from labelloop.config import get_settings
from labelloop.errors import Problem
from labelloop.services.importing.feedback.hf_disk import HFDataset
from labelloop.services.importing.limits import ImportLimits
from tests.platform.world import User, World

FEEDBACK = {
    "fields": [{"name": "prompt"}, {"name": "responses", "type": "responses"}],
    "questions": [{"name": "pref", "type": "preference", "target": "responses"}],
}
CHAT = {
    "fields": [{"name": "conversation", "type": "conversation"}, {"name": "responses", "type": "responses"}],
    "questions": [{"name": "crit", "type": "criteria", "target": "responses", "criteria": [{"name": "helpful"}]}],
}
PANDALM = Path(__file__).resolve().parents[3] / "shared" / "data" / "media" / "pairwise" / "pandalm_testset"


def jsonl(records: list[Any]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def items_of(world: World, user: User, pid: int) -> dict[str, dict[str, Any]]:
    r = world.client.get(f"/api/projects/{pid}/items", params={"limit": 1000}, headers=user.headers)
    assert r.status_code == 200, r.text
    return {i["external_id"]: i for i in r.json()}


def problems(r: Any) -> list[dict[str, Any]]:
    assert r.status_code == 422, r.text
    return list(r.json()["error"]["problems"])


def texts(item: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["id"], c["content"]) for c in item["data"]["responses"]]


@pytest.fixture
def feedback(world: World) -> tuple[World, User, int]:
    owner = world.user("owner")
    return world, owner, world.project(owner, schema=FEEDBACK)


# --- JSONL and CSV ------------------------------------------------------------------------------

def test_plain_prompt_and_response_fields(feedback: tuple[World, User, int]) -> None:
    world, owner, pid = feedback
    numbered = {f"response{n}": f"answer {n}" for n in range(1, 12)}
    r = world.upload(owner, pid, jsonl([
        {"id": "plain", "prompt": "p", "responses": ["one", {"id": "x", "content": "two", "model": "m"}]},
        {"id": "ab", "prompt": "p", "response_b": "second", "response_a": "first", "judge": 1},
        {"id": "numbered", "prompt": "p", **numbered},
        {"id": "objects", "prompt": "p", "responses": [{"id": "k:1", "content": "c", "meta": {"ms": 12}}]},
    ]), "mixed.jsonl")
    assert r.status_code == 201, r.text
    got = items_of(world, owner, pid)
    assert got["plain"]["data"]["responses"] == [{"id": "r1", "content": "one", "model": None, "meta": {}},
                                                 {"id": "x", "content": "two", "model": "m", "meta": {}}]
    assert texts(got["ab"]) == [("r1", "first"), ("r2", "second")] and got["ab"]["meta"] == {"judge": 1}
    assert texts(got["numbered"]) == [(f"r{n}", f"answer {n}") for n in range(1, 12)]  # 10 and 11 after 9
    assert got["objects"]["data"]["responses"] == [{"id": "k:1", "content": "c", "model": None, "meta": {"ms": 12}}]


def test_csv_with_response_columns_or_a_json_cell(feedback: tuple[World, User, int]) -> None:
    world, owner, pid = feedback
    body = 'id,prompt,response_a,response_b\nc1,"Say hi","Hi!","Hello, there"\n'
    assert world.upload(owner, pid, body.encode(), "pairs.csv").status_code == 201
    body = 'id,prompt,responses\nc2,Say hi,"[""Hi!"", {""id"": ""z"", ""content"": ""Yo""}]"\n'
    assert world.upload(owner, pid, body.encode(), "cells.csv").status_code == 201
    got = items_of(world, owner, pid)
    assert texts(got["c1"]) == [("r1", "Hi!"), ("r2", "Hello, there")]
    assert texts(got["c2"]) == [("r1", "Hi!"), ("z", "Yo")]
    bad = 'id,prompt,responses\nc3,Say hi,"[not json"\n'
    assert problems(world.upload(owner, pid, bad.encode(), "bad.csv")) == [
        {"line": 2, "field": "responses", "message": "invalid JSON in the cell: invalid literal, expected 'null'"}]
    no_candidates = "id,prompt\nc4,Say hi\n"
    assert problems(world.upload(owner, pid, no_candidates.encode(), "none.csv")) == [
        {"line": 1, "message": "no column 'responses' (found: id, prompt)"}]


@pytest.mark.parametrize(("record", "field", "words"), [
    ({"prompt": "p", "responses": []}, "responses", "holds 0 candidates"),
    ({"prompt": "p", "responses": ["a", {"id": "r1", "content": "b"}]}, "responses",
     "candidate [1] key 'id' repeats 'r1'"),
    ({"prompt": "p", "responses": [{"id": "bad id", "content": "b"}]}, "responses", "candidate [0] key 'id'"),
    ({"prompt": "p", "responses": [{"id": "a", "content": 5}]}, "responses", "candidate [0] key 'content'"),
    ({"prompt": "p", "responses": [{"id": "a", "content": "x", "model": ["m"]}]}, "responses",
     "candidate [0] key 'model'"),
    ({"prompt": "p", "responses": ["a"], "response_a": "b"}, "response_a", "one way"),
    ({"prompt": "p", "response_a": "a", "response2": "b"}, "response_a", "one way"),
    ({"prompt": "p"}, "responses", "missing required field"),
    ({"responses": ["a"]}, "prompt", "missing required field"),
])
def test_bad_candidates_name_the_line_and_field_and_import_nothing(
    feedback: tuple[World, User, int], record: dict[str, Any], field: str, words: str
) -> None:
    world, owner, pid = feedback
    r = world.upload(owner, pid, jsonl([{"prompt": "fine", "responses": ["ok"]}, record]), "bad.jsonl")
    (problem,) = problems(r)
    assert problem["line"] == 2 and problem["field"] == field and words in problem["message"], problem
    assert items_of(world, owner, pid) == {}


def test_openai_messages_fill_the_conversation_and_the_last_answer_is_the_candidate(world: World) -> None:
    owner = world.user("owner")
    pid = world.project(owner, schema=CHAT)
    r = world.upload(owner, pid, jsonl([
        {"id": "sft", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"},
                                   {"role": "assistant", "content": [{"type": "text", "text": "4"},
                                                                     {"type": "text", "text": "."}]}]},
        {"id": "given", "messages": [{"role": "user", "content": "Hi"}], "responses": ["Hello", "Hey"]},
        {"id": "tools", "messages": [{"role": "user", "content": "Weather?"},
                                     {"role": "assistant", "content": None, "tool_calls": [{"id": "t1"}]},
                                     {"role": "tool", "content": "sunny", "tool_call_id": "t1"},
                                     {"role": "assistant", "content": "Sunny."}]},
    ]), "chat.jsonl")
    assert r.status_code == 201, r.text
    got = items_of(world, owner, pid)
    assert got["sft"]["data"] == {
        "conversation": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}],
        "responses": [{"id": "r1", "content": "4.", "model": None, "meta": {}}]}
    assert [m["role"] for m in got["given"]["data"]["conversation"]] == ["user"]
    assert texts(got["given"]) == [("r1", "Hello"), ("r2", "Hey")]
    assert got["tools"]["data"]["conversation"][1] == {"role": "assistant", "content": "", "tool_calls": [{"id": "t1"}]}
    assert texts(got["tools"]) == [("r1", "Sunny.")]


@pytest.mark.parametrize(("messages", "field", "words"), [
    ([{"role": "user", "content": "a"}, {"role": "robot", "content": "b"}], "messages[1].role", "not a role"),
    ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}], "messages[0].content",
     "only text parts"),
    ([{"role": "user", "content": "no answer yet"}], "responses", "missing required field"),
    ("hello", "conversation", "expected a list of messages"),
])
def test_bad_chat_records_name_the_message(world: World, messages: Any, field: str, words: str) -> None:
    owner = world.user("owner")
    pid = world.project(owner, schema=CHAT)
    found = problems(world.upload(owner, pid, jsonl([{"messages": messages}]), "chat.jsonl"))
    problem = found[0]
    assert problem["line"] == 1 and problem["field"] == field and words in problem["message"], problem
    # A conversation that is not a list has no last answer either; a bad message is said once.
    assert [p["field"] for p in found[1:]] == (["responses"] if messages == "hello" else [])


# --- Hugging Face datasets saved to disk --------------------------------------------------------

def save_like_datasets(folder: Path, rows: list[dict[str, Any]], *, split: str | None = None,
                       shards: int = 1, schema: pa.Schema | None = None) -> None:
    """The layout `Dataset.save_to_disk` writes: Arrow IPC streams, state.json, dataset_info.json."""
    folder.mkdir(parents=True)
    table = pa.Table.from_pylist(rows, schema=schema)
    per = -(-len(rows) // shards)
    files = []
    for k in range(shards):
        name = f"data-{k:05d}-of-{shards:05d}.arrow"
        with pa.OSFile(str(folder / name), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
            for batch in table.slice(k * per, per).to_batches(max_chunksize=2):
                writer.write_batch(batch)
        files.append({"filename": name})
    state = {"_data_files": files, "_fingerprint": "0", "_format_columns": None, "_format_kwargs": {},
             "_format_type": None, "_output_all_columns": False, "_split": split}
    (folder / "state.json").write_text(json.dumps(state))
    (folder / "dataset_info.json").write_text(json.dumps({"features": {}}))


def save_dict(folder: Path, splits: dict[str, list[dict[str, Any]]]) -> None:
    folder.mkdir(parents=True)
    (folder / "dataset_dict.json").write_text(json.dumps({"splits": list(splits)}))
    for name, rows in splits.items():
        save_like_datasets(folder / name, rows, split=name)


def zipped(folder: Path, top: str = "dataset") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, f"{top}/{p.relative_to(folder).as_posix()}")
    return buf.getvalue()


ROWS = [{"id": f"h{n}", "prompt": f"question {n}", "response_a": f"a{n}", "response_b": f"b{n}", "votes": n}
        for n in range(7)]


def test_a_zipped_dataset_folder_through_the_api(feedback: tuple[World, User, int], tmp_path: Path) -> None:
    world, owner, pid = feedback
    save_like_datasets(tmp_path / "ds", ROWS, shards=3)
    r = world.upload(owner, pid, zipped(tmp_path / "ds"), "ds.zip")
    assert r.status_code == 201, r.text
    assert r.json()["result"]["created"] == 7
    got = items_of(world, owner, pid)
    assert texts(got["h6"]) == [("r1", "a6"), ("r2", "b6")] and got["h6"]["meta"] == {"votes": 6}
    assert got["h0"]["data"]["prompt"] == "question 0"


def test_a_dataset_dict_imports_the_split_asked_for(feedback: tuple[World, User, int], tmp_path: Path) -> None:
    world, owner, pid = feedback
    save_dict(tmp_path / "dd", {"train": ROWS[:4], "test": ROWS[4:]})
    body = zipped(tmp_path / "dd")
    assert world.upload(owner, pid, body, "dd.zip").json()["result"]["created"] == 4
    assert world.upload(owner, pid, body, "dd.zip", split="test").json()["result"]["created"] == 3
    assert set(items_of(world, owner, pid)) == {f"h{n}" for n in range(7)}
    assert problems(world.upload(owner, pid, body, "dd.zip", split="validation")) == [
        {"file": "dataset_dict.json", "field": "split",
         "message": "the dataset has no split 'validation' (splits: train, test); choose one with the split option"}]


def test_problems_in_a_dataset_name_the_arrow_file_the_row_and_the_field(
    feedback: tuple[World, User, int], tmp_path: Path
) -> None:
    world, owner, pid = feedback
    rows = [dict(r) for r in ROWS]
    rows[4]["prompt"] = None
    rows[5]["response_a"] = ""  # fine: an empty candidate is still a candidate
    save_like_datasets(tmp_path / "ds", rows, shards=2)
    assert problems(world.upload(owner, pid, zipped(tmp_path / "ds"), "ds.zip")) == [
        {"file": "data-00001-of-00002.arrow", "record": 5, "field": "prompt", "message": "missing required field"}]
    assert items_of(world, owner, pid) == {}


@pytest.mark.parametrize("damage", ["traversal", "missing_file", "truncated", "bytes", "no_state"])
def test_a_damaged_dataset_is_refused_with_what_is_wrong(
    feedback: tuple[World, User, int], tmp_path: Path, damage: str
) -> None:
    world, owner, pid = feedback
    folder = tmp_path / "ds"
    rows: list[dict[str, Any]] = [dict(r) for r in ROWS]
    if damage == "bytes":
        rows = [{**r, "image": b"\x89PNG"} for r in rows]
    save_like_datasets(folder, rows)
    state = json.loads((folder / "state.json").read_text())
    arrow = folder / "data-00000-of-00001.arrow"
    if damage == "traversal":
        state["_data_files"] = [{"filename": "../../etc/passwd.arrow"}]
    elif damage == "missing_file":
        state["_data_files"].append({"filename": "data-00009.arrow"})
    elif damage == "truncated":
        arrow.write_bytes(arrow.read_bytes()[:-300])
    (folder / "state.json").write_text(json.dumps(state))
    if damage == "no_state":
        (folder / "state.json").rename(folder / "dataset_dict.json")
        (folder / "dataset_dict.json").write_text('{"splits": "train"}')
    (problem,) = problems(world.upload(owner, pid, zipped(folder), "ds.zip", format="hf"))
    expected = {
        "traversal": ("state.json", "must name an .arrow file in the same folder"),
        "missing_file": ("state.json", "names 'data-00009.arrow', which is not there"),
        "truncated": ("data-00000-of-00001.arrow", "not a readable Arrow stream"),
        "bytes": ("data-00000-of-00001.arrow", "holds bytes"),
        "no_state": ("dataset_dict.json", "'splits' must be a list"),
    }[damage]
    assert problem["file"] == expected[0] and expected[1] in problem["message"], problem
    if damage == "bytes":
        assert problem["field"] == "image"
    assert items_of(world, owner, pid) == {}


def test_times_and_decimals_come_as_text_and_a_zip_counts_against_the_archive_limit(tmp_path: Path) -> None:
    when = datetime.datetime(2026, 3, 1, 12, 30, tzinfo=datetime.UTC)
    rows = [{"prompt": "p", "responses": ["a"], "at": when, "cost": decimal.Decimal("0.25")}]
    save_like_datasets(tmp_path / "ds", rows)
    (where, record), = HFDataset(tmp_path / "ds").records()
    assert where.record == 1 and where.file == "data-00000-of-00001.arrow"
    assert record == {"prompt": "p", "responses": ["a"], "at": "2026-03-01 12:30:00.000000Z", "cost": "0.25"}
    archive = tmp_path / "ds.zip"
    archive.write_bytes(zipped(tmp_path / "ds"))
    assert len(list(HFDataset(archive).records())) == 1
    (where, problem), = HFDataset(archive, ImportLimits(max_archive_bytes=100)).records()
    assert isinstance(problem, Problem) and "more than 100 bytes of Arrow files" in problem.message


@pytest.fixture
def cli(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_a_folder_written_by_the_datasets_library_from_the_cli(
    feedback: tuple[World, User, int], tmp_path: Path, cli: CliRunner
) -> None:
    """The `datasets` library itself (a test-only oracle) writes the folders; the CLI imports them."""
    datasets = pytest.importorskip("datasets")
    world, owner, pid = feedback
    rows = [{"id": f"d{n}", "prompt": f"q{n}", "responses": [f"x{n}", f"y{n}"], "score": n / 2} for n in range(5)]
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "one"))
    datasets.DatasetDict({"train": datasets.Dataset.from_list(rows[:2]),
                          "test": datasets.Dataset.from_list(rows[2:])}).save_to_disk(str(tmp_path / "two"))
    result = cli.invoke(app, ["import", str(pid), str(tmp_path / "one")])
    assert result.exit_code == 0 and "imported 5 new items" in result.output, result.output
    result = cli.invoke(app, ["import", str(pid), str(tmp_path / "two"), "--split", "test"])
    assert result.exit_code == 0 and "imported 0 new items (3 already there)" in result.output, result.output
    got = items_of(world, owner, pid)
    assert texts(got["d3"]) == [("r1", "x3"), ("r2", "y3")] and got["d3"]["meta"] == {"score": 1.5}
    shutil.rmtree(tmp_path / "two" / "train")
    result = cli.invoke(app, ["import", str(pid), str(tmp_path / "two")])
    assert result.exit_code == 1 and "train/state.json" in result.output, result.output


# --- real data ----------------------------------------------------------------------------------

def test_the_pandalm_test_set_imports_999_items(world: World) -> None:
    """Real LLM responses with three annotators' preferences (WeOpenML/PandaLM, read at run time):
    the instruction and its input are the prompt, response1 and response2 the candidates, the
    models named by `cmp_key` ("bloom-7b_llama-7b")."""
    source = PANDALM / "testset-v1.json"
    if not source.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{source} is missing")
        pytest.skip(f"{source} is not here (../shared/data/media, see its README)")
    owner = world.user("owner")
    pid = world.project(owner, schema=FEEDBACK)
    rows = json.loads(source.read_text(encoding="utf-8"))

    def records(content: Any) -> list[dict[str, Any]]:
        out = []
        for row in rows:
            first, second = row["cmp_key"].split("_", 1)
            prompt = row["instruction"] + ("\n\n" + row["input"] if row["input"] else "")
            out.append({"id": row["idx"], "prompt": prompt,
                        "responses": [{"id": "r1", "content": content(row["response1"]), "model": first},
                                      {"id": "r2", "content": content(row["response2"]), "model": second}],
                        "meta": {"app": row["motivation_app"],
                                 "annotators": [row[f"annotator{k}"] for k in (1, 2, 3)]}})
        return out

    # Six responses in the file are JSON booleans (a model that answered "True"): taken as they are,
    # they are refused, each naming its line, and nothing is imported.
    found = problems(world.upload(owner, pid, jsonl(records(lambda c: c)), "pandalm.jsonl"))
    assert [p["line"] for p in found] == [158, 159, 160, 162, 163, 165]
    assert {p["field"] for p in found} == {"responses"} and "got boolean" in found[0]["message"]
    assert items_of(world, owner, pid) == {}
    r = world.upload(owner, pid, jsonl(records(str)), "pandalm.jsonl")
    assert r.status_code == 201, r.text
    assert r.json()["result"] == {"created": 999, "unchanged": 0, "records": 999}
    got = items_of(world, owner, pid)
    assert len(got) == 999
    first = got["0"]
    assert [c["model"] for c in first["data"]["responses"]] == ["bloom-7b", "llama-7b"]
    assert first["data"]["prompt"].startswith("The sentence you are given might be too wordy")
    assert first["meta"]["annotators"] == [2, 2, 2]
    assert texts(got["157"])[0] == ("r1", "True")
