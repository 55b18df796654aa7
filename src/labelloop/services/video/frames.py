"""The frame table of a video: when each frame is on screen, as the browser's media clock counts.

Chromium plays a `<video src>` through FFmpeg's demuxers, which apply an MP4's edit list (the
shift that B-frames bring: the first frame's presentation time is 0 again) and read Matroska's
block times as they are. Chromium then keeps each frame's timestamp as FFmpeg gives it: a
positive start time is not rebased to zero (the HTML spec's "offsets into the media resource"),
so `currentTime == pts * time_base` of the decoded frame. The table is therefore the decoded
frames' `pts * time_base`, in display (decoding output) order, and frame i is on screen for
currentTime in [times[i], times[i + 1]), the last until the end of the video.

A frame's duration is the gap to the next one; the last one's is what its packet says (MP4
sample durations, Matroska block durations), or the gap before it when the packet says nothing.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from fractions import Fraction

import orjson

MEDIA_TYPE = "application/vnd.labelloop.frames+json"
VFR_TOLERANCE = 0.01  # frame durations differing by more than 1 % make a variable frame rate


@dataclass(frozen=True)
class FrameTable:
    times: array[float]  # seconds, strictly increasing
    end: float  # when the last frame leaves the screen

    @property
    def frame_count(self) -> int:
        return len(self.times)

    @property
    def duration(self) -> float:
        return self.end - self.times[0]

    @property
    def fps(self) -> float:
        return self.frame_count / self.duration

    def to_json(self) -> bytes:
        return orjson.dumps({"frame_count": len(self.times), "times": self.times.tolist()})


class TableBuilder:
    """Collects frame times one at a time; says what is wrong when they do not go forward."""

    def __init__(self) -> None:
        self.times: array[float] = array("d")
        self._ticks: list[int] = []  # min and max gap, in the stream's ticks
        self._last_pts: int | None = None
        self._tick = Fraction(0)

    def add(self, pts: int, time_base: Fraction) -> str | None:
        """Add the next frame in display order; the reason it cannot be, or None."""
        t = float(pts * time_base)
        n = len(self.times)
        if n and t <= self.times[-1]:
            return (f"frames {n - 1} and {n} are shown at the same time ({t:.6f} s)" if t == self.times[-1]
                    else f"frame {n} is timed before frame {n - 1} ({t:.6f} s < {self.times[-1]:.6f} s)")
        if self._last_pts is not None:
            gap = pts - self._last_pts
            self._ticks = [min(self._ticks[0], gap), max(self._ticks[1], gap)] if self._ticks else [gap, gap]
        self._last_pts, self._tick = pts, time_base
        self.times.append(t)
        return None

    def vfr(self) -> bool:
        """Whether frame durations differ by more than 1 % (one tick of the time base forgiven:
        29.97 frames a second in milliseconds are 33 and 34 ms apart)."""
        if not self._ticks:
            return False
        low, high = self._ticks
        return high - low > max(VFR_TOLERANCE * low, 1)

    def finish(self, last_duration: float | None) -> FrameTable:
        """The table, the last frame on screen for `last_duration` seconds (else the gap before it,
        else 1/25 s for a single frame)."""
        if last_duration is None or last_duration <= 0:
            last_duration = self.times[-1] - self.times[-2] if len(self.times) > 1 else 0.04
        return FrameTable(self.times, self.times[-1] + last_duration)


def read_table(data: bytes) -> list[float]:
    """The times of a stored frame table."""
    parsed = orjson.loads(data)
    times = parsed["times"]
    if not isinstance(times, list) or len(times) != parsed["frame_count"]:
        raise ValueError("not a frame table")
    return [float(t) for t in times]
