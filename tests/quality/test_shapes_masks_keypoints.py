"""Mask vote and STAPLE, keypoint aggregation: known answers and invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.quality import KeypointAggregator, mask_vote, staple


def disc(cx: float, cy: float, r: float, size: int = 40) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


def test_mask_vote_majority_and_weights() -> None:
    a, b, c = disc(20, 20, 10), disc(21, 20, 10), disc(5, 5, 3)
    vote = mask_vote([a, b, c])
    np.testing.assert_array_equal(vote, a & b)  # c's blob has one vote of three
    assert mask_vote([a, c], weights=[1, 3]).sum() == c.sum()
    np.testing.assert_array_equal(mask_vote([a, b]), a | b)  # half counts as in
    with pytest.raises(ValueError, match="weights"):
        mask_vote([a, b], weights=[1, -1])


def test_staple_finds_the_better_annotator() -> None:
    truth = disc(20, 20, 12)
    rng = np.random.default_rng(0)
    good = [truth ^ (rng.random(truth.shape) < 0.02) for _ in range(3)]
    bad = truth ^ (rng.random(truth.shape) < 0.3)
    result = staple([*good, bad])
    assert (result.mask == truth).mean() > 0.99
    assert result.sensitivity[:3].min() > result.sensitivity[3]
    assert result.specificity[:3].min() > result.specificity[3]
    assert ((result.probability >= 0) & (result.probability <= 1)).all()


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_identical_masks_return_themselves(n: int, seed: int) -> None:
    mask = np.random.default_rng(seed).random((12, 9)) < 0.4
    np.testing.assert_array_equal(mask_vote([mask] * n), mask)
    np.testing.assert_array_equal(staple([mask] * n).mask, mask)


def kp_frame(rows: list[tuple[object, object, dict[str, list[float]]]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["task", "worker", "points"])


def test_keypoints_weighted_median_and_visibility() -> None:
    rows = []
    for t in range(10):
        base = {"nose": [50.0 + t, 40.0, 2], "left_wrist": [20.0, 90.0 + t, 1]}
        rows += [(t, "a", base), (t, "b", {k: [v[0] + 1, v[1], v[2]] for k, v in base.items()})]
        rows.append((t, "c", {k: [v[0] + 1.5, v[1] - 0.5, v[2]] for k, v in base.items()}))
        rows.append((t, "wrong", {"nose": [5.0, 5.0, 2], "tail": [1.0, 1.0, 2]}))
    model = KeypointAggregator().fit(kp_frame(rows))
    out = model.points_[3]
    assert set(out) == {"nose", "left_wrist"}  # "tail": one of four labelled it
    assert out["nose"] == pytest.approx([54.0, 40.0, 2.0])
    assert out["left_wrist"][2] == 1.0
    assert model.oks_["wrong"] < 0.2 < model.oks_["a"]
    assert model.weights_["wrong"] < model.weights_["a"]


def test_keypoint_input_errors_name_the_row() -> None:
    with pytest.raises(ValueError, match=r"row 0 \(task 1, worker 'a'\): points\['nose'\]"):
        KeypointAggregator().fit(kp_frame([(1, "a", {"nose": [1.0, 2.0, 7]})]))
    with pytest.raises(ValueError, match="lack column"):
        KeypointAggregator().fit(pd.DataFrame({"task": [1]}))
