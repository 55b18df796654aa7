"""The optional size-dependent class prior of the box existence model (quality/shapes/existence.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.quality import BoxAggregator, box_f1
from labelloop.quality.shapes import existence
from labelloop.quality.shapes._input import encode_boxes
from labelloop.quality.shapes.boxes import cluster_size
from labelloop.quality.shapes.geometry import box_iou
from labelloop.quality.shapes.matching import cluster_boxes
from labelloop.quality.shapes.simulate import simulate_box_crowd


def small_recall(pred: pd.Series, truth: pd.Series, below: float) -> float:
    """Share of the true boxes shorter than *below* px that a predicted box finds at IoU >= 0.5."""
    found = total = 0
    for task, boxes in truth.items():
        gold = np.asarray(boxes, dtype=float).reshape(-1, 4)
        small = gold[(gold[:, 3] - gold[:, 1]) < below]
        guess = np.asarray(pred[task], dtype=float).reshape(-1, 4)
        total += len(small)
        if len(small) and len(guess):
            found += int((box_iou(small, guess).max(axis=1) >= 0.5).sum())
    return found / total


def test_the_size_prior_recovers_small_objects_when_stray_boxes_are_large() -> None:
    # Small objects are seen by few annotators (size-dependent recall) and stray boxes are large:
    # by votes alone a small object drawn by two looks like a stray drawn by two; by size it does not.
    answers, truth = simulate_box_crowd(
        n_tasks=400, n_workers=20, visibility=(0.1, 12.0, 200.0), false_height=250.0, seed=3
    )
    plain = BoxAggregator().fit_predict(answers)
    sized = BoxAggregator(size_prior=True).fit_predict(answers)
    assert small_recall(sized, truth, 40) > small_recall(plain, truth, 40) + 0.3
    assert box_f1(sized, truth) > box_f1(plain, truth) + 0.02


def test_sizes_that_do_not_vary_give_the_plain_model() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for t in range(30):
        x, y = rng.uniform(0, 400, 2)
        for w in "abcde":
            boxes = [[x, y, x + 40, y + 100]] if rng.random() < 0.8 else []
            if rng.random() < 0.2:
                boxes.append([x + 200, y, x + 240, y + 100])
            rows.append((t, w, boxes))
    answers = pd.DataFrame(rows, columns=["task", "worker", "boxes"])
    plain = BoxAggregator().fit(answers)
    sized = BoxAggregator(size_prior=True).fit(answers)
    np.testing.assert_array_equal(plain.clusters_["p_real"], sized.clusters_["p_real"])


def test_slopes_pinned_at_zero_reduce_to_the_plain_model(monkeypatch: pytest.MonkeyPatch) -> None:
    # beta = 0: a prior of sd ~0 on the slopes keeps them at 0, and the EM lands where the plain one does.
    answers, _ = simulate_box_crowd(n_tasks=300, n_workers=15, seed=5)
    data = encode_boxes(answers)
    box_cluster, cl_task = cluster_boxes(
        data, priority=np.zeros(data.n_workers), weights=np.ones(data.n_workers), match_iou=0.3
    )
    kwargs = dict(
        cl_task=cl_task, box_cluster=box_cluster, box_worker=data.box_worker, answer_task=data.task,
        answer_worker=data.worker, n_tasks=data.n_tasks, n_workers=data.n_workers, levels=2, shrinkage=2.0,
        n_iter=300, tol=1e-9,
    )
    plain = existence.fit_existence(**kwargs)  # type: ignore[arg-type]
    monkeypatch.setattr(existence, "SIZE_SLOPE_SD", 1e-6)
    pinned = existence.fit_existence(  # type: ignore[arg-type]
        **kwargs, size=cluster_size(data.boxes, box_cluster, len(cl_task))
    )
    assert pinned.size_slope is not None
    assert np.abs(pinned.size_slope).max() < 1e-6
    # the same fixed point, reached by another path (a Newton step per M-step) along the EM's flat ridge
    np.testing.assert_allclose(pinned.real, plain.real, atol=5e-3)
    np.testing.assert_array_equal(pinned.real >= 0.5, plain.real >= 0.5)
    np.testing.assert_allclose(pinned.prior, plain.prior, atol=1e-3)


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 4), st.integers(1, 60), st.integers(0, 2**31 - 1))
def test_with_size_zero_the_prior_step_is_the_plain_prior(k: int, m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    q = rng.dirichlet(np.ones(k), m)
    plain = (q.sum(axis=0) + 1.0) / (m + k)
    prior, slope = existence._fit_size_prior(q, np.zeros(m), plain, None)
    np.testing.assert_allclose(prior, plain, rtol=1e-9)
    np.testing.assert_allclose(slope, 0.0, atol=1e-12)


def test_a_larger_size_makes_the_class_with_the_larger_slope_likelier() -> None:
    size = np.array([-1.0, 0.0, 1.0])
    pi = np.exp(existence._log_class_prior(np.array([0.5, 0.5]), np.array([0.0, 1.0]), size))
    np.testing.assert_allclose(pi.sum(axis=1), 1.0)
    assert np.all(np.diff(pi[:, 1]) > 0)
    np.testing.assert_allclose(pi[1], [0.5, 0.5])
