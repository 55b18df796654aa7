"""COCO in and out: pycocotools (the format's reference reader) loads our files, decodes our masks
to the pixels we stored, measures the areas we wrote and scores our boxes, outlines and keypoints
against themselves perfectly; a COCO file written the way other tools write it imports as gold or
as pre-labels; every problem of a bad file is named, with nothing imported."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from labelloop.schema.types.shapes.rle import decode_mask, encode_mask
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

# pycocotools 2.0 calls numpy's __array__ the pre-2.0 way; its results are what is tested here.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

W, H = 80, 60
KP_SCHEMA_POINTS = ["head", "left_hand", "right_hand"]


def _project(world: World, kind: str, **extra: Any) -> tuple[Any, int]:
    owner = world.user()
    pid = world.project(owner, schema=schema(kind, **extra))
    r = world.upload(owner, pid, zipped({"one.png": png(W, H), "two.jpg": jpeg(W, H, seed=3)}), "p.zip")
    assert r.status_code == 201, r.text
    return owner, pid


def _coco(world: World, owner: Any, pid: int, tmp_path: Path, **params: str) -> tuple[COCO, dict[str, Any]]:
    r = export(world, owner, pid, "coco", **params)
    assert r.status_code == 200, r.text
    raw = members(r.content)["annotations/instances.json"]
    path = tmp_path / "instances.json"
    path.write_bytes(raw)
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path)), json.loads(raw)


def _self_ap(coco: COCO, doc: dict[str, Any], iou_type: str) -> float:
    """COCO's AP of the file's own annotations taken as detections: 1 when cocoapi reads them right."""
    detections = [{k: v for k, v in a.items() if k not in ("id", "area")} | {"score": 1.0} for a in doc["annotations"]]
    with contextlib.redirect_stdout(io.StringIO()):
        found = coco.loadRes(detections)
        ev = COCOeval(coco, found, iou_type)
        if iou_type == "keypoints":  # cocoapi's default sigmas are those of COCO's 17 person points
            ev.params.kpt_oks_sigmas = np.full(len(KP_SCHEMA_POINTS), 0.05)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return float(ev.stats[0])


def _mask(x1: int, y1: int, x2: int, y2: int, hole: bool = False) -> dict[str, Any]:
    m = np.zeros((H, W), dtype=bool)
    m[y1:y2, x1:x2] = True
    if hole:
        m[y1 + 1, x1 + 1] = False
    return encode_mask(m)


def test_pycocotools_decodes_our_masks_and_measures_our_areas(world: World, tmp_path: Path) -> None:
    owner, pid = _project(world, "mask")
    drawn = {"one.png": [{"label": "car", "rle": _mask(3, 4, 20, 30, hole=True)},
                         {"label": "person", "rle": _mask(0, 50, W, H)}],
             "two.jpg": [{"label": "car", "rle": _mask(79, 0, 80, 1)}]}
    answer_all(world, owner, pid, lambda name: {"objects": drawn[name]})
    coco, doc = _coco(world, owner, pid, tmp_path)
    by_file = {im["file_name"]: im["id"] for im in doc["images"]}
    for name, objects in drawn.items():
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[by_file[name]]))
        assert len(anns) == len(objects)
        for ann, obj in zip(anns, objects, strict=True):
            assert ann["iscrowd"] == 0
            assert np.array_equal(coco.annToMask(ann).astype(bool), decode_mask(obj["rle"]))
            assert ann["area"] == int(mask_utils.area(ann["segmentation"]))
            assert ann["bbox"] == [int(v) for v in mask_utils.toBbox(ann["segmentation"])]
    assert _self_ap(coco, doc, "segm") == pytest.approx(1.0)


def test_pycocotools_reads_our_polygons_boxes_and_keypoints(world: World, tmp_path: Path) -> None:
    owner, pid = _project(world, "polygon")
    outline = [[2, 3], [40.5, 5], [30, 44.25], [4, 30]]
    answer_all(world, owner, pid, lambda name: {"objects": [{"label": "car", "points": outline}]})
    coco, doc = _coco(world, owner, pid, tmp_path)
    for ann in doc["annotations"]:
        assert ann["segmentation"] == [[c for p in outline for c in p]]
        assert ann["area"] == pytest.approx(shapely.Polygon(outline).area, rel=1e-12)
        # cocoapi rasterises the outline: its pixel count is near the exact area.
        pixels = coco.annToMask(coco.loadAnns([ann["id"]])[0]).sum()
        assert abs(pixels - ann["area"]) < 0.1 * ann["area"]
        assert ann["bbox"] == [2, 3, 38.5, 41.25]
    assert _self_ap(coco, doc, "segm") == pytest.approx(1.0)

    owner, pid = _project(world, "bbox")
    answer_all(world, owner, pid, lambda name: {"objects": [{"label": "car", "box": [1, 2.5, 30, 40]},
                                                           {"label": "person", "box": [40, 10, 80, 60]}]})
    coco, doc = _coco(world, owner, pid, tmp_path)
    assert [a["bbox"] for a in doc["annotations"][:2]] == [[1.0, 2.5, 29.0, 37.5], [40.0, 10.0, 40.0, 50.0]]
    assert _self_ap(coco, doc, "bbox") == pytest.approx(1.0)

    owner, pid = _project(world, "keypoints")
    people = [{"label": "person", "points": {"head": [20, 10, 2], "left_hand": [10, 40.5, 1], "right_hand": [0, 0, 0]}},
              {"label": "person", "points": {"head": [60, 12, 2], "left_hand": [50, 45, 2], "right_hand": [75, 44, 2]}}]
    answer_all(world, owner, pid, lambda name: {"objects": people})
    coco, doc = _coco(world, owner, pid, tmp_path)
    assert coco.loadCats(2)[0]["keypoints"] == KP_SCHEMA_POINTS
    assert coco.loadCats(2)[0]["skeleton"] == [[1, 2], [1, 3]]
    first = doc["annotations"][0]
    assert first["keypoints"] == [20, 10, 2, 10, 40.5, 1, 0, 0, 0] and first["num_keypoints"] == 2
    assert first["bbox"] == [10, 10, 10, 30.5]
    assert _self_ap(coco, doc, "keypoints") == pytest.approx(1.0)


def _foreign(images: dict[str, bytes], doc: dict[str, Any], name: str = "annotations/instances_default.json") -> bytes:
    return zipped({name: json.dumps(doc).encode(), **images})


CVAT_STYLE = {
    "licenses": [{"name": "", "id": 0, "url": ""}], "info": {"contributor": "", "year": ""},
    "categories": [{"id": 3, "name": "person", "supercategory": ""}, {"id": 7, "name": "car", "supercategory": ""},
                   {"id": 9, "name": "dog", "supercategory": ""}],
    "images": [{"id": 10, "width": W, "height": H, "file_name": "one.png", "license": 0},
               {"id": 11, "width": W, "height": H, "file_name": "two.jpg", "license": 0}],
    "annotations": [
        {"id": 1, "image_id": 10, "category_id": 7, "segmentation": [], "area": 600.0, "bbox": [10.0, 5.0, 30.0, 20.0],
         "iscrowd": 0, "attributes": {"occluded": False, "note": "kept"}},
        {"id": 2, "image_id": 10, "category_id": 3, "segmentation": [], "area": 1.0, "bbox": [79.75, 0, 0.5, 60.25],
         "iscrowd": 0},
    ],
}


def test_a_cocolike_file_from_another_tool_imports_as_gold(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox", attributes=[{"name": "note", "type": "text", "required": False}]))
    images = {"images/default/one.png": png(W, H), "images/default/two.jpg": jpeg(W, H)}
    r = imported(world, owner, pid, _foreign(images, CVAT_STYLE), "coco", **{"as": "gold"})
    assert r.status_code == 201, r.text
    rows = jsonl(world, owner, pid)
    # Found by their names alone; the unused category "dog" is no problem; CVAT's "occluded" is not
    # an attribute of the question and is left out; a box half a pixel past the edge is clipped.
    assert rows["one.png"]["gold"] == {"objects": [
        {"label": "car", "box": [10.0, 5.0, 40.0, 25.0], "attributes": {"note": "kept"}},
        {"label": "person", "box": [79.75, 0, 80, 60]}]}
    assert rows["two.jpg"]["gold"] == {"objects": []}


def test_annotations_as_prelabels_are_shown_and_recorded_as_the_import_suggestion(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    images = {"images/one.png": png(W, H), "images/two.jpg": jpeg(W, H)}
    r = imported(world, owner, pid, _foreign(images, CVAT_STYLE), "coco", **{"as": "prelabels"})
    assert r.status_code == 201, r.text
    rows = jsonl(world, owner, pid)
    assert rows["one.png"]["gold"] is None
    prelabel = rows["one.png"]["meta"]["prelabel"]
    assert prelabel == {"objects": [{"label": "car", "box": [10.0, 5.0, 40.0, 25.0]},
                                    {"label": "person", "box": [79.75, 0, 80, 60]}]}
    task = world.next(owner, pid).json()
    item = world.client.get(f"/api/projects/{pid}/items/{task['item_id']}", headers=owner.headers).json()["item"]
    value = item["meta"]["prelabel"]
    r = world.submit(owner, pid, task["item_id"], value, suggestion_version="import")
    assert r.status_code == 201, r.text
    assert r.json()["suggestion"]["from"] == "import"
    assert r.json()["suggestion"]["questions"] == {"objects": "unchanged"}


def test_every_problem_of_a_bad_coco_file_is_named_and_nothing_is_imported(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    doc = {
        "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "dog"}],
        "images": [{"id": 1, "file_name": "one.png", "width": W, "height": H},
                   {"id": 2, "file_name": "gone.png", "width": W, "height": H},
                   {"id": 3, "file_name": "two.jpg", "width": 60, "height": 80}],
        "annotations": [
            {"id": 5, "image_id": 1, "category_id": 1, "bbox": [70, 10, 11, 10]},  # x2 = 81: past the edge
            {"id": 6, "image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 2]},  # not a label
            {"id": 7, "image_id": 1, "category_id": 2, "bbox": [1, 1, 2, 2]},  # named once is enough
            {"id": 8, "image_id": 1, "category_id": 1, "bbox": [1, 1, "2", 2]},
            {"id": 9, "image_id": 1, "category_id": 1, "bbox": [10, 10, 0, 5]},  # no width
        ],
    }
    r = imported(world, owner, pid, _foreign({"one.png": png(W, H), "two.jpg": jpeg(W, H)}, doc), "coco")
    found = [(p.get("field"), p["message"]) for p in problems(r)]
    file = "annotations/instances_default.json"
    assert all(p["file"] == file for p in problems(r))
    assert found == [
        ("annotations[id=6].category_id", "category 'dog' is not a label of question 'objects' (labels: car, person)"),
        ("annotations[id=8].bbox", "expected [x, y, w, h]; it holds string"),
        ("annotations[id=5]", "x2 = 81 is outside the image (0 to 80)"),
        ("annotations[id=9]", "x2 = 10 must be larger than x1 = 10"),
        ("images[id=2]", "no image 'images/gone.png' in the archive"),
        ("images[id=3]", "the file gives 'two.jpg' as 60 x 80 pixels; the image is 80 x 60 (after its EXIF orientation)"),
    ]
    nothing_kept(world, pid)


@pytest.mark.parametrize(("doc", "message"), [
    (b"{", "invalid JSON"),
    (b"[]", 'a COCO file is an object with lists "images", "annotations" and "categories"'),
    (json.dumps({"images": [{"id": 1}], "annotations": [{"id": 1, "image_id": 4}], "categories": []}).encode(),
     "an image is"),
])
def test_malformed_coco_files_are_refused(world: World, doc: bytes, message: str) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    r = imported(world, owner, pid, zipped({"a/instances.json": doc, "one.png": png(W, H)}), "coco")
    assert any(message in p["message"] and p["file"] == "a/instances.json" for p in problems(r)), problems(r)
    nothing_kept(world, pid)


def test_an_archive_without_one_annotation_file_is_refused(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    r = imported(world, owner, pid, zipped({"one.png": png(W, H)}), "coco")
    assert problems(r)[0]["message"].startswith("a COCO archive holds one annotation file")


def test_polygons_masks_and_keypoints_from_coco(world: World) -> None:
    doc: dict[str, Any] = {
        "categories": [{"id": 1, "name": "car", "keypoints": KP_SCHEMA_POINTS}],
        "images": [{"id": 1, "file_name": "one.png", "width": W, "height": H}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1],
                         "segmentation": [[1, 1, 10, 1, 10, 8]], "keypoints": [5, 5, 2, 0, 0, 0, 7, 7.5, 1]}],
    }
    archive = _foreign({"images/one.png": png(W, H)}, doc)
    expected = {"polygon": [{"label": "car", "points": [[1, 1], [10, 1], [10, 8]]}],
                "keypoints": [{"label": "car", "points": {"head": [5, 5, 2], "left_hand": [0, 0, 0],
                                                          "right_hand": [7, 7.5, 1]}}]}
    owner = world.user()
    for kind, objects in expected.items():
        pid = world.project(owner, schema=schema(kind))
        r = imported(world, owner, pid, archive, "coco")
        assert r.status_code == 201, r.text
        assert jsonl(world, owner, pid)["one.png"]["gold"] == {"objects": objects}

    pid = world.project(owner, schema=schema("mask"))
    r = imported(world, owner, pid, archive, "coco")
    assert [p["message"] for p in problems(r)] == [
        'expected RLE {"size": [h, w], "counts": ...}; polygons are not imported into a mask (their pixels '
        "depend on the rasteriser)"]
    doc["annotations"][0]["segmentation"] = {"size": [H, W], "counts": [5, 3, W * H - 8]}  # uncompressed
    r = imported(world, owner, pid, _foreign({"one.png": png(W, H)}, doc), "coco")
    assert r.status_code == 201, r.text
    stored = jsonl(world, owner, pid)["one.png"]["gold"]["objects"][0]["rle"]
    reference = mask_utils.frPyObjects(doc["annotations"][0]["segmentation"], H, W)  # compressed by cocoapi
    assert stored == {"size": [H, W], "counts": reference["counts"].decode()}
    assert decode_mask(stored).sum() == 3

    pid = world.project(owner, schema=schema("keypoints", skeleton={"points": ["a", "b", "c"]}))
    r = imported(world, owner, pid, archive, "coco")
    (problem,) = problems(r)
    assert problem["field"] == "annotations[id=1].category_id"
    assert problem["message"] == ("category 'car' names keypoints ['head', 'left_hand', 'right_hand']; "
                                  "question 'objects' has ['a', 'b', 'c'] (same names, same order)")
