"""Round trips of random valid shapes through each format's numbers, without a server: writing what
was read writes the same text, and every coordinate comes back exactly when it is a whole number, a
binary fraction from the canvas or a short decimal (for any other float, within a few units in the
last place: the format's own arithmetic cannot tell those apart)."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.schema import ImageInfo, parse_schema
from labelloop.schema.types.shapes.rle import encode_mask
from labelloop.services.exporting.images import coco as coco_out
from labelloop.services.exporting.images import voc as voc_out
from labelloop.services.exporting.images import yolo as yolo_out
from labelloop.services.exporting.images.coords import (
    centre_and_size,
    end_of,
    from_centre_and_size,
    from_normalised,
    from_one_based,
    normalised,
    one_based,
    parse,
    width_of,
)
from labelloop.services.exporting.images.pictures import DatasetPlan, dataset_plan
from labelloop.services.importing.images import coco as coco_in
from labelloop.services.importing.images import yolo as yolo_in
from tests.platform.formats import schema

sizes = st.integers(1, 6000)


def nice(size: int) -> st.SearchStrategy[float]:
    """A coordinate in [0, size] as drawn or typed: whole, a canvas fraction, two decimals."""
    return st.one_of(st.integers(0, size), st.integers(0, size * 64).map(lambda k: k / 64),
                     st.integers(0, size * 100).map(lambda k: round(k / 100, 2)))


def _close(a: float, b: float, scale: float) -> bool:
    """Equal to a few units in the last place of the numbers the format works with."""
    return abs(a - b) <= 8 * math.ulp(max(abs(a), abs(b), scale))


@settings(max_examples=400, deadline=None)
@given(data=st.data(), size=sizes, frac=st.floats(0, 1))
def test_yolo_fractions_come_back_as_the_same_pixels(data: Any, size: int, frac: float) -> None:
    x = data.draw(nice(size))
    assert from_normalised(normalised(x, size), size) == x
    wild = frac * size
    back = from_normalised(normalised(wild, size), size)
    assert normalised(back, size) == normalised(wild, size) and _close(back, wild, size)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), size=sizes, fa=st.floats(0, 1), fb=st.floats(0, 1))
def test_yolo_centre_and_size_come_back_as_the_same_edges(data: Any, size: int, fa: float, fb: float) -> None:
    x1, x2 = sorted((data.draw(nice(size)), data.draw(nice(size))))
    assert from_centre_and_size(*centre_and_size(x1, x2, size), size) == (x1, x2)
    f1, f2 = sorted((fa * size, fb * size))
    written = centre_and_size(f1, f2, size)
    back = from_centre_and_size(*written, size)
    assert centre_and_size(*back, size) == written
    assert _close(back[0], f1, size) and _close(back[1], f2, size)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), fa=st.floats(0, 6000), fb=st.floats(0, 6000))
def test_coco_widths_and_voc_one_based_numbers_come_back(data: Any, fa: float, fb: float) -> None:
    x1, x2 = sorted((data.draw(nice(6000)), data.draw(nice(6000))))
    assert end_of(x1, width_of(x1, x2)) == x2 and from_one_based(one_based(x1)) == x1
    f1, f2 = sorted((fa, fb))
    back = end_of(f1, width_of(f1, f2))
    assert width_of(f1, back) == width_of(f1, f2) and _close(back, f2, f2)
    assert one_based(from_one_based(one_based(f1))) == one_based(f1)


def _plan(kind: str, fmt: str) -> DatasetPlan:
    return dataset_plan(parse_schema(schema(kind)), fmt, None, "consensus", "include")


def _coordinate(draw: Any, size: int) -> float:
    return float(draw(st.one_of(nice(size), st.floats(0, size))))


@st.composite
def boxes(draw: Any) -> tuple[int, int, list[float]]:
    w, h = draw(sizes.filter(lambda v: v > 1)), draw(sizes.filter(lambda v: v > 1))
    xs = sorted({_coordinate(draw, w) for _ in range(3)})
    ys = sorted({_coordinate(draw, h) for _ in range(3)})
    if len(xs) < 2 or len(ys) < 2:
        xs, ys = [0, w], [0, h]
    return w, h, [xs[0], ys[0], xs[-1], ys[-1]]


@settings(max_examples=300, deadline=None)
@given(box=boxes(), label=st.sampled_from(["car", "person"]))
def test_boxes_through_yolo_coco_and_voc_text(box: tuple[int, int, list[float]], label: str) -> None:
    w, h, shape = box
    obj = {"label": label, "box": shape}
    image = ImageInfo(w, h)
    line = yolo_out.line(_plan("bbox", "yolo"), obj, w, h)
    values = [float(v) for v in line.split()[1:]]
    back = yolo_in.shape_builder("bbox", values, 3, ())(image)
    assert yolo_out.line(_plan("bbox", "yolo"), {"label": label, "box": back}, w, h) == line
    assert all(_close(a, b, max(w, h)) for a, b in zip(back, shape, strict=True))

    fields = coco_out.shape_fields("bbox", shape)
    back = coco_in.shape_builder("bbox", fields, ())(image)
    assert coco_out.shape_fields("bbox", back) == fields
    assert back[:2] == shape[:2] and all(_close(a, b, max(w, h)) for a, b in zip(back, shape, strict=True))

    # VOC: the object's XML, read back as the importer reads it, writes the same XML.
    xml = voc_out.object_xml(obj, None)
    node = ET.fromstring(xml).find("bndbox")
    assert node is not None
    xmin, ymin, xmax, ymax = (parse(node.findtext(k) or "") for k in ("xmin", "ymin", "xmax", "ymax"))
    back = [from_one_based(xmin), from_one_based(ymin), xmax, ymax]
    assert voc_out.object_xml({"label": label, "box": back}, None) == xml
    assert back[2:] == shape[2:] and all(_close(a, b, max(w, h)) for a, b in zip(back, shape, strict=True))


@st.composite
def polygons(draw: Any) -> tuple[int, int, list[list[float]]]:
    w, h = draw(sizes), draw(sizes)
    n = draw(st.integers(3, 12))
    points = [[_coordinate(draw, w), _coordinate(draw, h)] for _ in range(n)]
    return w, h, points


@settings(max_examples=300, deadline=None)
@given(polygon=polygons())
def test_outlines_through_yolo_and_coco(polygon: tuple[int, int, list[list[float]]]) -> None:
    w, h, points = polygon
    obj = {"label": "car", "points": points}
    line = yolo_out.line(_plan("polygon", "yolo"), obj, w, h)
    back = yolo_in.shape_builder("polygon", [float(v) for v in line.split()[1:]], 3, ())(ImageInfo(w, h))
    assert yolo_out.line(_plan("polygon", "yolo"), {"label": "car", "points": back}, w, h) == line
    for p, q in zip(back, points, strict=True):
        assert _close(p[0], q[0], w) and _close(p[1], q[1], h)
    fields = coco_out.shape_fields("polyline", points)
    assert coco_in.shape_builder("polyline", fields, ())(ImageInfo(w, h)) == points


@settings(max_examples=200, deadline=None)
@given(w=st.integers(1, 40), h=st.integers(1, 40), seed=st.integers(0, 2**32 - 1))
def test_masks_through_coco(w: int, h: int, seed: int) -> None:
    pixels = np.random.default_rng(seed).random((h, w)) < 0.3
    pixels[0, 0] = True
    rle = encode_mask(pixels)
    fields = coco_out.shape_fields("mask", rle)
    assert fields["area"] == int(pixels.sum())
    assert coco_in.shape_builder("mask", fields, ())(ImageInfo(w, h)) == rle


@settings(max_examples=200, deadline=None)
@given(data=st.data(), w=sizes, h=sizes)
def test_keypoints_through_yolo_and_coco(data: Any, w: int, h: int) -> None:
    names = ("head", "left_hand", "right_hand")
    points = {n: [0, 0, 0] for n in names}
    for n in data.draw(st.sets(st.sampled_from(names), min_size=1)):
        points[n] = [_coordinate(data.draw, w), _coordinate(data.draw, h), data.draw(st.sampled_from([1, 2]))]
    obj = {"label": "person", "points": points}
    plan = _plan("keypoints", "yolo")
    line = yolo_out.line(plan, obj, w, h)
    back = yolo_in.shape_builder("keypoints", [float(v) for v in line.split()[1:]], 3, names)(ImageInfo(w, h))
    assert yolo_out.line(plan, {"label": "person", "points": back}, w, h) == line
    fields = coco_out.shape_fields("keypoints", points)
    assert coco_in.shape_builder("keypoints", fields, names)(ImageInfo(w, h)) == points
