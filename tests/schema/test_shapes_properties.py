"""Properties of the shape label types over random shapes in random image sizes: a valid value
validates to itself and again to the same; identical answers settle on themselves with full
confidence and agree fully; what several annotators settle on is itself a valid answer."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.schema import ImageInfo, parse_schema
from labelloop.schema.types.shapes import rle

SCHEMA = parse_schema({
    "fields": [{"name": "photo", "type": "image"}],
    "questions": [
        {"name": "bbox", "type": "bbox", "target": "photo", "labels": ["a", "b"],
         "attributes": [{"name": "kind", "type": "choice", "options": ["x", "y"], "required": False}]},
        {"name": "rotated_bbox", "type": "rotated_bbox", "target": "photo", "labels": ["a", "b"]},
        {"name": "polygon", "type": "polygon", "target": "photo", "labels": ["a", "b"]},
        {"name": "polyline", "type": "polyline", "target": "photo", "labels": ["a", "b"]},
        {"name": "keypoints", "type": "keypoints", "target": "photo", "labels": ["a", "b"],
         "skeleton": {"points": ["p1", "p2", "p3"], "edges": [["p1", "p2"]]}},
        {"name": "mask", "type": "mask", "target": "photo", "labels": ["a", "b"]},
    ],
})
TYPES = [q.name for q in SCHEMA.questions]

images = st.builds(ImageInfo, st.integers(1, 5000), st.integers(1, 5000))
labels = st.sampled_from(["a", "b"])


def coordinate(draw: st.DrawFn, top: int) -> float:
    return draw(st.one_of(st.integers(0, top), st.floats(0, top, allow_nan=False)))


@st.composite
def bbox(draw: st.DrawFn, image: ImageInfo) -> dict[str, Any]:
    x = sorted(draw(st.lists(st.floats(0, image.width), min_size=2, max_size=2, unique=True)))
    y = sorted(draw(st.lists(st.floats(0, image.height), min_size=2, max_size=2, unique=True)))
    out: dict[str, Any] = {"label": draw(labels), "box": [x[0], y[0], x[1], y[1]]}
    if draw(st.booleans()):
        out["attributes"] = {"kind": draw(st.sampled_from(["x", "y"]))}
    return out


@st.composite
def rotated_bbox(draw: st.DrawFn, image: ImageInfo) -> dict[str, Any]:
    angle = draw(st.floats(-179.9, 180))
    t = math.radians(angle)
    c, s = abs(math.cos(t)), abs(math.sin(t))
    cx, cy = draw(st.floats(0.1, image.width - 0.1)), draw(st.floats(0.1, image.height - 0.1))
    room_x, room_y = min(cx, image.width - cx), min(cy, image.height - cy)  # half-extents allowed
    w = draw(st.floats(0.01, 1)) * min(room_x, room_y)  # w/2 c + h/2 s <= room when w, h <= room
    h = draw(st.floats(0.01, 1)) * min(room_x, room_y)
    assert w / 2 * c + h / 2 * s <= room_x + 1e-9 and w / 2 * s + h / 2 * c <= room_y + 1e-9
    return {"label": draw(labels), "box": [cx, cy, w, h, angle]}


@st.composite
def polygon(draw: st.DrawFn, image: ImageInfo) -> dict[str, Any]:
    """A star-shaped outline round a centre: simple, with distinct points and an area."""
    n = draw(st.integers(3, 12))
    cx = draw(st.floats(image.width / 4, image.width * 3 / 4))
    cy = draw(st.floats(image.height / 4, image.height * 3 / 4))
    room = min(cx, image.width - cx, cy, image.height - cy)  # at least a quarter of the shorter side
    turns = sorted(draw(st.lists(st.integers(0, 359), min_size=n, max_size=n, unique=True)))
    radii = draw(st.lists(st.floats(0.3, 1), min_size=n, max_size=n))
    points = [[cx + room * r * math.cos(math.radians(a)), cy + room * r * math.sin(math.radians(a))]
              for a, r in zip(turns, radii, strict=True)]
    points = [[min(max(x, 0.0), image.width), min(max(y, 0.0), image.height)] for x, y in points]
    return {"label": draw(labels), "points": points}


@st.composite
def polyline(draw: st.DrawFn, image: ImageInfo) -> dict[str, Any]:
    point = st.lists(st.floats(0, 1), min_size=2, max_size=2).map(lambda p: [p[0] * image.width, p[1] * image.height])
    points = draw(st.lists(point, min_size=2, max_size=10))
    if all(p == points[0] for p in points):
        points.append([0, 0] if points[0] != [0, 0] else [image.width, image.height])
    return {"label": draw(labels), "points": points}


@st.composite
def keypoints(draw: st.DrawFn, image: ImageInfo) -> dict[str, Any]:
    points: dict[str, list[float]] = {}
    for name in ("p1", "p2", "p3"):
        v = draw(st.sampled_from([0, 1, 2]))
        points[name] = [0, 0, 0] if v == 0 else [coordinate(draw, image.width), coordinate(draw, image.height), v]
    if all(p[2] == 0 for p in points.values()):
        points["p2"] = [image.width, image.height, 2]
    return {"label": draw(labels), "points": points}


@st.composite
def mask(draw: st.DrawFn, image: ImageInfo) -> dict[str, Any]:
    h, w = image.height, image.width
    pixels = np.zeros((h, w), dtype=bool)
    for _ in range(draw(st.integers(1, 3))):
        y0, x0 = draw(st.integers(0, h - 1)), draw(st.integers(0, w - 1))
        pixels[y0 : draw(st.integers(y0 + 1, h)), x0 : draw(st.integers(x0 + 1, w))] = True
    return {"label": draw(labels), "rle": rle.encode_mask(pixels)}


SHAPES = {"bbox": bbox, "rotated_bbox": rotated_bbox, "polygon": polygon, "polyline": polyline,
          "keypoints": keypoints, "mask": mask}
small_images = st.builds(ImageInfo, st.integers(1, 40), st.integers(1, 40))


@st.composite
def answer(draw: st.DrawFn) -> tuple[str, ImageInfo, list[dict[str, Any]]]:
    kind = draw(st.sampled_from(TYPES))
    image = draw(small_images if kind == "mask" else images)
    return kind, image, draw(st.lists(SHAPES[kind](image), max_size=6))


@settings(max_examples=300, deadline=None)
@given(answer())
def test_a_valid_value_validates_to_itself_and_is_stable(case: tuple[str, ImageInfo, list[Any]]) -> None:
    kind, image, value = case
    q = SCHEMA.question(kind)
    once = q.kind.validate(q.spec, value, image)
    assert once == value
    assert q.kind.validate(q.spec, once, image) == once


@settings(max_examples=200, deadline=None)
@given(answer(), st.lists(st.floats(0.01, 1), min_size=1, max_size=5))
def test_identical_answers_settle_on_themselves_with_full_confidence(
    case: tuple[str, ImageInfo, list[Any]], weights: list[float]
) -> None:
    kind, _, value = case
    q = SCHEMA.question(kind)
    agg = q.kind.aggregate(q.spec, [value] * len(weights), weights)
    assert agg.value == value and agg.confidence == 1.0
    assert q.kind.agreement(q.spec, [[value] * max(2, len(weights))]) == 1.0


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["bbox", "polygon", "polyline", "keypoints", "mask"]), st.data())
def test_what_annotators_settle_on_is_a_valid_answer(kind: str, data: st.DataObject) -> None:
    image = data.draw(small_images if kind == "mask" else images)
    answers = data.draw(st.lists(st.lists(SHAPES[kind](image), max_size=4), min_size=1, max_size=4))
    weights = data.draw(st.lists(st.floats(0.01, 1), min_size=len(answers), max_size=len(answers)))
    q = SCHEMA.question(kind)
    agg = q.kind.aggregate(q.spec, answers, weights)
    assert 0.5 <= agg.confidence <= 1.0
    assert q.kind.validate(q.spec, agg.value, image) is not None
    agreement = q.kind.agreement(q.spec, [answers])
    assert agreement is None if len(answers) < 2 else 0.0 <= agreement <= 1.0
