"""Interpolation of tracks, split and merge: the shared cases (also read by the web app's test),
hand-made answers, and invariants over generated tracks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.schema import ValueProblem
from labelloop.schema.types.video.edit import merge_tracks, split_track
from labelloop.schema.types.video.interpolate import box_at, boxes, occluded_at, spans, visible_intervals

CASES = json.loads((Path(__file__).parents[1] / "data" / "video" / "interpolation_cases.json").read_text())


def kf(frame: int, box: list[float] | None = None, outside: bool = False, occluded: bool = False) -> dict[str, Any]:
    return {"frame": frame, "box": box, "outside": outside, "occluded": occluded}


@pytest.mark.parametrize("case", CASES["cases"], ids=[c["name"] for c in CASES["cases"]])
def test_shared_cases_exactly(case: dict[str, Any]) -> None:
    keyframes, n = case["keyframes"], case["frame_count"]
    dense = boxes(keyframes, n)
    for e in case["expected"]:
        assert box_at(keyframes, e["frame"]) == e["box"]  # exact: the same bits as the fixture
        assert dense.get(e["frame"]) == e["box"]
        assert occluded_at(keyframes, e["frame"]) == e["occluded"]
    assert [f for f, _, _ in spans(keyframes, n)] == [e["frame"] for e in case["expected"] if e["box"]]
    assert [o for _, b, o in spans(keyframes, n)] == [e["occluded"] for e in case["expected"] if e["box"]]


def test_the_shared_cases_cover_the_edge_cases() -> None:
    names = " ".join(c["name"] for c in CASES["cases"])
    for edge in ("outside", "before the first", "after the last", "single keyframe", "occluded"):
        assert edge in names or edge.replace("after the last", "held after the last") in names


def test_hand_made_values() -> None:
    track = [kf(2, [0, 0, 10, 10]), kf(6, [4, 8, 14, 30]), kf(9, None, outside=True)]
    assert box_at(track, 1) is None  # before the first keyframe
    assert box_at(track, 3) == [1.0, 2.0, 11.0, 15.0]  # a quarter of the way
    assert box_at(track, 4) == [2.0, 4.0, 12.0, 20.0]
    assert box_at(track, 8) == [4.0, 8.0, 14.0, 30.0]  # held until the outside keyframe
    assert box_at(track, 9) is None and box_at(track, 100) is None
    assert visible_intervals(track) == [(2, 8)]
    assert visible_intervals([kf(0, [0, 0, 1, 1]), kf(5, [1, 1, 2, 2])]) == [(0, None)]
    assert boxes([kf(0, [0, 0, 1, 1])], 3) == {0: [0.0, 0.0, 1.0, 1.0], 1: [0.0, 0.0, 1.0, 1.0],
                                               2: [0.0, 0.0, 1.0, 1.0]}


def test_split_keeps_every_frame_and_marks_the_end_outside() -> None:
    track = {"id": "t1", "label": "car", "attributes": {"parked": "no"},
             "keyframes": [kf(0, [0, 0, 10, 10]), kf(10, [10, 0, 20, 10], occluded=True), kf(20, [20, 0, 30, 10])]}
    first, second = split_track(track, 14, "t2")
    assert first["keyframes"] == [kf(0, [0, 0, 10, 10]), kf(10, [10, 0, 20, 10], occluded=True),
                                  kf(13, [13.0, 0.0, 23.0, 10.0], occluded=True), kf(14, [14.0, 0.0, 24.0, 10.0], outside=True)]
    assert second == {"id": "t2", "label": "car", "attributes": {"parked": "no"},
                      "keyframes": [kf(14, [14.0, 0.0, 24.0, 10.0], occluded=True), kf(20, [20, 0, 30, 10])]}
    for f in range(30):
        assert (box_at(first["keyframes"], f) if f < 14 else box_at(second["keyframes"], f)) == box_at(
            track["keyframes"], f)
    with pytest.raises(ValueProblem, match="first"):
        split_track(track, 0, "t2")
    with pytest.raises(ValueProblem, match="other than"):
        split_track(track, 5, "t1")
    gone = {**track, "keyframes": [kf(0, [0, 0, 1, 1]), kf(3, None, outside=True)]}
    with pytest.raises(ValueProblem, match="no box at frame 5"):
        split_track(gone, 5, "t2")


def test_merge_joins_disjoint_tracks_and_refuses_overlap() -> None:
    a = {"id": "a", "label": "car", "keyframes": [kf(0, [0, 0, 4, 4]), kf(2, [2, 0, 6, 4]), kf(6, None, outside=True)]}
    b = {"id": "b", "label": "person", "keyframes": [kf(6, [10, 10, 20, 20]), kf(8, [12, 10, 22, 20])]}
    merged = merge_tracks(a, b)
    assert merged["id"] == "a" and merged["label"] == "car"
    # b's first box takes the frame of a's outside; a's held box gets a keyframe at frame 5.
    assert merged["keyframes"] == [kf(0, [0, 0, 4, 4]), kf(2, [2, 0, 6, 4]), kf(5, [2.0, 0.0, 6.0, 4.0]),
                                   kf(6, [10, 10, 20, 20]), kf(8, [12, 10, 22, 20])]
    for f in range(12):
        assert box_at(merged["keyframes"], f) == (box_at(a["keyframes"], f) or box_at(b["keyframes"], f))
    with pytest.raises(ValueProblem, match="both have a box at frame 6"):
        merge_tracks({**a, "keyframes": a["keyframes"][:2]}, b)  # a holds its box to the end
    # A redundant outside (the track already gone) must not cut the other track short.
    c = {"id": "c", "label": "car", "keyframes": [kf(0, [0, 0, 1, 1]), kf(1, None, outside=True),
                                                   kf(9, None, outside=True)]}
    d = {"id": "d", "label": "car", "keyframes": [kf(4, [5, 5, 6, 6])]}
    assert box_at(merge_tracks(c, d)["keyframes"], 20) == [5.0, 5.0, 6.0, 6.0]


# -- invariants over generated tracks --------------------------------------------------------
coord = st.integers(0, 1000).map(float)


@st.composite
def tracks(draw: st.DrawFn) -> list[dict[str, Any]]:
    frames = sorted(draw(st.sets(st.integers(0, 60), min_size=1, max_size=8)))
    out = []
    for i, f in enumerate(frames):
        x, y = draw(coord), draw(coord)
        outside = i > 0 and draw(st.booleans())
        out.append(kf(f, [x, y, x + draw(st.integers(1, 50)), y + draw(st.integers(1, 50))], outside,
                      draw(st.booleans())))
    return out


@settings(max_examples=200, deadline=None)
@given(tracks())
def test_boxes_agree_with_box_at_and_stay_between_their_keyframes(keyframes: list[dict[str, Any]]) -> None:
    dense = boxes(keyframes, 70)
    for f in range(70):
        b = box_at(keyframes, f)
        assert dense.get(f) == b
        if b is None:
            continue
        a = max((k for k in keyframes if k["frame"] <= f), key=lambda k: k["frame"])
        later = [k for k in keyframes if k["frame"] > f and not k["outside"]]
        nxt = later[0]["box"] if later and later[0] is keyframes[keyframes.index(a) + 1] else a["box"]
        for i in range(4):
            assert min(a["box"][i], nxt[i]) - 1e-9 <= b[i] <= max(a["box"][i], nxt[i]) + 1e-9
    visible = {f for lo, hi in visible_intervals(keyframes) for f in range(lo, 70 if hi is None else hi + 1)}
    assert visible == set(dense)


@settings(max_examples=200, deadline=None)
@given(tracks(), st.integers(0, 65))
def test_split_then_merge_gives_every_box_back(keyframes: list[dict[str, Any]], at: int) -> None:
    track = {"id": "t", "label": "car", "keyframes": keyframes}
    if box_at(keyframes, at) is None or at <= keyframes[0]["frame"]:
        with pytest.raises(ValueProblem):
            split_track(track, at, "u")
        return
    first, second = split_track(track, at, "u")
    assert not first["keyframes"][0]["outside"] and first["keyframes"][-1]["outside"]
    assert not second["keyframes"][0]["outside"]
    merged = merge_tracks(first, second)
    for f in range(70):
        # Equal to rounding: a keyframe put on the line (at - 1, at) moves the last bit of the
        # frames interpolated towards it.
        assert close(box_at(merged["keyframes"], f), box_at(keyframes, f))
        expected = box_at(first["keyframes"], f) if f < at else box_at(second["keyframes"], f)
        assert close(expected, box_at(keyframes, f))


def close(a: list[float] | None, b: list[float] | None) -> bool:
    return a == b if a is None or b is None else a == pytest.approx(b, rel=0, abs=1e-9)
