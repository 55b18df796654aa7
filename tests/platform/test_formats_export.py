"""What an image-dataset export holds and how it is sent: whose objects (consensus, gold, every
annotator's latest answer), the question when a schema has several, the images or references to
them, names in the archive, items left out and why, the CLI both ways, and memory that does not
grow with the images' bytes."""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from labelloop.services import exports
from labelloop.services.policy import Actor
from tests.platform.formats import answer_all, export, jsonl, members, schema
from tests.platform.pictures import encoded, jpeg, png, sha, zipped
from tests.platform.world import World

BOX = {"label": "car", "box": [1, 2, 10, 20]}


def _instances(archive: bytes) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(members(archive)["annotations/instances.json"])
    return doc


def test_every_annotators_latest_answer_with_their_name(world: World) -> None:
    owner, ann = world.user("owner"), world.user("ann")
    pid = world.project(owner, schema=schema("bbox"), overlap=2, members={"annotator": (ann,)})
    world.upload(owner, pid, zipped({"a.png": png(40, 30)}), "p.zip")
    answer_all(world, owner, pid, lambda name: {"objects": [BOX]})
    first = answer_all(world, ann, pid, lambda name: {"objects": [{"label": "person", "box": [0, 0, 5, 5]}]})
    assert first
    item = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()[0]["id"]
    mine = [a for a in world.client.get(f"/api/projects/{pid}/answers", headers=ann.headers).json()]
    r = world.client.post(f"/api/projects/{pid}/answers/{mine[0]['id']}/revisions",
                          json={"value": {"objects": [{"label": "person", "box": [0, 0, 6, 6]}]}}, headers=ann.headers)
    assert r.status_code == 201, r.text

    doc = _instances(export(world, owner, pid, "coco", source="answers").content)
    assert [(a["annotator"], a["bbox"]) for a in doc["annotations"]] == [("owner", [1, 2, 9, 18]), ("ann", [0, 0, 6, 6])]
    xml = members(export(world, owner, pid, "voc", source="answers").content)["Annotations/a.xml"].decode()
    assert xml.count("<annotator>owner</annotator>") == 1 and xml.count("<annotator>ann</annotator>") == 1
    assert item


def test_consensus_or_gold_and_items_without_a_value_are_left_out(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    world.upload(owner, pid, zipped({"a.png": png(40, 30), "b.png": png(40, 31)}), "p.zip")
    listed = {i["external_id"]: i["id"] for i in world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()}
    r = world.client.put(f"/api/projects/{pid}/items/{listed['b.png']}/gold", json={"value": {"objects": [BOX]}},
                         headers=owner.headers)
    assert r.status_code == 200, r.text
    assert _instances(export(world, owner, pid, "coco").content)["images"] == []  # nobody answered yet
    gold = _instances(export(world, owner, pid, "coco", source="gold").content)
    assert [im["file_name"] for im in gold["images"]] == ["b.png"]
    assert gold["annotations"][0]["bbox"] == [1, 2, 9, 18]


def test_references_instead_of_images_and_skipped_items_with_the_reason(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    world.upload(owner, pid, zipped({"a.png": png(40, 30)}), "p.zip")
    world.import_records(owner, pid, [{"id": "far", "photo": "https://example.org/x.jpg",
                                       "gold": {"objects": [BOX]}}])
    listed = {i["external_id"]: i["id"] for i in world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()}
    world.client.put(f"/api/projects/{pid}/items/{listed['a.png']}/gold", json={"value": {"objects": []}},
                     headers=owner.headers)
    files = members(export(world, owner, pid, "yolo", source="gold", images="refs").content)
    assert sorted(files) == ["data.yaml", "labels/a.txt", "references.csv", "skipped.csv"]
    assert files["references.csv"].decode() == f"file,reference\r\na.png,blob:{sha(png(40, 30))}\r\n"
    assert files["skipped.csv"].decode() == "id,reason\r\nfar,the image is given by URL: its size is not known\r\n"
    assert files["labels/a.txt"] == b""


def test_names_in_the_archive(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    world.upload(owner, pid, zipped({"a.png": png(40, 30), "A.jpg": jpeg(40, 30)}), "p.zip")
    answer_all(world, owner, pid, lambda name: {"objects": [BOX]})
    images = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()
    ref = images[0]["data"]["photo"]
    world.import_records(owner, pid, [{"id": "p1", "photo": ref, "gold": {"objects": []}},
                                      {"id": "../up", "photo": ref, "gold": {"objects": []}}])
    ids = {i["external_id"]: i["id"] for i in world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()}
    gold = _instances(export(world, owner, pid, "coco", source="gold").content)
    assert [im["file_name"] for im in gold["images"]] == ["p1.jpg", f"item-{ids['../up']}.jpg"]
    files = members(export(world, owner, pid, "voc").content)
    # Same name but for case: the second gets its item id (label files are named by the stem).
    first, second = sorted(images, key=lambda i: i["id"])
    assert sorted(files) == sorted([f"Annotations/{first['external_id'][:-4]}.xml", f"JPEGImages/{first['external_id']}",
                                    f"Annotations/{second['external_id'][:-4]}~{second['id']}.xml",
                                    f"JPEGImages/{second['external_id'][:-4]}~{second['id']}{second['external_id'][-4:]}"])


def test_the_question_is_chosen_when_the_schema_has_several(world: World) -> None:
    owner = world.user()
    doc = schema("bbox")
    doc["questions"].append({"name": "road", "type": "polygon", "target": "photo", "labels": ["road"], "required": False})
    pid = world.project(owner, schema=doc)
    r = export(world, owner, pid, "coco")
    assert r.status_code == 422
    assert r.json()["error"]["problems"] == [
        {"field": "question", "message": "the schema has several (objects, road); choose one"}]
    assert export(world, owner, pid, "voc").status_code == 200  # VOC holds boxes only: no choice to make
    assert export(world, owner, pid, "coco", question="road").status_code == 200
    r = export(world, owner, pid, "coco", question="nope")
    assert r.json()["error"]["problems"][0]["message"] == "'nope'; shape questions: objects, road"
    for params in ({"source": "mine"}, {"images": "some"}):
        assert export(world, owner, pid, "coco", question="road", **params).status_code == 422
    r = export(world, owner, pid, "coco", question="road")
    assert r.headers["content-disposition"].startswith('attachment; filename="project_') and "-coco.zip" in r.headers[
        "content-disposition"]


def test_annotators_may_not_export(world: World) -> None:
    owner, ann = world.user(), world.user()
    pid = world.project(owner, schema=schema("bbox"), members={"annotator": (ann,)})
    assert export(world, ann, pid, "coco").status_code == 403


def test_the_cli_exports_a_dataset_and_imports_it_as_prelabels(world: World, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from labelloop.cli.main import app
    from labelloop.config import get_settings

    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    world.upload(owner, pid, zipped({"a.png": png(40, 30)}), "p.zip")
    answer_all(world, owner, pid, lambda name: {"objects": [BOX]})
    again = world.project(owner, schema=schema("bbox"))
    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(world.runtime.settings.data_dir))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", world.runtime.settings.resolved_database_url)
    get_settings.cache_clear()
    out = tmp_path / "set.zip"
    try:
        result = CliRunner().invoke(app, ["export", str(pid), "--format", "coco", "-o", str(out)])
        assert result.exit_code == 0, result.output
        result = CliRunner().invoke(app, ["import", str(again), str(out), "--format", "coco", "--as", "prelabels"])
        assert result.exit_code == 0, result.output
        assert "imported 1 new items" in result.output
        bad = CliRunner().invoke(app, ["import", str(again), str(out), "--format", "coco", "--as", "answers"])
    finally:
        get_settings.cache_clear()
    assert bad.exit_code == 1 and "answers" in bad.output
    assert jsonl(world, owner, again)["a.png"]["meta"]["prelabel"]["objects"][0]["box"] == [1.0, 2.0, 10.0, 20.0]


def _noise(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (600, 600, 3), dtype=np.uint8)
    return encoded(Image.fromarray(pixels), "PNG", compress_level=0)


def test_memory_does_not_grow_with_the_images_bytes(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    files = {f"{n:02}.png": _noise(n) for n in range(12)}  # about 12 MiB of images
    assert world.upload(owner, pid, zipped(files), "p.zip").status_code == 201
    answer_all(world, owner, pid, lambda name: {"objects": [BOX]})
    with world.runtime.db.read() as conn:
        plan = exports.plan_export(conn, Actor.operator(), pid, "yolo")
    sent = pieces = 0
    tracemalloc.start()
    try:
        for piece in exports.stream_export(world.runtime.db, plan, world.runtime.blobs):
            sent += len(piece)
            pieces += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    total = sum(len(b) for b in files.values())
    assert sent > total and pieces > len(files)
    assert peak < total / 4, (peak, total)  # a piece of one file at a time, never the images
    archive = zipfile.ZipFile(io.BytesIO(b"".join(exports.stream_export(world.runtime.db, plan, world.runtime.blobs))))
    assert archive.read("images/07.png") == files["07.png"]
