"""A `video_tracks` answer as the formats see it: a list of tracks, each with its keyframes, numbered
in answer order (docs/video.md, "Formats").

The formats have no per-frame shape apart from tracks, so a per-frame shape `{"frame": f, "box": b,
...}` goes out as CVAT writes its shapes in a video: a track with one keyframe at f and an `outside`
keyframe at f + 1 (none when f is the video's last frame); it comes back as that track.
Track ids in MOT and CVAT are numbers: a track's number is its place in the answer (MOT from 1,
CVAT from 0), and importing gives each track its number as its id, so export, import and export
write the same file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from labelloop.schema.types.video.interpolate import spans

Track = dict[str, Any]


@dataclass(frozen=True)
class FrameBox:
    """One frame of one track after interpolation."""

    frame: int
    box: list[Any]
    occluded: bool
    keyframe: bool


def shape_track(shape: dict[str, Any], n: int, frame_count: int) -> Track:
    """A per-frame shape as a one-frame track (see the module)."""
    f = int(shape["frame"])
    keyframes = [{"frame": f, "box": list(shape["box"]), "outside": False, "occluded": False}]
    if f + 1 < frame_count:
        keyframes.append({"frame": f + 1, "box": list(shape["box"]), "outside": True, "occluded": False})
    return {"id": f"shape{n}", "label": shape["label"], "attributes": dict(shape.get("attributes") or {}),
            "keyframes": keyframes}


def answer_tracks(value: Any, frame_count: int) -> list[Track]:
    """The tracks of a `video_tracks` answer, then its shapes as tracks."""
    if not isinstance(value, dict):
        return []
    tracks = [t for t in value.get("tracks") or [] if t.get("keyframes")]
    shapes = value.get("shapes") or []
    return [*tracks, *(shape_track(s, n, frame_count) for n, s in enumerate(shapes, 1))]


def frame_boxes(track: Track, frame_count: int) -> Iterator[FrameBox]:
    """Every frame where the track has a box, in order, as interpolation gives it."""
    keys = {k["frame"] for k in track["keyframes"]}
    for f, box, occluded in spans(track["keyframes"], frame_count):
        yield FrameBox(f, box, occluded, f in keys)
