"""Project-wide consensus of `video_tracks` (docs/quality.md, "Tracks"; services/quality/track_consensus.py).

Three annotators track the same two objects in each of two videos: two careful ones (exact, and one
pixel off), and a sloppy one whose boxes sit 12 px off, whose tracks stop at frame 25, and who adds
a track of nothing. The careful ones mark the car occluded on frames 10-14 of the first video. At
recompute the track aggregator learns everyone's skill across both videos: the stored consensus is
its fused tracks (tested equal, frame by frame, to the library's on the same answers), written back
as keyframes that carry `occluded`; it follows the careful annotators, the sloppy one's skill is the
lowest; a second recompute changes nothing; the agreement report shows the mean pairwise IDF1."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from labelloop.quality import default_track_aggregator
from labelloop.schema.types.video.interpolate import box_at, occluded_at
from labelloop.schema.types.video.track_consensus import horizon, score, tracks_of
from labelloop.services.quality.consensus import INCREMENTAL, PROJECT
from labelloop.store.models import annotator_quality, answers
from tests.platform.consensus_rows import consensus_rows, recompute
from tests.platform.world import User, World

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "clip", "type": "video"}],
    "questions": [{"name": "objects", "type": "video_tracks", "target": "clip", "labels": ["car", "person"]}],
}
LAST = 39  # frames 0-39


def car(video: int, f: int, dx: float = 0.0) -> list[float]:
    """The car: 40 x 30 px, moving right two pixels a frame."""
    x = 10.0 + 50 * video + 2 * f + dx
    return [x, 10.0 + dx, x + 40, 40.0 + dx]


def person(video: int, f: int, dx: float = 0.0) -> list[float]:
    """The person: 30 x 60 px, far from the car, moving down one pixel a frame."""
    y = 20.0 + 10 * video + f
    return [300.0 + dx, y + dx, 330.0 + dx, y + 60 + dx]


def kf(frame: int, box: list[float] | None, *, outside: bool = False, occluded: bool = False) -> dict[str, Any]:
    return {"frame": frame, "box": box, "outside": outside, "occluded": occluded}


def careful(video: int, dx: float) -> dict[str, Any]:
    car_kfs = [kf(0, car(video, 0, dx)), kf(LAST, car(video, LAST, dx))]
    if video == 0:  # occluded on frames 10-14: keyframes where the flag changes, on the line
        car_kfs = [kf(0, car(0, 0, dx)), kf(10, car(0, 10, dx), occluded=True), kf(15, car(0, 15, dx)),
                   kf(LAST, car(0, LAST, dx))]
    return {"tracks": [
        {"id": "c", "label": "car", "attributes": {}, "keyframes": car_kfs},
        {"id": "p", "label": "person", "attributes": {},
         "keyframes": [kf(0, person(video, 0, dx)), kf(LAST, person(video, LAST, dx))]},
    ], "shapes": []}


def sloppy(video: int) -> dict[str, Any]:
    stop = 25
    return {"tracks": [
        {"id": "c", "label": "car", "attributes": {},
         "keyframes": [kf(0, car(video, 0, 12)), kf(stop - 1, car(video, stop - 1, 12)), kf(stop, None, outside=True)]},
        {"id": "p", "label": "person", "attributes": {},
         "keyframes": [kf(0, person(video, 0, 12)), kf(stop - 1, person(video, stop - 1, 12)),
                       kf(stop, None, outside=True)]},
        {"id": "ghost", "label": "car", "attributes": {},
         "keyframes": [kf(5, [500.0, 300.0, 540.0, 330.0]), kf(30, [560.0, 300.0, 600.0, 330.0])]},
    ], "shapes": []}


ANSWERS = {"a": lambda v: careful(v, 0.0), "b": lambda v: careful(v, 1.0), "s": sloppy}


def _project(world: World) -> tuple[User, dict[str, User], int]:
    owner = world.user("owner")
    people = {n: world.user(n) for n in ANSWERS}
    pid = world.project(owner, schema=SCHEMA, overlap=3, members={"annotator": tuple(people.values())})
    r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"quality": {
        "gold_first": 0, "gold_rate": 0.0, "review_below": 0.0, "trust_min_accuracy": None}})
    assert r.status_code == 200, r.text
    r = world.import_records(owner, pid, [{"id": f"v{i}", "clip": f"https://media.example/v{i}.mp4"}
                                          for i in range(2)])
    assert r.status_code == 201, r.text
    for name, user in people.items():
        done = 0
        while (t := world.next(user, pid)).status_code == 200:
            video = int(t.json()["external_id"][1:])
            s = world.submit(user, pid, t.json()["item_id"], {"objects": ANSWERS[name](video)})
            assert s.status_code == 201, s.text
            done += 1
        assert done == 2
    return owner, people, pid




def _answers(world: World, pid: int) -> dict[int, dict[int, Any]]:
    out: dict[int, dict[int, Any]] = {}
    with world.runtime.db.read() as conn:
        for r in conn.execute(select(answers.c.item_id, answers.c.user_id, answers.c.value)
                              .where(answers.c.project_id == pid).order_by(answers.c.id)):
            out.setdefault(r.item_id, {})[r.user_id] = r.value["objects"]
    return out


def test_the_recompute_fuses_tracks_over_the_project_and_follows_the_careful_annotators(world: World) -> None:
    owner, people, pid = _project(world)
    assert {r.method for r in consensus_rows(world, pid).values()} == {INCREMENTAL}  # per answer: per video

    result = recompute(world, owner, pid)
    assert result["items"] == 2 and result["annotators"] == 3
    stored = consensus_rows(world, pid)
    assert {r.method for r in stored.values()} == {PROJECT}

    # The oracle: the library's aggregator on the same answers, frame by frame.
    given = _answers(world, pid)
    ends = {i: horizon(list(v.values())) for i, v in given.items()}
    long = {"task": [], "worker": [], "tracks": []}
    for i, by_user in given.items():
        for u, v in by_user.items():
            long["task"].append(i)
            long["worker"].append(u)
            long["tracks"].append(tracks_of(v, ends[i]))
    expected = default_track_aggregator().fit_predict(long)
    for ext, row in stored.items():
        video = int(ext[1:])
        value = row.value["objects"]
        assert value["shapes"] == []
        fused = sorted(value["tracks"], key=lambda t: t["label"])
        assert [t["label"] for t in fused] == ["car", "person"]  # the ghost is dropped
        want = sorted(expected[row.item_id], key=lambda t: t["label"])
        for got, oracle in zip(fused, want, strict=True):
            frames = {int(f): b for f, b in oracle["boxes"].items()}
            assert sorted(frames) == list(range(LAST + 1))  # the full extent: not the sloppy stop
            for f, box in frames.items():
                assert np.allclose(box_at(got["keyframes"], f), box, rtol=0, atol=1e-6), (ext, f)
        # The careful annotators decide: within their one pixel, where the sloppy one is 12 off.
        for f in range(LAST + 1):
            assert np.abs(np.subtract(box_at(fused[0]["keyframes"], f), car(video, f))).max() <= 1.0
            assert np.abs(np.subtract(box_at(fused[1]["keyframes"], f), person(video, f))).max() <= 1.0
        # `occluded` survives: the car of the first video on frames 10-14, nothing else.
        hidden = [f for f in range(LAST + 1) if occluded_at(fused[0]["keyframes"], f)]
        assert hidden == (list(range(10, 15)) if video == 0 else [])
        assert not any(k["occluded"] for k in fused[1]["keyframes"])
        assert 0.5 < row.confidence <= 1.0

    with world.runtime.db.read() as conn:
        skill = {r.user_id: r.skill for r in conn.execute(select(annotator_quality).where(
            annotator_quality.c.project_id == pid))}
    assert skill[people["s"].id] < min(skill[people["a"].id], skill[people["b"].id])

    # Idempotent: a second recompute stores the same consensus.
    recompute(world, owner, pid)
    again = consensus_rows(world, pid)
    for ext, row in stored.items():
        assert again[ext].value == row.value and again[ext].confidence == pytest.approx(row.confidence)
        assert again[ext].confidences == row.confidences

    # The agreement report: mean pairwise IDF1 over the videos.
    r = world.client.get(f"/api/projects/{pid}/quality", headers=owner.headers)
    assert r.status_code == 200, r.text
    row = next(q for q in r.json()["questions"] if q["question"] == "objects")
    pairs = [score(x, y) for v in given.values() for x, y in combinations(list(v.values()), 2)]
    assert row["percent_agreement"] == pytest.approx(float(np.mean(pairs)))
    assert 0.0 < row["percent_agreement"] < 1.0


def test_one_video_keeps_the_per_video_consensus(world: World) -> None:
    owner = world.user("owner")
    a, b = world.user("a"), world.user("b")
    pid = world.project(owner, schema=SCHEMA, overlap=2, members={"annotator": (a, b)})
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"quality": {
        "gold_first": 0, "gold_rate": 0.0, "review_below": 0.0}})
    world.import_records(owner, pid, [{"id": "v0", "clip": "https://media.example/v0.mp4"}])
    for user, dx in ((a, 0.0), (b, 1.0)):
        t = world.next(user, pid)
        assert world.submit(user, pid, t.json()["item_id"], {"objects": careful(0, dx)}).status_code == 201
    before = consensus_rows(world, pid)["v0"]
    recompute(world, owner, pid)
    after = consensus_rows(world, pid)["v0"]
    assert after.value == before.value  # the per-video vote, now written by the recompute
    car_track = next(t for t in after.value["objects"]["tracks"] if t["label"] == "car")
    assert [f for f in range(LAST + 1) if occluded_at(car_track["keyframes"], f)] == list(range(10, 15))


def test_videos_nobody_tracked_anything_in_leave_skills_alone(world: World) -> None:
    owner = world.user("owner")
    a, b = world.user("a"), world.user("b")
    pid = world.project(owner, schema=SCHEMA, overlap=2, members={"annotator": (a, b)})
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"quality": {
        "gold_first": 0, "gold_rate": 0.0, "review_below": 0.0}})
    world.import_records(owner, pid, [{"id": f"v{i}", "clip": f"https://media.example/v{i}.mp4"} for i in range(2)])
    for user in (a, b):
        while (t := world.next(user, pid)).status_code == 200:
            s = world.submit(user, pid, t.json()["item_id"], {"objects": {"tracks": [], "shapes": []}})
            assert s.status_code == 201, s.text

    def skills() -> dict[int, Any]:
        with world.runtime.db.read() as conn:
            return {r.user_id: r.skill for r in conn.execute(select(annotator_quality).where(
                annotator_quality.c.project_id == pid))}

    before = skills()
    recompute(world, owner, pid)
    stored = consensus_rows(world, pid)
    assert {r.method for r in stored.values()} == {PROJECT}
    assert all(r.value["objects"] == {"tracks": [], "shapes": []} and r.confidence == 1.0 for r in stored.values())
    assert skills() == before  # nothing learnt: no skill of 0 that would silence them
