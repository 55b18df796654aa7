"""Image models behind the loop's interfaces: a team's detector and segmenter over HTTP (a real
local server speaking docs/loop.md's protocol), the built-in GrabCut segmenter, and choosing one."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

import numpy as np
import pytest
from PIL import Image

from labelloop.errors import Invalid
from labelloop.learn import Detection, Detector
from labelloop.schema.types.shapes.rle import decode_mask, encode_mask
from labelloop.services.loop.models import (
    GrabCutSegmenter,
    HttpDetector,
    HttpSegmenter,
    Segmenter,
    detector_for,
    segmenter_for,
)
from tests.learn.image_models import require_image_models
from tests.platform.stub_http import serving


def png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


class ImageModelServer(BaseHTTPRequestHandler):
    """A detector that boxes the image's brightest quarter, and a segmenter that fills the box."""

    seen: ClassVar[list[dict[str, Any]]] = []
    answer: ClassVar[dict[str, Any] | None] = None  # when set, sent instead of the real answer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ImageModelServer.seen.append({"path": self.path, **body})
        if self.path == "/detect":
            answer: Any = {"detections": [self.detect(item) for item in body["items"]]}
        elif self.path == "/segment":
            answer = self.segment(body)
        else:
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps(ImageModelServer.answer or answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    @staticmethod
    def image(ref: dict[str, str]) -> np.ndarray:
        data = base64.b64decode(ref["content_base64"])
        assert ref["ref"] == f"blob:{hashlib.sha256(data).hexdigest()}"
        return np.asarray(Image.open(io.BytesIO(data)).convert("L"))

    def detect(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        img = self.image(item["image"])
        h, w = img.shape
        quarters = {(x, y): img[y : y + h // 2, x : x + w // 2].mean() for x in (0, w // 2) for y in (0, h // 2)}
        x, y = max(quarters, key=lambda k: quarters[k])
        return [{"label": "bright", "box": [x, y, x + w // 2, y + h // 2], "score": 0.9},
                {"label": "dark", "box": [0, 0, 1, 1], "score": 0.2}]

    def segment(self, body: dict[str, Any]) -> dict[str, Any]:
        img = self.image(body["image"])
        mask = np.zeros(img.shape, dtype=bool)
        x1, y1, x2, y2 = (int(v) for v in body["box"])
        mask[y1:y2, x1:x2] = True
        return {"rle": encode_mask(mask)}

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def url() -> Iterator[str]:
    ImageModelServer.seen.clear()
    ImageModelServer.answer = None
    with serving(ImageModelServer) as url:
        yield url
    ImageModelServer.answer = None


def picture(bright_x: int, bright_y: int) -> bytes:
    img = np.full((40, 60, 3), 30, dtype=np.uint8)
    img[bright_y : bright_y + 20, bright_x : bright_x + 30] = 250
    return png(img)


def test_a_teams_detector_over_http(url: str) -> None:
    detector = HttpDetector(url, labels=["bright", "dark"], question="objects", threshold=0.5)
    assert isinstance(detector, Detector)
    files = [picture(30, 0), picture(0, 20)]
    found = detector.detect(files, items=[{"id": "a", "data": {"photo": "blob:x"}}, {"id": "b", "data": {}}])
    assert found == [[Detection("bright", (30.0, 0.0, 60.0, 20.0), 0.9)],
                     [Detection("bright", (0.0, 20.0, 30.0, 40.0), 0.9)]]
    sent = ImageModelServer.seen[0]
    assert sent["path"] == "/detect" and sent["question"] == "objects" and sent["labels"] == ["bright", "dark"]
    assert [i["id"] for i in sent["items"]] == ["a", "b"] and sent["items"][0]["data"] == {"photo": "blob:x"}
    # Without a threshold, weaker detections come too, best first.
    assert [d.label for d in HttpDetector(url).detect(files[:1])[0]] == ["bright", "dark"]
    with pytest.raises(TypeError, match="bytes"):
        detector.detect([np.zeros((4, 4, 3), dtype=np.uint8)])


@pytest.mark.parametrize(("answer", "field"), [
    ({"detections": []}, "detections"),
    ({"detections": [[{"label": "cat", "box": [0, 0, 1, 1]}]]}, "detections[0][0].label"),
    ({"detections": [[{"label": "bright", "box": [5, 0, 1, 1]}]]}, "detections[0][0].box"),
    ({"detections": [[{"label": "bright", "box": [0, 0, 1, "x"]}]]}, "detections[0][0].box"),
    ({"detections": [[{"label": "bright", "box": [0, 0, 1, 1], "score": 3}]]}, "detections[0][0].score"),
    ({"detections": [{"label": "bright"}]}, "detections[0]"),
])
def test_a_bad_detector_answer_is_refused_by_name(url: str, answer: dict[str, Any], field: str) -> None:
    ImageModelServer.answer = answer
    with pytest.raises(Invalid) as e:
        HttpDetector(url, labels=["bright"]).detect([picture(0, 0)])
    assert e.value.problems[0].field == field


def test_a_teams_segmenter_over_http(url: str) -> None:
    segmenter = segmenter_for(url)
    assert isinstance(segmenter, HttpSegmenter) and isinstance(segmenter, Segmenter)
    rle = segmenter.segment(picture(0, 0), box=[10, 5, 30, 25], foreground=[[12, 7]], background=[[1, 1]])
    mask = decode_mask(rle)
    assert mask.shape == (40, 60) and mask.sum() == 400 and mask[5:25, 10:30].all()
    sent = ImageModelServer.seen[0]
    assert sent["path"] == "/segment" and sent["box"] == [10.0, 5.0, 30.0, 25.0]
    assert sent["foreground"] == [[12.0, 7.0]] and sent["background"] == [[1.0, 1.0]]


@pytest.mark.parametrize(("answer", "field"), [
    ({"mask": {}}, "rle"),
    ({"rle": {"size": [40, 60], "counts": [2400]}}, "rle"),
    ({"rle": {"size": [40, 60], "counts": "0\x7f"}}, "rle.counts"),
    ({"rle": {"size": [40, 61], "counts": encode_mask(np.zeros((40, 60), dtype=bool))["counts"]}}, "rle.counts"),
])
def test_a_bad_segmenter_answer_is_refused_by_name(url: str, answer: dict[str, Any], field: str) -> None:
    ImageModelServer.answer = answer
    with pytest.raises(Invalid) as e:
        HttpSegmenter(url).segment(picture(0, 0), box=[1, 1, 5, 5])
    assert e.value.problems[0].field == field


def test_an_unreachable_model_is_a_clear_error() -> None:
    with pytest.raises(Invalid, match="could not be reached") as e:
        HttpSegmenter("http://127.0.0.1:9").segment(picture(0, 0), box=[1, 1, 5, 5])
    assert e.value.problems[0].field == "loop.segmenter"


def test_the_built_in_grabcut_segmenter_answers_rle() -> None:
    require_image_models()
    yy, xx = np.mgrid[:200, :300]
    disc = (xx - 150) ** 2 + (yy - 100) ** 2 <= 50**2
    rng = np.random.default_rng(0)
    img = (rng.integers(0, 120, (200, 300, 3)) + np.where(disc[..., None], [120, 0, 0], [0, 60, 90])).astype(np.uint8)
    segmenter = segmenter_for("grabcut")
    assert isinstance(segmenter, GrabCutSegmenter) and isinstance(segmenter, Segmenter)
    rle = segmenter.segment(png(img), box=[90, 40, 210, 160])
    assert rle["size"] == [200, 300] and isinstance(rle["counts"], str)
    mask = decode_mask(rle)
    assert (mask & disc).sum() / (mask | disc).sum() > 0.9
    with pytest.raises(Invalid) as e:
        segmenter.segment(png(img), background=[[1, 1]])
    assert e.value.problems[0].field == "prompt"


def test_models_are_chosen_by_name() -> None:
    assert isinstance(detector_for("https://models.example.internal/x", labels=["car"]), HttpDetector)
    for bad in ("yolo", "python:no-such-detector"):
        with pytest.raises(Invalid) as e:
            detector_for(bad)
        assert e.value.problems[0].field == "loop.detector"
    with pytest.raises(Invalid) as e:
        segmenter_for("sam")
    assert e.value.problems[0].field == "loop.segmenter"
    require_image_models()
    coco = detector_for("coco", label_map={"cat": "feline"}, threshold=0.4)
    assert isinstance(coco, Detector) and coco.name == "coco-ssd-mobilenet-v2"
    with pytest.raises(Invalid, match="bad detector settings") as e:
        detector_for("coco", label_map={"kitten": "feline"})
    assert "'kitten'" in e.value.problems[0].message
