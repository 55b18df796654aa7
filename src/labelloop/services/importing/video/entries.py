"""What the readers of video datasets (`mot.py`, `cvat.py`) hand to `tracked.py`: the video's frame
they read against, and one entry per video's annotation file(s), read once its video is known."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from labelloop.errors import Problem
from labelloop.services.importing.readers import Where

Track = dict[str, Any]


@dataclass(frozen=True)
class Frame:
    """The video's frame: its displayed size and frame count (None: a URL never probed)."""

    width: int | None
    height: int | None
    frame_count: int | None


# The tracks of one annotation file for its video's frame, and the problems.
ReadFn = Callable[[Frame], "tuple[list[Track], list[Problem]]"]


@dataclass
class TrackEntry:
    """One video's annotation file(s), named by the video's path without its suffix."""

    name: str
    where: Where
    read: ReadFn
