"""bench/box_errors.py, the error breakdown and decision rules docs/quality.md ("Shapes") reports: hand-made
cases with known answers (the F1-optimal plug-in rule, the error classes, the localisation estimate)."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from labelloop.quality import BoxAggregator

ROOT = Path(__file__).resolve().parents[2]


@cache
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_box_errors", ROOT / "bench" / "box_errors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_box_errors"] = module
    spec.loader.exec_module(module)
    return module


def test_plugin_rule_keeps_the_k_with_the_best_expected_f1() -> None:
    # p = (0.9, 0.6, 0.2), sum 1.7: E[F1] for k = 1, 2, 3 is 1.8/2.7, 3.0/3.7, 3.4/4.7 -> k = 2.
    p = np.array([0.2, 0.9, 0.6])
    assert bench().plugin_keep(p, p).tolist() == [False, True, True]
    # p = (1, 0.45): keeping both, 2.9/3.45 = 0.841, beats one, 2/2.45 = 0.816: below 0.5 but above
    # F*/2 (Lipton et al.), the F1 rule keeps what the accuracy rule (P >= 0.5) drops.
    p = np.array([1.0, 0.45])
    assert bench().plugin_keep(p, p).tolist() == [True, True]
    # A lone doubtful cluster: keeping it, 2p/(1 + p) = 0.18 for p = 0.1, beats keeping nothing (0).
    assert bench().plugin_keep(np.array([0.1]), np.array([0.1])).tolist() == [True]
    assert bench().plugin_keep(np.zeros(0), np.zeros(0)).tolist() == []


def test_per_image_rule_keeps_nothing_where_an_empty_image_is_likelier() -> None:
    # Image a: one cluster at 0.1: keeping nothing scores P(empty) = 0.9 > 2(0.1)/1.1. Image b: 0.8.
    p = np.array([0.1, 0.8])
    keep = bench().plugin_keep_per_image(p, p, np.array(["a", "b"]))
    assert keep.tolist() == [False, True]


def crowd() -> tuple[pd.DataFrame, pd.Series]:
    """12 images, three annotators drawing the same three boxes on each: a person the expert boxed alike,
    a person the expert boxed much tighter (IoU 0.417), and something the expert did not box; the
    expert also boxed a person nobody drew."""
    found, loose, nothing = [0.0, 0.0, 10.0, 20.0], [48.0, 46.0, 64.0, 76.0], [100.0, 100.0, 110.0, 120.0]
    tight, unseen = [50.0, 50.0, 60.0, 70.0], [200.0, 200.0, 210.0, 220.0]
    rows = [(f"t{t}", f"w{w}", [found, loose, nothing]) for t in range(12) for w in range(3)]
    answers = pd.DataFrame(rows, columns=["task", "worker", "boxes"])
    gold = pd.Series({f"t{t}": [found, tight, unseen] for t in range(12)}, dtype=object)
    return answers, gold


def test_error_classes_on_a_hand_made_crowd() -> None:
    answers, gold = crowd()
    model = BoxAggregator().fit(answers)
    assert model.clusters_["kept"].all()
    errors = bench().error_classes(model, answers, gold)
    assert errors["expert_boxes"] == 36
    assert errors["true_positives"] == 12
    assert errors["missed"] == {"no_worker_box": 24, "dropped": 0, "fusion": 0}
    assert errors["wrongly_kept"] == {"duplicate": 0, "localisation": 12, "no_object": 12}
    assert errors["wrongly_kept_by_cluster_size"] == {3: 24}
    by_height = errors["fused_over_expert_by_height"]
    assert set(by_height) == {"<=40 px"}  # both matched pairs (IoU 1 and 0.417) are 20 px tall
    assert by_height["<=40 px"]["pairs"] == 24
    assert by_height["<=40 px"]["below_050"] == 12


def test_localisation_probability_counts_members_that_reach_iou_half() -> None:
    # Image t0: three identical boxes (each reaches IoU 1 with the mean of the others: 3 hits of 3);
    # t1: two boxes at IoU 60/140 = 0.43 (0 of 2); t2: a lone box (no pair: the crowd's rate).
    a, b, c = [0.0, 0.0, 10.0, 10.0], [4.0, 0.0, 14.0, 10.0], [30.0, 0.0, 40.0, 10.0]
    rows = [("t0", f"w{w}", [a]) for w in range(3)]
    rows += [("t1", "w0", [a]), ("t1", "w1", [b]), ("t1", "w2", [])]
    rows += [("t2", "w0", [c]), ("t2", "w1", []), ("t2", "w2", [])]
    answers = pd.DataFrame(rows, columns=["task", "worker", "boxes"])
    model = BoxAggregator().fit(answers)
    clusters = model.clusters_.assign(prob=bench().localisation_probability(model, answers))
    assert clusters["n_boxes"].tolist() == [3, 2, 1]
    real = clusters["p_real"].to_numpy()
    pooled = 3 * real[0] / (3 * real[0] + 2 * real[1])  # hits over tries, weighted by P(real)
    expected = [(3 + 2 * pooled) / (3 + 2), (0 + 2 * pooled) / (2 + 2), pooled]  # 2 pseudo-boxes
    assert clusters["prob"].to_numpy() == pytest.approx(expected)
    assert clusters["prob"].iloc[0] > clusters["prob"].iloc[2] > clusters["prob"].iloc[1]
    with pytest.raises(ValueError, match="n_passes=1"):
        bench().localisation_probability(BoxAggregator(n_passes=2).fit(answers), answers)


def test_the_breakdown_docs_quality_reports_on_branson() -> None:
    """docs/quality.md ("Shapes") quotes these counts; the plug-in rule keeps the default's clusters."""
    from tests.quality.test_shapes_real_data import branson

    answers, gold = branson()
    model = BoxAggregator().fit(answers)
    errors = bench().error_classes(model, answers, gold)
    assert (errors["expert_boxes"], errors["true_positives"]) == (614, 546)
    assert errors["missed"] == {"no_worker_box": 48, "dropped": 12, "fusion": 8}
    assert errors["wrongly_kept"] == {"duplicate": 1, "localisation": 10, "no_object": 7}
    rules = bench().rule_f1(model, answers, gold, (0.5,))
    assert rules["plugin"] == rules["threshold"]
    assert rules["threshold"][0] < rules["plugin_loc"][0] < 0.93
    # The pixel-margin fusion (not the default: docs/quality.md says why) and the two together.
    margin = bench().margin_rules(answers, gold)
    assert margin["threshold"][0] > rules["threshold"][0]
    assert margin["plugin_loc"][0] >= 0.93


def test_pixel_margin_fusion_learns_a_margin_in_pixels() -> None:
    # Objects of 10 and 100 px boxed by w0 (precision 4), w1 and w2 (1 each), a third of 20 px by w1 and
    # w2 only; w0 and w1 box exactly, w2 two pixels outside on every side. Offsets are centred on the
    # precision-weighted annotator (w2's weight 1/6), so every corrected box, and every fused one, is
    # the true box grown by 2/6 px per side, the third object included, and the share-of-size offsets
    # are 0. Offsets as a share of size alone cannot fit a margin in pixels on every size: without w0
    # to pull it back, the third object's box is off by another amount.
    truth = np.array([[0.0, 0.0, 10.0, 10.0], [50.0, 50.0, 150.0, 150.0], [200.0, 0.0, 220.0, 20.0]])
    grow = np.array([-2.0, -2.0, 2.0, 2.0])
    boxes = np.concatenate([truth[:2], truth, truth + grow])
    worker = np.array([0, 0, 1, 1, 1, 2, 2, 2])
    cluster = np.array([0, 1, 0, 1, 2, 0, 1, 2])
    precision = np.array([4.0, 1.0, 1.0])
    settings = {"shrinkage": 0.0, "dof": float("inf"), "n_iter": 200, "tol": 1e-13}
    fused, beta = bench().pixel_margin_fusion(boxes, cluster, worker, precision, np.ones(3), 3, **settings)
    assert fused == pytest.approx(truth + grow / 6)
    assert beta == pytest.approx(np.zeros((3, 4)), abs=1e-9)
    from labelloop.quality.shapes.fusion import robust_fusion

    relative, _ = robust_fusion(boxes, cluster, worker, precision, np.ones(3), 3, **settings)
    assert relative[:2] == pytest.approx(truth[:2] + grow / 6)  # where all three boxed, alike
    assert not np.allclose(relative[2], truth[2] + grow / 6, atol=0.01)
