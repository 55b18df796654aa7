"""What every shape label type shares: object classes, per-object attributes, the list of
objects and its checks, and per-item consensus and agreement by matching objects.

A shape question (`bbox`, `rotated_bbox`, `polygon`, `polyline`, `keypoints`, `mask`) targets an
image field; its value is a list of objects `{"label": class, <shape key>: shape, "attributes":
{...}}` ("nothing here" is the empty list). Coordinates are pixels of the image as displayed,
origin top-left (docs/images.md). A subclass says how one shape is checked (`check_shape`), how
alike two shapes are (`similarity`, in [0, 1]) and how several are fused into one (`fuse`).

Consensus of one item (`aggregate`): objects are matched across annotators (`shape_match.cluster`:
Hungarian assignment, one object per annotator per cluster, similarity at least `threshold`);
a cluster is kept when the annotators who drew it carry more than half of the total weight, its
shape fused from theirs, its class and each attribute by weighted vote. Confidence is the mean
over clusters of the winning side's share (keep or drop), 1 when nobody drew anything.
Agreement: the mean over items of pairwise F1 of matched objects of the same class.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Annotated, Any, ClassVar, Self, TypeVar

import numpy as np
from pydantic import Field, model_validator

from labelloop.schema.label_type import (
    Aggregate,
    ImageInfo,
    LabelType,
    Target,
    ValueProblem,
    get_type,
    pairwise_mean,
    weights_or_ones,
)
from labelloop.schema.types.choices.choice import ChoiceQuestion
from labelloop.schema.types.shapes import shape_match
from labelloop.schema.types.shapes.geometry import Floats
from labelloop.schema.types.text.free_text import FreeTextQuestion
from labelloop.schema.types.text.spans import LabelledQuestion
from labelloop.schema.types.text.spans import SpanLabel as ObjectClass

# Points of one polygon or polyline: far more than any hand draws, few enough to check quickly.
MAX_POINTS = 10_000

Attribute = Annotated[ChoiceQuestion | FreeTextQuestion, Field(discriminator="type")]


class ObjectsQuestion(LabelledQuestion):
    """Labelled objects, each with the sub-questions (`choice` or `text`) the question declares as
    its attributes, answered per object: shapes, audio segments."""

    object_noun: ClassVar[str] = "object"
    labels: list[ObjectClass] = Field(min_length=1, max_length=1000)
    attributes: list[Attribute] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _unique_attributes(self) -> Self:
        names = [a.name for a in self.attributes]
        if len(set(names)) != len(names):
            raise ValueError("two attributes have the same name")
        if any(a.target is not None for a in self.attributes):
            raise ValueError(f"an attribute is about its {self.object_noun}: it takes no 'target'")
        return self

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(lab.value for lab in self.labels)


class ShapeQuestion(ObjectsQuestion):
    """Options of every shape question."""

    max_objects: int = Field(1000, ge=1, le=100_000)


SQ = TypeVar("SQ", bound=ShapeQuestion)


def check_attributes(attributes: Sequence[Attribute], raw: Any, at: str) -> dict[str, Any]:
    """An object's attributes checked against those its question declares (shapes, audio segments):
    unknown names refused, required ones present, each value by its own question type."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValueProblem(f"expected an object of attributes, got {json_kind(raw)}", at)
    declared = {a.name: a for a in attributes}
    for name in raw:
        if name not in declared:
            known = ", ".join(declared) or "none declared"
            raise ValueProblem(f"no attribute {name!r} (attributes: {known})", f"{at}.{name}")
    out: dict[str, Any] = {}
    for name, spec in declared.items():
        value = raw.get(name)
        if value is None:
            if spec.required:
                raise ValueProblem("an answer is required", f"{at}.{name}")
            continue
        try:
            out[name] = get_type(spec.type).validate(spec, value)
        except ValueProblem as e:
            raise ValueProblem(e.message, f"{at}.{name}{e.path}") from None
    return out


def json_kind(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    for kind, name in ((bool, "boolean"), (int | float, "number"), (str, "string"), (list, "array"),
                       (dict, "object")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def number(raw: Any, path: str = "") -> float:
    """A finite JSON number, returned as given (an int stays an int)."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValueProblem(f"expected a number, got {json_kind(raw)}", path)
    try:
        finite = math.isfinite(raw)
    except OverflowError:  # an integer too large for a float
        finite = False
    if not finite:
        raise ValueProblem("must be a finite number", path)
    return raw


def numbers(raw: Any, count: int, what: str, path: str = "") -> list[float]:
    if not isinstance(raw, list) or len(raw) != count:
        raise ValueProblem(f"expected {what}, got {json_kind(raw)}", path)
    return [number(v, f"{path}[{i}]") for i, v in enumerate(raw)]


def check_inside(x: float, y: float, image: ImageInfo | None, names: tuple[str, str], path: str) -> None:
    """Refuse a point outside [0, width] x [0, height] (nothing to check when the size is unknown)."""
    if image is None:
        return
    if not 0 <= x <= image.width:
        raise ValueProblem(f"{names[0]} = {x} is outside the image (0 to {image.width})", path)
    if not 0 <= y <= image.height:
        raise ValueProblem(f"{names[1]} = {y} is outside the image (0 to {image.height})", path)


def point_list(raw: Any, least: int, image: ImageInfo | None) -> list[list[float]]:
    """A list of [x, y] points inside the image: at least `least`, at most MAX_POINTS."""
    if not isinstance(raw, list):
        raise ValueProblem(f"expected a list of [x, y] points, got {json_kind(raw)}")
    if not least <= len(raw) <= MAX_POINTS:
        raise ValueProblem(f"needs {least} to {MAX_POINTS} points, got {len(raw)}")
    out = []
    for i, p in enumerate(raw):
        x, y = numbers(p, 2, "a point [x, y]", f"[{i}]")
        check_inside(x, y, image, ("x", "y"), f"[{i}]")
        out.append([x, y])
    return out


class ShapeType(LabelType[SQ]):
    """Base of the shape label types; subclasses set `shape_key` and the three shape hooks."""

    target_kinds = frozenset({"image"})
    target_required = True
    shape_key: ClassVar[str]
    # Two objects are the same one when their similarity reaches this (IoU 0.5, OKS 0.5).
    threshold: ClassVar[float] = 0.5
    # Agreement counts a matched pair by its similarity rather than as one (OKS-weighted F1).
    soft_agreement: ClassVar[bool] = False

    def check_shape(self, question: SQ, raw: Any, image: ImageInfo | None) -> Any:
        """The canonical shape, or ValueProblem with a path inside the shape."""
        raise NotImplementedError

    def similarity(self, question: SQ, a: Sequence[Any], b: Sequence[Any]) -> Floats:
        """(len(a), len(b)) similarities in [0, 1] between canonical shapes."""
        raise NotImplementedError

    def fuse(
        self, question: SQ, shapes: Sequence[Any], weights: Sequence[float], similarity: Floats
    ) -> Any | None:
        """One shape from matched shapes (most trusted first), or None when they leave none;
        `similarity` is theirs to each other as matching measured it (1 on the diagonal)."""
        raise NotImplementedError

    # -- validation -------------------------------------------------------------------------
    def validate(self, question: SQ, value: Any, target: Target = None) -> Any:
        """The objects in the order given, each checked against the image when its size is known."""
        image = target if isinstance(target, ImageInfo) else None
        if not isinstance(value, list):
            raise ValueProblem(f"expected a list of objects, got {json_kind(value)}")
        if len(value) > question.max_objects:
            raise ValueProblem(f"at most {question.max_objects} objects, got {len(value)}")
        return [self._object(question, obj, image, f"[{i}]") for i, obj in enumerate(value)]

    def _object(self, question: SQ, obj: Any, image: ImageInfo | None, at: str) -> dict[str, Any]:
        key = self.shape_key
        if not isinstance(obj, dict):
            raise ValueProblem(f'an object is {{"label": ..., "{key}": ...}}, got {json_kind(obj)}', at)
        for k in obj:
            if k not in ("label", key, "attributes"):
                raise ValueProblem(f"unknown key {k!r}; an object has label, {key} and attributes", at)
        for k in ("label", key):
            if k not in obj:
                raise ValueProblem(f"missing {k!r}", f"{at}.{k}")
        label = obj["label"]
        if not isinstance(label, str) or label not in question.values:
            raise ValueProblem(
                f"{label!r} is not a label (labels: {', '.join(question.values)})", f"{at}.label"
            )
        try:
            shape = self.check_shape(question, obj[key], image)
        except ValueProblem as e:
            raise ValueProblem(e.message, f"{at}.{key}{e.path}") from None
        out: dict[str, Any] = {"label": label, key: shape}
        attributes = check_attributes(question.attributes, obj.get("attributes"), f"{at}.attributes")
        if attributes:
            out["attributes"] = attributes
        return out

    # -- consensus and agreement ------------------------------------------------------------
    def aggregate(
        self, question: SQ, values: Sequence[Any], weights: Sequence[float] | None = None
    ) -> Aggregate:
        w = weights_or_ones(values, weights)
        order = sorted(range(len(values)), key=lambda a: -w[a])  # stable: ties keep answer order
        # Summed in the order clusters take their members, so everyone's support is exactly 1.
        total = sum(w[a] for a in order)
        if total <= 0:
            return Aggregate(None, 0.0)
        objects = [obj for v in values for obj in v]
        if not objects:
            return Aggregate([], 1.0)
        owners = [a for a, v in enumerate(values) for _ in v]
        shapes = [obj[self.shape_key] for obj in objects]

        known: dict[tuple[int, int], float] = {}  # what matching measured, for `fuse` (0 elsewhere)

        def sims(rows: np.ndarray[Any, Any], cols: np.ndarray[Any, Any]) -> Floats:
            s = self.similarity(question, [shapes[k] for k in rows], [shapes[k] for k in cols])
            for i, j in zip(*np.nonzero(s), strict=True):
                known[int(rows[i]), int(cols[j])] = known[int(cols[j]), int(rows[i])] = float(s[i, j])
            return s

        kept: list[dict[str, Any]] = []
        sure = 0.0
        clusters = shape_match.cluster(owners, order, sims, self.threshold)
        for members in clusters:
            support = sum(w[owners[k]] for k in members) / total
            sure += max(support, 1.0 - support)
            if support > 0.5:
                between = np.array([[1.0 if i == j else known.get((i, j), 0.0) for j in members]
                                    for i in members])
                fused = self._fuse_object(question, [objects[k] for k in members],
                                          [w[owners[k]] for k in members], between)
                if fused is not None:
                    kept.append(fused)
        return Aggregate(kept, sure / len(clusters))

    def _fuse_object(
        self, question: SQ, members: list[dict[str, Any]], weights: list[float], similarity: Floats
    ) -> dict[str, Any] | None:
        if sum(weights) <= 0:
            weights = [1.0] * len(members)
        shape = self.fuse(question, [m[self.shape_key] for m in members], weights, similarity)
        if shape is None:
            return None
        rank = {v: i for i, v in enumerate(question.values)}  # ties go to the class listed first
        label = _vote([m["label"] for m in members], weights, lambda v: rank.get(v, len(rank)))
        out: dict[str, Any] = {"label": label, self.shape_key: shape}
        attributes: dict[str, Any] = {}
        for spec in question.attributes:
            value = _vote([m.get("attributes", {}).get(spec.name) for m in members], weights)
            if value is not None:
                attributes[spec.name] = value
        if attributes:
            out["attributes"] = attributes
        return out

    def agreement(self, question: SQ, values_per_item: Sequence[Sequence[Any]]) -> float | None:
        """Mean over items of pairwise F1 at the similarity threshold, matching objects of the
        same class one-to-one (two empty answers agree fully)."""

        def score(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> float:
            s = self.similarity(question, [o[self.shape_key] for o in a], [o[self.shape_key] for o in b])
            la = np.array([o["label"] for o in a], dtype=object)
            lb = np.array([o["label"] for o in b], dtype=object)
            same = (la[:, None] == lb[None, :]).astype(bool).reshape(s.shape)
            return shape_match.f1(np.where(same, s, 0.0), self.threshold, soft=self.soft_agreement)

        return pairwise_mean(values_per_item, score)

    def export_cell(self, question: SQ, value: Any) -> str | None:
        """The objects as compact JSON, e.g. [{"label":"car","box":[1,2,30,40]}]."""
        return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _vote(values: Sequence[Any], weights: Sequence[float], rank: Callable[[Any], int] | None = None) -> Any:
    """The value with the most weight; ties go to the lowest `rank(value)`, or else to the value
    given first (by the most trusted annotator)."""
    support: dict[str, list[Any]] = {}
    for v, wi in zip(values, weights, strict=True):
        entry = support.setdefault(json.dumps(v, sort_keys=True), [0.0, v, len(support)])
        entry[0] += wi
    return max(support.values(), key=lambda e: (e[0], -(rank(e[1]) if rank else e[2])))[1]
