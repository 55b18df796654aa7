"""A release's modality manifests (#17 §3): COCO and YOLO for image shapes, NeMo for audio segments,
written from the final labels, per split, with every image or clip named in media.csv by the SHA-256
of its bytes; the licences of the sources counted in the card. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import yaml
from pycocotools.coco import COCO

from tests.platform.formats import answer_all, schema
from tests.platform.pictures import jpeg, png, sha, zipped
from tests.platform.sounds import sound
from tests.platform.world import User, World

W, H = 80, 60
BOXES = {"one.png": [{"label": "car", "box": [1, 2.5, 30, 40]}, {"label": "person", "box": [40, 10, 80, 60]}],
         "two.jpg": [], "three.png": [{"label": "person", "box": [0, 0, 10, 10]}]}


def _release(world: World, owner: User, pid: int, **body: Any) -> dict[str, Any]:
    r = world.client.post(f"/api/projects/{pid}/releases", json={"name": "v1", **body}, headers=owner.headers)
    assert r.status_code == 201, r.text
    r = world.client.get(f"/api/projects/{pid}/releases/v1", headers=owner.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _file(world: World, owner: User, pid: int, name: str) -> bytes:
    r = world.client.get(f"/api/projects/{pid}/releases/v1/files/{name}", headers=owner.headers)
    assert r.status_code == 200, r.text
    return r.content


def _media(world: World, owner: User, pid: int) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_file(world, owner, pid, "media.csv").decode())))


def test_image_shapes_go_out_as_coco_and_yolo_by_reference(world: World, tmp_path: Path) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    files = {"one.png": png(W, H), "two.jpg": jpeg(W, H, seed=3), "three.png": png(W, H, color=(1, 2, 3))}
    r = world.upload(owner, pid, zipped(files), "p.zip")
    assert r.status_code == 201, r.text
    answer_all(world, owner, pid, lambda name: {"objects": BOXES[name]})
    made = _release(world, owner, pid, split=None)
    names = {f["name"] for f in made["files"]}
    assert {"coco-train.json", "yolo.zip", "media.csv"} <= names
    assert made["card"]["media_manifests"] == {"described": {"coco": 3, "yolo": 3}, "left_out": {"coco": 0, "yolo": 0}}

    media = _media(world, owner, pid)
    assert {(m["format"], m["split"], m["external_id"], m["reference"]) for m in media} == {
        ("coco", "train", n, f"blob:{sha(b)}") for n, b in files.items()}
    path = tmp_path / "coco.json"
    path.write_bytes(_file(world, owner, pid, "coco-train.json"))
    coco = COCO(str(path))  # the format's reference reader
    by_file = {img["file_name"]: img for img in coco.dataset["images"]}
    assert {m["file"] for m in media} == set(by_file)
    for m in media:
        img = by_file[m["file"]]
        assert (img["width"], img["height"]) == (W, H)
        boxes = [a["bbox"] for a in coco.loadAnns(coco.getAnnIds(imgIds=[img["id"]]))]
        assert boxes == [[b["box"][0], b["box"][1], b["box"][2] - b["box"][0], b["box"][3] - b["box"][1]]
                         for b in BOXES[m["external_id"]]]

    with zipfile.ZipFile(io.BytesIO(_file(world, owner, pid, "yolo.zip"))) as z:
        data = yaml.safe_load(z.read("data.yaml"))
        assert data["train"] == "images/train" and data["names"] == {0: "car", 1: "person"}
        assert "val" not in data  # not split: one folder
        one = next(m["file"] for m in media if m["external_id"] == "one.png")
        lines = z.read(f"labels/train/{Path(one).with_suffix('.txt')}").decode().split("\n")
        assert lines[0].split() == ["0", repr(15.5 / W), repr(21.25 / H), repr(29 / W), repr(37.5 / H)]


def test_a_split_release_writes_one_manifest_per_split(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    files = {f"p{i}.png": png(W, H, color=(i, 0, 0)) for i in range(20)}
    assert world.upload(owner, pid, zipped(files), "p.zip").status_code == 201
    answer_all(world, owner, pid, lambda name: {"objects": [{"label": "car", "box": [1, 1, 5, 5]}]})
    made = _release(world, owner, pid, split=[50, 25, 25])
    rows = {r["external_id"]: r["split"] for r in _table_rows(world, owner, pid)}
    media = _media(world, owner, pid)
    assert {m["external_id"]: m["split"] for m in media} == rows
    for split in ("train", "validation", "test"):
        doc = json.loads(_file(world, owner, pid, f"coco-{split}.json"))
        assert len(doc["images"]) == sum(1 for s in rows.values() if s == split) > 0
        assert len(doc["annotations"]) == len(doc["images"])
    with zipfile.ZipFile(io.BytesIO(_file(world, owner, pid, "yolo.zip"))) as z:
        data = yaml.safe_load(z.read("data.yaml"))
        assert (data["train"], data["val"], data["test"]) == ("images/train", "images/validation", "images/test")
        assert sorted(n.split("/")[1] for n in z.namelist() if n.startswith("labels/")) == sorted(rows.values())
    assert made["card"]["media_manifests"]["described"] == {"coco": 20, "yolo": 20}


def _table_rows(world: World, owner: User, pid: int) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return list(pq.read_table(io.BytesIO(_file(world, owner, pid, "items.parquet"))).to_pylist())


def test_audio_segments_go_out_as_a_nemo_manifest(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema={
        "fields": [{"name": "audio", "type": "audio"}],
        "questions": [{"name": "segments", "type": "audio_segments", "target": "audio",
                       "labels": ["speech"], "transcript": True}]})
    clips = {"a.wav": sound("wav", 2.0), "b.wav": sound("wav", 1.0, hz=330.0)}
    assert world.upload(owner, pid, zipped(clips), "c.zip").status_code == 201
    said = {"a.wav": [{"start": 0.25, "end": 1.5, "label": "speech", "text": "hello there"}],
            "b.wav": [{"start": 0.0, "end": 1.0, "label": "speech", "text": "bye"}]}
    answer_all(world, owner, pid, lambda name: {"segments": said[name]})
    made = _release(world, owner, pid, split=None)
    assert made["card"]["media_manifests"] == {"described": {"nemo": 2}, "left_out": {"nemo": 0}}
    lines = [json.loads(x) for x in _file(world, owner, pid, "nemo-train.jsonl").decode().splitlines()]
    by_path = {m["file"]: m for m in _media(world, owner, pid)}
    got = {by_path[x["audio_filepath"]]["external_id"]: (x["offset"], x["duration"], x["text"], x["label"])
           for x in lines}
    assert got == {"a.wav": (0.25, 1.25, "hello there", "speech"), "b.wav": (0.0, 1.0, "bye", "speech")}
    assert {m["reference"] for m in by_path.values()} == {f"blob:{sha(b)}" for b in clips.values()}


def test_the_card_counts_the_licences_of_the_sources(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema={"fields": [{"name": "text", "type": "text"}],
                                       "questions": [{"name": "c", "type": "choice", "options": ["a", "b"]}]})
    world.import_records(owner, pid, [
        {"id": "x1", "text": "one", "meta": {"license": "cc-by-4.0"}},
        {"id": "x2", "text": "two", "meta": {"license": "cc-by-4.0", "source": "web"}},
        {"id": "x3", "text": "three", "meta": {"license": "mit"}},
        {"id": "x4", "text": "four"}])
    answer_all(world, owner, pid, lambda name: {"c": "a"})
    card = _release(world, owner, pid, split=None)["card"]
    assert card["source_licenses"] == {"cc-by-4.0": 2, "mit": 1, "not stated": 1}
    assert card["media_manifests"] == {}
    markdown = _file(world, owner, pid, "card.md").decode()
    assert "| cc-by-4.0 | 2 |" in markdown and "| not stated | 1 |" in markdown
    assert "media.csv" not in {f["name"] for f in _release_files(world, owner, pid)}


def _release_files(world: World, owner: User, pid: int) -> list[dict[str, Any]]:
    r = world.client.get(f"/api/projects/{pid}/releases/v1", headers=owner.headers)
    return list(r.json()["files"])
