"""The effort simulation of bench/video_effort.py: the simulated annotator's keyframes are a valid
track whose interpolated boxes (the real rule) stay at IoU >= 0.7 with the truth on every frame in
view, it places no keyframe that interpolation makes needless, and a tracker only ever replaces
keyframes (a perfect one leaves one per run, a useless one changes nothing)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from labelloop.schema import VideoInfo, parse_schema

_spec = importlib.util.spec_from_file_location(
    "video_effort", Path(__file__).resolve().parents[1] / "bench" / "video_effort.py")
assert _spec is not None and _spec.loader is not None
effort = importlib.util.module_from_spec(_spec)
sys.modules["video_effort"] = effort
_spec.loader.exec_module(effort)

N = 80
QUESTION = parse_schema({"fields": [{"name": "clip", "type": "video"}], "questions": [
    {"name": "objects", "type": "video_tracks", "target": "clip", "labels": ["car"]}]}).question("objects")


@st.composite
def truths(draw: st.DrawFn) -> dict[int, list[float]]:
    """A box moving with a velocity that changes now and then, in view on one or two runs of frames."""
    first = draw(st.integers(0, 20))
    last = draw(st.integers(first, N - 1))
    gap = draw(st.one_of(st.none(), st.tuples(st.integers(first, last), st.integers(1, 10))))
    x, y = draw(st.floats(0, 200)), draw(st.floats(0, 150))
    w, h = draw(st.integers(8, 60)), draw(st.integers(8, 60))
    vx, vy = draw(st.floats(-4, 4)), draw(st.floats(-4, 4))
    turns = draw(st.sets(st.integers(first, last), max_size=4))
    out = {}
    for f in range(first, last + 1):
        if f in turns:
            vx, vy = draw(st.floats(-4, 4)), draw(st.floats(-4, 4))
        x, y = min(max(x + vx, 0.0), 500.0), min(max(y + vy, 0.0), 500.0)
        if gap is None or not gap[0] <= f < gap[0] + gap[1]:
            out[f] = [float(round(x)), float(round(y)), float(round(x) + w), float(round(y) + h)]
    return out


def noisy_tracker(truth: dict[int, list[float]], seed: int) -> Any:
    """A tracker that follows the truth with a drift growing a pixel a frame, and may lose it."""
    rng = np.random.default_rng(seed)

    def track_from(frame: int, box: list[float]) -> Iterator[list[float] | None]:
        drift = 0.0
        for f in range(frame + 1, N):
            if f not in truth or rng.random() < 0.05:
                yield None
                return
            drift += rng.uniform(0, 2)
            yield [v + drift for v in truth[f]]

    return track_from


def check_annotation(truth: dict[int, list[float]], found: Any) -> None:
    canonical = QUESTION.kind.validate(QUESTION.spec, {"tracks": [{"id": "t", "label": "car",
                                                                    "keyframes": found.keyframes}]},
                                       VideoInfo(10_000, 10_000, N))
    assert canonical["tracks"][0]["keyframes"] == found.keyframes  # sorted, unique, starts in view
    ious = effort.scored(truth, found, N)
    assert min(ious) >= effort.MIN_IOU
    boxes = effort.interpolated(found.keyframes, N)
    assert set(boxes) == set(truth)  # a box exactly where the object is in view
    people = [k for k in found.keyframes if k["outside"] or k["box"] == truth.get(k["frame"])]
    assert found.placed <= len(people)


@settings(max_examples=60, deadline=None)
@given(truths(), st.integers(0, 1000))
def test_the_annotators_keyframes_keep_every_frame_at_iou_0_7(truth: dict[int, list[float]], seed: int) -> None:
    assume(truth)  # a gap may hide the object on every frame
    plain = effort.annotate(truth, N)
    check_annotation(truth, plain)
    tracked = effort.annotate(truth, N, noisy_tracker(truth, seed))
    check_annotation(truth, tracked)
    runs = effort.runs(list(truth))
    outside = sum(1 for _, last in runs if last + 1 < N)
    # A perfect tracker leaves one keyframe per run of frames in view (and the outside ones).
    oracle = effort.annotate(truth, N, lambda f, _box: iter([truth[g] for g in range(f + 1, N) if g in truth]))
    assert oracle.placed == len(runs) + outside
    # A tracker that loses the object at once changes nothing.
    assert effort.annotate(truth, N, lambda f, box: iter([None])).keyframes == plain.keyframes


def test_straight_motion_needs_only_its_ends_and_a_still_object_one_keyframe() -> None:
    moving = {f: [2.0 * f, 10.0, 2.0 * f + 30, 40.0] for f in range(10, 60)}
    found = effort.annotate(moving, N)
    assert [k["frame"] for k in found.keyframes] == [10, 59, 60] and found.placed == 3
    still = {f: [5.0, 5.0, 25.0, 25.0] for f in range(N)}
    assert effort.annotate(still, N).placed == 1
    assert effort.scored(moving, found, N) == [1.0] * 50


def test_a_scene_truth_is_where_its_objects_were_drawn() -> None:
    scene = effort.render_scene("occluded", 40, seed=3)
    assert len(scene.frames) == 40 and scene.frames[0].shape == (effort.HEIGHT, effort.WIDTH, 3)
    for boxes in scene.truth.values():
        for box in boxes.values():
            assert 0 <= box[0] < box[2] <= effort.WIDTH and 0 <= box[1] < box[3] <= effort.HEIGHT
    # A still camera: the background outside every box and the bar is the same on every frame.
    mask = np.ones((effort.HEIGHT, effort.WIDTH), dtype=bool)
    for boxes in scene.truth.values():
        for x1, y1, x2, y2 in boxes.values():
            mask[int(y1):int(y2), int(x1):int(x2)] = False
    assert all(np.array_equal(f[mask], scene.frames[0][mask]) for f in scene.frames)


@pytest.mark.parametrize("kind", effort.KINDS)
def test_every_kind_of_scene_has_objects_in_view(kind: str) -> None:
    scene = effort.render_scene(kind, 30, seed=1)
    assert scene.truth and all(len(t) > 0 for t in scene.truth.values())
