"""Shape answers over HTTP, checked against the size of the item's image (the `blobs` row) on
every path that stores an answer: submit, revision, review decision, gold by hand and gold at
import; spans against the item's text; and no extra reads for questions without a target."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import event, insert

from labelloop.store.models import blobs, project_blobs, utcnow
from tests.platform.world import World

SHA = hashlib.sha256(b"a 640 x 480 photo").hexdigest()
SCHEMA: dict[str, Any] = {
    "fields": [{"name": "photo", "type": "image"}, {"name": "caption", "type": "text", "required": False}],
    "questions": [
        {"name": "boxes", "type": "bbox", "target": "photo", "labels": ["car", "person"],
         "attributes": [{"name": "occluded", "type": "choice", "options": ["no", "yes"], "required": False}]},
        {"name": "road", "type": "mask", "target": "photo", "labels": ["road"], "required": False},
        {"name": "pose", "type": "keypoints", "target": "photo", "labels": ["person"], "required": False,
         "skeleton": {"points": ["head", "hand"], "edges": [["head", "hand"]]}},
        {"name": "words", "type": "spans", "target": "caption", "labels": ["PER"], "required": False},
    ],
}
CAR = {"label": "car", "box": [10, 20, 200, 120], "attributes": {"occluded": "yes"}}
OUTSIDE = {"label": "person", "box": [600, 100, 641.5, 300]}


def _stored_image(world: World, project_id: int, width: int = 640, height: int = 480) -> str:
    """A blob row as the image import writes it, readable in the project."""
    def go(conn: Any) -> None:
        conn.execute(insert(blobs).values(sha256=SHA, size=1234, media_type="image/jpeg", width=width,
                                          height=height, created_at=utcnow()))
        conn.execute(insert(project_blobs).values(project_id=project_id, sha256=SHA, created_at=utcnow()))

    world.runtime.db.run(go)
    return f"blob:{SHA}"


def _setup(world: World, **records: Any) -> tuple[Any, int, int]:
    owner = world.user()
    pid = world.project(owner, schema=SCHEMA)
    ref = _stored_image(world, pid)
    world.import_records(owner, pid, [{"id": "p1", "photo": ref, "caption": "Ada met Bob"}])
    task = world.next(owner, pid).json()
    return owner, pid, task["item_id"]


def _problems(r: Any) -> list[tuple[str, str]]:
    return [(p.get("field", ""), p["message"]) for p in r.json()["error"]["problems"]]


def test_a_box_inside_the_image_is_stored_and_one_outside_is_refused_naming_the_object(world: World) -> None:
    owner, pid, iid = _setup(world)
    r = world.submit(owner, pid, iid, {"boxes": [CAR, OUTSIDE]})
    assert r.status_code == 422
    assert _problems(r) == [("boxes[1].box", "x2 = 641.5 is outside the image (0 to 640)")]
    assert world.client.get(f"/api/projects/{pid}/answers", headers=owner.headers).json() == []

    r = world.submit(owner, pid, iid, {"boxes": [CAR, {**OUTSIDE, "box": [600, 100, 640, 300]}]}, key="k1")
    assert r.status_code == 201, r.text
    stored = world.client.get(f"/api/projects/{pid}/answers", headers=owner.headers).json()
    assert stored[0]["value"]["boxes"] == [CAR, {"label": "person", "box": [600, 100, 640, 300]}]


def test_a_mask_must_have_the_image_size_and_keypoints_come_back_complete(world: World) -> None:
    owner, pid, iid = _setup(world)
    r = world.submit(owner, pid, iid, {"boxes": [], "road": [
        {"label": "road", "rle": {"size": [480, 641], "counts": [0, 480 * 641]}}]})
    assert r.status_code == 422
    assert _problems(r) == [("road[0].rle.size", "size [480, 641] is not the image's [480, 640] (height, width)")]
    r = world.submit(owner, pid, iid, {"boxes": [], "pose": [{"label": "person", "points": {"hand": [700, 5, 2]}}]})
    assert _problems(r) == [("pose[0].points.hand", "x = 700 is outside the image (0 to 640)")]

    value = {"boxes": [], "road": [{"label": "road", "rle": {"size": [480, 640], "counts": [100, 380, 640 * 480 - 480]}}],
             "pose": [{"label": "person", "points": {"hand": [639, 5, 1]}}]}
    r = world.submit(owner, pid, iid, value)
    assert r.status_code == 201, r.text
    got = r.json()["value"]
    assert got["road"][0]["rle"]["counts"] == "T3l;Pa[9"  # canonical compressed RLE (pycocotools' own text)
    assert got["pose"] == [{"label": "person", "points": {"head": [0, 0, 0], "hand": [639, 5, 1]}}]


def test_spans_are_checked_against_the_text_of_their_field(world: World) -> None:
    owner, pid, iid = _setup(world)
    r = world.submit(owner, pid, iid, {"boxes": [], "words": [{"start": 8, "end": 12, "label": "PER"}]})
    assert _problems(r) == [("words[0].end", "end 12 is past the end of the text (11 characters)")]
    r = world.submit(owner, pid, iid, {"boxes": [], "words": [{"start": 8, "end": 11, "label": "PER"}]})
    assert r.status_code == 201, r.text


def test_an_image_given_by_url_is_checked_for_everything_but_its_bounds(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=SCHEMA)
    world.import_records(owner, pid, [{"id": "u1", "photo": "https://example.org/a.jpg"}])
    iid = world.next(owner, pid).json()["item_id"]
    r = world.submit(owner, pid, iid, {"boxes": [{"label": "car", "box": [50, 10, 40, 20]}]})
    assert _problems(r) == [("boxes[0].box", "x2 = 40 must be larger than x1 = 50")]
    r = world.submit(owner, pid, iid, {"boxes": [{"label": "car", "box": [5000, 10, 6000, 20]}]})
    assert r.status_code == 201, r.text


def test_revisions_review_decisions_and_gold_are_checked_against_the_image(world: World) -> None:
    owner, pid, iid = _setup(world)
    answer = world.submit(owner, pid, iid, {"boxes": [CAR]}).json()
    bad = {"boxes": [CAR, OUTSIDE]}
    where = [("boxes[1].box", "x2 = 641.5 is outside the image (0 to 640)")]

    r = world.client.post(f"/api/projects/{pid}/answers/{answer['id']}/revisions", json={"value": bad},
                          headers=owner.headers)
    assert r.status_code == 422 and _problems(r) == where
    r = world.client.put(f"/api/projects/{pid}/items/{iid}/gold", json={"value": bad}, headers=owner.headers)
    assert r.status_code == 422 and _problems(r) == where
    assert world.client.post(f"/api/projects/{pid}/items/{iid}/flag", headers=owner.headers).status_code == 204
    r = world.client.post(f"/api/projects/{pid}/items/{iid}/review", json={"value": bad}, headers=owner.headers)
    assert r.status_code == 422 and _problems(r) == where

    good = {"boxes": [{"label": "person", "box": [0, 0, 640, 480]}]}
    r = world.client.put(f"/api/projects/{pid}/items/{iid}/gold", json={"value": good}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["gold"] == good
    r = world.client.post(f"/api/projects/{pid}/items/{iid}/review", json={"value": good}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["value"] == good


def test_gold_in_an_import_is_checked_against_the_stored_image(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=SCHEMA)
    ref = _stored_image(world, pid)
    body = (b'{"id": "g1", "photo": "%s", "gold": {"boxes": [{"label": "car", "box": [1, 2, 3, 4]}]}}\n'
            b'{"id": "g2", "photo": "%s", "gold": {"boxes": [{"label": "car", "box": [1, 2, 3, 481]}]}}\n'
            % (ref.encode(), ref.encode()))
    r = world.upload(owner, pid, body, "gold.jsonl")
    assert r.status_code == 422
    assert [(p.get("line"), p.get("field"), p["message"]) for p in r.json()["error"]["problems"]] == [
        (2, "gold.boxes[0].box", "y2 = 481 is outside the image (0 to 480)")]
    r = world.upload(owner, pid, body.splitlines()[0] + b"\n", "gold.jsonl")
    assert r.status_code == 201, r.text


def test_identical_boxes_from_two_annotators_settle_with_full_confidence(world: World) -> None:
    owner, a, b = world.user(), world.user(), world.user()
    pid = world.project(owner, schema=SCHEMA, overlap=2, members={"annotator": (a, b)})
    ref = _stored_image(world, pid)
    world.import_records(owner, pid, [{"id": "p1", "photo": ref}])
    for who in (a, b):
        iid = world.next(who, pid).json()["item_id"]
        assert world.submit(who, pid, iid, {"boxes": [CAR]}).status_code == 201
    item = world.client.get(f"/api/projects/{pid}/items/{iid}", headers=owner.headers).json()["item"]
    assert item["consensus"]["value"]["boxes"] == [CAR] and item["consensus"]["confidence"] == 1.0
    # The project-wide recompute settles shape questions through the same hook.
    r = world.client.post(f"/api/projects/{pid}/quality/recompute?wait=true", headers=owner.headers)
    assert r.status_code in (200, 201), r.text
    item = world.client.get(f"/api/projects/{pid}/items/{iid}", headers=owner.headers).json()["item"]
    assert item["consensus"]["value"]["boxes"] == [CAR] and item["consensus"]["confidence"] == 1.0
    quality = world.client.get(f"/api/projects/{pid}/quality", headers=owner.headers)
    boxes = next(q for q in quality.json()["questions"] if q["question"] == "boxes")
    assert (boxes["type"], boxes["items"], boxes["percent_agreement"]) == ("bbox", 1, 1.0)  # F1 at IoU 0.5


def _statements(world: World) -> list[str]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()).lower())

    event.listen(world.runtime.db.engine, "before_cursor_execute", record)
    return seen


def test_submit_reads_the_item_and_its_blob_only_for_targeted_questions(world: World) -> None:
    owner = world.user()
    plain = world.project(owner)  # choice questions only, no target
    world.import_records(owner, plain, [{"id": "t1", "text": "hello"}])
    iid = world.next(owner, plain).json()["item_id"]
    seen = _statements(world)
    assert world.submit(owner, plain, iid, {"sentiment": "pos"}).status_code == 201
    assert not [s for s in seen if "from blobs" in s or s.startswith("select items.data")]

    owner2, pid2, iid2 = _setup(world)
    seen.clear()
    assert world.submit(owner2, pid2, iid2, {"boxes": [CAR]}).status_code == 201
    assert len([s for s in seen if "from blobs" in s]) == 1
    assert len([s for s in seen if s.startswith("select items.data")]) == 1
