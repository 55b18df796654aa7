"""The offline COCO detector (SSD-MobileNet-v2 with OpenCV) on real photos, and the Detector interface."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from functools import cache

import numpy as np
import pytest
from skimage import data

from labelloop.learn import COCO_CLASSES, CocoDetector, Detection, Detector
from labelloop.learn.images.inputs import ImageInput
from tests.learn.image_models import require_image_models


@cache
def detector(threshold: float = 0.5) -> CocoDetector:
    require_image_models()
    return CocoDetector(threshold=threshold)


def inside(d: Detection, w: int, h: int) -> bool:
    x1, y1, x2, y2 = d.box
    return 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h


def test_the_coco_class_list_has_the_80_categories_by_their_ids() -> None:
    assert len(COCO_CLASSES) == 80 and len(set(COCO_CLASSES.values())) == 80
    assert min(COCO_CLASSES) == 1 and max(COCO_CLASSES) == 90
    assert COCO_CLASSES[1] == "person" and COCO_CLASSES[17] == "cat" and COCO_CLASSES[18] == "dog"
    assert COCO_CLASSES[47] == "cup" and COCO_CLASSES[90] == "toothbrush"
    assert not {12, 26, 29, 30, 45, 66, 68, 69, 71, 83} & set(COCO_CLASSES)  # never used by COCO


def test_finds_the_astronaut_and_the_cat_with_boxes_inside_the_image() -> None:
    astronaut, chelsea = data.astronaut(), data.chelsea()
    found = detector().detect([astronaut, chelsea])
    assert len(found) == 2
    person = [d for d in found[0] if d.label == "person"]
    assert person and person[0].score > 0.7
    h, w = astronaut.shape[:2]
    assert all(inside(d, w, h) for d in found[0])
    # The astronaut fills most of the frame, top to bottom.
    x1, y1, x2, y2 = person[0].box
    assert y2 - y1 > 0.8 * h and x2 - x1 > 0.5 * w
    cat = [d for d in found[1] if d.label == "cat"]
    h, w = chelsea.shape[:2]  # 300 x 451: x scales by the width, y by the height
    assert cat and cat[0].score > 0.8
    assert all(inside(d, w, h) for d in found[1])
    x1, y1, x2, y2 = cat[0].box
    assert x2 - x1 > 0.7 * w and y2 - y1 > 0.8 * h and x2 > w / 2
    # Best score first, and boxes in the bbox answer's format.
    assert [d.score for d in found[1]] == sorted((d.score for d in found[1]), reverse=True)
    assert cat[0].as_object() == {"label": "cat", "box": list(cat[0].box)}


def test_a_mirrored_photo_gives_the_mirrored_box() -> None:
    chelsea = data.chelsea()
    w = chelsea.shape[1]
    cat = next(d for d in detector().detect_one(chelsea) if d.label == "cat")
    flipped = next(d for d in detector().detect_one(chelsea[:, ::-1]) if d.label == "cat")
    x1, y1, x2, y2 = cat.box
    f1, g1, f2, g2 = flipped.box
    assert abs((w - x2) - f1) < 0.05 * w and abs((w - x1) - f2) < 0.05 * w
    assert abs(y1 - g1) < 15 and abs(y2 - g2) < 15


def test_the_file_bytes_give_what_the_decoded_array_gives() -> None:
    require_image_models()
    import cv2

    chelsea = data.chelsea()
    ok, png = cv2.imencode(".png", chelsea[:, :, ::-1])
    assert ok
    from_bytes = detector().detect([png.tobytes()])[0]
    assert from_bytes == detector().detect([chelsea])[0]


def test_the_label_map_renames_and_keeps_only_its_classes() -> None:
    require_image_models()
    chelsea = data.chelsea()
    mapped = CocoDetector(labels={"cat": "feline", "dog": "canine"}, threshold=0.3).detect_one(chelsea)
    plain = [d for d in CocoDetector(threshold=0.3).detect_one(chelsea) if d.label in ("cat", "dog")]
    assert {d.label for d in mapped} == {"feline"}
    assert [(d.box, d.score) for d in mapped] == [(d.box, d.score) for d in plain if d.label == "cat"]
    assert CocoDetector(labels={"toothbrush": "brush"}).detect_one(chelsea) == []
    # Several COCO classes may map onto one label of the project.
    both = CocoDetector(labels={"cup": "tableware", "bowl": "tableware"}, threshold=0.5).detect_one(data.coffee())
    assert len(both) >= 2 and {d.label for d in both} == {"tableware"}
    with pytest.raises(ValueError, match="'catt'"):
        CocoDetector(labels={"catt": "feline"})


def test_the_threshold_drops_weaker_detections() -> None:
    require_image_models()
    chelsea = data.chelsea()
    low = CocoDetector(threshold=0.05).detect_one(chelsea)
    high = CocoDetector(threshold=0.95).detect_one(chelsea)
    cat_score = max(d.score for d in low if d.label == "cat")
    assert all(d.score >= 0.05 for d in low) and len(low) > len(detector().detect_one(chelsea))
    assert all(d.score >= 0.95 for d in high) and cat_score < 0.95 and not any(d.label == "cat" for d in high)
    with pytest.raises(ValueError, match="threshold"):
        CocoDetector(threshold=1.5)


def test_bad_images_are_refused_by_name() -> None:
    require_image_models()
    with pytest.raises(ValueError, match="not a readable image"):
        detector().detect([b"GIF89a but not really"])
    with pytest.raises(ValueError, match="shape"):
        detector().detect([np.zeros((4, 4, 2), dtype=np.uint8)])
    with pytest.raises(TypeError):
        detector().detect(["blob:abc"])  # type: ignore[list-item]


class FixedDetector:
    """A team's own detector needs only `name` and `detect`."""

    name = "fixed"

    def detect(self, images: Sequence[ImageInput]) -> list[list[Detection]]:
        return [[Detection("thing", (0.0, 0.0, 1.0, 1.0), 1.0)] for _ in images]


def test_the_detector_interface_is_met_by_any_class_with_detect() -> None:
    assert isinstance(FixedDetector(), Detector)
    assert isinstance(detector(), Detector)


def test_importing_learn_loads_neither_opencv_nor_litert() -> None:
    code = "import sys, labelloop.learn; print(sorted(m for m in ('cv2', 'ai_edge_litert') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_without_the_extra_every_image_model_says_what_to_install() -> None:
    code = """
import sys
sys.modules['cv2'] = None          # as if the images-models extra were not installed
sys.modules['ai_edge_litert'] = None
import numpy as np
from labelloop.learn import CocoDetector, default_image_encoder, get_encoder, grabcut_mask
for make in (CocoDetector, lambda: get_encoder('efficientnet-lite3'),
             lambda: grabcut_mask(np.zeros((8, 8, 3), np.uint8), box=[1, 1, 6, 6])):
    try:
        make()
    except ImportError as e:
        print('hint' if "labelloop[images-models]" in str(e) else 'no hint: ' + str(e))
print(type(default_image_encoder()).__name__)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["hint", "hint", "hint", "ImageFeatureEncoder"]
