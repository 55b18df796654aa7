"""Axis-aligned boxes: `{"label": "car", "box": [x1, y1, x2, y2]}`, x1 < x2 and y1 < y2, in pixels.

Consensus fuses matched boxes by the weighted mean of each coordinate; agreement is F1 at IoU
0.5 (PASCAL VOC's criterion, Everingham et al. 2010).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from labelloop.schema.label_type import ImageInfo, ValueProblem, register
from labelloop.schema.types.shapes.geometry import Floats, box_iou
from labelloop.schema.types.shapes.objects import ShapeQuestion, ShapeType, check_inside, numbers


class BBoxQuestion(ShapeQuestion):
    type: Literal["bbox"] = "bbox"


def weighted_mean(rows: Sequence[Sequence[float]], weights: Sequence[float]) -> list[float]:
    """Column-wise weighted mean, taken as offsets from the first row so that equal rows give that
    row back exactly (a plain sum(w x) / sum(w) can miss it by a rounding)."""
    x = np.asarray(rows, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    mean = x[0] + (w @ (x - x[0])) / w.sum()
    return [float(v) for v in mean]


class BBox(ShapeType[BBoxQuestion]):
    name = "bbox"
    question_model = BBoxQuestion
    shape_key = "box"

    def check_shape(self, question: BBoxQuestion, raw: Any, image: ImageInfo | None) -> Any:
        x1, y1, x2, y2 = numbers(raw, 4, "[x1, y1, x2, y2]")
        check_inside(x1, y1, image, ("x1", "y1"), "")
        check_inside(x2, y2, image, ("x2", "y2"), "")
        if not x1 < x2:
            raise ValueProblem(f"x2 = {x2} must be larger than x1 = {x1}")
        if not y1 < y2:
            raise ValueProblem(f"y2 = {y2} must be larger than y1 = {y1}")
        return [x1, y1, x2, y2]

    def similarity(self, question: BBoxQuestion, a: Sequence[Any], b: Sequence[Any]) -> Floats:
        return box_iou(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))

    def fuse(
        self, question: BBoxQuestion, shapes: Sequence[Any], weights: Sequence[float], similarity: Floats
    ) -> Any:
        return weighted_mean(shapes, weights)


register(BBox())
