"""Tracks on a video: `video_tracks` (docs/video.md, "Tracks").

An answer is `{"tracks": [...], "shapes": [...]}`. A track is an object followed through the video:
`{"id", "label", "attributes", "keyframes": [{"frame", "box", "outside", "occluded"}, ...]}`, its
box between keyframes given by `interpolate.box_at` (linear, CVAT's track mode); a per-frame shape
is one box on one frame: `{"frame", "label", "box", "attributes"}`. Boxes are `[x1, y1, x2, y2]`
in the original's displayed pixels, checked as `bbox` checks them on an image of the video's
width x height; frames are whole numbers in [0, frame_count) (`VideoInfo`, when the caller knows
the video: a video given by URL was never probed, so its frames are only checked to be >= 0).

Canonical form: both lists present; a track's keyframes sorted by frame (frames unique, the first
not `outside`, at least one with a box), each with all four keys (`box` null on an `outside`
keyframe that gave none); attributes only when declared and answered.
Consensus and agreement are `track_consensus`'s (owned by the quality of tracks, docs/video.md,
"Quality for tracks").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import pairwise
from typing import Any, ClassVar, Literal

from pydantic import Field

from labelloop.schema.label_type import (
    Aggregate,
    ImageInfo,
    LabelType,
    Target,
    ValueProblem,
    VideoInfo,
    register,
)
from labelloop.schema.types.shapes.bbox import BBox, BBoxQuestion
from labelloop.schema.types.shapes.objects import ShapeQuestion, check_attributes, json_kind
from labelloop.schema.types.video import track_consensus

TRACK_KEYS = ("id", "label", "attributes", "keyframes")
KEYFRAME_KEYS = ("frame", "box", "outside", "occluded")
SHAPE_KEYS = ("frame", "label", "box", "attributes")
MAX_ID = 64
# Boxes are checked by the `bbox` type's own rule; its question is needed only for the call.
_BBOX = BBox()
_BBOX_QUESTION = BBoxQuestion.model_validate({"name": "box", "labels": ["box"]})


class VideoTracksQuestion(ShapeQuestion):
    object_noun: ClassVar[str] = "track"
    type: Literal["video_tracks"] = "video_tracks"
    # Per track; a keyframe on every frame of a 4-hour 25 fps video is 360,000.
    max_keyframes: int = Field(100_000, ge=1, le=1_000_000)
    max_shapes: int = Field(10_000, ge=0, le=1_000_000)


def frame_number(raw: Any, video: VideoInfo | None, path: str) -> int:
    """A frame number: a whole number in [0, frame_count) (>= 0 when the video is unknown)."""
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValueProblem(f"a frame number is a whole number, got {json_kind(raw)}", path)
    if raw < 0:
        raise ValueProblem(f"frame {raw} is before the first frame (0)", path)
    if video is not None and raw >= video.frame_count:
        raise ValueProblem(
            f"frame {raw} is past the last frame of the video ({video.frame_count} frames: 0 to "
            f"{video.frame_count - 1})", path)
    return raw


def check_box(raw: Any, video: VideoInfo | None, path: str) -> list[float]:
    """A box `[x1, y1, x2, y2]` inside the video's displayed frame, as `bbox` checks one."""
    image = None if video is None else ImageInfo(video.width, video.height)
    try:
        box: list[float] = _BBOX.check_shape(_BBOX_QUESTION, raw, image)
    except ValueProblem as e:
        raise ValueProblem(e.message.replace("the image", "the frame"), f"{path}{e.path}") from None
    return box


def _flag(raw: Any, path: str) -> bool:
    if raw is None:
        return False
    if not isinstance(raw, bool):
        raise ValueProblem(f"expected true or false, got {json_kind(raw)}", path)
    return raw


def _keys(raw: Any, allowed: Sequence[str], noun: str, at: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValueProblem(f"a {noun} is an object with {', '.join(allowed)}, got {json_kind(raw)}", at)
    for k in raw:
        if k not in allowed:
            raise ValueProblem(f"unknown key {k!r}; a {noun} has {', '.join(allowed)}", at)
    return raw


class VideoTracks(LabelType[VideoTracksQuestion]):
    name = "video_tracks"
    question_model = VideoTracksQuestion
    target_kinds = frozenset({"video"})
    target_required = True

    # -- validation -------------------------------------------------------------------------
    def validate(self, question: VideoTracksQuestion, value: Any, target: Target = None) -> Any:
        video = target if isinstance(target, VideoInfo) else None
        raw = _keys(value, ("tracks", "shapes"), "video_tracks answer", "")
        tracks, shapes = raw.get("tracks", []), raw.get("shapes", [])
        if not isinstance(tracks, list):
            raise ValueProblem(f"expected a list of tracks, got {json_kind(tracks)}", ".tracks")
        if len(tracks) > question.max_objects:
            raise ValueProblem(f"at most {question.max_objects} tracks, got {len(tracks)}", ".tracks")
        if not isinstance(shapes, list):
            raise ValueProblem(f"expected a list of per-frame shapes, got {json_kind(shapes)}", ".shapes")
        if len(shapes) > question.max_shapes:
            raise ValueProblem(f"at most {question.max_shapes} per-frame shapes, got {len(shapes)}",
                               ".shapes")
        seen: dict[str, int] = {}
        out_tracks = []
        for i, t in enumerate(tracks):
            track = self._track(question, t, video, f".tracks[{i}]")
            if track["id"] in seen:
                raise ValueProblem(f"id {track['id']!r} is already the id of track [{seen[track['id']]}]",
                                   f".tracks[{i}].id")
            seen[track["id"]] = i
            out_tracks.append(track)
        out_shapes = [self._shape(question, s, video, f".shapes[{i}]") for i, s in enumerate(shapes)]
        return {"tracks": out_tracks, "shapes": out_shapes}

    def _label(self, question: VideoTracksQuestion, raw: dict[str, Any], at: str) -> str:
        if "label" not in raw:
            raise ValueProblem("missing 'label'", f"{at}.label")
        label = raw["label"]
        if not isinstance(label, str) or label not in question.values:
            raise ValueProblem(f"{label!r} is not a label (labels: {', '.join(question.values)})",
                               f"{at}.label")
        return label

    def _track(
        self, question: VideoTracksQuestion, raw: Any, video: VideoInfo | None, at: str
    ) -> dict[str, Any]:
        raw = _keys(raw, TRACK_KEYS, "track", at)
        for k in ("id", "keyframes"):
            if k not in raw:
                raise ValueProblem(f"missing {k!r}", f"{at}.{k}")
        tid = raw["id"]
        if not isinstance(tid, str) or not 1 <= len(tid) <= MAX_ID:
            raise ValueProblem(f"a track id is a string of 1 to {MAX_ID} characters", f"{at}.id")
        label = self._label(question, raw, at)
        keyframes = raw["keyframes"]
        if not isinstance(keyframes, list) or not keyframes:
            raise ValueProblem("a track needs a list of at least one keyframe", f"{at}.keyframes")
        if len(keyframes) > question.max_keyframes:
            raise ValueProblem(f"at most {question.max_keyframes} keyframes, got {len(keyframes)}",
                               f"{at}.keyframes")
        checked = [(self._keyframe(k, video, f"{at}.keyframes[{j}]"), j) for j, k in enumerate(keyframes)]
        checked.sort(key=lambda pair: pair[0]["frame"])
        for (before, i), (after, j) in pairwise(checked):
            if before["frame"] == after["frame"]:
                raise ValueProblem(f"frame {after['frame']} already has keyframe [{i}]",
                                   f"{at}.keyframes[{j}].frame")
        first, j = checked[0]
        if first["outside"]:
            raise ValueProblem(f"the first keyframe (frame {first['frame']}) is outside: a track starts "
                               "where its object is seen", f"{at}.keyframes[{j}].outside")
        out: dict[str, Any] = {"id": tid, "label": label}
        attributes = check_attributes(question.attributes, raw.get("attributes"), f"{at}.attributes")
        if attributes:
            out["attributes"] = attributes
        out["keyframes"] = [k for k, _ in checked]
        return out

    def _keyframe(self, raw: Any, video: VideoInfo | None, at: str) -> dict[str, Any]:
        raw = _keys(raw, KEYFRAME_KEYS, "keyframe", at)
        if "frame" not in raw:
            raise ValueProblem("missing 'frame'", f"{at}.frame")
        frame = frame_number(raw["frame"], video, f"{at}.frame")
        outside = _flag(raw.get("outside"), f"{at}.outside")
        occluded = _flag(raw.get("occluded"), f"{at}.occluded")
        box = raw.get("box")
        if box is None and not outside:
            raise ValueProblem("missing 'box' (only an outside keyframe may go without one)", f"{at}.box")
        return {"frame": frame, "box": None if box is None else check_box(box, video, f"{at}.box"),
                "outside": outside, "occluded": occluded}

    def _shape(
        self, question: VideoTracksQuestion, raw: Any, video: VideoInfo | None, at: str
    ) -> dict[str, Any]:
        raw = _keys(raw, SHAPE_KEYS, "per-frame shape", at)
        for k in ("frame", "box"):
            if k not in raw:
                raise ValueProblem(f"missing {k!r}", f"{at}.{k}")
        out: dict[str, Any] = {"frame": frame_number(raw["frame"], video, f"{at}.frame"),
                               "label": self._label(question, raw, at),
                               "box": check_box(raw["box"], video, f"{at}.box")}
        attributes = check_attributes(question.attributes, raw.get("attributes"), f"{at}.attributes")
        if attributes:
            out["attributes"] = attributes
        return out

    # -- consensus and agreement: the quality of tracks' ------------------------------------
    def aggregate(
        self, question: VideoTracksQuestion, values: Sequence[Any], weights: Sequence[float] | None = None
    ) -> Aggregate:
        return track_consensus.aggregate(question, values, weights)

    def agreement(
        self, question: VideoTracksQuestion, values_per_item: Sequence[Sequence[Any]]
    ) -> float | None:
        return track_consensus.agreement(question, values_per_item)

    def matches_gold(self, question: VideoTracksQuestion, value: Any, gold: Any) -> bool:
        return track_consensus.matches(question, value, gold)

    def export_cell(self, question: VideoTracksQuestion, value: Any) -> str | None:
        """The answer as compact JSON."""
        return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


register(VideoTracks())
