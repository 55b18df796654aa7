"""Shape label types: valid values come back canonical; every invalid one is refused with the
path of the object and field and a message that says what is wrong (image 640 x 480)."""

from __future__ import annotations

from typing import Any

import pytest

from labelloop.errors import Invalid
from labelloop.schema import ImageInfo, ValueProblem, parse_schema

FIELDS = [{"name": "photo", "type": "image"}, {"name": "text"}]
SCHEMA = parse_schema({
    "fields": FIELDS,
    "questions": [
        {"name": "boxes", "type": "bbox", "target": "photo", "labels": ["car", {"value": "person", "key": "p"}],
         "attributes": [{"name": "occluded", "type": "choice", "options": ["no", "yes"]},
                        {"name": "note", "type": "text", "required": False, "max_length": 5}],
         "max_objects": 3},
        {"name": "ships", "type": "rotated_bbox", "target": "photo", "labels": ["ship"], "required": False},
        {"name": "roofs", "type": "polygon", "target": "photo", "labels": ["roof"], "required": False},
        {"name": "lanes", "type": "polyline", "target": "photo", "labels": ["lane"], "required": False},
        {"name": "pose", "type": "keypoints", "target": "photo", "labels": ["person"], "required": False,
         "skeleton": {"points": ["nose", "left_eye", "right_eye"], "edges": [["nose", "left_eye"]]}},
        {"name": "road", "type": "mask", "target": "photo", "labels": ["road"], "required": False},
    ],
})
IMAGE = ImageInfo(640, 480)
OK = {"occluded": "no"}


def check(question: str, value: Any, image: ImageInfo | None = IMAGE) -> Any:
    q = SCHEMA.question(question)
    return q.kind.validate(q.spec, value, image)


def test_valid_values_come_back_canonical() -> None:
    box = {"label": "car", "box": [0, 0.5, 640, 480], "attributes": {"occluded": "yes", "note": "half"}}
    assert check("boxes", [box, {"label": "person", "box": [1, 2, 3, 4], "attributes": OK}]) == [
        box, {"label": "person", "box": [1, 2, 3, 4], "attributes": OK}]
    assert check("boxes", []) == []
    assert check("ships", [{"label": "ship", "box": [320, 240, 100, 50, -179.5]}]) == [
        {"label": "ship", "box": [320, 240, 100, 50, -179.5]}]
    # A box turned a quarter: its corners touch the top and bottom edges exactly (up to cos 90°).
    assert check("ships", [{"label": "ship", "box": [320, 240, 480, 10, 90]}])
    assert check("roofs", [{"label": "roof", "points": [[0, 0], [640, 0], [640, 480], [0, 0.5]]}])
    assert check("lanes", [{"label": "lane", "points": [[0, 0], [0, 0], [5, 5]]}])  # 2 distinct points
    assert check("pose", [{"label": "person", "points": {"nose": [1, 2, 2], "right_eye": [9, 9, 0]}}]) == [
        {"label": "person", "points": {"nose": [1, 2, 2], "left_eye": [0, 0, 0], "right_eye": [0, 0, 0]}}]
    # v = 0 points mean nothing where they are: out of the image is no error, and they read [0, 0, 0].
    assert check("pose", [{"label": "person", "points": {"nose": [700, -1, 0], "left_eye": [3, 4, 1]}}])[0][
        "points"]["nose"] == [0, 0, 0]


def test_masks_are_stored_as_canonical_compressed_rle() -> None:
    # Uncompressed counts with empty runs inside: merged, then written as cocoapi writes them.
    raw = {"label": "road", "rle": {"size": [480, 640], "counts": [100, 0, 0, 380, 640 * 480 - 480, 0]}}
    out = check("road", [raw])
    assert out == [{"label": "road", "rle": {"size": [480, 640], "counts": "T3l;Pa[9"}}]
    assert check("road", out) == out


@pytest.mark.parametrize(("question", "value", "path", "message"), [
    ("boxes", {"label": "car"}, "", "expected a list of objects, got object"),
    ("boxes", [{"label": "car", "box": [1, 2, 3, 4], "attributes": OK}] * 4, "", "at most 3 objects, got 4"),
    ("boxes", ["car"], "[0]", 'an object is {"label": ..., "box": ...}, got string'),
    ("boxes", [{"label": "car", "box": [1, 2, 3, 4], "attributes": OK, "score": 0.9}], "[0]",
     "unknown key 'score'; an object has label, box and attributes"),
    ("boxes", [{"box": [1, 2, 3, 4]}], "[0].label", "missing 'label'"),
    ("boxes", [{"label": "car"}], "[0].box", "missing 'box'"),
    ("boxes", [{"label": "truck", "box": [1, 2, 3, 4]}], "[0].label", "'truck' is not a label (labels: car, person)"),
    ("boxes", [{"label": "car", "box": [1, 2, 3]}], "[0].box", "expected [x1, y1, x2, y2], got array"),
    ("boxes", [{"label": "car", "box": [1, "2", 3, 4]}], "[0].box[1]", "expected a number, got string"),
    ("boxes", [{"label": "car", "box": [1, True, 3, 4]}], "[0].box[1]", "expected a number, got boolean"),
    ("boxes", [{"label": "car", "box": [1, 2, float("nan"), 4]}], "[0].box[2]", "must be a finite number"),
    ("boxes", [{"label": "car", "box": [1, 2, 10**400, 4]}], "[0].box[2]", "must be a finite number"),
    ("boxes", [{"label": "car", "box": [-1, 2, 3, 4]}], "[0].box", "x1 = -1 is outside the image (0 to 640)"),
    ("boxes", [{"label": "car", "box": [1, 2, 3, 480.5]}], "[0].box", "y2 = 480.5 is outside the image (0 to 480)"),
    ("boxes", [{"label": "car", "box": [3, 2, 3, 4]}], "[0].box", "x2 = 3 must be larger than x1 = 3"),
    ("boxes", [{"label": "car", "box": [1, 4, 3, 2]}], "[0].box", "y2 = 2 must be larger than y1 = 4"),
    ("boxes", [{"label": "car", "box": [1, 2, 3, 4]}], "[0].attributes.occluded", "an answer is required"),
    ("boxes", [{"label": "car", "box": [1, 2, 3, 4], "attributes": {"occluded": "maybe"}}],
     "[0].attributes.occluded", "'maybe' is not an option (options: no, yes)"),
    ("boxes", [{"label": "car", "box": [1, 2, 3, 4], "attributes": {**OK, "note": "too long"}}],
     "[0].attributes.note", "at most 5 characters"),
    ("boxes", [{"label": "car", "box": [1, 2, 3, 4], "attributes": {**OK, "colour": "red"}}],
     "[0].attributes.colour", "no attribute 'colour' (attributes: occluded, note)"),
    ("boxes", [{"label": "car", "box": [1, 2, 3, 4], "attributes": ["no"]}], "[0].attributes",
     "expected an object of attributes, got array"),
    ("ships", [{"label": "ship", "box": [320, 240, 100, 50]}], "[0].box", "expected [cx, cy, w, h, angle], got array"),
    ("ships", [{"label": "ship", "box": [320, 240, 0, 50, 0]}], "[0].box", "the width w = 0 must be positive"),
    ("ships", [{"label": "ship", "box": [320, 240, 10, -5, 0]}], "[0].box", "the height h = -5 must be positive"),
    ("ships", [{"label": "ship", "box": [320, 240, 10, 5, -180]}], "[0].box",
     "the angle -180 must be in (-180, 180] degrees"),
    ("ships", [{"label": "ship", "box": [10, 240, 20, 10, 45]}], "[0].box",
     "the bottom-left corner (-0.606602, 236.464) is outside the image (640 x 480)"),
    ("roofs", [{"label": "roof", "points": [[0, 0], [1, 1]]}], "[0].points", "needs 3 to 10000 points, got 2"),
    ("roofs", [{"label": "roof", "points": {"x": 1}}], "[0].points", "expected a list of [x, y] points, got object"),
    ("roofs", [{"label": "roof", "points": [[0, 0], [1, 1], [1]]}], "[0].points[2]", "expected a point [x, y], got array"),
    ("roofs", [{"label": "roof", "points": [[0, 0], [641, 1], [1, 9]]}], "[0].points[1]",
     "x = 641 is outside the image (0 to 640)"),
    ("roofs", [{"label": "roof", "points": [[0, 0], [5, 0], [5, 0], [0, 5]]}], "[0].points[2]",
     "point 2 repeats the point before it"),
    ("roofs", [{"label": "roof", "points": [[0, 0], [5, 0], [0, 5], [0, 0]]}], "[0].points[3]",
     "the last point repeats the first; a polygon closes by itself"),
    ("roofs", [{"label": "roof", "points": [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]]}], "[0].points",
     "the polygon has no area (its points are on one line)"),
    ("lanes", [{"label": "lane", "points": [[3, 3]]}], "[0].points", "needs 2 to 10000 points, got 1"),
    ("lanes", [{"label": "lane", "points": [[3, 3], [3, 3]]}], "[0].points", "a polyline needs at least 2 distinct points"),
    ("lanes", [{"label": "lane", "points": [[3, 3], [3, -3]]}], "[0].points[1]", "y = -3 is outside the image (0 to 480)"),
    ("pose", [{"label": "person", "points": [[1, 2, 2]]}], "[0].points",
     'expected an object of points {"name": [x, y, v]}, got array'),
    ("pose", [{"label": "person", "points": {"ear": [1, 2, 2]}}], "[0].points.ear",
     "'ear' is not a point of the skeleton (points: nose, left_eye, right_eye)"),
    ("pose", [{"label": "person", "points": {"nose": [1, 2]}}], "[0].points.nose", "expected [x, y, v], got array"),
    ("pose", [{"label": "person", "points": {"nose": [1, 2, 3]}}], "[0].points.nose[2]",
     "v must be 0 (not labelled), 1 (hidden) or 2 (visible), got 3"),
    ("pose", [{"label": "person", "points": {"nose": [1, 2, 2.0]}}], "[0].points.nose[2]",
     "v must be 0 (not labelled), 1 (hidden) or 2 (visible), got 2.0"),
    ("pose", [{"label": "person", "points": {"nose": [1, None, 2]}}], "[0].points.nose[1]", "expected a number, got null"),
    ("pose", [{"label": "person", "points": {"nose": [1, 500, 1]}}], "[0].points.nose",
     "y = 500 is outside the image (0 to 480)"),
    ("pose", [{"label": "person", "points": {"nose": [0, 0, 0]}}], "[0].points",
     "no point is labelled: give at least one with v = 1 or 2"),
    ("road", [{"label": "road", "rle": {"counts": "PPYo1"}}], "[0].rle", 'an RLE is {"size": [height, width], "counts": "..."}'),
    ("road", [{"label": "road", "rle": {"size": [480.0, 640], "counts": "a"}}], "[0].rle.size",
     "expected [height, width], two positive integers, got [480.0, 640]"),
    ("road", [{"label": "road", "rle": {"size": [640, 480], "counts": "a"}}], "[0].rle.size",
     "size [640, 480] is not the image's [480, 640] (height, width)"),
    ("road", [{"label": "road", "rle": {"size": [480, 640], "counts": "ab c"}}], "[0].rle.counts",
     "not COCO compressed RLE: counts holds characters outside COCO's RLE alphabet"),
    ("road", [{"label": "road", "rle": {"size": [480, 640], "counts": "T3l;Pa["}}], "[0].rle.counts",
     "not COCO compressed RLE: counts ends in the middle of a number"),
    ("road", [{"label": "road", "rle": {"size": [480, 640], "counts": "T3l;"}}], "[0].rle.counts",
     "the runs cover 480 pixels; a 480 x 640 mask has 307200"),
    ("road", [{"label": "road", "rle": {"size": [480, 640], "counts": "0"}}], "[0].rle.counts",
     "the runs cover 0 pixels; a 480 x 640 mask has 307200"),
    ("road", [{"label": "road", "rle": {"size": [480, 640], "counts": [307200]}}], "[0].rle.counts", "the mask is empty"),
    ("road", [{"label": "road", "rle": {"size": [480, 640], "counts": [1, -1, 307200]}}], "[0].rle.counts",
     "a list of counts holds run lengths: integers from 0"),
    ("road", [{"label": "road", "rle": {"size": [480, 640], "counts": 5}}], "[0].rle.counts",
     "expected a compressed RLE string, got number"),
])
def test_invalid_values_name_the_object_and_field(question: str, value: Any, path: str, message: str) -> None:
    with pytest.raises(ValueProblem) as e:
        check(question, value)
    assert (e.value.path, e.value.message) == (path, message)


def test_without_the_image_size_everything_but_the_bounds_is_checked() -> None:
    assert check("boxes", [{"label": "car", "box": [5000, 1, 6000, 2], "attributes": OK}], None)
    assert check("road", [{"label": "road", "rle": {"size": [2, 3], "counts": [1, 5]}}], None)
    with pytest.raises(ValueProblem, match="must be larger than x1"):
        check("boxes", [{"label": "car", "box": [6000, 1, 5000, 2], "attributes": OK}], None)
    with pytest.raises(ValueProblem, match="the runs cover 6 pixels; a 2 x 4 mask has 8"):
        check("road", [{"label": "road", "rle": {"size": [2, 4], "counts": [1, 5]}}], None)


def test_the_answer_names_question_object_and_field() -> None:
    value = {"boxes": [{"label": "car", "box": [1, 2, 3, 4], "attributes": OK},
                       {"label": "car", "box": [1, 2, 700, 4], "attributes": OK}],
             "roofs": [{"label": "roof", "points": [[0, 0], [1, 1]]}]}
    with pytest.raises(Invalid) as e:
        SCHEMA.validate_answer(value, {"photo": IMAGE})
    assert e.value.detail == [
        {"field": "boxes[1].box", "message": "x2 = 700 is outside the image (0 to 640)"},
        {"field": "roofs[0].points", "message": "needs 3 to 10000 points, got 2"},
    ]
    # The size of another field, or none, checks nothing against the image.
    assert SCHEMA.validate_answer(value | {"roofs": []}, {"text": "hi"})["boxes"][1]["box"] == [1, 2, 700, 4]


@pytest.mark.parametrize(("question", "field", "problem"), [
    ({"type": "bbox", "labels": ["a"]}, "target", "a bbox question needs a 'target' field"),
    ({"type": "bbox", "target": "text", "labels": ["a"]}, "target", "field 'text' is text; a bbox question needs image"),
    ({"type": "polygon", "target": "photo", "labels": []}, "labels", "at least 1 item"),
    ({"type": "mask", "target": "photo", "labels": ["a", "a"]}, "", "a label is listed twice"),
    ({"type": "bbox", "target": "photo", "labels": ["a"], "max_objects": 0}, "max_objects", "greater than or equal to 1"),
    ({"type": "bbox", "target": "photo", "labels": ["a"], "attributes": [{"name": "x", "type": "rating"}]},
     "attributes[0]", "does not match any of the expected tags: 'choice', 'text'"),
    ({"type": "bbox", "target": "photo", "labels": ["a"],
      "attributes": [{"name": "x", "type": "text"}, {"name": "x", "type": "text"}]}, "", "two attributes have the same name"),
    ({"type": "bbox", "target": "photo", "labels": ["a"],
      "attributes": [{"name": "x", "type": "text", "target": "text"}]}, "", "it takes no 'target'"),
    ({"type": "keypoints", "target": "photo", "labels": ["a"]}, "skeleton", "Field required"),
    ({"type": "keypoints", "target": "photo", "labels": ["a"], "skeleton": {"points": ["a", "a"]}},
     "skeleton", "a point is listed twice"),
    ({"type": "keypoints", "target": "photo", "labels": ["a"], "skeleton": {"points": ["a"], "edges": [["a", "b"]]}},
     "skeleton", "edge [a, b] names 'b', which is not a point"),
    ({"type": "keypoints", "target": "photo", "labels": ["a"], "skeleton": {"points": ["a"], "edges": [["a", "a"]]}},
     "skeleton", "edge [a, a] joins a point to itself"),
    ({"type": "keypoints", "target": "photo", "labels": ["a"],
      "skeleton": {"points": ["a", "b"], "edges": [["a", "b"], ["b", "a"]]}}, "skeleton", "edge [b, a] is listed twice"),
    ({"type": "keypoints", "target": "photo", "labels": ["a"], "skeleton": {"points": ["a", "b"], "sigmas": [0.1]}},
     "skeleton", "sigmas has 1 values for 2 points"),
    ({"type": "keypoints", "target": "photo", "labels": ["a"], "skeleton": {"points": ["a.b"]}},
     "skeleton.points[0]", "String should match pattern"),
])
def test_bad_shape_questions_are_refused(question: dict[str, Any], field: str, problem: str) -> None:
    with pytest.raises(Invalid) as e:
        parse_schema({"fields": FIELDS, "questions": [{"name": "q", **question}]})
    where = "questions[0]" + (f".{field}" if field else "")
    assert any(p["field"].startswith(where) and problem in p["message"] for p in e.value.detail), e.value.detail


def test_the_stored_document_parses_back_to_the_same_questions() -> None:
    again = parse_schema(SCHEMA.document)
    assert again.document == SCHEMA.document
    assert SCHEMA.target_fields == frozenset({"photo"})
