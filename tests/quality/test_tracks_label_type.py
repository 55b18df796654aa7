"""The `video_tracks` label type's consensus, agreement and gold hooks on the quality of tracks
(schema/types/video/track_consensus.py): hand-made answers with known results."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.schema import parse_schema
from labelloop.schema.types.video import track_consensus

SCHEMA = parse_schema({
    "fields": [{"name": "clip", "type": "video"}],
    "questions": [{"name": "objects", "type": "video_tracks", "target": "clip", "labels": ["car", "person"],
                   "attributes": [{"name": "parked", "type": "choice", "options": ["no", "yes"], "required": False}]}],
})
QUESTION = SCHEMA.questions[0].spec


def kf(frame: int, box: list[float] | None, outside: bool = False) -> dict[str, Any]:
    return {"frame": frame, "box": box, "outside": outside, "occluded": False}


def track(tid: str, label: str, keyframes: list[dict[str, Any]], **attributes: str) -> dict[str, Any]:
    return {"id": tid, "label": label, "attributes": attributes, "keyframes": keyframes}


CAR = track("c", "car", [kf(0, [0, 0, 40, 20]), kf(10, [20, 0, 60, 20]), kf(15, None, outside=True)], parked="no")
PERSON = track("p", "person", [kf(0, [100, 0, 120, 60]), kf(20, [100, 20, 120, 80])])
STRAY = track("s", "car", [kf(3, [300, 300, 340, 320]), kf(6, [310, 300, 350, 320])])


def answer(*tracks: dict[str, Any], shapes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"tracks": list(tracks), "shapes": shapes or []}


def test_identical_answers_give_back_their_keyframes() -> None:
    agg = track_consensus.aggregate(QUESTION, [answer(CAR, PERSON)] * 3)
    assert agg.confidence == 1.0
    tracks = agg.value["tracks"]
    assert [(t["id"], t["label"]) for t in tracks] == [("t1", "car"), ("t2", "person")]
    assert tracks[0]["attributes"] == {"parked": "no"}
    car_frames = [(k["frame"], k["outside"]) for k in tracks[0]["keyframes"]]
    assert car_frames == [(0, False), (10, False), (14, False), (15, True)]
    assert [k["box"] for k in tracks[0]["keyframes"][:2]] == [[0, 0, 40, 20], [20, 0, 60, 20]]
    assert [k["frame"] for k in tracks[1]["keyframes"]] == [0, 20]


def test_a_track_one_of_three_drew_is_dropped_unless_they_carry_the_weight() -> None:
    values = [answer(CAR, PERSON), answer(CAR, PERSON), answer(CAR, PERSON, STRAY)]
    agg = track_consensus.aggregate(QUESTION, values)
    assert len(agg.value["tracks"]) == 2
    assert agg.confidence == pytest.approx((1 + 1 + 2 / 3) / 3)
    heavy = track_consensus.aggregate(QUESTION, values, [0.1, 0.1, 1.0])
    assert len(heavy.value["tracks"]) == 3


def test_per_frame_shapes_fuse_as_shapes() -> None:
    shape = {"frame": 4, "label": "person", "box": [5, 5, 25, 45]}
    agg = track_consensus.aggregate(QUESTION, [answer(shapes=[shape]), answer(shapes=[shape])])
    assert agg.value == {"tracks": [], "shapes": [shape]}


def test_agreement_and_gold_are_idf1() -> None:
    assert track_consensus.score(answer(CAR, PERSON), answer(CAR, PERSON)) == 1.0
    # The car shows on frames 0-14 (15 boxes), the person on 0-20 (21): missing the car leaves 21 of 36.
    assert track_consensus.score(answer(PERSON), answer(CAR, PERSON)) == pytest.approx(2 * 21 / 57)
    assert track_consensus.agreement(QUESTION, [[answer(CAR, PERSON), answer(PERSON)], [answer(CAR)]]) == \
        pytest.approx(2 * 21 / 57)
    assert track_consensus.matches(QUESTION, answer(CAR, PERSON), answer(CAR, PERSON))
    assert not track_consensus.matches(QUESTION, answer(PERSON), answer(CAR, PERSON))
    assert track_consensus.matches(QUESTION, answer(PERSON), answer(CAR, PERSON), min_idf1=0.5)
    relabelled = answer(CAR | {"label": "person"}, PERSON)
    assert track_consensus.score(relabelled, answer(CAR, PERSON)) == pytest.approx(2 * 21 / 72)
    scores = track_consensus.scores(answer(CAR, PERSON), answer(CAR, PERSON))
    assert scores["mota"] == 1.0 and scores["hota"] == pytest.approx(1.0)


def test_nothing_agrees_with_nothing() -> None:
    empty = answer()
    assert track_consensus.aggregate(QUESTION, [empty, empty]).value == empty
    assert track_consensus.score(empty, empty) == 1.0


@st.composite
def answers(draw: st.DrawFn) -> dict[str, Any]:
    """A valid answer: tracks on keyframes (sorted, unique frames; some ending `outside`)."""
    tracks = []
    for k in range(draw(st.integers(0, 4))):
        frames = sorted(draw(st.sets(st.integers(0, 30), min_size=1, max_size=5)))
        keyframes = []
        x, y = draw(st.integers(0, 3)) * 150, draw(st.integers(0, 3)) * 150
        for f in frames:
            dx, dy = draw(st.integers(0, 20)), draw(st.integers(0, 20))
            keyframes.append(kf(f, [x + dx, y + dy, x + dx + 40, y + dy + 30]))
        if draw(st.booleans()):
            keyframes.append(kf(frames[-1] + 1, None, outside=True))
        tracks.append(track(f"k{k}", draw(st.sampled_from(["car", "person"])), keyframes))
    return answer(*tracks)


@settings(max_examples=40, deadline=None)
@given(answers(), st.integers(2, 4))
def test_identical_answers_fuse_to_the_same_boxes(value: dict[str, Any], n: int) -> None:
    agg = track_consensus.aggregate(QUESTION, [value] * n)
    end = track_consensus.horizon([value])
    got = track_consensus.objects_of(agg.value, end)
    want = track_consensus.objects_of(value, end)
    assert agg.confidence == 1.0
    assert sorted((o.label, sorted(o.frames)) for o in got) == sorted((o.label, sorted(o.frames)) for o in want)
    for o in want:
        twin = next(g for g in got if g.label == o.label and g.frames.keys() == o.frames.keys()
                    and all(g.frames[f] == pytest.approx(o.frames[f]) for f in o.frames))
        assert twin is not None
