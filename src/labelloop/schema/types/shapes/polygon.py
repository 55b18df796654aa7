"""Polygons: `{"label": "roof", "points": [[x, y], ...]}`: at least 3 points inside the image, no
point repeating the one before it (nor the last the first: the outline closes by itself), and a
non-zero area.

Similarity is the exact IoU of the outlines (`geometry.polygon_iou`, even-odd rule). Outlines
cannot be averaged point by point (annotators place different numbers of points in different
places), so consensus keeps the medoid of each matched group: the outline with the highest
weighted mean IoU with the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from labelloop.schema.label_type import ImageInfo, ValueProblem, register
from labelloop.schema.types.shapes import shape_match
from labelloop.schema.types.shapes.geometry import Floats, bounds, polygon_iou, shoelace_area
from labelloop.schema.types.shapes.objects import ShapeQuestion, ShapeType, point_list


class PolygonQuestion(ShapeQuestion):
    type: Literal["polygon"] = "polygon"


def medoid(similarity: Floats, weights: Sequence[float]) -> int:
    """Index of the member with the highest weighted mean similarity to the others (the first
    of equals, so the most trusted)."""
    n = len(weights)
    if n == 1:
        return 0
    w = np.asarray(weights, dtype=np.float64)
    off = similarity * (1 - np.eye(n))
    score = (off @ w) / np.maximum(w.sum() - w, 1e-300)
    return int(np.argmax(score))


def pairwise_similarity(
    a: Sequence[Any], b: Sequence[Any], score: Any, margin: float | Floats = 0.0
) -> Floats:
    pa = [np.asarray(x, dtype=np.float64) for x in a]
    pb = [np.asarray(x, dtype=np.float64) for x in b]
    ba = np.array([bounds(p) for p in pa]).reshape(-1, 4)
    bb = np.array([bounds(p) for p in pb]).reshape(-1, 4)
    return shape_match.pairwise(a, b, ba, bb, lambda i, j: score(pa[i], pb[j]), margin)


class Polygon(ShapeType[PolygonQuestion]):
    name = "polygon"
    question_model = PolygonQuestion
    shape_key = "points"

    def check_shape(self, question: PolygonQuestion, raw: Any, image: ImageInfo | None) -> Any:
        points = point_list(raw, 3, image)
        for i in range(len(points)):
            if points[i] == points[i - 1]:
                if i == 0:
                    raise ValueProblem(
                        "the last point repeats the first; a polygon closes by itself", f"[{len(points) - 1}]"
                    )
                raise ValueProblem(f"point {i} repeats the point before it", f"[{i}]")
        p = np.asarray(points, dtype=np.float64)
        # Zero up to rounding: points on one line may leave a few ulps of area behind.
        if abs(shoelace_area(p)) <= 1e-9 * float(np.ptp(p, axis=0) @ np.ptp(p, axis=0)):
            raise ValueProblem("the polygon has no area (its points are on one line)")
        return points

    def similarity(self, question: PolygonQuestion, a: Sequence[Any], b: Sequence[Any]) -> Floats:
        return pairwise_similarity(a, b, polygon_iou)

    def fuse(
        self, question: PolygonQuestion, shapes: Sequence[Any], weights: Sequence[float], similarity: Floats
    ) -> Any:
        return shapes[medoid(similarity, weights)]  # the IoUs matching measured


register(Polygon())
