"""`occluded` survives the consensus of tracks (schema/types/video/track_consensus.py): on each frame of
a fused track it is the weighted vote of the members showing that frame, and the written keyframes
carry it. Hand-made answers with known votes, and a property: keyframes written from any boxes and
any occluded frames interpolate back to both."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.schema import parse_schema
from labelloop.schema.types.video import track_consensus
from labelloop.schema.types.video.interpolate import boxes, occluded_at
from labelloop.schema.types.video.track_consensus import FrameObject, keyframes_of, occluded_frames

QUESTION = parse_schema({
    "fields": [{"name": "clip", "type": "video"}],
    "questions": [{"name": "objects", "type": "video_tracks", "target": "clip", "labels": ["car"]}],
}).questions[0].spec


def kf(frame: int, x: float, occluded: bool = False) -> dict[str, Any]:
    return {"frame": frame, "box": [x, 0.0, x + 40, 20.0], "outside": False, "occluded": occluded}


def car(hidden: tuple[int, int] | None) -> dict[str, Any]:
    """A car moving right 2 px a frame over frames 0-19, occluded on frames [a, b) when given."""
    keyframes = [kf(0, 0.0), kf(19, 38.0)]
    if hidden is not None:
        a, b = hidden
        keyframes = [kf(0, 0.0), kf(a, 2.0 * a, True), kf(b, 2.0 * b), kf(19, 38.0)]
    return {"tracks": [{"id": "c", "label": "car", "attributes": {}, "keyframes": keyframes}], "shapes": []}


def hidden_frames(value: Any) -> list[int]:
    (t,) = value["tracks"]
    return [f for f in range(20) if occluded_at(t["keyframes"], f)]


def test_the_majority_of_the_weight_decides_each_frame() -> None:
    answers = [car((5, 10)), car((5, 10)), car(None)]
    fused = track_consensus.aggregate(QUESTION, answers, [1.0, 1.0, 1.0]).value
    assert hidden_frames(fused) == [5, 6, 7, 8, 9]
    # The keyframes mark exactly where the flag changes, on the straight line.
    assert [(k["frame"], k["occluded"]) for k in fused["tracks"][0]["keyframes"]] == [
        (0, False), (5, True), (10, False), (19, False)]
    # The one who saw it unoccluded weighs more than the two others together: visible throughout.
    assert hidden_frames(track_consensus.aggregate(QUESTION, answers, [0.2, 0.2, 1.0]).value) == []
    # Overlapping spans: frames 7-9 have two of three votes, 5-6 and 10-11 one.
    mixed = [car((5, 10)), car((7, 12)), car(None)]
    assert hidden_frames(track_consensus.aggregate(QUESTION, mixed, None).value) == [7, 8, 9]


def test_a_tie_or_a_frame_nobody_shows_stays_visible() -> None:
    assert hidden_frames(track_consensus.aggregate(QUESTION, [car((5, 10)), car(None)], [1.0, 1.0]).value) == []
    a = FrameObject("track", "car", {}, {0: [0, 0, 1, 1], 1: [0, 0, 1, 1]}, frozenset({0, 1}))
    b = FrameObject("track", "car", {}, {1: [0, 0, 1, 1]}, frozenset())
    # Frame 0: only a shows it (occluded); frame 1: a tie; frame 2: nobody.
    assert occluded_frames([0, 1, 2], [a, b], [1.0, 1.0]) == {0}
    assert occluded_frames([0, 1], [a, b], [1.0, 3.0]) == {0}
    assert occluded_frames([0, 1], [a, b], [0.0, 0.0]) == set()


def test_objects_read_occluded_from_their_keyframes() -> None:
    (obj,) = track_consensus.objects_of(car((3, 6)), 20)
    assert obj.occluded == frozenset({3, 4, 5}) and sorted(obj.frames) == list(range(20))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-3, 3), st.booleans()), min_size=1, max_size=30),
       st.integers(0, 5), st.integers(0, 4))
def test_written_keyframes_give_back_every_box_and_flag(steps: list[tuple[int, bool]], start: int, tail: int) -> None:
    frames: dict[int, list[float]] = {}
    hidden: set[int] = set()
    x = 100.0
    for k, (dx, occ) in enumerate(steps):
        x += dx
        frames[start + k] = [x, 10.0, x + 30, 50.0]
        if occ:
            hidden.add(start + k)
    end = start + len(steps) + tail
    written = keyframes_of(frames, end, hidden)
    back = boxes(written, end)
    assert sorted(back) == sorted(frames)
    assert all(abs(u - v) <= 1e-6 for f in frames for u, v in zip(back[f], frames[f], strict=True))
    assert {f for f in frames if occluded_at(written, f)} == hidden
