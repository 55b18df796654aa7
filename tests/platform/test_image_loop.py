"""Image models in the loop: a detector's boxes as suggestions (a pre-label job with progress,
stored per model version, under the project's bar, with provenance per answer), rounds that embed
images (EfficientNet-Lite3, or hand features) to train, suggest and find near-duplicates, and
versions that carry each other's answers so a round never hides the boxes."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from labelloop.learn.images.detector import CocoDetector
from labelloop.store.models import model_versions, predictions
from tests.learn.image_models import require_image_models
from tests.platform.pictures import encoded, zipped
from tests.platform.stub_http import JsonHandler, serving
from tests.platform.world import User, World

BOXES: dict[str, Any] = {
    "fields": [{"name": "photo", "type": "image"}],
    "questions": [{"name": "things", "type": "bbox", "target": "photo", "labels": ["thing", "other"]}],
}
BOTH: dict[str, Any] = {
    "fields": [{"name": "photo", "type": "image"}],
    "questions": [
        {"name": "kind", "type": "choice", "options": ["horizontal", "vertical"]},
        {"name": "things", "type": "bbox", "target": "photo", "labels": ["thing", "other"]},
    ],
}


def square_at(x: int, y: int, width: int = 120, height: int = 90) -> bytes:
    """A dark picture with one bright 30 x 20 rectangle at (x, y)."""
    img = np.full((height, width, 3), 20, dtype=np.uint8)
    img[y:y + 20, x:x + 30] = 240
    return encoded(Image.fromarray(img))


def stripes(vertical: bool, seed: int, size: int = 64) -> bytes:
    rng = np.random.default_rng(seed)
    period = int(rng.integers(6, 12))
    wave = (np.arange(size) + int(rng.integers(0, period))) % period < period // 2
    img = np.where(wave[None, :] if vertical else wave[:, None], 200, 50) + rng.integers(0, 40, (size, size))
    return encoded(Image.fromarray(np.repeat(img[..., None], 3, axis=2).astype(np.uint8)))


class Detector(JsonHandler):
    """A team's detector: boxes the brightest 30 x 20 patch of each image as a "thing"."""

    calls: ClassVar[list[int]] = []  # images per request
    answer: ClassVar[dict[str, Any] | None] = None

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Detector.calls.append(len(body["items"]))
        found = []
        for item in body["items"]:
            img = np.asarray(Image.open(io.BytesIO(base64.b64decode(item["image"]["content_base64"]))).convert("L"))
            ys, xs = np.nonzero(img > 128)
            found.append([{"label": "thing", "box": [int(xs.min()), int(ys.min()), int(xs.max()) + 1,
                                                     int(ys.max()) + 1], "score": 0.9}] if len(xs) else [])
        self.reply_json(Detector.answer or {"detections": found})


@pytest.fixture
def detector_url() -> Iterator[str]:
    Detector.calls.clear()
    Detector.answer = None
    with serving(Detector) as url:
        yield url


def _project(world: World, schema: dict[str, Any], files: dict[str, bytes], *, loop: dict[str, Any],
             quality: dict[str, Any] | None = None) -> tuple[User, User, int]:
    owner, ann = world.user("owner"), world.user("ann")
    pid = world.project(owner, schema=schema, members={"annotator": (ann,)})
    r = world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={
        "loop": loop, "quality": {"gold_first": 0, "gold_rate": 0.0, "review_below": 0.0, **(quality or {})}})
    assert r.status_code == 200, r.text
    r = world.upload(owner, pid, zipped(files), "photos.zip")
    assert r.status_code == 201, r.text
    return owner, ann, pid


def _items(world: World, owner: User, pid: int) -> dict[str, dict[str, Any]]:
    got = world.client.get(f"/api/projects/{pid}/items", params={"limit": 1000}, headers=owner.headers).json()
    return {i["external_id"]: i for i in got}


def _prelabel(world: World, owner: User, pid: int) -> dict[str, Any]:
    r = world.client.post(f"/api/projects/{pid}/loop/prelabel", params={"wait": "true"}, headers=owner.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _versions(world: World, pid: int) -> int:
    with world.runtime.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(model_versions).where(
            model_versions.c.project_id == pid)).scalar_one())


SQUARES = {f"s{i}.png": square_at(5 * i, 3 * i) for i in range(6)}


def test_a_detector_pre_labels_boxes_that_annotators_see_and_keep_or_edit(world: World, detector_url: str) -> None:
    owner, ann, pid = _project(world, BOXES, SQUARES, loop={"detector": detector_url, "suggest_min_accuracy": None})
    job = _prelabel(world, owner, pid)
    assert job["status"] == "succeeded" and job["kind"] == "prelabel", job
    result = job["result"]
    assert (result["prelabelled"], result["detected"], result["reused"], result["boxes"]) == (6, 6, 0, 6)
    assert result["box_f1"] is None and result["box_f1_items"] == 0  # nothing to measure against yet
    assert job["progress_done"] == job["progress_total"] == 6
    assert Detector.calls == [6]  # one batch: the protocol sends several images a request

    t = world.next(ann, pid).json()
    i = int(t["external_id"][1])
    mine = {"label": "thing", "box": [5 * i, 3 * i, 5 * i + 30, 3 * i + 20]}
    assert t["prelabel"]["value"] == {"things": [mine]} and t["prelabel"]["confidence"] == 0.9
    version = t["prelabel"]["model_version"]
    assert version == result["model_version"]
    r = world.submit(ann, pid, t["item_id"], {"things": [{**mine, "box": [float(v) for v in mine["box"]]}]},
                     suggestion_version=version)
    assert r.status_code == 201, r.text
    assert r.json()["suggestion"]["questions"] == {"things": "unchanged"}  # 5 and 5.0: one coordinate

    t = world.next(ann, pid).json()
    box = t["prelabel"]["value"]["things"][0]["box"]
    moved = {"label": "thing", "box": [box[0] + 0.25, *box[1:]]}
    r = world.submit(ann, pid, t["item_id"], {"things": [moved]}, suggestion_version=version)
    assert r.json()["suggestion"]["questions"] == {"things": "edited"}
    t = world.next(ann, pid).json()
    extra = {"label": "other", "box": [100, 60, 110, 70]}
    value = {"things": [extra, *t["prelabel"]["value"]["things"]]}
    r = world.submit(ann, pid, t["item_id"], value, suggestion_version=version)
    assert r.json()["suggestion"]["questions"] == {"things": "edited"}
    # The pre-label job's version is not a round of the learning curve.
    assert world.client.get(f"/api/projects/{pid}/loop/rounds", headers=owner.headers).json() == []


def test_boxes_are_reused_until_the_detector_settings_change(world: World, detector_url: str) -> None:
    owner, _, pid = _project(world, BOXES, SQUARES, loop={"detector": detector_url})
    first = _prelabel(world, owner, pid)["result"]
    again = _prelabel(world, owner, pid)["result"]
    assert (again["detected"], again["reused"], again["prelabelled"]) == (0, 6, 6)
    assert Detector.calls == [6]
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"detector_threshold": 0.3}})
    third = _prelabel(world, owner, pid)["result"]
    assert (third["detected"], third["reused"]) == (6, 0) and Detector.calls == [6, 6]
    assert len({first["model_version"], again["model_version"], third["model_version"]}) == 3


def test_a_box_outside_the_image_fails_the_job_naming_the_item_and_writes_nothing(
        world: World, detector_url: str) -> None:
    owner, _, pid = _project(world, BOXES, {"a.png": square_at(0, 0)}, loop={"detector": detector_url})
    Detector.answer = {"detections": [[{"label": "thing", "box": [100, 10, 130, 40]}]]}
    job = _prelabel(world, owner, pid)
    assert job["status"] == "failed"
    assert job["error"]["problems"] == [{"field": "things[0].box", "message":
                                         "item 'a.png': x2 = 130.0 is outside the image (0 to 120)"}]
    assert _versions(world, pid) == 0
    # No detector, or no bbox question: refused by name, before any work.
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"detector": None}})
    assert _prelabel(world, owner, pid)["error"]["problems"][0]["field"] == "loop.detector"
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers,
                       json={"loop": {"detector": detector_url, "detector_question": "nope"}})
    assert _prelabel(world, owner, pid)["error"]["problems"][0]["field"] == "loop.detector_question"


def test_the_bar_compares_the_detectors_f1_on_gold_images(world: World, detector_url: str) -> None:
    owner, ann, pid = _project(world, BOXES, SQUARES, loop={"detector": detector_url})
    items = _items(world, owner, pid)
    right = {"things": [{"label": "thing", "box": [0, 0, 30, 20]}]}
    r = world.client.put(f"/api/projects/{pid}/items/{items['s0.png']['id']}/gold", json={"value": right},
                         headers=owner.headers)
    assert r.status_code == 200, r.text
    result = _prelabel(world, owner, pid)["result"]
    assert (result["box_f1"], result["box_f1_items"]) == (1.0, 1)
    assert world.next(ann, pid).json()["prelabel"] is not None  # F1 1.0 passes the default 0.8

    wrong = {"things": [{"label": "other", "box": [0, 0, 30, 20]}]}  # the detector says "thing"
    world.client.put(f"/api/projects/{pid}/items/{items['s0.png']['id']}/gold", json={"value": wrong},
                     headers=owner.headers)
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"detector_threshold": 0.4}})
    assert _prelabel(world, owner, pid)["result"]["box_f1"] == 0.0
    lease = world.client.post(f"/api/projects/{pid}/items/{world.next(ann, pid).json()['item_id']}/lease",
                              headers=ann.headers).json()
    assert lease["prelabel"] is None  # below the bar: no suggestion


def _stripes(n: int) -> dict[str, bytes]:
    files = {f"{'v' if k % 2 else 'h'}{k:02d}.png": stripes(bool(k % 2), k) for k in range(n)}
    files["copy-of-v01.png"] = files["v01.png"]  # the same photo twice
    return files


@pytest.mark.parametrize("encoder", ["efficientnet-lite3", "image-features"])
def test_a_round_on_images_embeds_them_trains_suggests_and_finds_duplicates(
        world: World, encoder: str) -> None:
    if encoder == "efficientnet-lite3":
        require_image_models()
    owner, ann, pid = _project(world, BOTH, _stripes(40), loop={
        "encoder": "hashed-tfidf" if encoder == "efficientnet-lite3" else encoder,  # a text encoder: the best
        "min_labels": 20, "autolabel_target": None, "suggest_min_accuracy": 0.8, "strategy": "least_confidence"})
    world.import_records(owner, pid, [{"id": "by-url", "photo": "https://example.com/x.jpg"}])  # never fetched
    for _ in range(24):
        t = world.next(ann, pid).json()
        kind = "vertical" if t["external_id"].startswith(("v", "copy", "by-url")) else "horizontal"
        assert world.submit(ann, pid, t["item_id"], {"kind": kind, "things": []}).status_code == 201
    r = world.client.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    assert r.json()["status"] == "succeeded", r.text
    m = r.json()["result"]
    assert m["encoder"] == encoder and m["images_not_stored"] == 1
    assert m["oof_accuracy"] >= 0.9, m
    items = _items(world, owner, pid)
    pair = sorted([items["v01.png"]["id"], items["copy-of-v01.png"]["id"]])
    assert m["near_duplicates"]["pairs"] >= 1 and pair in m["near_duplicates"]["items"]
    with world.runtime.db.read() as conn:
        predicted = {r.item_id: r.value["kind"] for r in conn.execute(select(predictions).where(
            predictions.c.model_version_id == m["model_version"]))}
    truth = {i["id"]: "vertical" if ext.startswith(("v", "copy")) else "horizontal" for ext, i in items.items()}
    assert set(predicted) == set(truth)
    del truth[items["by-url"]["id"]]  # a zero vector: its guess means nothing
    assert np.mean([predicted[i] == truth[i] for i in truth]) >= 0.9
    t = world.next(ann, pid).json()  # the model passes the bar: its answer is the suggestion
    assert t["prelabel"]["value"] == {"kind": predicted[t["item_id"]]}


def test_an_image_encoder_on_a_text_project_is_refused(world: World) -> None:
    owner = world.user("owner")
    pid = world.project(owner)
    world.import_records(owner, pid, [{"id": "a", "text": "hello"}])
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"encoder": "image-features"}})
    r = world.client.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    assert r.json()["status"] == "failed"
    assert r.json()["error"]["problems"][0]["field"] == "loop.encoder"


def test_a_round_and_a_pre_label_job_carry_each_others_answers(world: World, detector_url: str) -> None:
    files = {f"{'v' if k % 2 else 'h'}{k:02d}.png": stripes(bool(k % 2), k) for k in range(30)}
    owner, ann, pid = _project(world, BOTH, files, loop={
        "detector": detector_url, "encoder": "image-features", "min_labels": 20, "autolabel_target": None,
        "suggest_min_accuracy": None})
    detected = _prelabel(world, owner, pid)["result"]["model_version"]
    for _ in range(22):
        t = world.next(ann, pid).json()
        kind = "vertical" if t["external_id"].startswith("v") else "horizontal"
        world.submit(ann, pid, t["item_id"], {"kind": kind, "things": t["prelabel"]["value"]["things"]},
                     suggestion_version=t["prelabel"]["model_version"])
    r = world.client.post(f"/api/projects/{pid}/loop/rounds", params={"wait": "true"}, headers=owner.headers)
    round_metrics = r.json()["result"]
    assert round_metrics["carried"]["model_version"] == detected
    assert round_metrics["carried"]["detector"]["name"] == detector_url
    with world.runtime.db.read() as conn:
        stored = {row.item_id: row.value for row in conn.execute(select(predictions).where(
            predictions.c.model_version_id == round_metrics["model_version"]))}
        boxes = {row.item_id: row.value["things"] for row in conn.execute(select(predictions).where(
            predictions.c.model_version_id == detected))}
    assert stored and all(set(v) == {"kind", "things"} and v["things"] == boxes[i] for i, v in stored.items())

    again = _prelabel(world, owner, pid)["result"]
    assert again["detected"] == 0 and again["carried"]["model_version"] == round_metrics["model_version"]
    assert again["carried"]["oof_accuracy"] == round_metrics["oof_accuracy"]
    t = world.next(ann, pid).json()
    assert set(t["prelabel"]["value"]) == {"kind", "things"} and t["prelabel"]["model_version"] == again["model_version"]
    # The bar takes the lower of the two parts: the detector is unmeasured here (no gold, and
    # every human answer was given with its boxes on screen), so a bar withholds the suggestion.
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={"loop": {"suggest_min_accuracy": 0.5}})
    assert world.client.post(f"/api/projects/{pid}/items/{t['item_id']}/lease",
                             headers=ann.headers).json()["prelabel"] is None


def test_the_built_in_coco_detector_looks_at_the_preview_and_answers_in_the_originals_pixels(
        world: World) -> None:
    require_image_models()
    from skimage import data

    big = Image.fromarray(data.astronaut()).resize((2600, 2600), Image.Resampling.BICUBIC)
    photo = encoded(big, "JPEG", quality=92)
    owner, ann, pid = _project(world, {**BOXES, "questions": [
        {"name": "things", "type": "bbox", "target": "photo", "labels": ["astronaut", "rocket"]}]},
        {"astronaut.jpg": photo}, loop={"detector": "coco", "detector_labels": {"person": "astronaut"},
                                        "suggest_min_accuracy": None})
    result = _prelabel(world, owner, pid)["result"]
    assert result["prelabelled"] == 1 and result["boxes"] >= 1
    t = world.next(ann, pid).json()
    found = next(o for o in t["prelabel"]["value"]["things"] if o["label"] == "astronaut")
    direct = next(d for d in CocoDetector(threshold=0.5).detect_one(photo) if d.label == "person")
    x1, y1, x2, y2 = found["box"]
    a = np.array(direct.box)
    inter = max(0.0, min(x2, a[2]) - max(x1, a[0])) * max(0.0, min(y2, a[3]) - max(y1, a[1]))
    union = (x2 - x1) * (y2 - y1) + (a[2] - a[0]) * (a[3] - a[1]) - inter
    assert inter / union > 0.9 and x2 > 1000  # the original's pixels, not the 2048-px preview's
