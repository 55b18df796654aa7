"""The issue's proof, one test per shape type: a zip of generated images is imported, each item is
handed out and answered over HTTP, the consensus is exported as COCO (and as YOLO and VOC where the
type exists there), the archive is imported into a fresh project as gold, and exporting that gold
gives the same archive byte for byte, with every coordinate of the consensus kept."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import numpy as np
import pytest

from labelloop.schema.types.shapes.rle import encode_mask
from tests.platform.pictures import jpeg, png, zipped
from tests.platform.world import User, World

FORMATS = {"bbox": ("coco", "yolo", "voc"), "rotated_bbox": ("coco",), "polygon": ("coco", "yolo"),
           "polyline": ("coco",), "keypoints": ("coco", "yolo"), "mask": ("coco",)}
SIZES = {"a.png": (64, 48), "b.jpg": (200, 100), "sub/c.png": (31, 17)}
SKELETON = {"points": ["head", "left_hand", "right_hand"], "edges": [["head", "left_hand"], ["head", "right_hand"]]}


def schema(kind: str) -> dict[str, Any]:
    question: dict[str, Any] = {"name": "objects", "type": kind, "target": "photo", "labels": ["car", "person"],
                                "attributes": [{"name": "note", "type": "text", "required": False}]}
    if kind == "keypoints":
        question["skeleton"] = SKELETON
    return {"fields": [{"name": "photo", "type": "image"}], "questions": [question]}


def _mask(w: int, h: int, x1: int, y1: int, x2: int, y2: int) -> dict[str, Any]:
    m = np.zeros((h, w), dtype=bool)
    m[y1:y2, x1:x2] = True
    m[y1, x2 - 1] = False  # not a rectangle
    return encode_mask(m)


def objects(kind: str, name: str) -> list[dict[str, Any]]:
    """What the annotator draws on each image: integers, canvas fractions and decimals, edges."""
    w, h = SIZES[name]
    if name == "sub/c.png":
        return []  # "nothing here"
    if kind == "bbox":
        return [{"label": "car", "box": [0, 0.25, 12.3, 20], "attributes": {"note": "a <b> & c"}},
                {"label": "person", "box": [w - 10.125, 5, w, h]}]
    if kind == "rotated_bbox":
        return [{"label": "car", "box": [20, 15.5, 10.25, 6, 30]}, {"label": "person", "box": [30, 20, 8.1, 4, -90]}]
    if kind == "polygon":
        return [{"label": "car", "points": [[0, 0], [20.5, 1.3], [10, h]]},
                {"label": "person", "points": [[w, h], [w - 7.75, h - 3], [w - 2, 0.1], [w - 1, 5]]}]
    if kind == "polyline":
        return [{"label": "car", "points": [[0, 0], [w, h]]}, {"label": "person", "points": [[1.5, 2], [3, 4.7], [9, 1]]}]
    if kind == "keypoints":
        return [{"label": "person", "points": {"head": [10, 5.5, 2], "left_hand": [3.3, 20, 1], "right_hand": [0, 0, 0]}},
                {"label": "person", "points": {"head": [w, h, 2], "left_hand": [0, 0, 0], "right_hand": [w - 1, 0, 2]}}]
    return [{"label": "car", "rle": _mask(w, h, 1, 2, 10, 9)}, {"label": "person", "rle": _mask(w, h, 0, 0, w, 3)}]


def _images() -> dict[str, bytes]:
    return {"a.png": png(*SIZES["a.png"]), "b.jpg": jpeg(*SIZES["b.jpg"]), "sub/c.png": png(*SIZES["sub/c.png"], color=(1, 2, 3))}


def _export(world: World, user: User, pid: int, fmt: str, **params: str) -> bytes:
    r = world.client.get(f"/api/projects/{pid}/export", params={"format": fmt, **params}, headers=user.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    return r.content


def _members(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        assert z.testzip() is None
        return {n: z.read(n) for n in z.namelist()}


def _gold(world: World, user: User, pid: int) -> dict[str, Any]:
    r = world.client.get(f"/api/projects/{pid}/export", params={"format": "jsonl"}, headers=user.headers)
    rows = [json.loads(line) for line in r.text.splitlines()]
    return {row["id"]: row["gold"]["objects"] for row in rows}


@pytest.mark.parametrize("kind", list(FORMATS))
def test_import_answer_aggregate_export_reimport_export_is_identical(world: World, kind: str) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema(kind))
    r = world.upload(owner, pid, zipped(_images()), "photos.zip")
    assert r.status_code == 201, r.text

    drawn: dict[str, list[dict[str, Any]]] = {}
    while (task := world.next(owner, pid)).status_code == 200:
        t = task.json()
        drawn[t["external_id"]] = objects(kind, t["external_id"])
        r = world.submit(owner, pid, t["item_id"], {"objects": drawn[t["external_id"]]})
        assert r.status_code == 201, r.text
    assert set(drawn) == set(SIZES)
    items = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()
    consensus = {i["external_id"]: i["consensus"]["value"]["objects"] for i in items}
    assert consensus == drawn  # one annotator: the consensus is what was drawn, coordinates kept

    for fmt in FORMATS[kind]:
        first = _export(world, owner, pid, fmt)
        again = world.project(owner, schema=schema(kind))
        r = world.upload(owner, again, first, f"dataset-{fmt}.zip", format=fmt, **{"as": "gold"})
        assert r.status_code == 201, (fmt, r.text)
        assert r.json()["result"]["created"] == len(SIZES)
        # The archive names each image by its item's id, so the new items have the same ids; YOLO
        # has no place for attributes.
        kept = consensus if fmt != "yolo" else {
            n: [{k: v for k, v in o.items() if k != "attributes"} for o in objs] for n, objs in consensus.items()}
        assert _gold(world, owner, again) == kept, fmt
        second = _export(world, owner, again, fmt, source="gold")
        assert _members(second) == _members(first), fmt
        assert second == first, fmt  # the same members in the same order: the same bytes
