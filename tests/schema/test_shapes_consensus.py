"""Per-item consensus and agreement of shape answers, on hand-made cases with known answers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from labelloop.schema import parse_schema
from labelloop.schema.types.shapes import rle
from labelloop.schema.types.shapes.shape_match import cluster

SCHEMA = parse_schema({
    "fields": [{"name": "photo", "type": "image"}],
    "questions": [
        {"name": "boxes", "type": "bbox", "target": "photo", "labels": ["car", "person"],
         "attributes": [{"name": "occluded", "type": "choice", "options": ["no", "yes"], "required": False}]},
        {"name": "ships", "type": "rotated_bbox", "target": "photo", "labels": ["ship"]},
        {"name": "roofs", "type": "polygon", "target": "photo", "labels": ["roof"]},
        {"name": "lanes", "type": "polyline", "target": "photo", "labels": ["lane"]},
        {"name": "pose", "type": "keypoints", "target": "photo", "labels": ["person"],
         "skeleton": {"points": ["nose", "eye"], "sigmas": [0.1, 0.1]}},
        {"name": "road", "type": "mask", "target": "photo", "labels": ["road", "grass"]},
    ],
})


def q(name: str) -> Any:
    return SCHEMA.question(name)


def aggregate(name: str, values: list[Any], weights: list[float] | None = None) -> Any:
    return q(name).kind.aggregate(q(name).spec, values, weights)


def agreement(name: str, items: list[list[Any]]) -> float | None:
    return q(name).kind.agreement(q(name).spec, items)


def box(x1: float, y1: float, x2: float, y2: float, label: str = "car", **attributes: str) -> dict[str, Any]:
    out: dict[str, Any] = {"label": label, "box": [x1, y1, x2, y2]}
    if attributes:
        out["attributes"] = attributes
    return out


def test_boxes_found_by_a_majority_are_kept_and_their_coordinates_averaged() -> None:
    a = [box(0, 0, 10, 10)]
    b = [box(2, 0, 12, 10)]  # IoU 80 / 120 with a's: the same car
    c = [box(0, 0, 10, 10), box(50, 50, 60, 60, "person")]  # the person only c saw
    agg = aggregate("boxes", [a, b, c])
    assert agg.value == [box(pytest.approx(2 / 3), 0, pytest.approx(32 / 3), 10)]
    assert agg.confidence == pytest.approx((1 + 2 / 3) / 2)  # car: all of them; person: 2 of 3 said no
    # Weighted: c alone outweighs a and b, so the person stays and the car sits nearer c's.
    agg = aggregate("boxes", [a, b, c], [1, 1, 3])
    assert agg.value == [box(pytest.approx(0.4), 0, pytest.approx(10.4), 10), box(50, 50, 60, 60, "person")]


def test_the_class_and_the_attributes_of_a_kept_box_are_weighted_votes() -> None:
    values = [[box(0, 0, 10, 10, "person", occluded="yes")], [box(0, 0, 10, 10, "car", occluded="yes")],
              [box(0, 0, 10, 10, "person")]]
    assert aggregate("boxes", values).value == [box(0, 0, 10, 10, "person", occluded="yes")]
    # A tie goes to the class listed first in the schema; an attribute most did not give is left out.
    values = [[box(0, 0, 10, 10, "person", occluded="no")], [box(0, 0, 10, 10, "car")], [box(0, 0, 10, 10, "car")]]
    tie = aggregate("boxes", values[:2]).value
    assert tie == [box(0, 0, 10, 10, "car", occluded="no")]
    assert aggregate("boxes", values).value == [box(0, 0, 10, 10, "car")]


def test_each_annotator_gives_at_most_one_box_to_an_object() -> None:
    # b drew two boxes over a's one; only the better match joins it, the other stands alone.
    a, b = [box(0, 0, 10, 10)], [box(0, 0, 10, 9), box(0, 0, 10, 8)]
    agg = aggregate("boxes", [a, b])
    assert agg.value == [box(0, 0, 10, 9.5)]  # weights equal: the mean of (10, 9)
    assert agg.confidence == pytest.approx(0.75)  # the matched pair (1), the lone box (1/2 either way)


def test_empty_answers_agree_and_zero_weight_settles_nothing() -> None:
    assert aggregate("boxes", [[], []]).value == [] and aggregate("boxes", [[], []]).confidence == 1.0
    assert aggregate("boxes", [[box(0, 0, 1, 1)]], [0.0]).value is None
    assert agreement("boxes", [[[], []]]) == 1.0


def test_rotated_boxes_named_from_another_side_fuse_to_the_same_box() -> None:
    a = [{"label": "ship", "box": [50, 50, 20, 10, 0]}]
    b = [{"label": "ship", "box": [50, 50, 10, 20, 90]}]  # the same rectangle, a quarter turn and w, h swapped
    c = [{"label": "ship", "box": [50, 50, 20, 10, 180]}]  # the same rectangle, named from the other end
    agg = aggregate("ships", [a, b, c])
    assert agg.value == [{"label": "ship", "box": [50, 50, 20, 10, 0]}] and agg.confidence == 1.0
    turned = aggregate("ships", [a, [{"label": "ship", "box": [50, 50, 20, 10, 20]}]])
    assert turned.value[0]["box"] == [50, 50, 20, 10, pytest.approx(10)]
    across = aggregate("ships", [[{"label": "ship", "box": [50, 50, 20, 10, 175]}],
                                 [{"label": "ship", "box": [50, 50, 20, 10, -175]}]])
    assert across.value[0]["box"][4] == pytest.approx(180)  # not 0: the mean of the directions


def square(x: float, y: float, size: float = 10) -> list[list[float]]:
    return [[x, y], [x + size, y], [x + size, y + size], [x, y + size]]


def test_polygon_consensus_is_the_medoid_outline() -> None:
    values = [[{"label": "roof", "points": square(x, 0)}] for x in (0, 1, 2.5)]
    assert aggregate("roofs", values).value == [{"label": "roof", "points": square(1, 0)}]
    # Polygon IoU is exact: squares of side 10 shifted by 5 overlap by 50 of 150.
    assert agreement("roofs", [[[{"label": "roof", "points": square(0, 0)}],
                                [{"label": "roof", "points": square(5, 0)}]]]) == 0.0
    assert agreement("roofs", [[[{"label": "roof", "points": square(0, 0)}],
                                [{"label": "roof", "points": square(3, 0)}]]]) == 1.0  # IoU 70/130 >= 0.5


def test_polyline_consensus_is_the_medoid_line_and_far_lines_are_other_objects() -> None:
    line = lambda dy: [{"label": "lane", "points": [[0, 100 + dy], [100, 100 + dy]]}]  # noqa: E731
    assert aggregate("lanes", [line(0), line(2), line(3)]).value == line(2)
    # 2 px apart over 100 px: similarity 1 - 2 / 10 = 0.8; 6 px apart: 0.4, not the same lane.
    assert q("lanes").kind.similarity(q("lanes").spec, [line(0)[0]["points"]],
                                      [line(2)[0]["points"], line(6)[0]["points"]]).tolist() == [
        [pytest.approx(0.8), pytest.approx(0.4)]]
    assert agreement("lanes", [[line(0), line(6)]]) == 0.0


def test_keypoints_settle_by_weighted_median_and_agree_by_oks() -> None:
    person = lambda x, v=2, eye=None: [{"label": "person", "points": {  # noqa: E731
        "nose": [x, 10, v], "eye": eye or [0, 0, 0]}}]
    values = [person(10, eye=[100, 100, 2]), person(12, 1), person(14, 1)]
    agg = aggregate("pose", values, [1, 1, 1])
    assert agg.value == person(12, 1)  # the eye only one annotator placed is not labelled
    # OKS over the points both labelled: the nose 2 px apart, the eye in place; s^2 = mean box area.
    a, b = person(10, eye=[100, 100, 2]), person(12, eye=[100, 100, 2])
    s2 = (90 * 90 + 88 * 90) / 2
    expected = (math.exp(-4 / (2 * s2 * 0.2**2)) + 1) / 2
    only_nose = q("pose").kind.similarity(q("pose").spec, [a[0]["points"]], [person(12)[0]["points"]])
    # The eye a alone placed is left out; b's one point has no box, so s^2 = (8100 + 0) / 2.
    assert only_nose[0, 0] == pytest.approx(math.exp(-4 / (2 * 4050 * 0.2**2)))
    # Two one-point objects still have a scale: 32^2 px^2.
    lone = q("pose").kind.similarity(q("pose").spec, [person(10)[0]["points"]], [person(13)[0]["points"]])
    assert lone[0, 0] == pytest.approx(math.exp(-9 / (2 * 1024 * 0.2**2)))
    got = q("pose").kind.similarity(q("pose").spec, [a[0]["points"]], [b[0]["points"]])
    assert got[0, 0] == pytest.approx(expected)
    assert agreement("pose", [[a, b]]) == pytest.approx(expected)  # OKS-weighted F1 of one match
    assert agreement("pose", [[a, []]]) == 0.0


def mask(pixels: np.ndarray, label: str = "road") -> dict[str, Any]:
    return {"label": label, "rle": rle.encode_mask(pixels)}


def test_masks_settle_by_a_per_pixel_weighted_vote() -> None:
    m = np.zeros((3, 4, 4), dtype=bool)
    m[0, :2, :] = True  # rows 0-1
    m[1, :3, :] = True  # rows 0-2
    m[2, 1:3, :] = True  # rows 1-2
    values = [[mask(x)] for x in m]
    agg = aggregate("road", values)
    expected = m.sum(axis=0) >= 2  # 2 of 3 painted: rows 0-2
    assert agg.value == [mask(expected)] and agg.confidence == 1.0
    heavy = aggregate("road", values, [1, 1, 5]).value  # the third outweighs the other two
    assert rle.decode_mask(heavy[0]["rle"]).tolist() == m[2].tolist()
    # Agreement: F1 at IoU 0.5 of masks of the same class.
    assert agreement("road", [[[mask(m[0])], [mask(m[1])]]]) == 1.0  # IoU 2/3
    assert agreement("road", [[[mask(m[0])], [mask(m[1], "grass")]]]) == 0.0
    assert agreement("road", [[[mask(m[0])], [mask(m[2])]]]) == 0.0  # IoU 1/3


def test_agreement_is_f1_at_iou_half_averaged_over_items() -> None:
    two, one = [box(0, 0, 10, 10), box(20, 20, 30, 30)], [box(0, 0, 10, 10)]
    assert agreement("boxes", [[two, one]]) == pytest.approx(2 / 3)
    assert agreement("boxes", [[two, one], [one, one, one], [one]]) == pytest.approx((2 / 3 + 1) / 2)
    assert agreement("boxes", [[one, [box(0, 0, 10, 10, "person")]]]) == 0.0
    assert agreement("boxes", [[one]]) is None


def test_clusters_join_by_mean_similarity_to_their_members() -> None:
    # Objects 0 (annotator 0), 1 (annotator 1) and 2 (annotator 2): 2 is like 0 but not like 1.
    sim = np.array([[1, 0.9, 0.6], [0.9, 1, 0.05], [0.6, 0.05, 1]])
    got = cluster([0, 1, 2], [0, 1, 2], lambda r, c: sim[np.ix_(r, c)], 0.5)
    assert got == [[0, 1], [2]]  # the mean of 0.6 and 0.05 is below 0.5
    assert cluster([0, 1, 2], [0, 2, 1], lambda r, c: sim[np.ix_(r, c)], 0.5) == [[0, 2], [1]]


def test_export_cells_are_compact_json() -> None:
    assert q("boxes").kind.export_cell(q("boxes").spec, [box(1, 2, 3, 4)]) == '[{"label":"car","box":[1,2,3,4]}]'
    assert q("boxes").kind.export_cell(q("boxes").spec, None) is None
