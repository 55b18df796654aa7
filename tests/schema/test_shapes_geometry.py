"""The geometry under the shape types, against reference libraries: COCO RLE against pycocotools
(cocoapi's own C code), polygon areas and IoU against shapely (GEOS)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pycocotools import mask as coco

from labelloop.schema.types.shapes import rle
from labelloop.schema.types.shapes.geometry import (
    box_iou,
    polygon_areas,
    polygon_iou,
    polyline_distance,
    rotated_corners,
    shoelace_area,
    weighted_median,
)

masks = st.tuples(st.integers(1, 30), st.integers(1, 30)).flatmap(
    lambda hw: arrays(bool, hw, elements=st.booleans()) | arrays(bool, hw, elements=st.just(False)).map(
        lambda m: _blocks(m)))


def _blocks(m: np.ndarray) -> np.ndarray:
    """A mask of a few solid blocks (long runs, as real masks have), from an empty one."""
    out = m.copy()
    h, w = out.shape
    out[h // 4 : h // 2 + 1, w // 3 : w - 1] = True
    out[: h // 5, : w // 6] = True
    return out


def _coco(m: np.ndarray) -> dict[str, object]:
    return coco.encode(np.asfortranarray(m.astype(np.uint8)))


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # pycocotools on numpy 2
@settings(max_examples=300, deadline=None)
@given(masks, masks)
def test_rle_matches_cocoapi(a: np.ndarray, b: np.ndarray) -> None:
    ours, theirs = rle.encode_mask(a), _coco(a)
    assert ours == {"size": list(a.shape), "counts": theirs["counts"].decode()}
    assert rle.decode_mask(ours).tolist() == a.tolist() == coco.decode(theirs).astype(bool).tolist()
    counts = rle.decode_counts(ours["counts"])
    assert rle.encode_counts(counts) == ours["counts"]
    assert rle.area(counts) == int(coco.area(theirs)) == int(a.sum())
    if a.any():
        x1, y1, x2, y2 = rle.bounds(counts, a.shape[0])
        assert [x1, y1, x2 - x1, y2 - y1] == coco.toBbox(theirs).tolist()
    if a.shape == b.shape:
        cb = rle.decode_counts(rle.encode_mask(b)["counts"])
        assert rle.intersection(counts, cb) == int((a & b).sum())
        if a.any() or b.any():
            assert rle.iou(counts, cb) == pytest.approx(coco.iou([theirs], [_coco(b)], [0])[0][0])


@settings(max_examples=100, deadline=None)
@given(st.tuples(st.integers(1, 12), st.integers(1, 12)).flatmap(
    lambda hw: st.lists(arrays(bool, hw), min_size=1, max_size=5)), st.data())
def test_the_weighted_vote_of_masks_is_the_per_pixel_vote(stack: list[np.ndarray], data: st.DataObject) -> None:
    weights = data.draw(st.lists(st.floats(0.01, 5), min_size=len(stack), max_size=len(stack)))
    h, w = stack[0].shape
    counts = [rle.decode_counts(rle.encode_mask(m)["counts"]) for m in stack]
    voted = rle.vote(counts, weights, h * w)
    expected = sum(wi * m for wi, m in zip(weights, stack, strict=True)) > sum(weights) / 2
    assert rle.encode_counts(voted) == rle.encode_mask(expected)["counts"]  # canonical as cocoapi writes


def test_canonical_runs_merge_empty_runs_and_drop_an_empty_last_one() -> None:
    assert rle.canonical(np.array([2, 0, 3, 1, 0, 2, 0]), 8).tolist() == [5, 3]
    assert rle.canonical(np.array([0, 4]), 4).tolist() == [0, 4]
    assert rle.canonical(np.array([4, 0]), 4).tolist() == [4]


@pytest.mark.parametrize(("text", "problem"), [
    ("a b", "outside COCO's RLE alphabet"),
    ("é", "outside COCO's RLE alphabet"),
    ("1`", "ends in the middle of a number"),
    ("ooooooo1", "too large"),
])
def test_text_that_is_not_rle_is_refused(text: str, problem: str) -> None:
    with pytest.raises(rle.RleError, match=problem):
        rle.decode_counts(text)


def _star(draw: st.DrawFn, snap: bool) -> np.ndarray:
    n = draw(st.integers(3, 14))
    cx, cy = draw(st.floats(-5, 5)), draw(st.floats(-5, 5))
    turns = sorted(draw(st.lists(st.integers(0, 359), min_size=n, max_size=n, unique=True)))
    radii = draw(st.lists(st.floats(0.5, 6), min_size=n, max_size=n))
    p = np.array([[cx + r * math.cos(math.radians(t)), cy + r * math.sin(math.radians(t))]
                  for t, r in zip(turns, radii, strict=True)])
    return np.round(p) if snap else p  # snapped to a grid: shared and collinear edges are common


@st.composite
def polygons(draw: st.DrawFn) -> np.ndarray:
    return _star(draw, draw(st.booleans()))


@settings(max_examples=400, deadline=None)
@given(polygons(), polygons())
def test_polygon_areas_and_iou_match_shapely(a: np.ndarray, b: np.ndarray) -> None:
    pa, pb = shapely.Polygon(a), shapely.Polygon(b)
    if not (pa.is_valid and pb.is_valid and pa.area > 0 and pb.area > 0):
        return  # shapely measures only simple outlines; snapped stars may fold onto themselves
    area_a, area_b, inter = polygon_areas(a, b)
    assert area_a == pytest.approx(pa.area, abs=1e-9)
    assert area_b == pytest.approx(pb.area, abs=1e-9)
    assert inter == pytest.approx(pa.intersection(pb).area, abs=1e-9)
    assert polygon_iou(a, b) == pytest.approx(pa.intersection(pb).area / pa.union(pb).area, abs=1e-9)
    assert abs(shoelace_area(a)) == pytest.approx(pa.area)


def test_self_crossing_outlines_are_measured_even_odd() -> None:
    bow = np.array([[0, 0], [2, 2], [2, 0], [0, 2]], dtype=float)  # two triangles of area 1
    assert shoelace_area(bow) == 0.0 and polygon_areas(bow, bow) == (2.0, 2.0, 2.0)
    square = np.array([[0, 0], [2, 0], [2, 2], [0, 2]], dtype=float)
    assert polygon_iou(bow, square) == 0.5


def test_box_iou_matches_shapely_and_equal_boxes_score_one() -> None:
    rng = np.random.default_rng(7)
    a = np.sort(rng.uniform(0, 50, (20, 2, 2)), axis=1).transpose(0, 2, 1).reshape(20, 4)[:, [0, 2, 1, 3]]
    b = np.sort(rng.uniform(0, 50, (15, 2, 2)), axis=1).transpose(0, 2, 1).reshape(15, 4)[:, [0, 2, 1, 3]]
    got = box_iou(a, b)
    for i, j in np.ndindex(got.shape):
        sa, sb = shapely.box(*a[i]), shapely.box(*b[j])
        assert got[i, j] == pytest.approx(sa.intersection(sb).area / sa.union(sb).area, abs=1e-12)
    tiny = np.array([[0, 0, 1e-308, 1e-308]])
    assert box_iou(tiny, tiny).tolist() == [[1.0]]


def test_rotated_corners_turn_clockwise_on_screen() -> None:
    # A 20 x 10 box a quarter turn clockwise: its top-left corner moves to the upper right.
    corners = rotated_corners(100, 50, 20, 10, 90)
    assert corners.round(9).tolist() == [[105, 40], [105, 60], [95, 60], [95, 40]]
    assert polygon_iou(rotated_corners(0, 0, 20, 10, 90), rotated_corners(0, 0, 10, 20, 0)) == pytest.approx(1)


def test_polyline_distance_and_weighted_median() -> None:
    assert polyline_distance(np.array([[0, 0], [10, 0]]), np.array([[0, 3], [10, 3]])) == pytest.approx(3)
    assert polyline_distance(np.array([[0, 0], [10, 0]]), np.array([[10, 0], [0, 0]])) == pytest.approx(0, abs=1e-12)
    assert weighted_median([1, 2, 10], [1, 1, 1]) == 2
    assert weighted_median([1, 2, 10], [1, 1, 5]) == 10
    assert weighted_median([3, 1], [1, 1]) == 1  # the lower median
