"""Rotated boxes: `{"label": "ship", "box": [cx, cy, w, h, angle]}`: centre, width and height in
pixels, turned `angle` degrees clockwise on screen, angle in (-180, 180]; every corner inside
the image.

The same rectangle has four names ((w, h, a), (w, h, a + 180), (h, w, a + 90), (h, w, a - 90)),
so consensus first brings each matched box to the name closest to the most trusted one's angle,
then takes weighted means of centre, size and angle. Similarity is the exact IoU of the
rectangles as polygons (`geometry.polygon_iou`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from labelloop.schema.label_type import ImageInfo, ValueProblem, register
from labelloop.schema.types.shapes import shape_match
from labelloop.schema.types.shapes.bbox import weighted_mean
from labelloop.schema.types.shapes.geometry import Floats, bounds, polygon_iou, rotated_corners
from labelloop.schema.types.shapes.objects import ShapeQuestion, ShapeType, numbers

# Corners computed with cos and sin may stray past an edge they lie on by a rounding.
_SLACK = 1e-6
_CORNERS = ("top-left", "top-right", "bottom-right", "bottom-left")


class RotatedBBoxQuestion(ShapeQuestion):
    type: Literal["rotated_bbox"] = "rotated_bbox"


def corners(box: Sequence[float]) -> Floats:
    cx, cy, w, h, angle = box
    return rotated_corners(cx, cy, w, h, angle)


def _in_range(angle: float) -> float:
    """The same direction as an angle in (-180, 180]."""
    angle = angle % 360.0
    return angle - 360.0 if angle > 180.0 else angle


class RotatedBBox(ShapeType[RotatedBBoxQuestion]):
    name = "rotated_bbox"
    question_model = RotatedBBoxQuestion
    shape_key = "box"

    def check_shape(self, question: RotatedBBoxQuestion, raw: Any, image: ImageInfo | None) -> Any:
        cx, cy, w, h, angle = numbers(raw, 5, "[cx, cy, w, h, angle]")
        if not w > 0:
            raise ValueProblem(f"the width w = {w} must be positive")
        if not h > 0:
            raise ValueProblem(f"the height h = {h} must be positive")
        if not -180 < angle <= 180:
            raise ValueProblem(f"the angle {angle} must be in (-180, 180] degrees")
        if image is not None:
            for name, (x, y) in zip(_CORNERS, corners([cx, cy, w, h, angle]), strict=True):
                if not (-_SLACK <= x <= image.width + _SLACK and -_SLACK <= y <= image.height + _SLACK):
                    raise ValueProblem(
                        f"the {name} corner ({x:.6g}, {y:.6g}) is outside the image "
                        f"({image.width} x {image.height})"
                    )
        return [cx, cy, w, h, angle]

    def similarity(self, question: RotatedBBoxQuestion, a: Sequence[Any], b: Sequence[Any]) -> Floats:
        ca, cb = [corners(x) for x in a], [corners(x) for x in b]
        ba = np.array([bounds(c) for c in ca]).reshape(-1, 4)
        bb = np.array([bounds(c) for c in cb]).reshape(-1, 4)
        return shape_match.pairwise(a, b, ba, bb, lambda i, j: polygon_iou(ca[i], cb[j]))

    def fuse(
        self, question: RotatedBBoxQuestion, shapes: Sequence[Any], weights: Sequence[float],
        similarity: Floats,
    ) -> Any:
        ref = shapes[0][4]
        rows = []
        for cx, cy, w, h, angle in shapes:
            turn = _in_range(angle - ref)
            if abs(turn) > 90:  # the same box, named from its other side
                turn -= 180 if turn > 0 else -180
            if abs(turn) > 45:  # closer as the box a quarter turn away with w and h swapped
                w, h = h, w
                turn -= 90 if turn > 0 else -90
            rows.append([cx, cy, w, h, turn])
        cx, cy, w, h, turn = weighted_mean(rows, weights)
        return [cx, cy, w, h, _in_range(ref + turn) if turn else ref]


register(RotatedBBox())
