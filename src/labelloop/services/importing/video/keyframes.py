"""Keyframes from a track's boxes on every frame, for files that list boxes per frame and not which
were drawn (MOT's gt.txt without labelloop's sidecar, docs/video.md "Formats").

The boxes of one track on consecutive frames form a run; each run starts with a keyframe, and the
frame after a run (when the video goes on) is an `outside` keyframe. Inside a run the keyframes
are found where the track turns: where `occluded` changes, and where the second difference of a
coordinate, `x[i-1] - 2 x[i] + x[i+1]`, is more than rounding (1e-9 of the largest coordinate):
between two keyframes the track is a straight line. Each stretch between two such frames is then
checked exactly: interpolating its ends (`interpolate.lerp`, in the same IEEE operations) must
write every box between as the file writes it (left, top, width, height: what the export writes,
so the keyframes found always export to the same lines). A width rounds x2 - x1, so for
coordinates of 16-17 digits two floats can write the same width and the one read back may not be
the one drawn: a stretch that fails is tried again with each such reading of its ends (one that
keeps the stretch before straight), keeping those that make it straight. A stretch that still
fails is cut greedily: from keyframe a the next is found by galloping (a + 1, 2, 4, ...) then
bisecting to a frame b whose interpolation from a writes every box between. A run's last frame
is dropped as a keyframe when the box before it merely holds. For a track drawn with keyframes
of whole pixels or canvas fractions this finds the keyframes drawn (less those that lie exactly
on the line of their neighbours), and for arbitrary floats nearly always too
(`bench/video_formats.py`); in any case, re-exporting what was found writes the same gt.txt.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labelloop.services.exporting.images.coords import whole

Keyframe = dict[str, Any]
_TOLERANCE = 1e-9
_SPREAD = 2  # units in the last place tried on each side of a coordinate read back


@dataclass(frozen=True)
class FrameRow:
    """A track's box on one frame as a file states it: corners, and the numbers written
    (left, top, width, height)."""

    frame: int
    box: list[Any]
    occluded: bool
    written: list[Any]


@dataclass(frozen=True)
class _Run:
    frames: np.ndarray
    boxes: np.ndarray  # corners
    written: np.ndarray  # left, top, width, height
    occluded: np.ndarray

    def reproduces(self, a: int, b: int) -> bool:
        """Whether interpolating from row a to row b writes rows a+1 .. b-1 as the file does."""
        if b - a < 2:
            return True
        f = self.frames[a + 1:b]
        fa, fb = self.frames[a], self.frames[b]
        ba, bb = self.boxes[a], self.boxes[b]
        lerped = ba + (bb - ba) * (f - fa)[:, None] / (fb - fa)
        made = np.stack([lerped[:, 0], lerped[:, 1], lerped[:, 2] - lerped[:, 0],
                         lerped[:, 3] - lerped[:, 1]], axis=1)
        return bool(np.array_equal(made, self.written[a + 1:b])
                    and np.all(self.occluded[a + 1:b] == self.occluded[a]))

    def greedy(self, a: int, last: int) -> list[int]:
        """Keyframes after a up to `last` (included), each the farthest found by galloping."""
        keys: list[int] = []
        while a < last:
            good, step = a + 1, 1
            bad: int | None = None
            while good < last:
                step *= 2
                cand = min(a + step, last)
                if self.reproduces(a, cand):
                    good = cand
                else:
                    bad = cand
                    break
            if bad is not None:
                while bad - good > 1:
                    mid = (good + bad) // 2
                    if self.reproduces(a, mid):
                        good = mid
                    else:
                        bad = mid
            keys.append(good)
            a = good
        return keys

    def corner(self, i: int) -> list[Any]:
        """x2, y2 of row i as settled (integral ones as ints, as a file's whole numbers read)."""
        return [whole(float(self.boxes[i][2])), whole(float(self.boxes[i][3]))]

    def turns(self) -> list[int]:
        """The rows where the track is not on the straight line of its neighbours, ends included."""
        n = len(self.frames)
        marks = {0, n - 1}
        if n > 2:
            second = np.abs(self.boxes[:-2] - 2 * self.boxes[1:-1] + self.boxes[2:]).max(axis=1)
            scale = max(1.0, float(np.abs(self.boxes).max()))
            marks.update(int(i) + 1 for i in np.nonzero(second > _TOLERANCE * scale)[0])
        marks.update(int(i) for i in np.nonzero(self.occluded[1:] != self.occluded[:-1])[0] + 1)
        return sorted(marks)

    def _readings(self, i: int) -> list[np.ndarray]:
        """Row i's box with each float x2 (and y2) that writes the same width (height): a width
        rounds x2 - x1, so two floats of 16-17 digits can give one; the first is the one read."""
        box = self.boxes[i]
        sides: list[list[float]] = []
        for lo, hi, size in ((box[0], box[2], self.written[i][2]), (box[1], box[3], self.written[i][3])):
            near, up, down = [float(hi)], float(hi), float(hi)
            for _ in range(_SPREAD):
                up, down = math.nextafter(up, math.inf), math.nextafter(down, -math.inf)
                near += [up, down]
            sides.append([c for c in near if c - float(lo) == size])
        return [np.array([box[0], box[1], x2, y2]) for x2 in sides[0] for y2 in sides[1]]

    def _settle(self, before: int | None, p: int, q: int) -> bool:
        """Whether some reading of q's box and p's (one that keeps the stretch from the keyframe
        `before` p straight) makes p to q a straight stretch; if so, those readings are kept."""
        old_a, old_b = self.boxes[p].copy(), self.boxes[q].copy()
        for a, b in itertools.product(self._readings(p), self._readings(q)):
            self.boxes[p], self.boxes[q] = a, b
            if self.reproduces(p, q) and (before is None or self.reproduces(before, p)):
                return True
        self.boxes[p], self.boxes[q] = old_a, old_b
        return False

    def keyframes(self) -> list[int]:
        """Indices of the run's keyframes."""
        out = [0]
        turns = self.turns()
        for p, q in itertools.pairwise(turns):
            before = out[-2] if len(out) > 1 else None
            out += [q] if self.reproduces(p, q) or self._settle(before, p, q) else self.greedy(p, q)
        if len(out) > 1:
            k = out[-2]
            rest = self.boxes[k + 1:]
            if np.array_equal(rest, np.broadcast_to(self.boxes[k], rest.shape)) \
                    and np.all(self.occluded[k + 1:] == self.occluded[k]):
                out.pop()  # the box holds to the run's end: after a keyframe, it does so by itself
        return out


def fewest_keyframes(rows: Sequence[FrameRow], frame_count: int | None) -> list[Keyframe]:
    """Keyframes whose export writes every row again (sorted by frame, frames unique)."""
    out: list[Keyframe] = []
    start = 0
    for i in range(1, len(rows) + 1):
        if i < len(rows) and rows[i].frame == rows[i - 1].frame + 1:
            continue
        run = rows[start:i]
        found = _Run(np.array([r.frame for r in run], dtype=np.float64),
                     np.array([[float(v) for v in r.box] for r in run], dtype=np.float64),
                     np.array([[float(v) for v in r.written] for r in run], dtype=np.float64),
                     np.array([r.occluded for r in run], dtype=bool))
        for k in found.keyframes():
            r = run[k]
            box = [r.box[0], r.box[1], *found.corner(k)]
            out.append({"frame": r.frame, "box": box, "outside": False, "occluded": r.occluded})
        end = run[-1].frame + 1
        if frame_count is None or end < frame_count:
            out.append({"frame": end, "box": list(run[-1].box), "outside": True, "occluded": False})
        start = i
    return out
