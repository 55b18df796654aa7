"""Polylines: `{"label": "lane", "points": [[x, y], ...]}`: at least 2 distinct points inside the
image (lanes, wires, edges, scribbles).

Two lines are compared by their symmetric mean distance d (`geometry.polyline_distance`: points
spread evenly along each, their mean distance to the other line, both ways averaged) relative to
their mean length L: similarity = max(0, 1 - d / (0.1 L)), so two lines are the same object
(similarity >= 0.5) when they stay within 5% of their length of each other on average.
Consensus keeps the medoid of each matched group: the line with the lowest weighted mean
distance to the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from labelloop.schema.label_type import ImageInfo, ValueProblem, register
from labelloop.schema.types.shapes.geometry import Floats, polyline_distance, polyline_length
from labelloop.schema.types.shapes.objects import ShapeQuestion, ShapeType, point_list
from labelloop.schema.types.shapes.polygon import medoid, pairwise_similarity

# The share of a line's length that its mean distance from another may reach before the two
# lines have nothing in common (similarity 0); half of it is the matching threshold.
TOLERANCE = 0.1


class PolylineQuestion(ShapeQuestion):
    type: Literal["polyline"] = "polyline"


def line_similarity(a: Floats, b: Floats) -> float:
    if a.shape == b.shape and np.array_equal(a, b):
        return 1.0
    scale = max(TOLERANCE * (polyline_length(a) + polyline_length(b)) / 2, 1e-9)
    return max(0.0, 1.0 - polyline_distance(a, b) / scale)


class Polyline(ShapeType[PolylineQuestion]):
    name = "polyline"
    question_model = PolylineQuestion
    shape_key = "points"

    def check_shape(self, question: PolylineQuestion, raw: Any, image: ImageInfo | None) -> Any:
        points = point_list(raw, 2, image)
        if all(p == points[0] for p in points):
            raise ValueProblem("a polyline needs at least 2 distinct points")
        return points

    def similarity(self, question: PolylineQuestion, a: Sequence[Any], b: Sequence[Any]) -> Floats:
        # Lines within the tolerance of each other may have bounds that do not overlap.
        margin = np.array([TOLERANCE * polyline_length(np.asarray(x, dtype=np.float64)) for x in a])
        return pairwise_similarity(a, b, line_similarity, margin)

    def fuse(
        self, question: PolylineQuestion, shapes: Sequence[Any], weights: Sequence[float], similarity: Floats
    ) -> Any:
        lines = [np.asarray(s, dtype=np.float64) for s in shapes]
        distance = np.array([[polyline_distance(a, b) for b in lines] for a in lines])
        return shapes[medoid(-distance, weights)]


register(Polyline())
