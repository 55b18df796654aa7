"""Moving in: Label Studio JSON exports and doccano JSONL, imported exactly or refused whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from labelloop.cli.main import app
from labelloop.config import get_settings
from labelloop.schema import parse_schema
from labelloop.services.importing.movein import label_studio
from labelloop.services.importing.readers import Where
from tests.platform.world import User, World

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}, {"name": "photo", "type": "image", "required": False}],
    "questions": [
        {"name": "sentiment", "type": "choice", "options": ["pos", "neg"]},
        {"name": "topics", "type": "multi_choice", "options": ["sport", "money", "food"], "required": False},
        {"name": "entities", "type": "spans", "target": "text", "labels": ["PER", "ORG"], "required": False},
        {"name": "objects", "type": "bbox", "target": "photo", "labels": ["car"], "required": False},
        {"name": "note", "type": "text", "required": False},
    ],
}
TEXT = "Ada met Acme Corp in town"


def result(from_name: str, kind: str, value: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"from_name": from_name, "to_name": "x", "type": kind, "value": value, **more}


def box(x: float, y: float, w: float, h: float) -> dict[str, Any]:
    return result("objects", "rectanglelabels",
                  {"x": x, "y": y, "width": w, "height": h, "rotation": 0, "rectanglelabels": ["car"]},
                  original_width=640, original_height=480)


TASKS: list[dict[str, Any]] = [
    {"id": 11, "data": {"text": TEXT, "photo": "https://pictures.test/a.jpg"},
     "annotations": [{"completed_by": 3, "result": [
         result("sentiment", "choices", {"choices": ["pos"]}),
         result("topics", "choices", {"choices": ["food", "sport"]}),
         result("entities", "labels", {"start": 0, "end": 3, "text": "Ada", "labels": ["PER"]}),
         result("entities", "labels", {"start": 8, "end": 17, "text": "Acme Corp", "labels": ["ORG"]}),
         box(10, 25, 50, 50),
         result("note", "textarea", {"text": ["first line", "second"]}),
     ]}],
     "predictions": [{"score": 0.8, "result": [result("sentiment", "choices", {"choices": ["neg"]})]}]},
    {"id": 12, "data": {"text": "nothing said yet"}, "annotations": [],
     "predictions": [{"result": [box(0, 0, 12.5, 10)]}]},
]


def upload(world: World, owner: User, pid: int, body: bytes, name: str, fmt: str) -> httpx.Response:
    return world.upload(owner, pid, body, name, format=fmt)


def listed(world: World, owner: User, pid: int) -> dict[str, dict[str, Any]]:
    r = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers)
    assert r.status_code == 200, r.text
    return {i["external_id"]: i for i in r.json()}


def problems(r: httpx.Response) -> list[dict[str, Any]]:
    assert r.status_code == 422, r.text
    found: list[dict[str, Any]] = r.json()["error"]["problems"]
    return found


def test_a_label_studio_export_imports_exactly(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=SCHEMA)
    r = upload(world, owner, pid, json.dumps(TASKS).encode(), "export.json", "label-studio")
    assert r.status_code == 201, r.text
    assert r.json()["result"] == {"created": 2, "unchanged": 0, "records": 2}
    got = listed(world, owner, pid)
    first, second = got["11"], got["12"]
    assert first["data"] == {"text": TEXT, "photo": "https://pictures.test/a.jpg"}
    assert first["gold"] == {
        "sentiment": "pos",
        "topics": ["sport", "food"],  # in the schema's order
        "entities": [{"start": 0, "end": 3, "label": "PER"}, {"start": 8, "end": 17, "label": "ORG"}],
        "objects": [{"label": "car", "box": [64.0, 120.0, 384.0, 360.0]}],
        "note": "first line\nsecond",
    }
    assert first["meta"] == {"prelabel": {"sentiment": "neg"}}
    assert second["gold"] is None
    assert second["meta"] == {"prelabel": {"objects": [{"label": "car", "box": [0.0, 0.0, 80.0, 48.0]}]}}


def test_annotations_become_pre_labels_when_asked() -> None:
    schema = parse_schema(SCHEMA)
    got = list(label_studio.records(iter([(Where(record=1), TASKS[0])]), schema, "prelabels"))
    assert len(got) == 1
    record = got[0][1]
    assert isinstance(record, dict) and "gold" not in record
    assert record["meta"]["prelabel"]["sentiment"] == "pos"  # the annotation, not the prediction
    assert record["meta"]["prelabel"]["objects"] == [{"label": "car", "box": [64.0, 120.0, 384.0, 360.0]}]


def test_a_bad_label_studio_export_is_refused_whole(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=SCHEMA)
    bad = [
        TASKS[0],
        {"id": 2, "data": {"text": "x", "colour": "red"}},
        {"id": 3, "data": {"text": "y"}, "annotations": [{"result": [
            result("sentiment", "choices", {"choices": ["maybe"]})]}]},
        {"id": 4, "data": {"text": "z"}, "annotations": [{"result": []}, {"result": [
            result("mood", "choices", {"choices": ["pos"]})]}]},
        {"id": 5, "data": {"text": "short"}, "annotations": [{"result": [
            result("entities", "labels", {"start": 0, "end": 40, "text": "short", "labels": ["PER"]})]}]},
    ]
    found = problems(upload(world, owner, pid, json.dumps(bad).encode(), "export.json", "label-studio"))
    assert [(p["record"], p["field"]) for p in found] == [
        (2, "colour"), (3, "sentiment"), (4, "mood"), (5, "entities[0].end")]
    assert "'colour' is not a field of the schema" in found[0]["message"]
    assert found[1]["message"] == "annotation 1: 'maybe' is not an option (options: pos, neg)"
    assert found[2]["message"].startswith("annotation 2, result 1: 'mood' is not a question of the schema")
    assert found[3]["message"] == "annotation 1: end 40 is past the end of the text (5 characters)"
    assert listed(world, owner, pid) == {}


DOCCANO_SCHEMA: dict[str, Any] = {
    "fields": [{"name": "body", "type": "text"}],
    "questions": [{"name": "topics", "type": "multi_choice", "options": ["sport", "money"]}],
}
SPANS_SCHEMA: dict[str, Any] = {
    "fields": [{"name": "body", "type": "text"}],
    "questions": [{"name": "entities", "type": "spans", "target": "body", "labels": ["PER", "ORG"]}],
}


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def test_doccano_classification_and_spans(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=DOCCANO_SCHEMA)
    body = jsonl([{"id": 1, "text": "goals and budgets", "label": ["money", "sport"], "source": "feed"},
                  {"text": "no labels yet", "label": []}])
    r = upload(world, owner, pid, body, "admin.jsonl", "doccano")
    assert r.status_code == 201, r.text
    got = listed(world, owner, pid)
    assert got["1"]["data"] == {"body": "goals and budgets"}
    assert got["1"]["gold"] == {"topics": ["sport", "money"]} and got["1"]["meta"] == {"source": "feed"}
    other = next(i for k, i in got.items() if k != "1")
    assert other["data"] == {"body": "no labels yet"}

    pid = world.project(owner, schema=SPANS_SCHEMA)
    body = jsonl([{"id": "a", "text": TEXT, "label": [[8, 17, "ORG"], [0, 3, "PER"]]},
                  {"id": "b", "text": "Bo", "entities": [{"start_offset": 0, "end_offset": 2, "label": "PER"}]}])
    r = upload(world, owner, pid, body, "ner.jsonl", "doccano")
    assert r.status_code == 201, r.text
    got = listed(world, owner, pid)
    assert got["a"]["gold"] == {"entities": [{"start": 0, "end": 3, "label": "PER"},
                                             {"start": 8, "end": 17, "label": "ORG"}]}
    assert got["b"]["gold"] == {"entities": [{"start": 0, "end": 2, "label": "PER"}]}


def test_bad_doccano_lines_are_refused_whole(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=SPANS_SCHEMA)
    body = jsonl([{"id": "ok", "text": TEXT, "label": [[0, 3, "PER"]]},
                  {"id": "tag", "text": TEXT, "label": [[0, 3, "LOC"]]},
                  {"id": "shape", "text": TEXT, "label": [[0, 3]]},
                  {"id": "past", "text": "Bo", "label": [[0, 9, "PER"]]}])
    found = problems(upload(world, owner, pid, body, "ner.jsonl", "doccano"))
    assert [(p["line"], p["field"]) for p in found] == [(2, "entities[0].label"), (3, "label[0]"),
                                                        (4, "entities[0].end")]
    assert found[0]["message"] == "labels: 'LOC' is not a label (labels: PER, ORG)"
    assert listed(world, owner, pid) == {}


def test_the_cli_takes_the_format(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        cli = CliRunner()
        schema = tmp_path / "schema.json"
        schema.write_text(json.dumps(SCHEMA))
        assert cli.invoke(app, ["user", "create", "ann", "--no-password"]).exit_code == 0
        made = cli.invoke(app, ["project", "create", "Moved", "--schema", str(schema), "--owner", "ann"])
        assert made.exit_code == 0, made.output
        export = tmp_path / "export.json"
        export.write_text(json.dumps(TASKS))
        done = cli.invoke(app, ["import", "Moved", "--format", "label-studio", str(export)])
        assert done.exit_code == 0, done.output
        assert "imported 2 new items" in done.output
    finally:
        get_settings.cache_clear()


def test_the_api_passes_as_and_question_on(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=SPANS_SCHEMA)
    body = jsonl([{"id": "a", "text": TEXT, "label": [[0, 3, "PER"]]}])
    r = world.upload(owner, pid, body, "ner.jsonl", format="doccano", **{"as": "prelabels"})
    assert r.status_code == 201, r.text
    got = listed(world, owner, pid)["a"]
    assert got["gold"] is None
    assert got["meta"]["prelabel"] == {"entities": [{"start": 0, "end": 3, "label": "PER"}]}
