"""The contract every label type implements, and the registry that finds them by name.

A label type is one module under `labelloop.schema.types` that defines:
- `Question`: a pydantic model of the question's options in the schema document;
- `validate(question, value, target=None)`: the canonical form of one annotator's value, or
  `ValueProblem`; `target` is what the question's target field holds when the caller knows it
  (`Target`: the text of a text field, the `ImageInfo` of an image field, the `AudioInfo` of an
  audio field, the `VideoInfo` of a video field, the `Responses` of a responses field), so
  offsets, coordinates, times, frames and candidate ids can be checked against it;
- `aggregate(question, values, weights)`: one value for the item and a confidence in [0, 1];
- `agreement(question, values_per_item)`: how much annotators agree, in [0, 1];
- `export_cell(question, value)`: a flat rendering for tabular exports (CSV);
- `matches_gold(question, value, reference)`: whether a value is right against the gold answer
  or the consensus (equality unless the type overrides it).
Adding a type (spans, boxes, tracks, preference, ...) is adding one module and one line to
`labelloop.schema.types.__init__`; the queue, storage and exports never change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class ValueProblem(Exception):
    """An answer value that does not fit its question; `path` points inside the value."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class QuestionBase(BaseModel):
    """Options every question has, whatever its type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    type: str
    label: str | None = None
    help: str | None = None
    required: bool = True
    # The item field this question is about (spans over a text, boxes over an image, ...).
    # None means the question is about the item as a whole.
    target: str | None = None

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class ImageInfo:
    """An image field's size in pixels, after EXIF orientation: the frame shapes are drawn in."""

    width: int
    height: int


@dataclass(frozen=True)
class AudioInfo:
    """An audio field's stored file as probed at import: its decoded length in seconds, the time
    axis segments are placed on (docs/audio.md)."""

    duration: float
    channels: int
    sample_rate: int


@dataclass(frozen=True)
class VideoInfo:
    """A video field's stored file as probed at import (docs/video.md): its displayed size in pixels
    (after the container's rotation), the frame the boxes of tracks are drawn in, and its decoded
    frame count, the range frame numbers live in."""

    width: int
    height: int
    frame_count: int


@dataclass(frozen=True)
class Responses:
    """A `responses` field's candidates: their ids and contents, in the item's order."""

    ids: tuple[str, ...]
    contents: tuple[str, ...]

    @classmethod
    def of(cls, value: Any) -> Responses | None:
        """The candidates of a stored `responses` value, or None when it is not one."""
        if not isinstance(value, list) or not all(
            isinstance(c, dict) and isinstance(c.get("id"), str) and isinstance(c.get("content"), str)
            for c in value
        ):
            return None
        return cls(tuple(c["id"] for c in value), tuple(c["content"] for c in value))

    def content(self, response_id: str) -> str | None:
        return self.contents[self.ids.index(response_id)] if response_id in self.ids else None


# What `validate` is told about a question's target field: its text, its image's size, its
# audio's duration, its video's size and frame count, its candidate responses, or None when
# unknown (no target, an external image whose size the server never saw, a caller that only
# canonicalises). Checks that need the target are skipped when it is None.
Target = str | ImageInfo | AudioInfo | VideoInfo | Responses | None


@dataclass(frozen=True)
class Aggregate:
    """The value several annotators' answers settle on, and how sure that is."""

    value: Any
    confidence: float


Q = TypeVar("Q", bound=QuestionBase)


class LabelType(Generic[Q]):
    """Base class of label types; subclasses set the class attributes and override the hooks."""

    name: ClassVar[str]
    question_model: ClassVar[type[QuestionBase]]
    # Field kinds a `target` may point at; empty means the type takes no target.
    target_kinds: ClassVar[frozenset[str]] = frozenset()
    target_required: ClassVar[bool] = False

    def validate(self, question: Q, value: Any, target: Target = None) -> Any:
        raise NotImplementedError

    def aggregate(
        self, question: Q, values: Sequence[Any], weights: Sequence[float] | None = None
    ) -> Aggregate:
        raise NotImplementedError

    def agreement(self, question: Q, values_per_item: Sequence[Sequence[Any]]) -> float | None:
        raise NotImplementedError

    def export_cell(self, question: Q, value: Any) -> str | int | float | None:
        return value if value is None or isinstance(value, str | int | float) else str(value)

    def matches_gold(self, question: Q, value: Any, gold: Any) -> bool:
        """Whether one annotator's value is right against a reference: the item's gold answer, or
        its consensus (this type's `aggregate` value). Equal, unless the type knows better (a
        preference shown the other way round is the same preference)."""
        return bool(value == gold)


_REGISTRY: dict[str, LabelType[Any]] = {}


def register(label_type: LabelType[Any]) -> LabelType[Any]:
    if label_type.name in _REGISTRY:
        raise ValueError(f"label type {label_type.name!r} registered twice")
    _REGISTRY[label_type.name] = label_type
    return label_type


def get_type(name: str) -> LabelType[Any]:
    return _REGISTRY[name]


def type_names() -> list[str]:
    return sorted(_REGISTRY)


def weights_or_ones(values: Sequence[Any], weights: Sequence[float] | None) -> list[float]:
    if weights is None:
        return [1.0] * len(values)
    if len(weights) != len(values):
        raise ValueError("weights and values differ in length")
    return [float(w) for w in weights]


def pairwise_mean(values_per_item: Sequence[Sequence[Any]], same: Any) -> float | None:
    """Mean over items of the share of annotator pairs for which `same(a, b)` scores high.

    `same` returns a score in [0, 1]; items with fewer than two values are left out.
    """
    total = 0.0
    count = 0
    for values in values_per_item:
        n = len(values)
        if n < 2:
            continue
        pair_sum = 0.0
        for i in range(n):
            for j in range(i + 1, n):
                pair_sum += same(values[i], values[j])
        total += pair_sum / (n * (n - 1) / 2)
        count += 1
    return total / count if count else None
