"""Video formats through the server (docs/video.md, "Formats"): MOT Challenge, CVAT for video XML,
the YouTube-VIS-like JSON and per-frame YOLO exported from test-card videos with gold tracks;
MOT and CVAT imported into a fresh project with the videos (and back onto the items already there
without them) keep every keyframe, and exporting again writes the same archive byte for byte;
bad files are refused by file, line and field with nothing kept."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import motmetrics as mm
import numpy as np
import pytest
from PIL import Image

from labelloop.services.video import testcard
from tests.platform.formats import answer_all, export, imported, jsonl, members, nothing_kept, problems
from tests.platform.pictures import zipped
from tests.platform.world import User, World

W, H = 160, 120
FRAMES = {"clips/a.mp4": 30, "b.mp4": 20}
SCHEMA: dict[str, Any] = {
    "fields": [{"name": "clip", "type": "video"}],
    "questions": [{"name": "objects", "type": "video_tracks", "target": "clip", "labels": ["car", "person"],
                   "attributes": [{"name": "parked", "type": "choice", "options": ["no", "yes"],
                                   "required": False}]}],
}


def key(frame: int, box: list[Any] | None, outside: bool = False, occluded: bool = False) -> dict[str, Any]:
    return {"frame": frame, "box": box, "outside": outside, "occluded": occluded}


GOLD = {
    "clips/a.mp4": {"tracks": [
        {"id": "t1", "label": "car", "attributes": {"parked": "no"},
         "keyframes": [key(0, [10, 20, 60, 70]), key(10, [30, 20.5, 80, 70.25], occluded=True),
                       key(20, [30, 20.5, 80, 70.25], outside=True), key(25, [0, 0, 16, 12])]},
        {"id": "t2", "label": "person", "keyframes": [key(5, [100, 10, 150, 110]), key(6, [101, 10, 151, 110])]},
    ], "shapes": []},
    "b.mp4": {"tracks": [
        {"id": "t1", "label": "person", "keyframes": [key(3, [1, 2, 3, 4]), key(19, [155.5, 100, 160, 120])]},
    ], "shapes": []},
}


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("cards")
    out = {}
    for name, n in FRAMES.items():
        path = folder / Path(name).name
        testcard.write_video(path, n, width=W, height=H)
        out[name] = path.read_bytes()
    return out


def project(world: World, files: dict[str, bytes] | None) -> tuple[User, int]:
    owner = world.user()
    pid = world.project(owner, schema=SCHEMA)
    if files is not None:
        r = world.upload(owner, pid, zipped(files), "clips.zip")
        assert r.status_code == 201, r.text
    return owner, pid


def with_gold(world: World, videos: dict[str, bytes]) -> tuple[User, int]:
    owner, pid = project(world, videos)
    listed = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()
    for item in listed:
        r = world.client.put(f"/api/projects/{pid}/items/{item['id']}/gold",
                             json={"value": {"objects": GOLD[item["external_id"]]}}, headers=owner.headers)
        assert r.status_code == 200, r.text
    return owner, pid


def tracks_of(value: dict[str, Any]) -> list[Any]:
    """The tracks as keyframes and labels (ids are renumbered by the formats; numbers compared as such)."""
    return [(t["label"], t.get("attributes", {}), [(k["frame"], None if k["box"] is None else
             [float(v) for v in k["box"]], k["outside"], k["occluded"]) for k in t["keyframes"]])
            for t in value["tracks"]]


def test_mot_export_import_and_export_again(world: World, videos: dict[str, bytes], tmp_path: Path) -> None:
    owner, pid = with_gold(world, videos)
    r = export(world, owner, pid, "mot", source="gold")
    assert r.status_code == 200, r.text
    files = members(r.content)
    assert {"clips/a.mp4", "clips/a/gt/gt.txt", "clips/a/gt/labels.txt", "clips/a/gt/keyframes.txt",
            "clips/a/seqinfo.ini", "b.mp4", "b/gt/gt.txt"} <= set(files)
    gt = files["clips/a/gt/gt.txt"].decode().splitlines()
    assert gt[0] == "1,1,10,20,50,50,1,1,1" and gt[5] == "6,1,20,20.25,50,49.875,1,1,1"
    # t1: frames 0..19, then 25..29; t2: 5, then held to the end (29).
    assert len(gt) == 20 + 5 + 25
    assert files["clips/a/gt/labels.txt"] == b"car\nperson\n"
    assert b"seqLength=30\n" in files["clips/a/seqinfo.ini"]
    (tmp_path / "gt.txt").write_bytes(files["clips/a/gt/gt.txt"])
    df = mm.io.loadtxt(str(tmp_path / "gt.txt"), fmt="mot15-2D")
    assert len(df) == len(gt) and set(df.index.get_level_values("Id")) == {1, 2}

    fresh_owner, fresh = project(world, None)
    done = imported(world, fresh_owner, fresh, r.content, "mot", **{"as": "gold"})
    assert done.status_code == 201, done.text
    got = {k: v["gold"]["objects"] for k, v in jsonl(world, fresh_owner, fresh).items()}
    for name, value in GOLD.items():
        assert tracks_of(got[name]) == tracks_of({"tracks": [{**t, "attributes": {}} for t in value["tracks"]]})
    again = export(world, fresh_owner, fresh, "mot", source="gold")
    assert again.content == r.content


def test_mot_from_elsewhere_without_the_sidecar(world: World, videos: dict[str, bytes]) -> None:
    """A MOT file without keyframes.txt and labels.txt (class k is the question's k-th label): the
    keyframes are found again, and the archive re-exports to the same gt.txt."""
    owner, pid = with_gold(world, videos)
    files = members(export(world, owner, pid, "mot", source="gold").content)
    plain = {n: b for n, b in files.items() if not n.endswith(("keyframes.txt", "labels.txt"))}
    fresh_owner, fresh = project(world, None)
    done = imported(world, fresh_owner, fresh, zipped(plain), "mot", **{"as": "gold"})
    assert done.status_code == 201, done.text
    got = {k: v["gold"]["objects"] for k, v in jsonl(world, fresh_owner, fresh).items()}
    for name, value in GOLD.items():
        assert tracks_of(got[name]) == tracks_of({"tracks": [{**t, "attributes": {}} for t in value["tracks"]]})
    again = members(export(world, fresh_owner, fresh, "mot", source="gold").content)
    assert again["clips/a/gt/gt.txt"] == files["clips/a/gt/gt.txt"]


def test_cvat_export_import_and_export_again(world: World, videos: dict[str, bytes]) -> None:
    owner, pid = with_gold(world, videos)
    r = export(world, owner, pid, "cvat", source="gold")
    assert r.status_code == 200, r.text
    files = members(r.content)
    assert {"clips/a.mp4", "clips/a.xml", "b.mp4", "b.xml"} == set(files)
    fresh_owner, fresh = project(world, None)
    got = imported(world, fresh_owner, fresh, r.content, "cvat", **{"as": "gold"})
    assert got.status_code == 201, got.text
    gold = {k: v["gold"]["objects"] for k, v in jsonl(world, fresh_owner, fresh).items()}
    for name, value in GOLD.items():
        assert tracks_of(gold[name]) == tracks_of(value)
    again = export(world, fresh_owner, fresh, "cvat", source="gold")
    assert again.content == r.content


def test_tracks_onto_the_items_already_there(world: World, videos: dict[str, bytes]) -> None:
    owner, pid = with_gold(world, videos)
    for fmt in ("mot", "cvat"):
        r = export(world, owner, pid, fmt, source="gold", images="refs")
        assert r.status_code == 200, r.text
        assert not any(n.endswith(".mp4") for n in members(r.content))
        target_owner, target = project(world, videos)
        done = imported(world, target_owner, target, r.content, fmt, **{"as": "prelabels"})
        assert done.status_code == 201, done.text
        rows = jsonl(world, target_owner, target)
        for name, value in GOLD.items():
            got = rows[name]["meta"]["prelabel"]["objects"]
            want = value if fmt == "cvat" else {"tracks": [{**t, "attributes": {}} for t in value["tracks"]]}
            assert tracks_of(got) == tracks_of(want)


def test_vis_and_yolo_frames(world: World, videos: dict[str, bytes]) -> None:
    owner, pid = with_gold(world, videos)
    r = export(world, owner, pid, "vis", source="gold")
    assert r.status_code == 200, r.text
    files = members(r.content)
    doc = json.loads(files["annotations/instances.json"])
    assert [v["file_name"] for v in doc["videos"]] == ["b.mp4", "clips/a.mp4"]  # in item order
    assert [c["name"] for c in doc["categories"]] == ["car", "person"]
    first = doc["annotations"][1]  # clips/a.mp4's t1
    assert first["video_id"] == 2 and first["category_id"] == 1
    assert len(first["bboxes"]) == 30 and first["bboxes"][0] == [10, 20, 50, 50] and first["bboxes"][22] is None
    assert first["keyframes"] == [0, 10, 25] and first["attributes"] == {"parked": "no"}
    assert "videos/clips/a.mp4" in files

    r = export(world, owner, pid, "yolo-frames", source="gold")
    assert r.status_code == 200, r.text
    files = members(r.content)
    jpegs = sorted(n for n in files if n.endswith(".jpg"))
    assert len(jpegs) == len([n for n in files if n.startswith("labels/")]) == 30 + 17
    for name in ("images/clips/a/000012.jpg", "images/b/000019.jpg"):
        image = np.asarray(Image.open(io.BytesIO(files[name])).convert("RGB"))
        assert testcard.read_number(image) == int(name[-10:-4])
    assert files["labels/b/000019.txt"].split()[0] == b"1"


def test_bad_files_are_refused_by_file_line_and_field(world: World, videos: dict[str, bytes]) -> None:
    owner, pid = project(world, None)
    gt = "1,1,10,20,50,50,1,1,1\n31,1,10,20,50,50,1,1,1\n1,1,0,0,5,5,1,1,1\n2,2,150,0,20,5,1,1,1\n2,3,0,0,5,5,1,9,1\n"
    archive = zipped({"clips/a.mp4": videos["clips/a.mp4"], "clips/a/gt/gt.txt": gt.encode()})
    found = problems(imported(world, owner, pid, archive, "mot", **{"as": "gold"}))
    assert [(p["file"], p["line"], p["field"]) for p in found] == [
        ("clips/a/gt/gt.txt", 2, "frame"), ("clips/a/gt/gt.txt", 3, "id"),
        ("clips/a/gt/gt.txt", 4, "bb_width"), ("clips/a/gt/gt.txt", 5, "class")]
    nothing_kept(world, pid)
    xml = b'<annotations><track id="0" label="truck"><box frame="0" keyframe="1" outside="0" ' \
          b'occluded="0" xtl="1" ytl="1" xbr="2" ybr="2"/></track></annotations>'
    found = problems(imported(world, owner, pid, zipped({"b.mp4": videos["b.mp4"], "b.xml": xml}), "cvat"))
    assert [(p["file"], p["line"], p["field"]) for p in found] == [("b.xml", 1, "label")]
    nothing_kept(world, pid)
    r = export(world, owner, pid, "mot", source="answers")
    assert r.status_code == 422 and problems(r)[0]["field"] == "source"
    # Annotations are not people's answers (docs/images.md): refused before a byte is read.
    r = imported(world, owner, pid, zipped({"b.xml": xml}), "cvat", **{"as": "answers"})
    assert problems(r)[0]["field"] == "as"


def test_every_annotators_tracks_in_cvat_and_vis(world: World, videos: dict[str, bytes]) -> None:
    owner = world.user()
    ann, other = world.user("ann"), world.user("bo")
    pid = world.project(owner, schema=SCHEMA, overlap=2, members={"annotator": (ann, other)})
    r = world.upload(owner, pid, zipped({"b.mp4": videos["b.mp4"]}), "clips.zip")
    assert r.status_code == 201, r.text
    for who in (ann, other):
        answer_all(world, who, pid, lambda name: {"objects": GOLD[name]})
    xml = members(export(world, owner, pid, "cvat", source="answers").content)["b.xml"]
    tracks = ET.fromstring(xml).findall("track")
    assert [(t.get("id"), t.get("annotator")) for t in tracks] == [("0", "ann"), ("1", "bo")]
    doc = json.loads(members(export(world, owner, pid, "vis", source="answers").content)[
        "annotations/instances.json"])
    assert [a["annotator"] for a in doc["annotations"]] == ["ann", "bo"]


def test_a_release_holds_mot_ground_truth_per_split(world: World, videos: dict[str, bytes]) -> None:
    """A release of a video project writes `mot-<split>.zip` from the final labels: the same sequence
    files as the MOT export of the consensus, each video named in media.csv by its bytes' SHA-256."""
    owner, pid = project(world, videos)
    answer_all(world, owner, pid, lambda name: {"objects": GOLD[name]})
    r = world.client.post(f"/api/projects/{pid}/releases", json={"name": "v1", "split": None}, headers=owner.headers)
    assert r.status_code == 201, r.text
    card = world.client.get(f"/api/projects/{pid}/releases/v1", headers=owner.headers).json()["card"]
    assert card["media_manifests"] == {"described": {"mot": 2}, "left_out": {"mot": 0}}

    def file(name: str) -> bytes:
        got = world.client.get(f"/api/projects/{pid}/releases/v1/files/{name}", headers=owner.headers)
        assert got.status_code == 200, got.text
        return got.content

    released = members(file("mot-train.zip"))
    exported = members(export(world, owner, pid, "mot", source="consensus").content)
    assert released and released == {n: b for n, b in exported.items() if n in released}
    assert {n.rsplit("/", 2)[0] for n in released if n.endswith("gt/gt.txt")} == {"clips/a", "b"}
    media = list(csv.DictReader(io.StringIO(file("media.csv").decode())))
    assert {(m["format"], m["file"], m["reference"]) for m in media} == {
        ("mot", name, f"blob:{hashlib.sha256(data).hexdigest()}") for name, data in videos.items()}
    gt = mm.io.loadtxt(io.StringIO(released["clips/a/gt/gt.txt"].decode()), fmt="mot15-2D")
    assert len(gt) == len(released["clips/a/gt/gt.txt"].decode().splitlines()) > 0
