"""Benchmark of the quality of tracks (docs/quality.md, "Tracks"): fused tracks of a simulated crowd
against the truth, the baselines, agreement equal to the reference libraries, and aggregation time.

A crowd of simulated trackers (``labelloop.quality.simulate_track_crowd``: 12 annotators, 5 per
video, each with their own recall, false-track rate, box noise, late start / early stop and
fragmented tracks, one in ten a sloppy spammer; videos with 1-6 objects that move, accelerate,
bounce and leave the frame for a while) labels 100 videos of 120 frames. Figures:

- ``track_hota_fused``, ``track_idf1_fused``, ``track_mota_fused``: the default track aggregator
  (learned skills, EM existence, weighted per-frame fusion) against the true tracks, pooled over
  videos as the reference libraries pool sequences;
- the same for ``naive`` (the same matching, a majority quorum, per-frame majority and median) and
  ``single`` (one annotator drawn at random per video): what the aggregator must beat;
- ``track_agreement_idf1`` / ``_hota``: the crowd's agreement with itself (every pair of answers);
- ``track_metrics_max_abs_diff``: the largest difference between our MOTA and IDF1 and motmetrics',
  and our HOTA and TrackEval's, over 30 random pairs of track sets (target 1e-6; "unavailable" when
  the libraries are not installed: they come with the test extra and the Makefile);
- ``aggregate_tracks_s``: the default aggregator on a realistic volume (400 videos of 300 frames,
  5 answers each: ``aggregate_tracks_boxes`` boxes after interpolation), wall time of ``fit``
  (``aggregate_tracks_cpu_s``: its CPU time, which other work on a shared machine moves less).

Run ``python bench/video_quality.py [--quick]``: a table, then one JSON line. ``run(quick)`` is
importable by bench/video.py.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from labelloop.quality import (
    NaiveTrackConsensus,
    RandomWorkerTracks,
    default_track_aggregator,
    pairwise_track_agreement,
    simulate_track_crowd,
    track_scores,
)
from labelloop.quality.tracks import track_set_scores

SEED = 11


def _random_sets(rng: np.random.Generator) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A true set of tracks and a noisy copy (jittered boxes, dropped frames, split tracks, a stray)."""
    truth, pred = [], []
    for k in range(int(rng.integers(1, 6))):
        start = int(rng.integers(0, 30))
        end = int(rng.integers(start, 40))
        x, y, vx, vy, w, h = (*rng.uniform(0, 80, 2), *rng.normal(0, 2, 2), *rng.uniform(10, 30, 2))
        boxes = {f: [x + vx * f, y + vy * f, x + vx * f + w, y + vy * f + h] for f in range(start, end + 1)}
        truth.append({"id": k, "boxes": boxes})
        noisy = {f: [c + float(rng.normal(0, 2)) for c in b] for f, b in boxes.items() if rng.random() > 0.1}
        noisy = {f: [b[0], b[1], max(b[2], b[0] + 1), max(b[3], b[1] + 1)] for f, b in noisy.items()}
        cut = start + (end - start) // 2
        if rng.random() < 0.4:
            pred += [{"id": 2 * k, "boxes": {f: b for f, b in noisy.items() if f < cut}},
                     {"id": 2 * k + 1, "boxes": {f: b for f, b in noisy.items() if f >= cut}}]
        else:
            pred.append({"id": 2 * k, "boxes": noisy})
    return pred, truth


def reference_difference(n_cases: int) -> float | str:
    """max |ours - library| over MOTA, IDF1 (motmetrics) and HOTA (TrackEval) on random cases."""
    try:
        import motmetrics as mm
        from trackeval.datasets._base_dataset import _BaseDataset
        from trackeval.metrics import HOTA
    except ImportError:
        return "unavailable"
    if not hasattr(np, "asfarray"):  # motmetrics 1.4 calls np.asfarray, removed in NumPy 2
        np.asfarray = lambda a: np.asarray(a, dtype=float)  # type: ignore[attr-defined]
    rng = np.random.default_rng(SEED)
    worst = 0.0
    for _ in range(n_cases):
        pred, truth = _random_sets(rng)
        acc = mm.MOTAccumulator(auto_id=False)
        data: dict[str, Any] = {"gt_ids": [], "tracker_ids": [], "similarity_scores": []}
        for f in sorted({fr for t in truth + pred for fr in t["boxes"]}):
            gt = [(k, t["boxes"][f]) for k, t in enumerate(truth) if f in t["boxes"]]
            hy = [(k, t["boxes"][f]) for k, t in enumerate(pred) if f in t["boxes"]]
            g = np.array([b for _, b in gt], dtype=float).reshape(-1, 4)
            h = np.array([b for _, b in hy], dtype=float).reshape(-1, 4)
            xywh = lambda a: np.c_[a[:, :2], a[:, 2:] - a[:, :2]]  # noqa: E731
            both = len(g) and len(h)
            d = mm.distances.iou_matrix(xywh(g), xywh(h), max_iou=0.5) if both else np.empty((len(g), len(h)))
            acc.update([k for k, _ in gt], [k for k, _ in hy], d, frameid=f)
            sim = (_BaseDataset._calculate_box_ious(g, h, box_format="x0y0x1y1") if both
                   else np.zeros((len(g), len(h))))
            data["gt_ids"].append(np.array([k for k, _ in gt], dtype=int))
            data["tracker_ids"].append(np.array([k for k, _ in hy], dtype=int))
            data["similarity_scores"].append(sim)
        data.update(num_gt_ids=len(truth), num_tracker_ids=len(pred),
                    num_gt_dets=sum(len(t["boxes"]) for t in truth),
                    num_tracker_dets=sum(len(t["boxes"]) for t in pred))
        ref = mm.metrics.create().compute(acc, metrics=["mota", "idf1"], name="x")
        hota = float(np.mean(HOTA(config={"PRINT_CONFIG": False}).eval_sequence(data)["HOTA"]))
        ours = track_scores(pred, truth)
        worst = max(worst, abs(ours["mota"] - float(ref["mota"].iloc[0])),
                    abs(ours["idf1"] - float(ref["idf1"].iloc[0])), abs(ours["hota"] - hota))
    return worst


def run(quick: bool) -> dict[str, float | str]:
    n_videos, volume = (30, (60, 150)) if quick else (100, (400, 300))
    data, truth = simulate_track_crowd(n_tasks=n_videos, seed=SEED)
    out: dict[str, float | str] = {"track_videos": float(n_videos)}
    for name, estimator in (("fused", default_track_aggregator()), ("naive", NaiveTrackConsensus()),
                            ("single", RandomWorkerTracks(seed=SEED))):
        scores = track_set_scores(estimator.fit_predict(data), truth)
        for key in ("hota", "idf1", "mota"):
            out[f"track_{key}_{name}"] = round(scores[key], 4)
    agreement = pairwise_track_agreement(data)
    out["track_agreement_idf1"] = round(agreement["idf1"], 4)
    out["track_agreement_hota"] = round(agreement["hota"], 4)
    diff = reference_difference(10 if quick else 30)
    out["track_metrics_max_abs_diff"] = diff if isinstance(diff, str) else float(f"{diff:.3g}")
    big, _ = simulate_track_crowd(n_tasks=volume[0], n_frames=volume[1], seed=SEED + 1)
    out["aggregate_tracks_boxes"] = float(sum(len(t["boxes"]) for tracks in big["tracks"] for t in tracks))
    started, cpu = time.perf_counter(), time.process_time()
    default_track_aggregator().fit(big)
    out["aggregate_tracks_s"] = round(time.perf_counter() - started, 2)
    out["aggregate_tracks_cpu_s"] = round(time.process_time() - cpu, 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer videos")
    figures = run(parser.parse_args().quick)
    width = max(len(k) for k in figures)
    for k, v in figures.items():
        print(f"{k:<{width}}  {v}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
