"""Quality control for shapes on the platform: the project-wide recompute aggregates box questions
with the default box aggregator (annotator recall and precision learned over the whole project),
gold images score annotators on shapes (F1 at IoU 0.5, OKS for keypoints) and feed the gold
record and the pause rule, and the annotators report shows precision, recall and mean IoU on gold."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import insert, select

from labelloop.quality import default_box_aggregator
from labelloop.schema import parse_schema
from labelloop.schema.types.shapes.rle import encode_mask
from labelloop.services.quality.shape_gold import ShapeCounts, gold_correct, shape_counts
from labelloop.store.models import annotator_quality, blobs, project_blobs, utcnow
from tests.platform.consensus_rows import consensus_rows, recompute
from tests.platform.world import User, World

WIDTH, HEIGHT = 640, 480
SCHEMA: dict[str, Any] = {
    "fields": [{"name": "photo", "type": "image"}],
    "questions": [
        {"name": "boxes", "type": "bbox", "target": "photo", "labels": ["person", "car"],
         "attributes": [{"name": "occluded", "type": "choice", "options": ["no", "yes"], "required": False}]},
        {"name": "road", "type": "mask", "target": "photo", "labels": ["road"], "required": False},
        {"name": "pose", "type": "keypoints", "target": "photo", "labels": ["person"], "required": False,
         "skeleton": {"points": ["head", "hand"], "edges": [["head", "hand"]]}},
        {"name": "weather", "type": "choice", "options": ["sun", "rain"], "required": False},
    ],
}


def _image(world: World, project_id: int, n: int) -> str:
    """A blob row as the image import writes it (640 x 480), readable in the project."""
    sha = hashlib.sha256(f"photo {n}".encode()).hexdigest()

    def go(conn: Any) -> None:
        conn.execute(insert(blobs).values(sha256=sha, size=1000, media_type="image/jpeg", width=WIDTH,
                                          height=HEIGHT, created_at=utcnow()))
        conn.execute(insert(project_blobs).values(project_id=project_id, sha256=sha, created_at=utcnow()))

    world.runtime.db.run(go)
    return f"blob:{sha}"


def _project(world: World, owner: User, people: tuple[User, ...], n_items: int, *, overlap: int,
             gold: dict[int, dict[str, Any]] | None = None, **quality: Any) -> int:
    pid = world.project(owner, schema=SCHEMA, overlap=overlap, members={"annotator": people})
    settings = {"gold_first": 0, "gold_rate": 0.0, "review_below": 0.0, **quality}
    r = world.client.patch(f"/api/projects/{pid}", json={"quality": settings}, headers=owner.headers)
    assert r.status_code == 200, r.text
    records = []
    for i in range(n_items):
        rec: dict[str, Any] = {"id": f"p{i:02d}", "photo": _image(world, pid, i)}
        if gold and i in gold:
            rec["gold"] = gold[i]
        records.append(rec)
    world.import_records(owner, pid, records)
    return pid


def _work(world: World, pid: int, user: User, answer: Any) -> int:
    """The user answers every task they get with `answer(index)` (None: skip); how many answered."""
    done = 0
    while (r := world.next(user, pid)).status_code == 200:
        t = r.json()
        value = answer(int(t["external_id"][1:]))
        if value is None:
            assert world.client.post(f"/api/projects/{pid}/items/{t['item_id']}/skip", json={},
                                     headers=user.headers).status_code == 204
            continue
        s = world.submit(user, pid, t["item_id"], value)
        assert s.status_code == 201, s.text
        done += 1
    return done


def _box(x: float, y: float, label: str = "person", **attributes: str) -> dict[str, Any]:
    obj: dict[str, Any] = {"label": label, "box": [x, y, x + 60, y + 80]}
    if attributes:
        obj["attributes"] = attributes
    return obj




# --- the project-wide recompute -------------------------------------------------------------------
# 30 easy images that everyone answers and 10 hard ones that the two most careful annotators
# skip: there only g3 draws the two people, and two spammers draw two boxes each at random.
# People stand in cells of a 6 x 4 grid (100 x 110 px each), two distinct cells an image.
RNG = np.random.default_rng(7)
TRUTH = {i: [_box(10.0 + 100 * (c % 6), 10.0 + 110 * (c // 6)) for c in RNG.choice(24, 2, replace=False)]
         for i in range(40)}
HARD = range(30, 40)


def _spam(i: int, who: int) -> dict[str, Any]:
    rng = np.random.default_rng(1000 * who + i)
    return {"boxes": [_box(float(rng.integers(0, 570)), float(rng.integers(0, 390))) for _ in range(2)]}


def test_the_recompute_learns_who_is_reliable_across_the_project_and_keeps_what_only_they_saw(
        world: World) -> None:
    owner = world.user("owner")
    g1, g2, g3, s1, s2 = (world.user(n) for n in ("g1", "g2", "g3", "s1", "s2"))
    pid = _project(world, owner, (g1, g2, g3, s1, s2), 40, overlap=5)
    truth = lambda i: {"boxes": TRUTH[i]}  # noqa: E731
    for careful in (g1, g2):
        _work(world, pid, careful, lambda i: None if i in HARD else truth(i))
    _work(world, pid, g3, truth)
    _work(world, pid, s1, lambda i: _spam(i, 1))
    _work(world, pid, s2, lambda i: _spam(i, 2))

    # As answers arrive, each image keeps what annotators carrying half the weight drew: on the
    # hard images that is nothing (g3 alone is a third).
    before = consensus_rows(world, pid)
    assert all(before[f"p{i}"].value["boxes"] == [] for i in HARD)

    result = recompute(world, owner, pid)
    assert result["items"] == 40
    after = consensus_rows(world, pid)
    assert {r.method for r in after.values()} == {"dawid-skene+mace (project)"}
    # The library on the same answers is the oracle for the boxes the platform stores.
    long = _long(world, pid)
    expected = default_box_aggregator().fit_predict(long)
    for ext, row in after.items():
        got = np.array(sorted(o["box"] for o in row.value["boxes"])).reshape(-1, 4)
        want = np.array(sorted(expected[row.item_id])).reshape(-1, 4)
        assert got.shape == want.shape and np.allclose(got, want, rtol=0, atol=1e-9), ext
    # g3's record on the easy images carries the hard ones: most of their people are kept.
    hard_f1 = _f1({i: after[f"p{i}"].value["boxes"] for i in HARD}, {i: TRUTH[i] for i in HARD})
    assert hard_f1 >= 0.8, hard_f1
    easy_f1 = _f1({i: after[f"p{i:02d}"].value["boxes"] for i in range(30)}, {i: TRUTH[i] for i in range(30)})
    assert easy_f1 == 1.0
    # Skills (F1 of the learned recall and precision) land in the table the report shows.
    report = {u["username"]: u for u in world.client.get(
        f"/api/projects/{pid}/quality/annotators", headers=owner.headers).json()}
    assert min(report[n]["skill"] for n in ("g1", "g2", "g3")) > max(report[n]["skill"] for n in ("s1", "s2"))
    with world.runtime.db.read() as conn:
        stored = {r.user_id: r.skill for r in conn.execute(select(annotator_quality).where(
            annotator_quality.c.project_id == pid))}
    assert stored[g3.id] == pytest.approx(report["g3"]["skill"])


def _long(world: World, pid: int) -> pd.DataFrame:
    rows = world.client.get(f"/api/projects/{pid}/answers", params={"limit": 1000},
                            headers=world.user("reader", admin=True).headers).json()
    return pd.DataFrame({"task": [a["item_id"] for a in rows], "worker": [a["user_id"] for a in rows],
                         "boxes": [[o["box"] for o in a["value"]["boxes"]] for a in rows]})


def _f1(got: dict[int, list[dict[str, Any]]], truth: dict[int, list[dict[str, Any]]]) -> float:
    q = parse_schema(SCHEMA).question("boxes")
    return sum((shape_counts(q, got[i], truth[i]) for i in truth), ShapeCounts()).f1


def test_class_and_attributes_are_voted_and_identical_boxes_are_kept_exactly(world: World) -> None:
    owner = world.user("owner")
    a, b, c = world.user("a"), world.user("b"), world.user("c")
    pid = _project(world, owner, (a, b, c), 22, overlap=3)  # 20 items answered twice: enough to learn
    exact = [100.25, 50.5, 160.25, 130.5]  # binary fractions, as the canvas snaps them
    answers = [
        (a, {"boxes": [{"label": "car", "box": exact, "attributes": {"occluded": "yes"}}], "weather": "sun"}),
        (b, {"boxes": [{"label": "person", "box": exact, "attributes": {"occluded": "yes"}}], "weather": "sun"}),
        (c, {"boxes": [{"label": "person", "box": exact}], "weather": "rain"}),
    ]
    for who, value in answers:
        _work(world, pid, who, lambda i, v=value: v if i < 20 else {"boxes": []})
    recompute(world, owner, pid)
    after = consensus_rows(world, pid)
    model = default_box_aggregator().fit(_long(world, pid))  # the oracle for the confidence
    for ext in ("p00", "p01"):
        row = after[ext]
        assert row.value["boxes"] == [{"label": "person", "box": exact, "attributes": {"occluded": "yes"}}]
        assert row.value["weather"] == "sun"
        p = model.clusters_[model.clusters_.task == row.item_id].p_real.to_numpy()
        assert len(p) == 1 and row.confidences["boxes"] == pytest.approx(max(p[0], 1 - p[0]))
        assert row.confidences["boxes"] > 0.5
    # Nobody drew anything: "nothing here", and no doubt about it.
    assert after["p21"].value["boxes"] == [] and after["p21"].confidences["boxes"] == 1.0


def test_a_small_project_keeps_the_per_item_consensus(world: World) -> None:
    owner, a, b = world.user("owner"), world.user("a"), world.user("b")
    pid = _project(world, owner, (a, b), 19, overlap=2)  # 19 items answered twice: too few to learn
    for who in (a, b):
        _work(world, pid, who, lambda i: {"boxes": [_box(10, 10)]})
    recompute(world, owner, pid)
    after = consensus_rows(world, pid)
    assert all(r.value["boxes"] == [_box(10, 10)] and r.confidences["boxes"] == 1.0 for r in after.values())


def test_masks_and_keypoints_keep_their_per_item_aggregate_in_the_recompute(world: World) -> None:
    owner = world.user("owner")
    a, b = world.user("a"), world.user("b")
    pid = _project(world, owner, (a, b), 1, overlap=2)
    mask = np.zeros((HEIGHT, WIDTH), dtype=bool)
    mask[100:200, 50:300] = True
    road = [{"label": "road", "rle": encode_mask(mask)}]
    pose = [{"label": "person", "points": {"head": [10, 20, 2], "hand": [30, 40, 1]}}]
    for who in (a, b):
        _work(world, pid, who, lambda i: {"boxes": [], "road": road, "pose": pose})
    recompute(world, owner, pid)
    row = consensus_rows(world, pid)["p00"]
    assert row.value["road"] == road and row.value["pose"] == pose


# --- gold ---------------------------------------------------------------------------------------
GOLD_BOXES = [_box(10, 10), _box(200, 10), _box(400, 10), _box(10, 200), _box(200, 200, "car")]


def test_gold_images_score_shapes_by_f1_and_feed_the_record_and_the_pause(world: World) -> None:
    owner = world.user("owner")
    good, sloppy = world.user("good"), world.user("sloppy")
    gold = {i: {"boxes": GOLD_BOXES} for i in range(6)}
    pid = _project(world, owner, (good, sloppy), 8, overlap=2, gold=gold, gold_first=6,
                   trust_min_gold=5, trust_min_accuracy=0.6)
    shifted = [{**o, "box": [v + 4 for v in o["box"]]} for o in GOLD_BOXES]  # IoU ~0.83: still found
    assert _work(world, pid, good, lambda i: {"boxes": shifted}) == 8  # 6 gold, then the rest

    # Two people missed of five every time: F1 0.75, under the bar of 0.8.
    _work(world, pid, sloppy, lambda i: {"boxes": GOLD_BOXES[:3]})

    report = {u["username"]: u for u in world.client.get(
        f"/api/projects/{pid}/quality/annotators", headers=owner.headers).json()}
    assert (report["good"]["gold_answered"], report["good"]["gold_correct"]) == (6, 6)
    assert report["good"]["paused"] is False
    sloppy_row = report["sloppy"]
    assert sloppy_row["paused"] is True and "gold accuracy 0/5" in sloppy_row["paused_reason"]
    assert sloppy_row["answers"] == 5  # paused after the fifth gold answer: no more tasks

    on_gold = report["good"]["gold_shapes"]["boxes"]
    iou = (60 - 4) * (80 - 4) / (2 * 60 * 80 - (60 - 4) * (80 - 4))
    assert on_gold["matched"] == 30 and on_gold["missed"] == 0 and on_gold["extra"] == 0
    assert on_gold["precision"] == on_gold["recall"] == on_gold["f1"] == 1.0
    assert on_gold["mean_similarity"] == pytest.approx(iou) and on_gold["similarity"] == "iou"
    s = sloppy_row["gold_shapes"]["boxes"]
    assert (s["answers"], s["matched"], s["missed"], s["extra"]) == (5, 15, 10, 0)
    assert s["precision"] == 1.0 and s["recall"] == pytest.approx(0.6) and s["mean_similarity"] == 1.0


def test_the_gold_bar_is_a_setting_and_keypoints_score_by_oks() -> None:
    schema = parse_schema(SCHEMA)
    gold = {"boxes": GOLD_BOXES, "weather": "sun"}
    missed = {"boxes": GOLD_BOXES[:3], "weather": "sun"}
    assert not gold_correct(gold, missed, schema, shape_f1=0.8)
    assert gold_correct(gold, missed, schema, shape_f1=0.75)
    assert not gold_correct(gold, {**gold, "weather": "rain"}, schema, shape_f1=0.0)
    assert gold_correct({"boxes": []}, {"boxes": []}, schema)  # "nothing here" agrees with itself
    assert not gold_correct({"boxes": []}, {"boxes": GOLD_BOXES[:1]}, schema)
    # A car called a person is no match: 4 of 5 found, F1 0.8.
    wrong_class = {"boxes": [*GOLD_BOXES[:4], {**GOLD_BOXES[4], "label": "person"}]}
    assert shape_counts(schema.question("boxes"), wrong_class["boxes"], GOLD_BOXES).f1 == 0.8
    assert gold_correct({"boxes": GOLD_BOXES}, wrong_class, schema, shape_f1=0.8)
    assert not gold_correct({"boxes": GOLD_BOXES}, wrong_class, schema, shape_f1=0.81)
    q = schema.question("pose")
    truth = [{"label": "person", "points": {"head": [100, 100, 2], "hand": [160, 180, 2]}}]
    near = [{"label": "person", "points": {"head": [102, 100, 2], "hand": [160, 183, 2]}}]
    exact, close = shape_counts(q, truth, truth), shape_counts(q, near, truth)
    assert exact.f1 == 1.0 and exact.mean_similarity == 1.0
    assert close.matched == 1 and 0.5 < close.f1 == close.mean_similarity < 1.0  # counted by its OKS
