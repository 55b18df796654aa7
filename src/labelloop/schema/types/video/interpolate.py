"""The box of a track at any frame, from its keyframes (docs/video.md, "Tracks").

The rule, which `frontend/src/video/interpolate.ts` follows to the bit (both read the shared cases
in tests/data/video/interpolation_cases.json):
- before the first keyframe the track has no box;
- at a keyframe, that keyframe's box (none when it is `outside`);
- between keyframes a (frame fa) and b (frame fb), a not `outside`:
  - b not `outside`: `a.box + (b.box - a.box) * (f - fa) / (fb - fa)` coordinate by coordinate,
    evaluated in that order in IEEE double precision (so JavaScript gets the same bits);
  - b `outside`: a's box until fb - 1;
- after an `outside` keyframe, no box until the next keyframe;
- after the last keyframe, its box to the end of the video (none when it is `outside`).
`occluded` at f is that of the last keyframe at or before f (False before the first).

This is CVAT's linear interpolation of track shapes (cvat-ai/cvat, "track mode"), with its meaning
of `outside` (the object has left the frame) and `occluded` (it is there but hidden).
Keyframes here are canonical ones (sorted by frame, frames unique; `label_type` checks that).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from typing import Any

Box = list[float]
Keyframe = dict[str, Any]


def lerp(a: Sequence[float], b: Sequence[float], f: int, fa: int, fb: int) -> Box:
    """The box at frame f on the straight line from a (at fa) to b (at fb)."""
    return [a[i] + (b[i] - a[i]) * (f - fa) / (fb - fa) for i in range(len(a))]


def box_at(keyframes: Sequence[Keyframe], frame: int) -> Box | None:
    """The track's box at `frame`, or None where it has none (module docstring)."""
    k = bisect_right([kf["frame"] for kf in keyframes], frame) - 1
    if k < 0:
        return None
    a = keyframes[k]
    if a["outside"]:
        return None
    if a["frame"] == frame or k + 1 == len(keyframes):
        return [float(v) for v in a["box"]]
    b = keyframes[k + 1]
    if b["outside"]:
        return [float(v) for v in a["box"]]
    return lerp(a["box"], b["box"], frame, a["frame"], b["frame"])


def occluded_at(keyframes: Sequence[Keyframe], frame: int) -> bool:
    """Whether the track is marked occluded at `frame`: its last keyframe at or before it says so."""
    k = bisect_right([kf["frame"] for kf in keyframes], frame) - 1
    return bool(k >= 0 and keyframes[k]["occluded"])


def boxes(keyframes: Sequence[Keyframe], end: int) -> dict[int, Box]:
    """Every frame of [0, end) where the track has a box, and that box; one pass over the keyframes.

    `end` is the video's frame count (or any horizon: frames from `end` on are left out)."""
    out: dict[int, Box] = {}
    for f, box, _ in spans(keyframes, end):
        out[f] = box
    return out


def spans(keyframes: Sequence[Keyframe], end: int) -> Iterator[tuple[int, Box, bool]]:
    """(frame, box, occluded) for each frame of [0, end) where the track has a box, in order."""
    for k, a in enumerate(keyframes):
        if a["outside"] or a["frame"] >= end:
            continue
        occluded = bool(a["occluded"])
        b = keyframes[k + 1] if k + 1 < len(keyframes) else None
        if b is None or b["outside"]:
            for f in range(a["frame"], end if b is None else min(b["frame"], end)):
                yield f, [float(v) for v in a["box"]], occluded
            continue
        yield a["frame"], [float(v) for v in a["box"]], occluded
        for f in range(a["frame"] + 1, min(b["frame"], end)):
            yield f, lerp(a["box"], b["box"], f, a["frame"], b["frame"]), occluded


def visible_intervals(keyframes: Sequence[Keyframe]) -> list[tuple[int, int | None]]:
    """The frames where the track has a box, as [first, last] intervals (last None: to the end)."""
    out: list[tuple[int, int | None]] = []
    for k, a in enumerate(keyframes):
        if a["outside"]:
            continue
        last = keyframes[k + 1]["frame"] - 1 if k + 1 < len(keyframes) else None
        if out and out[-1][1] is not None and out[-1][1] + 1 == a["frame"]:
            out[-1] = (out[-1][0], last)  # the run goes on through this keyframe
        else:
            out.append((a["frame"], last))
    return out
