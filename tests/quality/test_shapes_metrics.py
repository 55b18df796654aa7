"""Shape geometry and detection metrics: known answers, invariants, and pycocotools as the oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from labelloop.quality import box_f1, box_gold_scores, box_iou, detection_scores, oks, pairwise_box_agreement
from labelloop.quality.shapes import (
    keypoint_sigmas,
    mask_iou,
    match_boxes,
    paired_box_iou,
    polygon_iou,
    polygon_mask,
)
from labelloop.quality.shapes.geometry import COCO_SIGMAS

box = st.tuples(
    st.floats(0, 500, allow_nan=False), st.floats(0, 500, allow_nan=False),
    st.floats(0, 200, allow_nan=False), st.floats(0, 200, allow_nan=False),
).map(lambda b: [b[0], b[1], b[0] + b[2], b[1] + b[3]])  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(box, max_size=6), st.lists(box, max_size=6))
@example([[0.0, 0.0, 2.225073858507e-311, 2.225073858507e-311]], [])  # an area that rounds to 0
def test_iou_is_symmetric_and_in_unit_interval(a: list[list[float]], b: list[list[float]]) -> None:
    m = box_iou(a, b)
    assert m.shape == (len(a), len(b))
    assert ((m >= 0) & (m <= 1)).all()
    np.testing.assert_allclose(m, box_iou(b, a).T)
    if a:
        diag = paired_box_iou(a, a)
        x = np.array(a)
        # a box whose area is a positive float64 (a subnormal width times a height can round to 0)
        positive = (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1]) > 0
        np.testing.assert_allclose(diag[positive], 1.0)


def test_iou_known_values() -> None:
    assert box_iou([[0, 0, 10, 10]], [[5, 0, 15, 10]])[0, 0] == pytest.approx(50 / 150)
    assert box_iou([[0, 0, 10, 10]], [[20, 20, 30, 30]])[0, 0] == 0.0
    assert box_iou([[0, 0, 0, 0]], [[0, 0, 0, 0]])[0, 0] == 0.0


def test_iou_matches_pycocotools() -> None:
    mask_utils = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, (30, 2))
    wh = rng.uniform(1, 60, (30, 2))
    ours = np.hstack([xy, xy + wh])
    coco = mask_utils.iou(np.hstack([xy, wh]), np.hstack([xy, wh])[::-1].copy(), [0] * 30)
    np.testing.assert_allclose(box_iou(ours, ours[::-1]), coco, atol=1e-12)


def test_polygon_and_mask_iou_match_pycocotools() -> None:
    mask_utils = pytest.importorskip("pycocotools.mask")
    square = [[2, 2], [12, 2], [12, 12], [2, 12]]
    shifted = [[7, 2], [17, 2], [17, 12], [7, 12]]
    ours = polygon_mask(square, 20, 20)
    assert ours.sum() == 100
    assert polygon_iou(square, shifted, 20, 20) == pytest.approx(50 / 150)
    triangle = [[1.0, 1.0], [18.5, 3.0], [6.0, 17.5]]
    rle = mask_utils.frPyObjects([np.ravel(triangle).tolist()], 20, 20)
    coco = mask_utils.decode(rle)[:, :, 0].astype(bool)
    mine = polygon_mask(triangle, 20, 20)
    # the rasterisers differ on pixels the edge passes through, nowhere else
    assert mask_iou(mine, coco) > 0.85


def test_oks_matches_pycocotools_cocoeval() -> None:
    cocoeval = pytest.importorskip("pycocotools.cocoeval")
    names = list(COCO_SIGMAS)
    rng = np.random.default_rng(1)
    ref = np.column_stack([rng.uniform(0, 100, 17), rng.uniform(0, 200, 17), rng.integers(0, 3, 17)])
    ref[0, 2] = 2
    pred = ref.copy()
    pred[:, :2] += rng.normal(0, 4, (17, 2))
    area = 100.0 * 200.0
    gt = {"keypoints": ref.ravel().tolist(), "area": area, "bbox": [0, 0, 100, 200], "num_keypoints": 17,
          "image_id": 1, "category_id": 1, "id": 1, "iscrowd": 0}  # fmt: skip
    dt = {"keypoints": pred.ravel().tolist(), "image_id": 1, "category_id": 1, "id": 2, "score": 1.0}
    ev = cocoeval.COCOeval(iouType="keypoints")
    ev._gts[1, 1] = [gt]  # computeOks reads the grouped annotations directly
    ev._dts[1, 1] = [dt]
    ev.params.imgIds, ev.params.catIds = [1], [1]
    expected = ev.computeOks(1, 1)[0, 0]
    got = oks(pred, ref, sigmas=keypoint_sigmas(names), area=area)
    assert got == pytest.approx(expected, rel=1e-9)


def test_oks_defaults() -> None:
    ref = np.array([[10.0, 10.0, 2], [20.0, 30.0, 1], [0.0, 0.0, 0]])
    assert oks(ref, ref) == 1.0
    far = ref.copy()
    far[:, :2] += 1000
    assert oks(far, ref) < 1e-6
    assert np.isnan(oks(ref, np.zeros((3, 3))))
    assert keypoint_sigmas(["nose", "tail"]).tolist() == [
        0.026,
        pytest.approx(np.mean(list(COCO_SIGMAS.values()))),
    ]


def test_matching_prefers_more_pairs_then_higher_iou() -> None:
    # pred 0 is ref 0 exactly and overlaps ref 1 (0.56); pred 1 overlaps only ref 0 (0.62): greedy would
    # take (0, 0) and leave pred 1 alone, the evaluation makes two pairs
    pred = [[0, 0, 10, 10], [0, -6, 10, 10]]
    ref = [[0, 0, 10, 10], [0, 0, 10, 18]]
    rows, cols, ious = match_boxes(pred, ref, iou_threshold=0.5)
    assert sorted(zip(rows.tolist(), cols.tolist(), strict=True)) == [(0, 1), (1, 0)]
    assert (ious >= 0.5).all()


def test_f1_micro_over_tasks_and_scores() -> None:
    gold = pd.Series({"a": [[0, 0, 10, 10], [20, 20, 30, 30]], "b": [], "c": [[0, 0, 10, 10]]})
    pred = {"a": [[0, 0, 10, 10]], "b": [[5, 5, 9, 9]], "extra": [[0, 0, 1, 1]]}
    # a: 1 tp, 1 fn; b: 1 fp; c: missing -> 1 fn. F1 = 2/(2+1+2)
    assert box_f1(pred, gold) == pytest.approx(2 / 5)
    scores = detection_scores(pred, gold)
    assert scores.loc[0.5, "precision"] == pytest.approx(0.5)
    assert scores.loc[0.5, "recall"] == pytest.approx(1 / 3)
    assert scores.loc[0.75, "mean_iou"] == pytest.approx(1.0)
    assert box_f1({}, {"x": []}) == 1.0


def test_gold_scores_per_worker_with_intervals() -> None:
    gold = pd.Series({"t1": [[0, 0, 10, 10]], "t2": [[50, 50, 60, 60]]})
    answers = pd.DataFrame(
        {
            "task": ["t1", "t1", "t2", "t2", "t3"],
            "worker": ["good", "bad", "good", "bad", "bad"],
            "boxes": [
                [[0, 0, 10, 10]],
                [[0, 0, 3, 3], [0, 0, 10, 9]],
                [[50, 50, 60, 61]],
                [],
                [[1, 1, 2, 2]],
            ],
        }
    )
    table = box_gold_scores(answers, gold)
    assert table.loc["good", ["tp", "fp", "fn"]].tolist() == [2, 0, 0]
    assert table.loc["bad", ["tp", "fp", "fn", "n_gold"]].tolist() == [1, 1, 1, 2]
    assert table.loc["good", "precision"] == 1.0
    assert table.loc["good", "precision_low"] < table.loc["good", "precision_mean"] < 1.0
    assert table.loc["bad", "recall"] == 0.5
    assert table.loc["good", "mean_iou"] == pytest.approx((1 + 100 / 110) / 2)


def test_pairwise_agreement() -> None:
    same = pd.DataFrame({"task": [1, 1, 1], "worker": ["a", "b", "c"], "boxes": [[[0, 0, 5, 5]]] * 3})
    assert pairwise_box_agreement(same) == 1.0
    half = pd.DataFrame(
        {"task": [1, 1], "worker": ["a", "b"], "boxes": [[[0, 0, 5, 5]], [[0, 0, 5, 5], [9, 9, 12, 12]]]}
    )
    assert pairwise_box_agreement(half) == pytest.approx(2 / 3)
    assert np.isnan(pairwise_box_agreement(pd.DataFrame({"task": [1], "worker": ["a"], "boxes": [[]]})))
