"""Videos in a zip or folder import (importing/archive.py): a video file stored, a folder of frames
made into one video, and the image sequences of the media-only layout (`sequences/<name>/...`)
told apart from the other files. Each problem is a `Problem` naming the file it is about."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from typing import IO, Any, Protocol

from labelloop.errors import Problem
from labelloop.services.blobs import StoredVideo
from labelloop.services.importing.limits import ImportLimits
from labelloop.services.importing.names import IMAGE_SUFFIXES, suffix
from labelloop.services.importing.video.files import KnownVideoFn, NotVideo, store_video
from labelloop.services.importing.video.sequences import BadFrame, frame_rate, natural_key, store_sequence
from labelloop.services.video.probe import video_stream
from labelloop.store.blobs import BlobStore, TooLarge

__all__ = ["TOO_LARGE", "KnownVideoFn", "member_holds_video", "split_sequences", "store_folder",
           "store_member"]

SEQUENCES = "sequences"  # the top folder whose folders of images are videos (first layout)
TOO_LARGE = "too large"  # said back to the archive, which knows which limit it was
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError)


class MemberLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def problem(self) -> str | None: ...
    @property
    def open(self) -> Callable[[], IO[bytes]]: ...


def split_sequences(members: list[Any]) -> tuple[list[Any], list[tuple[str, list[Any]]]]:
    """The members that are not frames of a sequence, and each sequence (its folder, its frames
    in natural order): the files in a folder under the top folder `sequences/`."""
    rest: list[Any] = []
    folders: dict[str, list[Any]] = {}
    for m in members:
        parts = m.name.split("/")
        if len(parts) >= 3 and parts[0] == SEQUENCES:
            folders.setdefault("/".join(parts[:-1]), []).append(m)
        else:
            rest.append(m)
    ordered = [(folder, sorted(frames, key=lambda m: natural_key(m.name.rsplit("/", 1)[1])))
               for folder, frames in sorted(folders.items())]
    return rest, ordered


def member_holds_video(m: MemberLike) -> bool:
    """Whether an archive member (an .mp4 that could be audio) holds a video stream."""
    import av

    try:
        with m.open() as f, av.open(f, mode="r") as container:
            return video_stream(container) is not None
    except (av.FFmpegError, ValueError, *_READ_ERRORS):
        return False


def store_member(store: BlobStore, m: MemberLike, limits: ImportLimits, limit: int,
                 known: KnownVideoFn | None) -> StoredVideo | Problem:
    """A video file of the archive stored, or the problem naming it (`TOO_LARGE` past `limit`)."""
    if m.problem is not None:
        return Problem(m.problem, file=m.name)
    try:
        with m.open() as f:
            return store_video(store, f, limit=limit, max_seconds=limits.max_video_seconds, known=known)
    except TooLarge:
        return Problem(TOO_LARGE, file=m.name)
    except NotVideo as e:
        return Problem(str(e), file=m.name)
    except _READ_ERRORS as e:
        return Problem(f"cannot be read from the archive: {e}", file=m.name)


def store_folder(store: BlobStore, folder: str, frames: list[Any], fps: Any, limits: ImportLimits,
                 left: int) -> StoredVideo | list[Problem]:
    """A folder of frames stored as one video, or the problems naming its files."""
    problems = [Problem(m.problem, file=m.name) for m in frames if m.problem is not None]
    problems += [Problem("not an image: a folder of frames holds only images (a video is one file)",
                         file=m.name)
                 for m in frames if m.problem is None and suffix(m.name) not in IMAGE_SUFFIXES]
    try:
        rate = frame_rate(fps)
    except ValueError as e:
        problems.append(Problem(str(e), file=folder, field="fps"))
    if problems:
        return problems
    ordered = sorted(frames, key=lambda m: natural_key(m.name.rsplit("/", 1)[1]))
    try:
        return store_sequence(store, [(m.name, m.open) for m in ordered], fps=rate,
                              image_limit=min(limits.max_image_bytes, left),
                              video_limit=limits.max_video_bytes, max_seconds=limits.max_video_seconds)
    except BadFrame as e:
        return [Problem(str(e), file=e.name)]
    except NotVideo as e:
        return [Problem(f"the frames cannot be made into a video: {e}", file=folder)]
    except _READ_ERRORS as e:
        return [Problem(f"cannot be read from the archive: {e}", file=folder)]
