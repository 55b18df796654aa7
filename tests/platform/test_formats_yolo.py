"""YOLO in and out, with label files written by hand the way Ultralytics' documentation gives them
(docs.ultralytics.com/datasets/detect, /segment, /pose): `class cx cy w h` normalised, one file per
image under labels/ beside images/, the classes in data.yaml; problems named by file and line."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.platform.formats import (
    answer_all,
    export,
    imported,
    jsonl,
    members,
    nothing_kept,
    problems,
    schema,
)
from tests.platform.pictures import jpeg, png, zipped
from tests.platform.world import World

W, H = 200, 100

ULTRALYTICS_DETECT = {
    "data.yaml": b"path: ../datasets/toy\ntrain: images/train\nval: images/val\nnames:\n  0: person\n  1: car\n",
    "images/train/one.jpg": jpeg(W, H),
    "labels/train/one.txt": b"1 0.5 0.5 0.2 0.4\n0 0.1 0.9 0.2 0.2\n\n",
    "images/val/two.png": png(W, H),  # no label file: nothing on it
}


def test_a_detect_dataset_as_ultralytics_writes_it(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    r = imported(world, owner, pid, zipped(ULTRALYTICS_DETECT), "yolo")
    assert r.status_code == 201, r.text
    rows = jsonl(world, owner, pid)
    assert rows["train/one.jpg"]["gold"] == {"objects": [
        {"label": "car", "box": [80, 30, 120, 70]}, {"label": "person", "box": [0, 80, 40, 100]}]}
    assert rows["val/two.png"]["gold"] == {"objects": []}


def test_segment_and_pose_lines(world: World) -> None:
    owner = world.user()
    segment = {"data.yaml": b"names: [car, person]\n", "images/a.png": png(W, H),
               "labels/a.txt": b"0 0.1 0.2 0.5 0.2 0.3 0.75\n"}
    pid = world.project(owner, schema=schema("polygon"))
    assert imported(world, owner, pid, zipped(segment), "yolo").status_code == 201
    assert jsonl(world, owner, pid)["a.png"]["gold"]["objects"] == [
        {"label": "car", "points": [[20, 20], [100, 20], [60, 75]]}]

    pose = {"data.yaml": b"names: {0: car, 1: person}\nkpt_shape: [3, 3]\n", "images/a.png": png(W, H),
            "labels/a.txt": b"1 0.5 0.5 0.5 0.5 0.25 0.5 2 0 0 0 0.75 0.25 1\n"}
    pid = world.project(owner, schema=schema("keypoints"))
    assert imported(world, owner, pid, zipped(pose), "yolo").status_code == 201
    assert jsonl(world, owner, pid)["a.png"]["gold"]["objects"] == [{"label": "person", "points": {
        "head": [50, 50, 2], "left_hand": [0, 0, 0], "right_hand": [150, 25, 1]}}]

    two_values = {**pose, "data.yaml": b"names: [car, person]\nkpt_shape: [3, 2]\n",
                  "labels/a.txt": b"1 0.5 0.5 0.5 0.5 0.25 0.5 0 0 0.75 0.25\n"}
    pid = world.project(owner, schema=schema("keypoints"))
    assert imported(world, owner, pid, zipped(two_values), "yolo").status_code == 201
    assert jsonl(world, owner, pid)["a.png"]["gold"]["objects"][0]["points"]["right_hand"] == [150, 25, 2]


def test_every_problem_of_a_bad_yolo_dataset_is_named_and_nothing_is_imported(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    files = {
        "data.yaml": b"names: [car, person, dog]\n",
        "images/a.png": png(W, H),
        "labels/a.txt": (b"0 0.5 0.5 0.2 0.2\n"
                         b"2 0.5 0.5 0.2 0.2\n"  # dog: not a label
                         b"7 0.5 0.5 0.2 0.2\n"  # no class 7
                         b"0 0.5 0.5 0.2\n"  # a value short
                         b"0 0.99 0.5 0.04 0.2\n"  # x2 = 202: 2 px past the edge
                         b"0 0.998 0.5 0.004 0.2\n"  # x2 = 200.2: clipped onto the edge
                         b"car 0.5 0.5 0.2 0.2\n"),
        "labels/lost.txt": b"0 0.5 0.5 0.1 0.1\n",  # no image
    }
    r = imported(world, owner, pid, zipped(files), "yolo")
    found = [(p["file"], p.get("line"), p.get("field"), p["message"]) for p in problems(r)]
    assert found == [
        ("labels/lost.txt", None, None, "no image for this label file under images/ (same path, an image suffix)"),
        ("labels/a.txt", 2, "class", "class 'dog' is not a label of question 'objects' (labels: car, person)"),
        ("labels/a.txt", 3, "class", "class 7 is not in names (0 to 2)"),
        ("labels/a.txt", 4, None, "expected class cx cy w h: 5 values, got 4"),
        ("labels/a.txt", 7, None, "expected a class number then numbers, got 'car 0.5 0.5 0.2 0.2'"),
        ("labels/a.txt", 5, None, "x2 = 202 is outside the image (0 to 200)"),
    ]
    nothing_kept(world, pid)


@pytest.mark.parametrize(("data", "message"), [
    ({}, "a YOLO archive holds one .yaml file at its top with the class names; found none"),
    ({"data.yaml": b"names: 3\n"}, "expected names: a list of class names, or a mapping from 0, 1, ... to them"),
    ({"data.yaml": b"names: [a\n"}, "not readable YAML"),
])
def test_the_class_names_must_be_given(world: World, data: dict[str, bytes], message: str) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    r = imported(world, owner, pid, zipped({**data, "images/a.png": png(W, H)}), "yolo")
    assert problems(r)[0]["message"].startswith(message)


def test_pose_needs_the_skeletons_number_of_points(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("keypoints"))
    files = {"data.yaml": b"names: [person]\nkpt_shape: [17, 3]\n", "images/a.png": png(W, H)}
    (problem,) = problems(imported(world, owner, pid, zipped(files), "yolo"))
    assert (problem["field"], problem["file"]) == ("kpt_shape", "data.yaml")


def _drawn(name: str) -> dict[str, Any]:
    return {"objects": [{"label": "person", "box": [0, 0.5, 33.3, 100]}, {"label": "car", "box": [199.75, 1, 200, 2]}]}


def test_our_export_reads_as_ultralytics_expects(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    world.upload(owner, pid, zipped({"x/one.jpg": jpeg(W, H), "two.png": png(W, H)}), "p.zip")
    answer_all(world, owner, pid, _drawn)
    r = export(world, owner, pid, "yolo")
    files = members(r.content)
    assert sorted(files) == ["data.yaml", "images/two.png", "images/x/one.jpg", "labels/two.txt", "labels/x/one.txt"]
    data = yaml.safe_load(files["data.yaml"])
    assert data["names"] == {0: "car", 1: "person"} and data["train"] == "images"
    lines = [line.split() for line in files["labels/two.txt"].decode().splitlines()]
    assert [int(v[0]) for v in lines] == [1, 0]
    cx, cy, w, h = map(float, lines[0][1:])
    assert (cx * W - w * W / 2, cy * H - h * H / 2, cx * W + w * W / 2, cy * H + h * H / 2) == pytest.approx(
        (0, 0.5, 33.3, 100), abs=1e-9)
    assert lines[1][1:] == ["0.999375", "0.015", "0.00125", "0.01"]


def test_answers_cannot_go_to_yolo_and_a_question_yolo_lacks_is_refused(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    r = export(world, owner, pid, "yolo", source="answers")
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "source"
    pid = world.project(owner, schema=schema("mask"))
    r = export(world, owner, pid, "yolo")
    assert r.status_code == 422
    assert r.json()["error"]["problems"][0]["message"] == "YOLO holds bbox, polygon, keypoints; the schema has objects (mask)"


def test_unsafe_names_and_links_in_a_dataset_are_refused_even_unused(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    archive = zipped({"data.yaml": b"names: [car]\n", "images/a.png": png(W, H), "../up.png": png(W, H)},
                          links={"images/b.png": "/etc/passwd"})
    found = {(p["file"], p["message"]) for p in problems(imported(world, owner, pid, archive, "yolo"))}
    assert found == {("../up.png", "the name leads out of the archive (../)"),
                     ("images/b.png", "a symbolic link: put the file itself in the archive")}
    nothing_kept(world, pid)
