"""A project's quality-control settings: gold mixing, adaptive overlap, trust rules, review.

Stored as one JSON document on the project; missing keys take the defaults below, so projects
created before a setting existed behave as documented.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from labelloop.errors import Invalid, Problem


class QualitySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    gold_first: int = Field(
        3, ge=0, le=1000, description="Gold items each annotator gets before any other item."
    )
    gold_rate: float = Field(
        0.1, ge=0.0, le=1.0, description="Share of later tasks that are gold, at random."
    )
    adaptive: bool = Field(
        False,
        description="Ask for more answers only while the consensus is unsure "
        "(between min_overlap and the project's overlap).",
    )
    min_overlap: int = Field(1, ge=1, le=100, description="Adaptive: answers every item gets.")
    target_confidence: float = Field(
        0.95, gt=0.0, le=1.0, description="Adaptive: stop asking once the consensus is this sure."
    )
    review_below: float = Field(
        0.6, ge=0.0, le=1.0,
        description="Items whose consensus is less sure than this once they have all their answers "
        "go to review (0: none).",
    )
    trust_min_accuracy: float | None = Field(
        0.6, ge=0.0, le=1.0,
        description="Pause annotators whose gold accuracy is credibly below this (None: never).",
    )
    trust_min_gold: int = Field(5, ge=1, le=10_000, description="Gold answers seen before pausing.")
    trust_credibility: float = Field(
        0.95, gt=0.5, lt=1.0, description="How sure 'credibly below' must be."
    )
    exclude_paused: bool = Field(True, description="Leave paused annotators' answers out of consensus.")
    gold_shape_score: float = Field(
        0.8, ge=0.0, le=1.0,
        description="A shape answer (boxes, polygons, masks, keypoints) on a gold item counts as "
        "correct when its F1 against the gold objects (IoU 0.5; OKS for keypoints) is at least this; "
        "video tracks when their IDF1 against the gold tracks is.",
    )
    gold_max_wer: float = Field(
        0.0, ge=0.0, le=1.0,
        description="A typed transcript (a text question of a project with audio) on a gold item counts as "
        "correct when its word error rate against the gold transcript, both lower-cased and without "
        "punctuation, is at most this (0: the same words; 0.1: one word wrong in ten).",
    )


def quality_settings(document: dict[str, Any] | None) -> QualitySettings:
    """The settings of a stored document (parsed once per distinct document: a hot path)."""
    return _parsed(orjson.dumps(document or {}, option=orjson.OPT_SORT_KEYS))


@lru_cache(maxsize=512)
def _parsed(document: bytes) -> QualitySettings:
    return QualitySettings.model_validate(orjson.loads(document))


def check_quality_settings(document: dict[str, Any], overlap: int) -> QualitySettings:
    """Validated settings, or Invalid naming each wrong key as `quality.<key>`."""
    try:
        settings = QualitySettings.model_validate(document)
    except ValidationError as e:
        raise Invalid(
            "invalid quality settings",
            [Problem(err["msg"], field="quality." + ".".join(str(p) for p in err["loc"]))
             for err in e.errors()],
        ) from None
    if settings.adaptive and settings.min_overlap > overlap:
        raise Invalid("invalid quality settings", [
            Problem(f"must not exceed the project's overlap ({overlap})", field="quality.min_overlap")
        ])
    return settings


def initial_needed(overlap: int, settings: QualitySettings) -> int:
    """Answers a new item asks for: the overlap, or the adaptive minimum."""
    return min(settings.min_overlap, overlap) if settings.adaptive else overlap
