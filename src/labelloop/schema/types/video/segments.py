"""Events on a video's timeline: `video_segments` (docs/video.md, "Events").

An answer is a list of `{"label", "start", "end", "attributes"}`, frames inclusive,
0 <= start <= end < frame_count (`VideoInfo`; only >= 0 when the video was never probed), stored
sorted by (start, end, label). Events may overlap (an action during a scene).

Consensus of one item: events are matched across annotators by temporal IoU over frames (the
frames of [start, end] both cover over those either covers) with the shapes' clustering
(`shape_match.cluster`: Hungarian assignment, one event per annotator per cluster, IoU >= 0.5),
as audio segments are; a cluster is kept when its annotators carry more than half the weight, its
start and end the weighted medians of its members' (rounded to a frame), its class and attributes
a weighted vote. Confidence: the mean over clusters of the winning side's share. Agreement: mean
over items and annotator pairs of F1 at IoU 0.5 between events of the same class (PASCAL VOC's
detection F1, Everingham et al. 2010, on a frame axis).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from labelloop.schema.label_type import (
    Aggregate,
    LabelType,
    Target,
    ValueProblem,
    VideoInfo,
    pairwise_mean,
    register,
    weights_or_ones,
)
from labelloop.schema.types.audio.segments import interval_iou, weighted_median
from labelloop.schema.types.shapes import shape_match
from labelloop.schema.types.shapes.geometry import Floats
from labelloop.schema.types.shapes.objects import ObjectsQuestion, _vote, check_attributes, json_kind
from labelloop.schema.types.video.tracks import frame_number

THRESHOLD = 0.5
EVENT_KEYS = ("label", "start", "end", "attributes")


class VideoSegmentsQuestion(ObjectsQuestion):
    object_noun: ClassVar[str] = "event"
    type: Literal["video_segments"] = "video_segments"
    max_segments: int = Field(10_000, ge=1, le=1_000_000)


def _intervals(events: Sequence[dict[str, Any]]) -> Floats:
    """Events as half-open [start, end + 1) rows: frames inclusive become lengths in frames."""
    return np.array([[e["start"], e["end"] + 1] for e in events], dtype=np.float64).reshape(-1, 2)


class VideoSegments(LabelType[VideoSegmentsQuestion]):
    name = "video_segments"
    question_model = VideoSegmentsQuestion
    target_kinds = frozenset({"video"})
    target_required = True

    def validate(self, question: VideoSegmentsQuestion, value: Any, target: Target = None) -> Any:
        video = target if isinstance(target, VideoInfo) else None
        if not isinstance(value, list):
            raise ValueProblem(f"expected a list of events, got {json_kind(value)}")
        if len(value) > question.max_segments:
            raise ValueProblem(f"at most {question.max_segments} events, got {len(value)}")
        out = [self._event(question, e, video, f"[{i}]") for i, e in enumerate(value)]
        out.sort(key=lambda e: (e["start"], e["end"], e["label"]))
        return out

    def _event(
        self, question: VideoSegmentsQuestion, raw: Any, video: VideoInfo | None, at: str
    ) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise ValueProblem(f'an event is {{"label": ..., "start": frame, "end": frame}}, got '
                               f"{json_kind(raw)}", at)
        for k in raw:
            if k not in EVENT_KEYS:
                raise ValueProblem(f"unknown key {k!r}; an event has {', '.join(EVENT_KEYS)}", at)
        for k in ("label", "start", "end"):
            if k not in raw:
                raise ValueProblem(f"missing {k!r}", f"{at}.{k}")
        label = raw["label"]
        if not isinstance(label, str) or label not in question.values:
            raise ValueProblem(f"{label!r} is not a label (labels: {', '.join(question.values)})",
                               f"{at}.label")
        start = frame_number(raw["start"], video, f"{at}.start")
        end = frame_number(raw["end"], video, f"{at}.end")
        if end < start:
            raise ValueProblem(f"end = {end} is before start = {start} (frames are inclusive: a "
                               "one-frame event has end = start)", f"{at}.end")
        out: dict[str, Any] = {"label": label, "start": start, "end": end}
        attributes = check_attributes(question.attributes, raw.get("attributes"), f"{at}.attributes")
        if attributes:
            out["attributes"] = attributes
        return out

    def aggregate(
        self, question: VideoSegmentsQuestion, values: Sequence[Any], weights: Sequence[float] | None = None
    ) -> Aggregate:
        w = weights_or_ones(values, weights)
        order = sorted(range(len(values)), key=lambda a: -w[a])
        total = sum(w[a] for a in order)
        if total <= 0:
            return Aggregate(None, 0.0)
        events = [e for v in values for e in v]
        if not events:
            return Aggregate([], 1.0)
        owners = [a for a, v in enumerate(values) for _ in v]
        bounds = _intervals(events)

        def sims(rows: np.ndarray[Any, Any], cols: np.ndarray[Any, Any]) -> Floats:
            return interval_iou(bounds[rows], bounds[cols])

        kept: list[dict[str, Any]] = []
        sure = 0.0
        clusters = shape_match.cluster(owners, order, sims, THRESHOLD)
        rank = {v: i for i, v in enumerate(question.values)}
        for members in clusters:
            support = sum(w[owners[k]] for k in members) / total
            sure += max(support, 1.0 - support)
            if support <= 0.5:
                continue
            group = [events[k] for k in members]
            mw = [w[owners[k]] for k in members]
            if sum(mw) <= 0:
                mw = [1.0] * len(group)
            # Rounded half up, so a median between two frames takes the later: never before start.
            start = math.floor(weighted_median([e["start"] for e in group], mw) + 0.5)
            end = max(start, math.floor(weighted_median([e["end"] for e in group], mw) + 0.5))
            fused: dict[str, Any] = {
                "label": _vote([e["label"] for e in group], mw, lambda v: rank.get(v, len(rank))),
                "start": start, "end": end}
            votes = {s.name: _vote([e.get("attributes", {}).get(s.name) for e in group], mw)
                     for s in question.attributes}
            attributes = {name: v for name, v in votes.items() if v is not None}
            if attributes:
                fused["attributes"] = attributes
            kept.append(fused)
        kept.sort(key=lambda e: (e["start"], e["end"], e["label"]))
        return Aggregate(kept, sure / len(clusters))

    def agreement(
        self, question: VideoSegmentsQuestion, values_per_item: Sequence[Sequence[Any]]
    ) -> float | None:
        def score(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> float:
            s = interval_iou(_intervals(a), _intervals(b))
            la = np.array([e["label"] for e in a], dtype=object)
            lb = np.array([e["label"] for e in b], dtype=object)
            same = (la[:, None] == lb[None, :]).astype(bool).reshape(s.shape)
            return shape_match.f1(np.where(same, s, 0.0), THRESHOLD)

        return pairwise_mean(values_per_item, score)

    def export_cell(self, question: VideoSegmentsQuestion, value: Any) -> str | None:
        """The events as compact JSON, e.g. [{"label":"walk","start":10,"end":50}]."""
        return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


register(VideoSegments())
