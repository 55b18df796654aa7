"""The video label types: `video_tracks` and `video_segments` answers come back canonical, every
invalid one is refused with the path of the track, keyframe or event and the field (video 640 x 480,
100 frames), and events settle on a consensus and an agreement with known answers."""

from __future__ import annotations

from typing import Any

import pytest

from labelloop.errors import Invalid
from labelloop.schema import ValueProblem, VideoInfo, parse_schema

SCHEMA = parse_schema({
    "fields": [{"name": "clip", "type": "video"}],
    "questions": [
        {"name": "objects", "type": "video_tracks", "target": "clip", "labels": ["car", "person"],
         "attributes": [{"name": "parked", "type": "choice", "options": ["no", "yes"], "required": False}],
         "max_objects": 3, "max_keyframes": 4, "max_shapes": 2},
        {"name": "events", "type": "video_segments", "target": "clip", "labels": ["walk", "run"],
         "max_segments": 3},
    ],
})
VIDEO = VideoInfo(640, 480, 100)


def check(question: str, value: Any, video: VideoInfo | None = VIDEO) -> Any:
    q = SCHEMA.question(question)
    return q.kind.validate(q.spec, value, video)


def kf(frame: Any, box: Any = (10, 10, 50, 50), **flags: Any) -> dict[str, Any]:
    return {"frame": frame, "box": None if box is None else list(box), **flags}


def track(*keyframes: dict[str, Any], tid: str = "t1", label: str = "car", **extra: Any) -> dict[str, Any]:
    return {"id": tid, "label": label, "keyframes": list(keyframes), **extra}


def test_valid_tracks_come_back_canonical() -> None:
    value = {"tracks": [track(kf(40, None, outside=True), kf(0, (0, 0.5, 640, 480)), kf(20, occluded=True),
                              attributes={"parked": "yes"})],
             "shapes": [{"frame": 99, "label": "person", "box": [1, 2, 3, 4]}]}
    assert check("objects", value) == {
        "tracks": [{"id": "t1", "label": "car", "attributes": {"parked": "yes"}, "keyframes": [
            {"frame": 0, "box": [0, 0.5, 640, 480], "outside": False, "occluded": False},
            {"frame": 20, "box": [10, 10, 50, 50], "outside": False, "occluded": True},
            {"frame": 40, "box": None, "outside": True, "occluded": False}]}],
        "shapes": [{"frame": 99, "label": "person", "box": [1, 2, 3, 4]}]}
    assert check("objects", {}) == {"tracks": [], "shapes": []}
    canonical = check("objects", value)
    assert check("objects", canonical) == canonical
    # A video given by URL was never probed: frames are only checked to be whole and >= 0.
    assert check("objects", {"tracks": [track(kf(10**6))]}, None)["tracks"][0]["keyframes"][0]["frame"] == 10**6


@pytest.mark.parametrize(("value", "path", "message"), [
    ([], "", "a video_tracks answer is an object with tracks, shapes, got array"),
    ({"tracks": [], "boxes": []}, "", "unknown key 'boxes'; a video_tracks answer has tracks, shapes"),
    ({"tracks": {}}, ".tracks", "expected a list of tracks, got object"),
    ({"tracks": [track(kf(0), tid=f"t{i}") for i in range(4)]}, ".tracks", "at most 3 tracks, got 4"),
    ({"shapes": [{"frame": 0, "label": "car", "box": [1, 1, 2, 2]}] * 3}, ".shapes",
     "at most 2 per-frame shapes, got 3"),
    ({"tracks": [track(kf(0)), track(kf(1))]}, ".tracks[1].id", "id 't1' is already the id of track [0]"),
    ({"tracks": [{"label": "car", "keyframes": [kf(0)]}]}, ".tracks[0].id", "missing 'id'"),
    ({"tracks": [track(kf(0), tid="")]}, ".tracks[0].id", "a track id is a string of 1 to 64 characters"),
    ({"tracks": [track(kf(0), label="bus")]}, ".tracks[0].label", "'bus' is not a label (labels: car, person)"),
    ({"tracks": [track(kf(0), colour="red")]}, ".tracks[0]",
     "unknown key 'colour'; a track has id, label, attributes, keyframes"),
    ({"tracks": [track()]}, ".tracks[0].keyframes", "a track needs a list of at least one keyframe"),
    ({"tracks": [track(*(kf(i) for i in range(5)))]}, ".tracks[0].keyframes", "at most 4 keyframes, got 5"),
    ({"tracks": [track(kf(0), kf(100))]}, ".tracks[0].keyframes[1].frame",
     "frame 100 is past the last frame of the video (100 frames: 0 to 99)"),
    ({"tracks": [track(kf(-1))]}, ".tracks[0].keyframes[0].frame", "frame -1 is before the first frame (0)"),
    ({"tracks": [track(kf(1.5))]}, ".tracks[0].keyframes[0].frame", "a frame number is a whole number, got number"),
    ({"tracks": [track(kf(True))]}, ".tracks[0].keyframes[0].frame", "a frame number is a whole number, got boolean"),
    ({"tracks": [track(kf(3), kf(5), kf(3))]}, ".tracks[0].keyframes[2].frame", "frame 3 already has keyframe [0]"),
    ({"tracks": [track(kf(0, None, outside=True), kf(4))]}, ".tracks[0].keyframes[0].outside",
     "the first keyframe (frame 0) is outside: a track starts where its object is seen"),
    ({"tracks": [track(kf(0, None))]}, ".tracks[0].keyframes[0].box",
     "missing 'box' (only an outside keyframe may go without one)"),
    ({"tracks": [track(kf(0), kf(2, outside="yes"))]}, ".tracks[0].keyframes[1].outside",
     "expected true or false, got string"),
    ({"tracks": [track(kf(0, (1, 2, 3)))]}, ".tracks[0].keyframes[0].box", "expected [x1, y1, x2, y2], got array"),
    ({"tracks": [track(kf(0, (1, 2, 641, 4)))]}, ".tracks[0].keyframes[0].box",
     "x2 = 641 is outside the frame (0 to 640)"),
    ({"tracks": [track(kf(0, (5, 2, 5, 4)))]}, ".tracks[0].keyframes[0].box", "x2 = 5 must be larger than x1 = 5"),
    ({"tracks": [track(kf(0, (1, 2, 3, float("nan"))))]}, ".tracks[0].keyframes[0].box[3]", "must be a finite number"),
    ({"tracks": [track(kf(0), attributes={"parked": "maybe"})]}, ".tracks[0].attributes.parked", None),
    ({"tracks": [{**track(kf(0)), "keyframes": [{"frame": 0, "box": [1, 1, 2, 2], "hidden": True}]}]},
     ".tracks[0].keyframes[0]", "unknown key 'hidden'; a keyframe has frame, box, outside, occluded"),
    ({"shapes": [{"frame": 100, "label": "car", "box": [1, 1, 2, 2]}]}, ".shapes[0].frame",
     "frame 100 is past the last frame of the video (100 frames: 0 to 99)"),
    ({"shapes": [{"frame": 1, "label": "car"}]}, ".shapes[0].box", "missing 'box'"),
    ({"shapes": [{"frame": 1, "label": "car", "box": [1, 1, 2, 481]}]}, ".shapes[0].box",
     "y2 = 481 is outside the frame (0 to 480)"),
])
def test_invalid_tracks_are_refused_naming_the_place(value: Any, path: str, message: str | None) -> None:
    with pytest.raises(ValueProblem) as e:
        check("objects", value)
    assert e.value.path == path
    if message is not None:
        assert e.value.message == message


def test_the_schema_names_the_question_and_refuses_a_target_that_is_no_video() -> None:
    with pytest.raises(ValueProblem) as e:
        check("objects", {"tracks": [track(kf(0, (1, 1, 700, 2)))]})
    assert "objects" + e.value.path == "objects.tracks[0].keyframes[0].box"
    with pytest.raises(Invalid):
        parse_schema({"fields": [{"name": "photo", "type": "image"}],
                      "questions": [{"name": "o", "type": "video_tracks", "target": "photo", "labels": ["car"]}]})
    with pytest.raises(Invalid):
        parse_schema({"fields": [{"name": "clip", "type": "video"}],
                      "questions": [{"name": "o", "type": "video_segments", "labels": ["walk"]}]})


# -- events ----------------------------------------------------------------------------------
def test_valid_events_come_back_sorted() -> None:
    assert check("events", [{"label": "run", "start": 50, "end": 99}, {"label": "walk", "start": 10, "end": 10}]) == [
        {"label": "walk", "start": 10, "end": 10}, {"label": "run", "start": 50, "end": 99}]
    assert check("events", []) == []


@pytest.mark.parametrize(("value", "path", "message"), [
    ({}, "", "expected a list of events, got object"),
    ([{"label": "walk", "start": 0, "end": 1}] * 4, "", "at most 3 events, got 4"),
    (["walk"], "[0]", 'an event is {"label": ..., "start": frame, "end": frame}, got string'),
    ([{"label": "walk", "start": 0}], "[0].end", "missing 'end'"),
    ([{"label": "swim", "start": 0, "end": 1}], "[0].label", "'swim' is not a label (labels: walk, run)"),
    ([{"label": "walk", "start": 0, "end": 100}], "[0].end",
     "frame 100 is past the last frame of the video (100 frames: 0 to 99)"),
    ([{"label": "walk", "start": 9, "end": 8}], "[0].end",
     "end = 8 is before start = 9 (frames are inclusive: a one-frame event has end = start)"),
    ([{"label": "walk", "start": 0.5, "end": 8}], "[0].start", "a frame number is a whole number, got number"),
    ([{"label": "walk", "start": 0, "end": 8, "speed": 2}], "[0]",
     "unknown key 'speed'; an event has label, start, end, attributes"),
])
def test_invalid_events_are_refused_naming_the_place(value: Any, path: str, message: str) -> None:
    with pytest.raises(ValueProblem) as e:
        check("events", value)
    assert (e.value.path, e.value.message) == (path, message)


def test_events_consensus_and_agreement_with_known_answers() -> None:
    q = SCHEMA.question("events")
    a = [{"label": "walk", "start": 10, "end": 49}, {"label": "run", "start": 80, "end": 89}]
    b = [{"label": "walk", "start": 12, "end": 51}]
    c = [{"label": "walk", "start": 10, "end": 51}, {"label": "run", "start": 95, "end": 99}]
    found = q.kind.aggregate(q.spec, [a, b, c])
    # walk: all three (medians 10 and 51); run: a's and c's do not overlap, each alone is a minority.
    assert found.value == [{"label": "walk", "start": 10, "end": 51}]
    assert found.confidence == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    weighted = q.kind.aggregate(q.spec, [a, b, c], [3.0, 1.0, 1.0])
    assert weighted.value == [{"label": "walk", "start": 10, "end": 49}, {"label": "run", "start": 80, "end": 89}]
    # a-b: walk IoU 38/42 matched, run unmatched: F1 = 2/3. Identical answers agree fully.
    assert q.kind.agreement(q.spec, [[a, b]]) == pytest.approx(2 / 3)
    assert q.kind.agreement(q.spec, [[a, a], [[], []]]) == 1.0
    assert q.kind.aggregate(q.spec, [[], []]).value == []


def test_tracks_consensus_keeps_what_most_annotators_drew() -> None:
    q = SCHEMA.question("objects")
    one = check("objects", {"tracks": [track(kf(0, (0, 0, 40, 40)), kf(10, (100, 0, 140, 40)))]})
    two = check("objects", {"tracks": [track(kf(0, (2, 0, 42, 40)), kf(10, (102, 0, 142, 40)), tid="x")]})
    lone = check("objects", {"tracks": [track(kf(0, (300, 300, 340, 340)), tid="y", label="person")]})
    found = q.kind.aggregate(q.spec, [one, two, lone])
    assert [t["label"] for t in found.value["tracks"]] == ["car"]
    assert found.value["tracks"][0]["keyframes"][0]["box"] == pytest.approx([1, 0, 41, 40])
    assert q.kind.agreement(q.spec, [[one, one]]) == pytest.approx(1.0)
    assert q.kind.agreement(q.spec, [[one, lone]]) == pytest.approx(0.0)
    assert q.kind.matches_gold(q.spec, two, one) and not q.kind.matches_gold(q.spec, lone, one)
    assert q.kind.export_cell(q.spec, {"tracks": [], "shapes": []}) == '{"tracks":[],"shapes":[]}'
