"""MOTA, IDF1 and HOTA of track sets: hand-made cases with known answers, and the reference libraries
(motmetrics for CLEAR MOT and identity, TrackEval for HOTA) as oracles to 1e-6 on random cases."""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.quality.tracks import track_counts, track_scores


def oracle(name: str) -> ModuleType:
    """The reference library; in CI (which installs it: the test extra, and the Makefile for trackeval)
    a missing one fails instead of skipping."""
    if os.environ.get("CI"):
        return importlib.import_module(name)
    return pytest.importorskip(name)


mm = oracle("motmetrics")
trackeval = oracle("trackeval")


def track(tid: Any, boxes: dict[int, list[float]], label: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": tid, "boxes": boxes}
    if label is not None:
        out["label"] = label
    return out


def motmetrics_scores(pred: list[dict[str, Any]], truth: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    """MOTA, IDF1 and switches from motmetrics' own accumulator and IoU distances."""
    # motmetrics 1.4 calls np.asfarray, removed in NumPy 2: give it back for the oracle only.
    monkeypatch.setattr(np, "asfarray", lambda a: np.asarray(a, dtype=float), raising=False)
    acc = mm.MOTAccumulator(auto_id=False)
    frames = sorted({int(f) for t in truth + pred for f in t["boxes"]})
    for f in frames:
        gt = [(k, t["boxes"][f]) for k, t in enumerate(truth) if f in t["boxes"]]
        hy = [(k, t["boxes"][f]) for k, t in enumerate(pred) if f in t["boxes"]]
        xywh = lambda b: [b[0], b[1], b[2] - b[0], b[3] - b[1]]  # noqa: E731
        g = np.array([xywh(b) for _, b in gt]).reshape(-1, 4)
        h = np.array([xywh(b) for _, b in hy]).reshape(-1, 4)
        d = mm.distances.iou_matrix(g, h, max_iou=0.5) if len(g) and len(h) else np.empty((len(g), len(h)))
        acc.update([k for k, _ in gt], [k for k, _ in hy], d, frameid=f)
    summary = mm.metrics.create().compute(acc, metrics=["mota", "idf1", "num_switches", "motp"], name="x")
    return {k: float(summary[k].iloc[0]) for k in ("mota", "idf1", "num_switches", "motp")}


def trackeval_hota(pred: list[dict[str, Any]], truth: list[dict[str, Any]]) -> float:
    """HOTA from TrackEval's HOTA metric on the sequence, with TrackEval's own box IoU."""
    from trackeval.datasets._base_dataset import _BaseDataset
    from trackeval.metrics import HOTA

    frames = sorted({int(f) for t in truth + pred for f in t["boxes"]})
    data: dict[str, Any] = {"gt_ids": [], "tracker_ids": [], "similarity_scores": []}
    for f in frames:
        gt = [(k, t["boxes"][f]) for k, t in enumerate(truth) if f in t["boxes"]]
        hy = [(k, t["boxes"][f]) for k, t in enumerate(pred) if f in t["boxes"]]
        g = np.array([b for _, b in gt], dtype=float).reshape(-1, 4)
        h = np.array([b for _, b in hy], dtype=float).reshape(-1, 4)
        sim = _BaseDataset._calculate_box_ious(g, h, box_format="x0y0x1y1") if len(g) and len(h) else np.zeros((len(g), len(h)))
        data["gt_ids"].append(np.array([k for k, _ in gt], dtype=int))
        data["tracker_ids"].append(np.array([k for k, _ in hy], dtype=int))
        data["similarity_scores"].append(sim)
    data["num_gt_ids"], data["num_tracker_ids"] = len(truth), len(pred)
    data["num_gt_dets"] = sum(len(t["boxes"]) for t in truth)
    data["num_tracker_dets"] = sum(len(t["boxes"]) for t in pred)
    res = HOTA(config={"PRINT_CONFIG": False}).eval_sequence(data)
    return float(np.mean(res["HOTA"]))


def random_tracks(rng: np.random.Generator, n_tracks: int, n_frames: int, *, jitter: float) -> list[dict[str, Any]]:
    out = []
    for k in range(n_tracks):
        start = int(rng.integers(0, n_frames))
        end = int(rng.integers(start, n_frames))
        x, y = rng.uniform(0, 60, 2)
        vx, vy = rng.normal(0, 2, 2)
        w, h = rng.uniform(8, 30, 2)
        boxes = {}
        for f in range(start, end + 1):
            if rng.random() < 0.1:
                continue  # a gap: occluded or outside
            bx, by = x + vx * f + rng.normal(0, jitter), y + vy * f + rng.normal(0, jitter)
            boxes[f] = [float(bx), float(by), float(bx + w), float(by + h)]
        if boxes:  # TrackEval counts only ids that show somewhere
            out.append(track(k, boxes))
    return out


def perturb(rng: np.random.Generator, tracks: list[dict[str, Any]], jitter: float) -> list[dict[str, Any]]:
    """Another annotator: boxes jittered, some frames dropped, some tracks split (an identity switch)."""
    out = []
    for k, t in enumerate(tracks):
        frames = sorted(t["boxes"])
        noisy = {f: [c + float(rng.normal(0, jitter)) for c in t["boxes"][f]] for f in frames if rng.random() > 0.1}
        noisy = {f: [b[0], b[1], max(b[2], b[0] + 1), max(b[3], b[1] + 1)] for f, b in noisy.items()}
        if len(noisy) > 4 and rng.random() < 0.4:
            cut = sorted(noisy)[len(noisy) // 2]
            out.append(track(2 * k, {f: b for f, b in noisy.items() if f < cut}))
            out.append(track(2 * k + 1, {f: b for f, b in noisy.items() if f >= cut}))
        elif noisy:
            out.append(track(2 * k, noisy))
    if rng.random() < 0.5:
        out += [t | {"id": 999} for t in random_tracks(rng, 1, 20, jitter=0)]
    return out


SQUARE = [0.0, 0.0, 10.0, 10.0]


def shifted(dx: float) -> list[float]:
    return [dx, 0.0, 10.0 + dx, 10.0]


def test_identical_tracks_score_one() -> None:
    tracks = [track("a", {0: SQUARE, 1: shifted(1), 2: shifted(2)}), track("b", {1: [30, 30, 40, 45]})]
    scores = track_scores(tracks, tracks)
    assert scores["mota"] == 1.0 and scores["idf1"] == 1.0 and scores["hota"] == pytest.approx(1.0)
    assert scores["switches"] == 0


def test_known_switch_miss_and_false_positive() -> None:
    # truth: object 1 on frames 0-2, object 2 on frames 0-1; prediction: 'a' follows 1 on 0-1, 'b'
    # takes over 2 on frame 1 and 1 on frame 2 (a switch), object 2 missed on frame 0.
    truth = [track(1, {0: SQUARE, 1: shifted(1), 2: shifted(2)}), track(2, {0: [20, 20, 30, 30], 1: [20, 20, 30, 30]})]
    pred = [track("a", {0: SQUARE, 1: shifted(1)}), track("b", {1: [21, 20, 31, 30], 2: shifted(2)})]
    c = track_counts(pred, truth)
    assert (c.n_truth, c.misses, c.false_positives, c.switches) == (5, 1, 0, 1)
    assert c.mota == pytest.approx(1 - 2 / 5)
    assert c.idtp == 3  # 1-a on frames 0, 1; 2-b on frame 1
    assert c.idf1 == pytest.approx(2 * 3 / 9)


def test_hota_of_one_track_found_half_the_time() -> None:
    # One exact track of 4 frames, predicted exactly on 2 of them: DetA = 2/4 at every alpha, AssA =
    # 2 / (4 + 2 - 2) = 1/2, so HOTA = sqrt(1/4) = 0.5.
    truth = [track(1, {f: shifted(f) for f in range(4)})]
    pred = [track(1, {f: shifted(f) for f in range(2)})]
    assert track_scores(pred, truth)["hota"] == pytest.approx(0.5)
    assert track_scores(pred, truth)["idf1"] == pytest.approx(2 * 2 / 6)


def test_labels_keep_classes_apart() -> None:
    truth = [track(1, {0: SQUARE}, "car")]
    assert track_scores([track(1, {0: SQUARE}, "person")], truth)["idf1"] == 0.0
    assert track_scores([track(1, {0: SQUARE}, "car")], truth)["idf1"] == 1.0


def test_empty_sets() -> None:
    assert track_scores([], [])["hota"] == 1.0
    assert track_scores([], [track(1, {0: SQUARE})])["hota"] == 0.0
    assert track_scores([track(1, {0: SQUARE})], [])["idf1"] == 0.0


def test_a_track_that_shows_nowhere_counts_nothing() -> None:
    assert track_scores([track(1, {})], [])["idf1"] == 1.0
    truth = [track(1, {0: SQUARE})]
    assert track_scores([track("a", {}), track("b", {0: SQUARE})], truth) == track_scores([track("b", {0: SQUARE})], truth)


def test_pooled_counts_add() -> None:
    a = track_counts([track(1, {0: SQUARE})], [track(1, {0: SQUARE})])
    b = track_counts([], [track(1, {0: SQUARE, 1: SQUARE})])
    pooled = a + b
    assert pooled.n_truth == 3 and pooled.idf1 == pytest.approx(2 / 4) and pooled.mota == pytest.approx(1 / 3)


def test_bad_box_is_named() -> None:
    with pytest.raises(ValueError, match=r"pred\[0\] frame 3"):
        track_counts([track(1, {3: [5, 0, 1, 10]})], [])


@pytest.mark.parametrize("seed", range(12))
def test_equal_to_motmetrics_and_trackeval(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed)
    truth = random_tracks(rng, int(rng.integers(1, 7)), 30, jitter=0.5)
    pred = perturb(rng, truth, jitter=float(rng.uniform(0.5, 4.0)))
    ours = track_scores(pred, truth)
    ref = motmetrics_scores(pred, truth, monkeypatch)
    assert ours["mota"] == pytest.approx(ref["mota"], abs=1e-6)
    assert ours["idf1"] == pytest.approx(ref["idf1"], abs=1e-6)
    assert ours["switches"] == ref["num_switches"]
    assert ours["hota"] == pytest.approx(trackeval_hota(pred, truth), abs=1e-6)


def test_hand_made_case_equals_the_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    truth = [track(1, {0: SQUARE, 1: shifted(1), 2: shifted(2)}), track(2, {0: [20, 20, 30, 30], 1: [20, 20, 30, 30]})]
    pred = [track("a", {0: SQUARE, 1: shifted(1)}), track("b", {1: [21, 20, 31, 30], 2: shifted(2)})]
    ref = motmetrics_scores(pred, truth, monkeypatch)
    ours = track_scores(pred, truth)
    assert ours["mota"] == pytest.approx(ref["mota"], abs=1e-6)
    assert ours["idf1"] == pytest.approx(ref["idf1"], abs=1e-6)
    assert ours["hota"] == pytest.approx(trackeval_hota(pred, truth), abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_invariants(seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = random_tracks(rng, int(rng.integers(1, 5)), 15, jitter=0.0)
    pred = perturb(rng, truth, jitter=2.0)
    s = track_scores(pred, truth)
    assert 0.0 <= s["idf1"] <= 1.0 and 0.0 <= s["hota"] <= 1.0 and s["mota"] <= 1.0
    # IDF1 and HOTA are symmetric in the two sets; renaming tracks changes nothing
    swapped = track_scores(truth, pred)
    assert swapped["idf1"] == pytest.approx(s["idf1"]) and swapped["hota"] == pytest.approx(s["hota"])
    renamed = [t | {"id": f"x{t['id']}"} for t in reversed(pred)]
    assert track_scores(renamed, truth)["idf1"] == pytest.approx(s["idf1"])
    assert track_scores(truth, truth)["hota"] == pytest.approx(1.0)


@pytest.mark.parametrize(("module", "words"), [
    ("labelloop.quality.tracks.metrics", ["Bernardin", "2008", "Ristani", "2016", "Luiten", "2021"]),
    ("labelloop.quality.tracks.matching", ["Hungarian", "IoU"]),
    ("labelloop.quality.tracks.fusion", ["Nitzan", "1982"]),
    ("labelloop.quality.tracks.aggregator", ["Dawid", "1979", "Branson"]),
])
def test_modules_give_the_maths_and_cite_their_papers(module: str, words: list[str]) -> None:
    doc = importlib.import_module(module).__doc__ or ""
    assert ".. math::" in doc or ":math:" in doc
    for word in words:
        assert word in doc
