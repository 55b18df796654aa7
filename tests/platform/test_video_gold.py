"""Gold videos score annotators on tracks (docs/quality.md, "Tracks"): a `video_tracks` answer on a
gold video is right when its IDF1 against the gold tracks (identities matched once per video, a frame
counting where a matched pair of the same class overlaps at IoU >= 0.5) reaches the project's
`gold_shape_score`; the rule decides the gold record at submit (hence the pause rule), and the
annotators report shows MOTA, IDF1 and HOTA on gold. Hand-made answers with known scores: an exact
copy (IDF1 1), two tracks whose identities swap halfway (IDF1 1/2, two switches: MOTA 1 - 2/40), and
one of two objects missed (IDF1 2/3)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from labelloop.schema import parse_schema
from labelloop.services.quality.shape_gold import gold_correct, track_gold_counts
from labelloop.store.models import annotator_quality
from tests.platform.world import User, World

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "clip", "type": "video"}],
    "questions": [{"name": "objects", "type": "video_tracks", "target": "clip", "labels": ["car", "person"]}],
}


def kf(frame: int, box: list[float]) -> dict[str, Any]:
    return {"frame": frame, "box": box, "outside": False, "occluded": False}


def car(x: float, f: int) -> list[float]:
    """Object A: a car moving right two pixels a frame."""
    return [x + 2 * f, 10.0, x + 2 * f + 40, 40.0]


def person(f: int) -> list[float]:
    """Object B: a person moving down one pixel a frame, far from the car."""
    return [200.0, 20.0 + f, 230.0, 80.0 + f]


def track(tid: str, label: str, keyframes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": tid, "label": label, "attributes": {}, "keyframes": keyframes}


GOLD = {"tracks": [track("a", "car", [kf(0, car(0, 0)), kf(19, car(0, 19))]),
                   track("b", "car", [kf(0, person(0)), kf(19, person(19))])], "shapes": []}
EXACT = {"tracks": [track("x", "car", [kf(0, car(1, 0)), kf(19, car(1, 19))]),
                    track("y", "car", [kf(0, person(0)), kf(19, person(19))])], "shapes": []}
# Identities swap at frame 10: each answer track follows one object for 10 frames, then the other.
SWAPPED = {"tracks": [track("x", "car", [kf(0, car(0, 0)), kf(9, car(0, 9)), kf(10, person(10)), kf(19, person(19))]),
                      track("y", "car", [kf(0, person(0)), kf(9, person(9)), kf(10, car(0, 10)), kf(19, car(0, 19))])],
           "shapes": []}
MISSED = {"tracks": [GOLD["tracks"][0]], "shapes": []}


def test_track_scores_on_gold_have_known_values() -> None:
    exact = track_gold_counts(EXACT, GOLD)
    assert exact.idf1 == 1.0 and exact.mota == 1.0 and exact.switches == 0
    swapped = track_gold_counts(SWAPPED, GOLD)
    assert swapped.idf1 == pytest.approx(0.5) and swapped.switches == 2
    assert swapped.mota == pytest.approx(1 - 2 / 40)
    assert track_gold_counts(MISSED, GOLD).idf1 == pytest.approx(2 * 20 / 60)
    assert track_gold_counts(None, GOLD).idf1 == 0.0
    empty = {"tracks": [], "shapes": []}
    assert track_gold_counts(empty, empty).idf1 == 1.0


def test_the_bar_is_the_gold_shape_score_and_classes_count() -> None:
    schema = parse_schema(SCHEMA)
    gold = {"objects": GOLD}
    assert gold_correct(gold, {"objects": EXACT}, schema, shape_f1=0.8)
    assert not gold_correct(gold, {"objects": MISSED}, schema, shape_f1=0.8)
    assert gold_correct(gold, {"objects": MISSED}, schema, shape_f1=0.6)
    assert not gold_correct(gold, {"objects": SWAPPED}, schema, shape_f1=0.6)
    relabelled = {"tracks": [t | {"label": "person"} for t in EXACT["tracks"]], "shapes": []}
    assert not gold_correct(gold, {"objects": relabelled}, schema, shape_f1=0.1)


def _project(world: World, owner: User, people: tuple[User, ...], n_gold: int) -> int:
    pid = world.project(owner, schema=SCHEMA, overlap=3, members={"annotator": people})
    r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"quality": {
        "gold_first": n_gold, "gold_rate": 0.0, "review_below": 0.0, "trust_min_accuracy": None}})
    assert r.status_code == 200, r.text
    records = [{"id": f"g{i}", "clip": f"https://media.example/g{i}.mp4", "gold": {"objects": GOLD}}
               for i in range(n_gold)] + [{"id": "plain", "clip": "https://media.example/plain.mp4"}]
    r = world.import_records(owner, pid, records)
    assert r.status_code == 201, r.text
    return pid


def _answer_all(world: World, pid: int, user: User, value: dict[str, Any]) -> int:
    n = 0
    while (r := world.next(user, pid)).status_code == 200:
        s = world.submit(user, pid, r.json()["item_id"], {"objects": value})
        assert s.status_code == 201, s.text
        n += 1
    return n


def _recorded(world: World, pid: int, user: User) -> tuple[int, int]:
    with world.runtime.db.read() as conn:
        row = conn.execute(select(annotator_quality.c.gold_answered, annotator_quality.c.gold_correct).where(
            annotator_quality.c.project_id == pid, annotator_quality.c.user_id == user.id)).one()
    return int(row.gold_answered), int(row.gold_correct)


def test_gold_videos_score_tracks_at_submit_and_in_the_report(world: World) -> None:
    owner, good, swapper, misser = world.user("owner"), world.user("good"), world.user("swapper"), world.user("misser")
    pid = _project(world, owner, (good, swapper, misser), 2)
    assert _answer_all(world, pid, good, EXACT) == 3
    assert _answer_all(world, pid, swapper, SWAPPED) == 3
    assert _answer_all(world, pid, misser, MISSED) == 3
    assert _recorded(world, pid, good) == (2, 2)
    assert _recorded(world, pid, swapper) == (2, 0)
    assert _recorded(world, pid, misser) == (2, 0)
    r = world.client.get(f"/api/projects/{pid}/quality/annotators", headers=owner.headers)
    assert r.status_code == 200, r.text
    rows = {row["username"]: row for row in r.json()}
    on_gold = rows["good"]["gold_tracks"]["objects"]
    assert on_gold["answers"] == 2 and on_gold["idf1"] == 1.0 and on_gold["mota"] == 1.0
    assert on_gold["hota"] == pytest.approx(track_gold_counts(EXACT, GOLD).hota)
    swapped = rows["swapper"]["gold_tracks"]["objects"]
    assert swapped["idf1"] == pytest.approx(0.5) and swapped["switches"] == 4  # two per gold video
    assert swapped["mota"] == pytest.approx(1 - 4 / 80)
    assert rows["misser"]["gold_tracks"]["objects"]["idf1"] == pytest.approx(2 / 3)
    assert rows["good"]["gold_accuracy"] is not None
