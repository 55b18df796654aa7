"""Split and merge of tracks (docs/video.md, "Tracks"), on canonical tracks.

- **Split** of track t at frame f (t has a box at f, and f is after its first keyframe): t ends
  with an `outside` keyframe at f (its box kept as a keyframe at f - 1 when f - 1 is not a
  keyframe and has a box, so the frames before f look as they did); a new track (`new_id`, t's
  label and attributes) starts with t's box at f as its first keyframe, then t's keyframes after f.
  Every frame keeps its box (to rounding): before f on t, from f on the new track.
- **Merge** of track b into a (no frame where both have a box): the union of their keyframes under
  a's id, label and attributes. Where both have a keyframe on one frame, at most one has a box
  (they never both show one), and that one is kept: an `outside` of a at the frame b begins gives
  way to b's first box. Every frame keeps the box it had on a or on b (to rounding).
"""

from __future__ import annotations

from typing import Any

from labelloop.schema.label_type import ValueProblem
from labelloop.schema.types.video.interpolate import Keyframe, box_at, occluded_at, visible_intervals

Track = dict[str, Any]


def split_track(track: Track, frame: int, new_id: str) -> tuple[Track, Track]:
    """(the track up to `frame`, the new track from it); ValueProblem when it cannot be split there."""
    keyframes: list[Keyframe] = track["keyframes"]
    box = box_at(keyframes, frame)
    if box is None:
        raise ValueProblem(f"track {track['id']!r} has no box at frame {frame}: nothing to split")
    if frame <= keyframes[0]["frame"]:
        raise ValueProblem(f"frame {frame} is the track's first; a split needs frames on both sides")
    if new_id == track["id"]:
        raise ValueProblem(f"the new track needs an id other than {new_id!r}")
    before = [dict(k) for k in keyframes if k["frame"] < frame]
    frames = {k["frame"] for k in before}
    held = box_at(keyframes, frame - 1)
    if frame - 1 not in frames and held is not None:
        before.append({"frame": frame - 1, "box": held, "outside": False,
                       "occluded": occluded_at(keyframes, frame - 1)})
    before.append({"frame": frame, "box": box, "outside": True, "occluded": False})
    after = [{"frame": frame, "box": box, "outside": False, "occluded": occluded_at(keyframes, frame)}]
    after += [dict(k) for k in keyframes if k["frame"] > frame]
    first = {**track, "keyframes": before}
    second = {**track, "id": new_id, "keyframes": after}
    return first, second


def merge_tracks(a: Track, b: Track) -> Track:
    """Track b joined into a (module docstring); ValueProblem naming a frame both show."""
    for lo_a, hi_a in visible_intervals(a["keyframes"]):
        for lo_b, hi_b in visible_intervals(b["keyframes"]):
            lo = max(lo_a, lo_b)
            if (hi_a is None or lo <= hi_a) and (hi_b is None or lo <= hi_b):
                raise ValueProblem(
                    f"tracks {a['id']!r} and {b['id']!r} both have a box at frame {lo}: only tracks "
                    "that never show at once can be merged (mark one outside first)")
    by_frame: dict[int, Keyframe] = {}
    for track in (a, b):
        for k in _needed(track["keyframes"]):
            kept = by_frame.get(k["frame"])
            if kept is None or (kept["outside"] and not k["outside"]):
                by_frame[k["frame"]] = k
    return {**a, "keyframes": [by_frame[f] for f in sorted(by_frame)]}


def _needed(keyframes: list[Keyframe]) -> list[Keyframe]:
    """The keyframes that say something once another track's are among them: an `outside` while
    the track is already gone is dropped (it would end the other's box), and the box held before
    an `outside` gets a keyframe of its own at the frame before (the other track's box may
    follow there, and the frames between must not start to interpolate towards it)."""
    out: list[Keyframe] = []
    for k in keyframes:
        if k["outside"]:
            if not out or out[-1]["outside"]:
                continue
            if out[-1]["frame"] < k["frame"] - 1:
                out.append({**out[-1], "frame": k["frame"] - 1, "box": box_at(keyframes, k["frame"] - 1)})
        out.append(dict(k))
    return out
