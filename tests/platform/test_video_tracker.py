"""The video tracker: POST .../items/{item}/track follows a box drawn on one frame over the next
frames of the stored video (OpenCV built in, or a team's tracker over HTTP), for the annotator
holding the item (reviewers and up: any item); requests that do not fit the video are refused by
name; frames are decoded at their true number (seeks, B-frames, variable rate, rotation)."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from PIL import Image

from labelloop.services.video import testcard
from labelloop.services.video.tracker import frames_from, run_tracker
from labelloop.services.video.trackers import OpenCVTracker, opencv_kinds
from tests.platform.pictures import zipped
from tests.platform.stub_http import JsonHandler, serving
from tests.platform.world import User, World

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "clip", "type": "video"}, {"name": "note", "type": "text", "required": False}],
    "questions": [{"name": "objects", "type": "video_tracks", "target": "clip", "labels": ["car"]},
                  {"name": "events", "type": "video_segments", "target": "clip", "labels": ["turn"],
                   "required": False}],
}
W, H, N = 240, 180, 40
SIZE = 36
VANISH = 30  # from this frame on, the square is gone (painted over by the background)


def square_at(f: int) -> list[float]:
    """The true box of the moving square on frame f: right and down, speeding up."""
    x, y = 20 + 3 * f + f * f // 20, 40 + f
    return [float(x), float(y), float(x + SIZE), float(y + SIZE)]


def moving_square(path: Path) -> None:
    """A textured square moving over a textured background, H.264 through PyAV."""
    import av

    rng = np.random.default_rng(7)
    background = rng.integers(0, 256, (H // 6 + 1, W // 6 + 1, 3)).repeat(6, 0).repeat(6, 1)[:H, :W]
    texture = rng.integers(0, 256, (SIZE // 4, SIZE // 4, 3)).repeat(4, 0).repeat(4, 1)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.options = {"crf": "18", "bf": "2", "g": "12"}
        for f in range(N):
            img = background.copy()
            if f < VANISH:
                x1, y1, x2, y2 = (int(v) for v in square_at(f))
                img[y1:y2, x1:x2] = texture
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img.astype(np.uint8), format="rgb24")))
        out.mux(stream.encode())


def iou(a: list[float], b: list[float]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return w * h / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("tracker") / "square.mp4"
    moving_square(path)
    return path.read_bytes()


def setup(world: World, video: bytes, **loop: Any) -> tuple[User, User, int, int]:
    owner, ann = world.user("owner"), world.user("ann")
    pid = world.project(owner, schema=SCHEMA, members={"annotator": (ann,)})
    if loop:
        r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": loop})
        assert r.status_code == 200, r.text
    r = world.upload(owner, pid, zipped({"square.mp4": video}), "clips.zip")
    assert r.status_code == 201, r.text
    item = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()[0]["id"]
    return owner, ann, pid, item


def track(world: World, user: User, pid: int, item: int, **body: Any) -> Any:
    return world.client.post(f"/api/projects/{pid}/items/{item}/track", json=body, headers=user.headers)


def test_the_tracker_follows_the_square_until_it_is_gone(world: World, video: bytes) -> None:
    owner, _, pid, item = setup(world, video)
    r = track(world, owner, pid, item, frame=4, box=square_at(4), frames=20)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["tracker"].startswith("opencv-") and got["stopped"] == "limit"
    assert [b["frame"] for b in got["boxes"]] == list(range(5, 25))
    worst = min(iou(b["box"], square_at(b["frame"])) for b in got["boxes"])
    assert worst >= 0.8, worst
    # From frame 20 on, the square vanishes at frame 30: the tracker says it lost it there.
    r = track(world, owner, pid, item, frame=20, box=square_at(20), frames=15)
    got = r.json()
    assert got["stopped"] == "lost" and [b["frame"] for b in got["boxes"]] == list(range(21, VANISH))
    # Near the end of the video, the run stops with it.
    r = track(world, owner, pid, item, frame=N - 3, box=[10, 10, 40, 40], frames=10)
    assert r.json()["stopped"] in ("end", "lost") and len(r.json()["boxes"]) <= 2


def test_who_may_ask_for_a_track(world: World, video: bytes) -> None:
    owner, ann, pid, item = setup(world, video, tracker="http://127.0.0.1:9")  # never reached
    outsider, reviewer = world.user("outsider"), world.user("rev")
    world.client.post(f"/api/projects/{pid}/members", json={"username": "rev", "role": "reviewer"},
                      headers=owner.headers)
    body = {"frame": 0, "box": [10, 10, 20, 20]}
    assert track(world, outsider, pid, item, **body).status_code == 404
    r = track(world, ann, pid, item, **body)
    assert r.status_code == 409 and "not handed to you" in r.json()["error"]["message"]
    assert track(world, ann, pid, 10**6, **body).status_code == 404
    assert world.next(ann, pid).json()["item_id"] == item
    r = track(world, ann, pid, item, **body)  # holding it: the (unreachable) tracker is asked
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "loop.tracker"
    assert track(world, reviewer, pid, item, **body).status_code == 422
    world.client.put(f"/api/projects/{pid}/annotators/{ann.id}/pause", json={"paused": True},
                     headers=owner.headers)
    assert track(world, ann, pid, item, **body).status_code == 403
    r = world.client.post(f"/api/projects/{pid}/items/{item}/track", json=body)
    assert r.status_code == 401


@pytest.mark.parametrize(("body", "field"), [
    ({"frame": N, "box": [1, 1, 5, 5]}, "frame"),
    ({"frame": 0, "box": [1, 1, W + 1, 5]}, "box"),
    ({"frame": 0, "box": [9, 1, 5, 5]}, "box"),
    ({"frame": 0, "box": [1, 1, 5, 5], "field": "note"}, "field"),
])
def test_a_request_that_does_not_fit_the_video_is_refused_by_name(
        world: World, video: bytes, body: dict[str, Any], field: str) -> None:
    owner, _, pid, item = setup(world, video)
    r = track(world, owner, pid, item, **body)
    assert r.status_code == 422, r.text
    assert [p["field"] for p in r.json()["error"]["problems"]] == [field]


def test_the_schema_refuses_malformed_requests(world: World, video: bytes) -> None:
    owner, _, pid, item = setup(world, video)
    for body in ({"frame": 0, "box": [1, 2, 3]}, {"frame": -1, "box": [1, 1, 5, 5]},
                 {"frame": 0, "box": [1, 1, 5, 5], "frames": 301}, {"frame": 0, "box": [1, 1, 5, 5], "frames": 0},
                 {"box": [1, 1, 5, 5]}, {"frame": 0, "box": [1, 1, 5, 5], "colour": "red"}):
        assert track(world, owner, pid, item, **body).status_code == 422, body


def test_a_video_given_by_url_is_never_fetched(world: World) -> None:
    owner = world.user("owner")
    pid = world.project(owner, schema=SCHEMA)
    world.import_records(owner, pid, [{"id": "u", "clip": "https://example.com/a.mp4"}])
    item = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()[0]["id"]
    r = track(world, owner, pid, item, frame=0, box=[1, 1, 5, 5])
    assert r.status_code == 422 and "never fetched" in r.json()["error"]["problems"][0]["message"]


class Tracker(JsonHandler):
    """A team's tracker: moves the box 2 px right a frame, and loses it after `keep` frames."""

    seen: ClassVar[list[dict[str, Any]]] = []
    keep: ClassVar[int] = 100
    answer: ClassVar[Any] = None  # answer this instead

    def do_POST(self) -> None:
        body = self.read_json()
        Tracker.seen.append(body)
        x1, y1, x2, y2 = body["box"]
        boxes = [[x1 + 2 * k, y1, x2 + 2 * k, y2] for k in range(1, len(body["frames"]))]
        self.reply_json(Tracker.answer if Tracker.answer is not None else {"boxes": boxes[:Tracker.keep]})


@pytest.fixture
def tracker_url() -> Iterator[str]:
    Tracker.seen.clear()
    Tracker.keep = 100
    Tracker.answer = None
    with serving(Tracker) as url:
        yield url


def test_a_teams_tracker_gets_the_frames_as_displayed(world: World, video: bytes, tracker_url: str) -> None:
    owner, _, pid, item = setup(world, video, tracker=tracker_url)
    r = track(world, owner, pid, item, frame=3, box=[10, 20, 30, 40], frames=5)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["tracker"] == f"http:{tracker_url}" and got["stopped"] == "limit"
    assert got["boxes"] == [{"frame": 3 + k, "box": [10 + 2 * k, 20, 30 + 2 * k, 40]} for k in range(1, 6)]
    sent = Tracker.seen[0]["frames"]
    assert [f["index"] for f in sent] == list(range(6))
    with Image.open(io.BytesIO(base64.b64decode(sent[0]["image"]["content_base64"]))) as im:
        assert im.size == (W, H) and im.format == "JPEG"
    Tracker.keep = 2  # a shorter answer: it lost the object there
    got = track(world, owner, pid, item, frame=3, box=[10, 20, 30, 40], frames=5).json()
    assert got["stopped"] == "lost" and len(got["boxes"]) == 2
    for answer, field in (({"boxes": [[1, 2, 3]]}, "boxes[0]"), ({"tracks": []}, "boxes"),
                          ({"boxes": [[1, 1, 2, 2]] * 6}, "boxes")):
        Tracker.answer = answer
        r = track(world, owner, pid, item, frame=3, box=[10, 20, 30, 40], frames=5)
        assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == field, r.text


def test_answers_are_checked_against_the_probed_video(world: World, video: bytes) -> None:
    owner, _, pid, item = setup(world, video)
    assert world.next(owner, pid).json()["item_id"] == item
    good = {"id": "t1", "label": "car", "keyframes": [
        {"frame": 30, "box": None, "outside": True}, {"frame": 0, "box": square_at(0)},
        {"frame": 29, "box": square_at(29), "occluded": True}]}

    def problems(value: dict[str, Any]) -> list[tuple[str, str]]:
        r = world.submit(owner, pid, item, value)
        assert r.status_code == 422, r.text
        return [(p["field"], p["message"]) for p in r.json()["error"]["problems"]]

    past = {**good, "keyframes": [*good["keyframes"][1:], {"frame": N, "box": [1, 1, 2, 2]}]}
    assert problems({"objects": {"tracks": [past]}}) == [
        ("objects.tracks[0].keyframes[2].frame", f"frame {N} is past the last frame of the video ({N} frames: "
                                                  f"0 to {N - 1})")]
    wide = {**good, "keyframes": [{"frame": 0, "box": [0, 0, W + 0.5, 10]}]}
    assert problems({"objects": {"tracks": [wide]}}) == [
        ("objects.tracks[0].keyframes[0].box", f"x2 = {W + 0.5} is outside the frame (0 to {W})")]
    assert problems({"objects": {"tracks": [], "shapes": [{"frame": 1, "label": "bus", "box": [1, 1, 2, 2]}]}}) == [
        ("objects.shapes[0].label", "'bus' is not a label (labels: car)")]
    assert problems({"objects": {"tracks": []}, "events": [{"label": "turn", "start": 5, "end": N}]}) == [
        ("events[0].end", f"frame {N} is past the last frame of the video ({N} frames: 0 to {N - 1})")]
    r = world.submit(owner, pid, item, {"objects": {"tracks": [good]},
                                        "events": [{"label": "turn", "start": 12, "end": 20}]})
    assert r.status_code in (200, 201), r.text
    stored = world.client.get(f"/api/projects/{pid}/answers", headers=owner.headers).json()[0]["value"]
    assert [k["frame"] for k in stored["objects"]["tracks"][0]["keyframes"]] == [0, 29, 30]
    assert stored["objects"]["shapes"] == [] and stored["events"] == [{"label": "turn", "start": 12, "end": 20}]


def test_the_tracker_setting_names_one_of_the_three_kinds(world: World, video: bytes) -> None:
    owner, _, pid, item = setup(world, video)
    r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"tracker": "sam2"}})
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"].endswith("tracker")
    for name in ("opencv-mil", "python:nowhere"):
        r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"tracker": name}})
        assert r.status_code == 200, r.text
    r = track(world, owner, pid, item, frame=0, box=[1, 1, 5, 5])
    assert r.status_code == 422 and "labelloop.trackers" in r.json()["error"]["problems"][0]["message"]
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"tracker": "opencv-csrt"}})
    r = track(world, owner, pid, item, frame=0, box=[1, 1, 5, 5])
    if "CSRT" not in opencv_kinds():  # the headless wheel has MIL only: said by name
        assert r.status_code == 422 and "no CSRT tracker" in r.json()["error"]["problems"][0]["message"]


# -- frames at their true number, without the server ---------------------------------------------
@pytest.mark.parametrize("options", [{"bframes": 3, "gop": 7}, {"vfr": True, "bframes": 2, "gop": 5},
                                     {"rotation": 90, "gop": 6}])
def test_frames_are_decoded_at_their_number_from_any_start(tmp_path: Path, options: dict[str, Any]) -> None:
    made = testcard.write_video(tmp_path / "card.mp4", 30, width=160, height=120, **options)
    turns = options.get("rotation", 0) // 90

    def number(frame: np.ndarray) -> int:  # the card's bar code is along the top before turning
        return testcard.read_number(np.rot90(frame, k=turns))

    for start in (0, 1, 6, 13, 29):
        frames = list(frames_from(str(made.path), start, 5))
        assert [number(f) for f in frames] == list(range(start, min(start + 5, 30)))
        assert frames[0].shape[:2] == ((160, 120) if turns else (120, 160))  # as displayed
    with made.path.open("rb") as f:  # a file object, as an encrypted store hands it
        assert [number(x) for x in frames_from(f, 27, 5)] == [27, 28, 29]


def test_a_still_object_keeps_the_box_that_was_drawn(tmp_path: Path) -> None:
    import av

    rng = np.random.default_rng(3)
    still = rng.integers(0, 256, (30, 40, 3)).repeat(4, 0).repeat(4, 1).astype(np.uint8)
    with av.open(str(tmp_path / "still.mp4"), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for _ in range(12):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(still, format="rgb24")))
        out.mux(stream.encode())
    drawn = [40.5, 50.25, 100.5, 90.75]
    run = run_tracker(OpenCVTracker(), str(tmp_path / "still.mp4"), 2, drawn, 5)
    assert run.stopped == "limit" and [f for f, _ in run.boxes] == [3, 4, 5, 6, 7]
    assert all(b == pytest.approx(drawn, abs=1.0) for _, b in run.boxes)
