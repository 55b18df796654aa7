"""What the audio and video probes share (services/audio/probe.py, services/video/probe.py): the
duration a file's header states, the test for a file cut short, and how limits and FFmpeg's errors
are written in a problem.
"""

from __future__ import annotations

from typing import Any

# a decoded length shorter than the stated one by more than both of these: the file is cut short
# (a little less is normal: the last packet's duration, an encoder's priming samples)
SHORT_RATIO = 0.02
SHORT_SECONDS = 0.5


def stated_seconds(container: Any, stream: Any) -> float | None:
    """The duration the header states: the stream's, else the container's; None when it says none."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000  # AV_TIME_BASE
    return None


def cut_short(stated: float | None, decoded: float) -> bool:
    """Whether *decoded* seconds fall short of the *stated* ones by more than both SHORT_RATIO and
    SHORT_SECONDS."""
    return stated is not None and stated - decoded > max(SHORT_SECONDS, SHORT_RATIO * stated)


def hms(seconds: float) -> str:
    """h:mm:ss, with the fraction when there is one (a limit of 1.5 s is not '0:00:02')."""
    whole = int(seconds)
    text = f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    fraction = f"{seconds - whole:.3f}".rstrip("0").rstrip(".")[1:]
    return text + fraction


def ffmpeg_reason(e: BaseException) -> str:
    """An FFmpeg error as a short reason for a problem (its message, else its type; 200 characters)."""
    return (str(e).strip() or type(e).__name__)[:200]
