"""Keypoints: `{"label": "person", "points": {"nose": [x, y, v], ...}}` with the names of the
question's `skeleton: {points: [...], edges: [[a, b], ...]}`; `v` as in COCO: 0 not labelled,
1 labelled but hidden, 2 visible.

Canonical form: every skeleton point, a point left out or with v = 0 written [0, 0, 0] (as COCO
writes it; its coordinates mean nothing); labelled points lie inside the image; an object labels
at least one point.

Similarity is COCO's object keypoint similarity (Ronchi & Perona 2017, "Benchmarking and Error
Diagnosis in Multi-Instance Pose Estimation"), made symmetric for two annotators:

    OKS(a, b) = sum_i [both label i] exp(-d_i^2 / (2 s^2 k_i^2)) / sum_i [both label i]

d_i the distance between the two placements of point i, s^2 the mean area of the boxes around
each object's labelled points (at least 32^2 px^2, COCO's bound of a small object, so objects of
one or two points still have a scale), k_i = 2 sigma_i (the skeleton's `sigmas`, default 0.05
for every point); 0 when no point is labelled by both. COCO sums over the points the ground
truth labels, where a detector always places every point; between two annotators the points
both placed play that part (whether a point is labelled at all is settled by vote).

Consensus per point: labelled when the annotators who labelled it carry more weight than those
who did not; x and y the weighted medians of theirs; v the weighted vote between hidden (1) and
visible (2), a tie going to visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from labelloop.schema.label_type import ImageInfo, ValueProblem, register
from labelloop.schema.types.shapes.geometry import Floats, weighted_median
from labelloop.schema.types.shapes.objects import ShapeQuestion, ShapeType, check_inside, json_kind, number

DEFAULT_SIGMA = 0.05
MIN_AREA = 32.0**2
UNLABELLED = [0, 0, 0]

PointName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$")]


class Skeleton(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    points: list[PointName] = Field(min_length=1, max_length=200)
    edges: list[Annotated[list[PointName], Field(min_length=2, max_length=2)]] = Field(
        default_factory=list, max_length=1000
    )
    # Per-point spread for OKS, in the order of `points` (COCO's person sigmas run 0.025 to 0.107).
    sigmas: list[Annotated[float, Field(gt=0, le=1)]] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Skeleton:
        if len(set(self.points)) != len(self.points):
            raise ValueError("a point is listed twice")
        known = set(self.points)
        seen: set[frozenset[str]] = set()
        for a, b in self.edges:
            for name in (a, b):
                if name not in known:
                    raise ValueError(f"edge [{a}, {b}] names {name!r}, which is not a point")
            if a == b:
                raise ValueError(f"edge [{a}, {b}] joins a point to itself")
            if frozenset((a, b)) in seen:
                raise ValueError(f"edge [{a}, {b}] is listed twice")
            seen.add(frozenset((a, b)))
        if self.sigmas is not None and len(self.sigmas) != len(self.points):
            raise ValueError(f"sigmas has {len(self.sigmas)} values for {len(self.points)} points")
        return self


class KeypointsQuestion(ShapeQuestion):
    type: Literal["keypoints"] = "keypoints"
    skeleton: Skeleton

    @property
    def sigmas(self) -> Floats:
        given = self.skeleton.sigmas or [DEFAULT_SIGMA] * len(self.skeleton.points)
        return np.asarray(given, dtype=np.float64)


def as_array(shapes: Sequence[dict[str, list[float]]], names: Sequence[str]) -> Floats:
    """(objects, points, 3) array of canonical keypoint objects."""
    return np.array([[s[n] for n in names] for s in shapes], dtype=np.float64).reshape(-1, len(names), 3)


def oks(a: Floats, b: Floats, sigmas: Floats) -> Floats:
    """Symmetric OKS between every object of `a` (n, K, 3) and of `b` (m, K, 3)."""
    la, lb = a[..., 2] > 0, b[..., 2] > 0
    s2 = np.maximum((_box_area(a)[:, None] + _box_area(b)[None, :]) / 2, MIN_AREA)
    d2 = ((a[:, None, :, :2] - b[None, :, :, :2]) ** 2).sum(axis=-1)
    e = np.exp(-d2 / (2 * s2[..., None] * (2 * sigmas) ** 2))
    both = la[:, None, :] & lb[None, :, :]
    out: Floats = (e * both).sum(axis=-1) / np.maximum(both.sum(axis=-1), 1)
    return out


def _box_area(x: Floats) -> Floats:
    """Area of the box around each object's labelled points."""
    lab = x[..., 2] > 0
    lo = np.where(lab[..., None], x[..., :2], np.inf).min(axis=1)
    hi = np.where(lab[..., None], x[..., :2], -np.inf).max(axis=1)
    size = np.where(np.isfinite(hi - lo), hi - lo, 0.0)
    out: Floats = size[:, 0] * size[:, 1]
    return out


class Keypoints(ShapeType[KeypointsQuestion]):
    name = "keypoints"
    question_model = KeypointsQuestion
    shape_key = "points"
    soft_agreement = True

    def check_shape(self, question: KeypointsQuestion, raw: Any, image: ImageInfo | None) -> Any:
        names = question.skeleton.points
        if not isinstance(raw, dict):
            raise ValueProblem(f'expected an object of points {{"name": [x, y, v]}}, got {json_kind(raw)}')
        for name in raw:
            if name not in names:
                raise ValueProblem(
                    f"{name!r} is not a point of the skeleton (points: {', '.join(names)})", f".{name}"
                )
        out: dict[str, list[float]] = {}
        for name in names:
            given = raw.get(name)
            if given is None:
                out[name] = list(UNLABELLED)
                continue
            if not isinstance(given, list) or len(given) != 3:
                raise ValueProblem(f"expected [x, y, v], got {json_kind(given)}", f".{name}")
            v = given[2]
            if isinstance(v, bool) or v not in (0, 1, 2) or not isinstance(v, int):
                raise ValueProblem(f"v must be 0 (not labelled), 1 (hidden) or 2 (visible), got {v!r}",
                                   f".{name}[2]")
            x, y = number(given[0], f".{name}[0]"), number(given[1], f".{name}[1]")
            if v == 0:
                out[name] = list(UNLABELLED)
                continue
            check_inside(x, y, image, ("x", "y"), f".{name}")
            out[name] = [x, y, v]
        if all(p[2] == 0 for p in out.values()):
            raise ValueProblem("no point is labelled: give at least one with v = 1 or 2")
        return out

    def similarity(self, question: KeypointsQuestion, a: Sequence[Any], b: Sequence[Any]) -> Floats:
        names = question.skeleton.points
        return oks(as_array(a, names), as_array(b, names), question.sigmas)

    def fuse(
        self, question: KeypointsQuestion, shapes: Sequence[Any], weights: Sequence[float], similarity: Floats
    ) -> Any:
        out: dict[str, list[float]] = {}
        for name in question.skeleton.points:
            placed = [(s[name], w) for s, w in zip(shapes, weights, strict=True) if s[name][2] > 0]
            if sum(w for _, w in placed) <= sum(weights) / 2:
                out[name] = list(UNLABELLED)
                continue
            ws = [w for _, w in placed]
            visible = sum(w for p, w in placed if p[2] == 2)
            out[name] = [
                weighted_median([p[0] for p, _ in placed], ws),
                weighted_median([p[1] for p, _ in placed], ws),
                2 if visible >= sum(ws) / 2 else 1,
            ]
        return None if all(p[2] == 0 for p in out.values()) else out


register(Keypoints())
