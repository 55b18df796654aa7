"""An image sequence at import: a folder of frames made into one video (docs/video.md).

The frames, in natural sort order (`2.jpg` before `10.jpg`), are encoded once into an H.264 MP4
at the frame rate given (default 25): image i of the folder is frame i of the video, shown from
i / fps seconds. The video is then stored like any imported one (files.py: probed, frame table,
poster), so what the workbench plays is what the probe checked. Coordinates are the images'
pixels: an odd width or height is padded by one black column or row on the right or bottom
(4:2:0 chroma needs even sizes), which moves no pixel of the images.

Refused, naming the frame's file: a file that is not an image, an image of another size than the
first, more frames than `LABELLOOP_MAX_VIDEO_SECONDS` at that rate. Streamed: one image decoded
and encoded at a time.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import numpy as np

from labelloop.services.blobs import StoredVideo
from labelloop.services.importing.video.files import store_probed
from labelloop.services.video.probe import NotVideo, probe
from labelloop.store.blobs import BlobStore

DEFAULT_FPS = 25
MAX_FPS = 240
_DIGITS = re.compile(r"(\d+)")

Opener = Callable[[], IO[bytes]]


class BadFrame(NotVideo):
    """A frame of a sequence cannot be used; `name` is its file."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def natural_key(name: str) -> list[Any]:
    """Sort key: runs of digits compared as numbers (`frame2` before `frame10`)."""
    return [int(part) if part.isdigit() else part.lower() for part in _DIGITS.split(name)]


def frame_rate(value: Any) -> Fraction:
    """A record's `fps` as a fraction (29.97 is 30000/1001); `ValueError` saying what is wrong."""
    if value is None or value == "":
        return Fraction(DEFAULT_FPS)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("fps must be a number of frames a second")
    try:
        rate = Fraction(str(value)).limit_denominator(1001)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"fps must be a number of frames a second, not {str(value)[:40]!r}") from None
    if not 0 < rate <= MAX_FPS:
        raise ValueError(f"fps must be above 0 and at most {MAX_FPS}")
    return rate


def store_sequence(store: BlobStore, frames: Iterable[tuple[str, Opener]], *, fps: Fraction,
                   image_limit: int, video_limit: int, max_seconds: float) -> StoredVideo:
    """Encode the frames (already in order) into one stored video; `BadFrame` names a bad frame,
    `NotVideo` says what else is wrong. Nothing stays in the store on failure."""
    fd, name = tempfile.mkstemp(suffix=".mp4")
    os.close(fd)
    path = Path(name)
    try:
        count = _encode(frames, path, fps=fps, image_limit=image_limit, max_frames=int(max_seconds * fps))
        if count == 0:
            raise NotVideo("the folder holds no frames")
        size = path.stat().st_size
        if size > video_limit:
            raise NotVideo("the video made of the frames is larger than the limit for one video file "
                           "(LABELLOOP_MAX_VIDEO_BYTES)")
        found = probe(path, max_seconds=max_seconds)
        with path.open("rb") as f, store.stage(f, limit=size) as staged:
            stored = store_probed(store, staged.path, found, staged.sha256, staged.size)
            staged.commit()
            return stored
    finally:
        path.unlink(missing_ok=True)


def _encode(frames: Iterable[tuple[str, Opener]], path: Path, *, fps: Fraction, image_limit: int,
            max_frames: int) -> int:
    import av

    base = 1 / fps
    count = 0
    size: tuple[int, int] | None = None
    with av.open(str(path), mode="w", format="mp4") as out:
        stream: Any = None
        for name, opener in frames:
            if count >= max_frames:
                raise BadFrame(name, f"more than {max_frames:,} frames at {float(fps):g} a second, past the "
                                     "limit for one video (LABELLOOP_MAX_VIDEO_SECONDS)")
            image = _read_image(name, opener, image_limit)
            if size is None:
                size = image.size
                stream = out.add_stream("libx264", rate=fps)
                stream.width, stream.height = size[0] + size[0] % 2, size[1] + size[1] % 2
                stream.pix_fmt = "yuv420p"
                stream.time_base = base
                stream.codec_context.time_base = base
                stream.codec_context.options = {"crf": "18", "preset": "veryfast", "bf": "2",
                                                "g": str(max(1, round(2 * fps)))}
            elif image.size != size:
                raise BadFrame(name, f"a frame of {image.size[0]}x{image.size[1]} pixels, the first is "
                                     f"{size[0]}x{size[1]}: every frame of a sequence has one size")
            pixels = np.asarray(_padded(image, stream.width, stream.height), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = count, base
            for packet in stream.encode(frame):
                out.mux(packet)
            count += 1
        if stream is not None:
            for packet in stream.encode():
                out.mux(packet)
    return count


def _read_image(name: str, opener: Opener, limit: int) -> Any:
    from PIL import Image, ImageOps, UnidentifiedImageError

    with opener() as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise BadFrame(name, "the image is larger than the limit for one image file "
                             "(LABELLOOP_MAX_IMAGE_BYTES)")
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            return ImageOps.exif_transpose(im).convert("RGB")  # as the image import turns it
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise BadFrame(name, f"not an image Pillow can read: {str(e)[:120]}") from None


def _padded(image: Any, width: int, height: int) -> Any:
    if image.size == (width, height):
        return image
    from PIL import Image

    canvas = Image.new("RGB", (width, height))
    canvas.paste(image, (0, 0))
    return canvas
