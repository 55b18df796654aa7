"""Interactive masks: POST .../items/{item}/segment turns a box and/or scribbles into a mask
proposal (COCO RLE of the original's size), with GrabCut on the preview scaled up, or a team's
segmenter over HTTP on the original; for the annotator holding the item (reviewers: any item)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import pytest
from PIL import Image

from labelloop.schema.types.shapes.rle import decode_mask, encode_mask
from tests.learn.image_models import require_image_models
from tests.platform.pictures import encoded, zipped
from tests.platform.stub_http import JsonHandler, serving
from tests.platform.world import User, World

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "photo", "type": "image"}],
    "questions": [{"name": "road", "type": "mask", "target": "photo", "labels": ["disc"]}],
}
W, H = 3000, 2000  # 6 megapixels: the preview is 2048 x 1365
CX, CY, R = 1500, 1000, 420


def disc_photo() -> bytes:
    yy, xx = np.mgrid[:H, :W]
    disc = (xx - CX) ** 2 + (yy - CY) ** 2 <= R**2
    rng = np.random.default_rng(0)
    img = rng.integers(0, 100, (H, W, 3)) + np.where(disc[..., None], [140, 20, 0], [0, 60, 110])
    return encoded(Image.fromarray(img.astype(np.uint8)), "JPEG", quality=90)


def truth() -> np.ndarray:
    yy, xx = np.mgrid[:H, :W]
    return np.asarray((xx - CX) ** 2 + (yy - CY) ** 2 <= R**2)


@pytest.fixture(scope="module")
def photo() -> bytes:
    return disc_photo()


def _setup(world: World, photo: bytes, **loop: Any) -> tuple[User, User, int, int]:
    owner, ann = world.user("owner"), world.user("ann")
    pid = world.project(owner, schema=SCHEMA, overlap=2, members={"annotator": (ann,)})
    world.client.patch(f"/api/projects/{pid}", headers=owner.headers, json={
        "loop": loop, "quality": {"gold_first": 0, "gold_rate": 0.0}})
    r = world.upload(owner, pid, zipped({"disc.jpg": photo, "small.png": encoded(Image.new("RGB", (40, 30)))}),
                     "photos.zip")
    assert r.status_code == 201, r.text
    items = {i["external_id"]: i["id"] for i in world.client.get(
        f"/api/projects/{pid}/items", headers=owner.headers).json()}
    return owner, ann, pid, items["disc.jpg"]


def _segment(world: World, user: User, pid: int, item: int, **body: Any) -> Any:
    return world.client.post(f"/api/projects/{pid}/items/{item}/segment", json=body, headers=user.headers)


def _hold(world: World, user: User, pid: int, item: int) -> None:
    """Lease tasks until the user holds `item` (the others are skipped)."""
    while (t := world.next(user, pid).json())["item_id"] != item:
        world.client.post(f"/api/projects/{pid}/items/{t['item_id']}/skip", json={}, headers=user.headers)


def test_a_box_becomes_a_mask_of_the_originals_size_from_grabcut_on_the_preview(world: World, photo: bytes) -> None:
    require_image_models()
    owner, ann, pid, item = _setup(world, photo)
    _hold(world, ann, pid, item)
    r = _segment(world, ann, pid, item, box=[CX - R - 60, CY - R - 60, CX + R + 60, CY + R + 60])
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["rle"]["size"] == [H, W] and got["worked_on"] == "preview" and got["segmenter"] == "grabcut"
    mask = decode_mask(got["rle"])
    disc = truth()
    assert got["area"] == int(mask.sum())
    assert (mask & disc).sum() / (mask | disc).sum() > 0.95
    # The proposal is a valid mask answer as it stands.
    s = world.submit(ann, pid, item, {"road": [{"label": "disc", "rle": got["rle"]}]})
    assert s.status_code == 201, s.text
    # Scribbles alone (a click on the object, one off it) work too; nothing lies outside a box.
    r = _segment(world, owner, pid, item, foreground=[[CX, CY]], background=[[50, 50]])
    assert r.status_code == 200 and decode_mask(r.json()["rle"])[CY, CX]
    r = _segment(world, owner, pid, item, box=[CX - R - 60, CY - R - 60, CX, CY + R + 60])  # the left half
    left = decode_mask(r.json()["rle"])
    assert left.sum() > 0.8 * disc[:, :CX].sum() and not left[:, CX:].any() and not left[: CY - R - 60].any()


def test_who_may_ask_for_a_mask(world: World, photo: bytes) -> None:
    owner, ann, pid, item = _setup(world, photo, segmenter="http://127.0.0.1:9")  # never reached
    outsider, reviewer = world.user("outsider"), world.user("rev")
    world.client.post(f"/api/projects/{pid}/members", json={"username": "rev", "role": "reviewer"},
                      headers=owner.headers)
    box = {"box": [10, 10, 20, 20]}
    assert _segment(world, outsider, pid, item, **box).status_code == 404
    r = _segment(world, ann, pid, item, **box)
    assert r.status_code == 409 and "not handed to you" in r.json()["error"]["message"]
    assert _segment(world, ann, pid, 10**6, **box).status_code == 404
    # Holding the item, the request reaches the (unreachable) segmenter: a 422 naming it.
    _hold(world, ann, pid, item)
    r = _segment(world, ann, pid, item, **box)
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "loop.segmenter"
    assert _segment(world, reviewer, pid, item, **box).status_code == 422  # any item: same answer
    world.client.put(f"/api/projects/{pid}/annotators/{ann.id}/pause", json={"paused": True},
                     headers=owner.headers)
    assert _segment(world, ann, pid, item, **box).status_code == 403


@pytest.mark.parametrize(("body", "field"), [
    ({"box": [10, 10, 3001, 20]}, "box"),
    ({"box": [30, 10, 20, 20]}, "box"),
    ({"foreground": [[10, 2001]]}, "foreground[0]"),
    ({"box": [1, 1, 5, 5], "background": [[1, 1], [3001, 0]]}, "background[1]"),
    ({"background": [[1, 1]]}, "box"),
    ({"box": [1, 1, 5, 5], "field": "caption"}, "field"),
])
def test_a_prompt_outside_the_image_is_refused_by_name(
        world: World, photo: bytes, body: dict[str, Any], field: str) -> None:
    owner, _, pid, item = _setup(world, photo)
    r = _segment(world, owner, pid, item, **body)
    assert r.status_code == 422, r.text
    assert [p["field"] for p in r.json()["error"]["problems"]] == [field]


def test_the_schema_refuses_malformed_prompts(world: World, photo: bytes) -> None:
    owner, _, pid, item = _setup(world, photo)
    for body in ({"box": [1, 2, 3]}, {"box": [1, 2, 3, -4]}, {"foreground": [[1, 2, 3]]}, {"colour": "red"}):
        assert _segment(world, owner, pid, item, **body).status_code == 422


def test_an_image_given_by_url_is_never_fetched(world: World) -> None:
    owner = world.user("owner")
    pid = world.project(owner, schema=SCHEMA)
    world.import_records(owner, pid, [{"id": "u", "photo": "https://example.com/a.jpg"}])
    item = world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()[0]["id"]
    r = _segment(world, owner, pid, item, box=[1, 1, 5, 5])
    assert r.status_code == 422 and "never fetched" in r.json()["error"]["problems"][0]["message"]


class Segmenter(JsonHandler):
    """A team's segmenter: fills the box it is given."""

    seen: ClassVar[list[dict[str, Any]]] = []
    size: ClassVar[tuple[int, int] | None] = None  # answer a mask of this (h, w) instead

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Segmenter.seen.append(body)
        with Image.open(io.BytesIO(base64.b64decode(body["image"]["content_base64"]))) as im:
            w, h = im.size
        mask = np.zeros(Segmenter.size or (h, w), dtype=bool)
        x1, y1, x2, y2 = (int(v) for v in body["box"])
        mask[y1:y2, x1:x2] = True
        self.reply_json({"rle": encode_mask(mask)})


@pytest.fixture
def segmenter_url() -> Iterator[str]:
    Segmenter.seen.clear()
    Segmenter.size = None
    with serving(Segmenter) as url:
        yield url


def test_a_teams_segmenter_gets_the_original_and_answers_at_its_size(
        world: World, photo: bytes, segmenter_url: str) -> None:
    owner, _, pid, item = _setup(world, photo, segmenter=segmenter_url)
    r = _segment(world, owner, pid, item, box=[100, 200, 400, 260])
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["worked_on"] == "original" and got["segmenter"] == f"http:{segmenter_url}"
    assert got["area"] == 300 * 60 and decode_mask(got["rle"])[200:260, 100:400].all()
    assert base64.b64decode(Segmenter.seen[0]["image"]["content_base64"]) == photo
    Segmenter.size = (10, 10)
    r = _segment(world, owner, pid, item, box=[1, 1, 5, 5])
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "rle.size"
