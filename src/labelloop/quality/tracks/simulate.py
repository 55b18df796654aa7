"""A simulated crowd tracking objects in videos, with known ground truth: for tests and benchmarks.

Each task is a video of ``n_frames`` frames (``width x height``) with a Poisson number of objects
(mean ``objects``, at least one). An object is on screen for a random stretch of the video (at least a
fifth of it), moves with a random velocity and acceleration, bounces off the frame's edges, has a
log-normal height (median ``object_height`` px, log-sd 0.5) and aspect 1:2; with probability
``occlusion`` it leaves the frame for a stretch in the middle (no true box there).

Each annotator has, drawn once: a recall (P(tracks an object at all), uniform in [0.75, 0.98]), a
false-track rate (Poisson mean, gamma with mean ``false_tracks``), a localisation noise (uniform in
[0.02, 0.12] of the box's size) and a temporal sloppiness (mean frames started late / ended early,
uniform in [0, ``late``]). Like a real annotator with interpolation, their box errors are smooth: an
error drawn on keyframes every ``keyframe_every`` frames, linearly interpolated between; they show the
object on its true frames except for the late start and early end, and mark the occlusion with a gap
only with probability 0.7 (otherwise they interpolate through it); with probability ``fragment`` a
track is split in two at a random frame (two ids: an identity switch). One annotator in ``spammers``
(a share) draws boxes that follow the object loosely (noise 0.35) and misses a third of the objects.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _truth_track(rng: np.random.Generator, n_frames: int, width: float, height: float,
                 object_height: float, occlusion: float) -> dict[int, list[float]]:
    length = int(rng.integers(max(2, n_frames // 5), n_frames + 1))
    start = int(rng.integers(0, n_frames - length + 1))
    h = float(np.clip(np.exp(rng.normal(np.log(object_height), 0.5)), 16, height * 0.6))
    w = h / 2
    x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
    vx, vy = rng.normal(0, 4, 2)
    ax, ay = rng.normal(0, 0.08, 2)
    boxes = {}
    for f in range(start, start + length):
        boxes[f] = [x, y, x + w, y + h]
        vx, vy = vx + ax, vy + ay
        x, y = x + vx, y + vy
        if not 0 <= x <= width - w:
            vx, ax = -vx, -ax
            x = float(np.clip(x, 0, width - w))
        if not 0 <= y <= height - h:
            vy, ay = -vy, -ay
            y = float(np.clip(y, 0, height - h))
    if length >= 20 and rng.random() < occlusion:
        gap = int(rng.integers(3, max(4, length // 4)))
        at = start + int(rng.integers(length // 4, length - length // 4 - gap + 1))
        for f in range(at, at + gap):
            boxes.pop(f, None)
    return {f: [float(c) for c in b] for f, b in boxes.items()}


def _smooth_noise(rng: np.random.Generator, frames: np.ndarray, every: int, sd: float) -> np.ndarray:
    """Noise drawn on keyframes every *every* frames and interpolated between: shape (len(frames), 4)."""
    lo, hi = int(frames.min()), int(frames.max())
    keys = np.arange(lo, hi + every, every)
    values = rng.normal(0, sd, (len(keys), 4))
    return np.stack([np.interp(frames, keys, values[:, j]) for j in range(4)], axis=1)


def _annotate(rng: np.random.Generator, truth: dict[int, list[float]], *, noise: float, late: float,
              every: int, fragment: float) -> list[dict[int, list[float]]]:
    frames = np.array(sorted(truth))
    first, last = int(frames[0]), int(frames[-1])
    begin = first + int(rng.poisson(late))
    end = last - int(rng.poisson(late))
    if rng.random() < 0.3:  # interpolates through the occlusion instead of marking it
        span = np.arange(first, last + 1)
        known = np.array([truth[f] for f in frames])
        filled = {int(f): [float(np.interp(f, frames, known[:, j])) for j in range(4)] for f in span}
        truth = filled
    keep = np.array([f for f in sorted(truth) if begin <= f <= end])
    if len(keep) == 0:
        keep = frames[:1]
    true = np.array([truth[int(f)] for f in keep])
    w, h = true[:, 2] - true[:, 0], true[:, 3] - true[:, 1]
    size = np.stack([w, h, w, h], axis=1)
    boxes = true + _smooth_noise(rng, keep, every, noise) * size
    boxes[:, [0, 2]] = np.sort(boxes[:, [0, 2]], axis=1)
    boxes[:, [1, 3]] = np.sort(boxes[:, [1, 3]], axis=1)
    track = {int(f): [round(float(c), 2) for c in b] for f, b in zip(keep, boxes, strict=True)}
    if len(track) >= 10 and rng.random() < fragment:
        cut = int(keep[int(rng.integers(len(keep) // 4, 3 * len(keep) // 4))])
        return [{f: b for f, b in track.items() if f < cut}, {f: b for f, b in track.items() if f >= cut}]
    return [track]


def simulate_track_crowd(
    *, n_tasks: int, n_workers: int = 12, per_task: int = 5, n_frames: int = 120, objects: float = 3.0,
    width: float = 1280.0, height: float = 720.0, object_height: float = 120.0, occlusion: float = 0.3,
    false_tracks: float = 0.3, late: float = 3.0, keyframe_every: int = 10, fragment: float = 0.1,
    spammers: float = 0.1, seed: int = 0,
) -> tuple[pd.DataFrame, pd.Series]:
    """Answers (``task, worker, tracks``) and the true tracks (Series task -> list of tracks)."""
    if per_task > n_workers:
        raise ValueError("per_task cannot exceed n_workers")
    rng = np.random.default_rng(seed)
    recall = rng.uniform(0.75, 0.98, n_workers)
    false_rate = rng.gamma(1.0, false_tracks, n_workers)
    noise = rng.uniform(0.02, 0.12, n_workers)
    sloppiness = rng.uniform(0.0, late, n_workers)
    spam = rng.random(n_workers) < spammers
    noise[spam], recall[spam] = 0.35, 0.66
    rows: list[dict[str, Any]] = []
    truth: list[list[dict[str, Any]]] = []
    for task in range(n_tasks):
        n_obj = max(1, int(rng.poisson(objects)))
        objs = [_truth_track(rng, n_frames, width, height, object_height, occlusion) for _ in range(n_obj)]
        truth.append([{"id": f"o{k}", "boxes": b} for k, b in enumerate(objs)])
        for w in rng.permutation(n_workers)[:per_task]:
            tracks: list[dict[int, list[float]]] = []
            for obj in objs:
                if rng.random() < recall[w]:
                    tracks.extend(_annotate(rng, obj, noise=float(noise[w]), late=float(sloppiness[w]),
                                            every=keyframe_every, fragment=fragment))
            for _ in range(int(rng.poisson(false_rate[w]))):
                fake = _truth_track(rng, max(10, n_frames // 4), width, height, object_height * 0.5, 0.0)
                shift = int(rng.integers(0, n_frames - max(10, n_frames // 4) + 1))
                tracks.append({f + shift: b for f, b in fake.items()})
            rows.append({"task": task, "worker": f"w{w}",
                         "tracks": [{"id": f"{w}-{k}", "boxes": b} for k, b in enumerate(tracks)]})
    index = pd.RangeIndex(n_tasks, name="task")
    return pd.DataFrame(rows), pd.Series(truth, index=index, name="tracks", dtype=object)
