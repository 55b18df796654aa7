"""Consensus and agreement of `video_tracks` answers on one item: the hooks the label type calls,
on the quality of tracks (`labelloop.quality.tracks`; docs/video.md, "Quality for tracks"; docs/quality.md,
"Tracks").

Every object of an answer is compared as its boxes frame by frame: a track after interpolation
(`interpolate.boxes`, up to the last frame any answer names), a per-frame shape as a one-frame object.

- `aggregate`: `quality.tracks.weighted_track_consensus` with the annotators' weights: objects matched
  across annotators by the Hungarian algorithm on their mean per-frame IoU over the frames either
  shows (a frame only one shows counts 0; at least 0.3, the track aggregator's `match_iou`), heaviest
  annotator first; a cluster kept when its annotators carry more than half the weight; on each frame
  the fused box is the weighted mean of the members that show one, when those members carry more than
  half the cluster's weight; class and attributes by weighted vote. Fused tracks get ids `t1`, `t2`,
  ... and keyframes where the fused boxes leave a straight line; fused one-frame objects are per-frame
  shapes. `occluded` survives: on each frame of a fused track it is the weighted vote of the members
  showing that frame (`occluded_frames`), and the keyframes mark where it changes. Confidence: the mean
  over clusters of the winning side's share (kept or dropped), as the shapes' per-item consensus
  defines it.
- `agreement`: mean over items and annotator pairs of IDF1 (Ristani et al. 2016: identities matched
  once per video, a frame counting where a matched pair overlaps at IoU >= 0.5, classes equal), the
  agreement measure that sees both boxes and identities (`quality.tracks.track_scores`).
- `matches`: an answer is right against a reference when its IDF1 against it reaches `GOLD_F1` (0.8,
  the shapes' `gold_shape_score` default; on the platform that setting decides:
  services/quality/shape_gold.py). `scores` gives MOTA, IDF1 and HOTA for the annotators report.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labelloop.quality.tracks import track_scores, weighted_track_consensus
from labelloop.schema.label_type import Aggregate, pairwise_mean, weights_or_ones
from labelloop.schema.types.shapes.objects import _vote
from labelloop.schema.types.video.interpolate import spans

if TYPE_CHECKING:
    from labelloop.schema.types.video.tracks import VideoTracksQuestion

MATCH_IOU = 0.3  # mean per-frame IoU at which two objects may be the same one (the track aggregator's)
IOU = 0.5  # per-frame IoU at which a frame of two matched objects agrees (IDF1, MOTA)
GOLD_F1 = 0.8
TOLERANCE = 1e-6  # pixels: a fused box this close to the line between its neighbours needs no keyframe


@dataclass(frozen=True)
class FrameObject:
    """One annotator's object as boxes by frame: a track after interpolation, or a per-frame shape."""

    kind: str  # "track" or "shape"
    label: str
    attributes: dict[str, Any]
    frames: dict[int, list[float]]
    occluded: frozenset[int] = field(default_factory=frozenset)  # frames it shows marked occluded

    def as_track(self, key: int) -> dict[str, Any]:
        """The object in `labelloop.quality.tracks`' form."""
        return {"id": key, "label": self.label, "boxes": self.frames}


def horizon(values: Sequence[Any]) -> int:
    """One past the last frame any answer names: where held boxes of tracks are compared up to."""
    last = -1
    for v in values:
        if not isinstance(v, dict):
            continue
        for t in v.get("tracks", []):
            last = max(last, t["keyframes"][-1]["frame"])
        for s in v.get("shapes", []):
            last = max(last, s["frame"])
    return last + 1


def objects_of(value: Any, end: int) -> list[FrameObject]:
    """An answer's tracks and per-frame shapes as boxes by frame, up to frame `end`."""
    if not isinstance(value, dict):
        return []
    out = []
    for t in value.get("tracks", []):
        frames: dict[int, list[float]] = {}
        hidden: set[int] = set()
        for f, box, occluded in spans(t["keyframes"], end):
            frames[f] = box
            if occluded:
                hidden.add(f)
        out.append(FrameObject("track", t["label"], t.get("attributes", {}), frames, frozenset(hidden)))
    out += [FrameObject("shape", s["label"], s.get("attributes", {}), {s["frame"]: s["box"]})
            for s in value.get("shapes", [])]
    return out


def occluded_frames(
    frames: Collection[int], members: Sequence[FrameObject], weights: Sequence[float]
) -> set[int]:
    """The frames of a fused track that are `occluded`: on each frame, the members that show it vote,
    each with its weight, and the frame is occluded when those marking it so carry strictly more than
    half of their weight (a tie, or nobody showing the frame, leaves it visible: `occluded` is the
    exception a keyframe must state, as in CVAT). The weighted majority is the Bayes vote when the
    weights are the annotators' log-odds of being right (Nitzan & Paroush 1982), as for presence."""
    out = set()
    for f in frames:
        shown = [(o, w) for o, w in zip(members, weights, strict=True) if f in o.frames]
        total = sum(w for _, w in shown)
        hidden = sum(w for o, w in shown if f in o.occluded)
        if total > 0 and hidden > total / 2 + 1e-12:
            out.add(f)
    return out


def tracks_of(value: Any, end: int) -> list[dict[str, Any]]:
    """An answer as `labelloop.quality.tracks` takes it: every object with its class and boxes by frame."""
    return [o.as_track(k) for k, o in enumerate(objects_of(value, end))]


def aggregate(
    question: VideoTracksQuestion, values: Sequence[Any], weights: Sequence[float] | None = None
) -> Aggregate:
    """The fused answer of one item and its confidence (module docstring)."""
    w = weights_or_ones(values, weights)
    if not values or sum(w) <= 0:
        return Aggregate(None, 0.0)
    end = horizon(values)
    per_answer = [objects_of(v, end) for v in values]
    if not any(per_answer):
        return Aggregate({"tracks": [], "shapes": []}, 1.0)
    clusters = weighted_track_consensus(
        [[o.as_track(k) for k, o in enumerate(objs)] for objs in per_answer], w, match_iou=MATCH_IOU
    )
    tracks: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    rank = {v: i for i, v in enumerate(question.values)}
    for cluster in clusters:
        if not cluster.kept:
            continue
        group = [per_answer[a][k] for a, k in cluster.members]
        mw = [w[a] for a, _ in cluster.members]
        label = _vote([o.label for o in group], mw, lambda v: rank.get(v, len(rank)))
        attributes = {s.name: v for s in question.attributes
                      if (v := _vote([o.attributes.get(s.name) for o in group], mw)) is not None}
        kind = _vote([o.kind for o in group], mw)
        if kind == "shape" and len(cluster.boxes) == 1:
            (f, box), = cluster.boxes.items()
            shapes.append({"frame": f, "label": label, "box": box, **({"attributes": attributes}
                                                                        if attributes else {})})
        else:
            track: dict[str, Any] = {"id": f"t{len(tracks) + 1}", "label": label}
            if attributes:
                track["attributes"] = attributes
            track["keyframes"] = keyframes_of(cluster.boxes, end, occluded_frames(cluster.boxes, group, mw))
            tracks.append(track)
    shapes.sort(key=lambda s: s["frame"])
    sure = sum(max(c.support, 1.0 - c.support) for c in clusters) / len(clusters)
    return Aggregate({"tracks": tracks, "shapes": shapes}, sure)


def keyframes_of(
    frames: dict[int, list[float]], end: int, occluded: Collection[int] = frozenset()
) -> list[dict[str, Any]]:
    """Keyframes that interpolate to `frames` (boxes by frame) within TOLERANCE and carry `occluded`
    (the frames marked so): each run of consecutive frames keeps its ends, the frames where the boxes
    bend and the frames where `occluded` changes (it holds from one keyframe to the next); a run that
    stops before `end` is closed by an `outside` keyframe."""
    out: list[dict[str, Any]] = []
    order = sorted(frames)
    runs: list[list[int]] = []
    for f in order:
        if runs and runs[-1][-1] + 1 == f:
            runs[-1].append(f)
        else:
            runs.append([f])
    for run in runs:
        kept = [run[0]]
        for i in range(1, len(run) - 1):
            p, f, q = kept[-1], run[i], run[i + 1]
            if (f in occluded) != (run[i - 1] in occluded):
                kept.append(f)
                continue
            line = [a + (b - a) * (f - p) / (q - p) for a, b in zip(frames[p], frames[q], strict=True)]
            if max(abs(x - y) for x, y in zip(line, frames[f], strict=True)) > TOLERANCE:
                kept.append(f)
        if len(run) > 1:
            kept.append(run[-1])
        out += [{"frame": f, "box": frames[f], "outside": False, "occluded": f in occluded} for f in kept]
        if run[-1] + 1 < end:
            out.append({"frame": run[-1] + 1, "box": None, "outside": True, "occluded": False})
    return out


def scores(value: Any, reference: Any, end: int | None = None) -> dict[str, float]:
    """MOTA, IDF1, HOTA (and their parts) of an answer against a reference answer: every object with
    its class, a per-frame shape as a one-frame object (`quality.tracks.track_scores`)."""
    end = horizon([value, reference]) if end is None else end
    return track_scores(tracks_of(value, end), tracks_of(reference, end), iou_threshold=IOU)


def score(value: Any, reference: Any, end: int | None = None) -> float:
    """IDF1 of an answer against a reference answer (symmetric: either may be the reference)."""
    return scores(value, reference, end)["idf1"]


def agreement(question: VideoTracksQuestion, values_per_item: Sequence[Sequence[Any]]) -> float | None:
    """Mean over items of pairwise IDF1 (module docstring)."""
    return pairwise_mean(values_per_item, score)


def matches(question: VideoTracksQuestion, value: Any, gold: Any, min_idf1: float = GOLD_F1) -> bool:
    """Whether an answer is right against the gold (or consensus) answer: IDF1 >= `min_idf1`."""
    if not isinstance(value, dict) or not isinstance(gold, dict):
        return bool(value == gold)
    return score(value, gold) >= min_idf1
