"""Test-card videos whose frames show their own number, for tests, demos and benchmarks.

Frame i shows `i` twice: in large digits for people, and as a 16-bit bar code along the top for
programs. The bar is the top eighth of the frame, cut into 16 cells of equal width; cell k is
white when bit 15 - k of `i` is set (most significant bit first) and black otherwise. Positions
are fractions of the frame, so a screenshot at any scale reads the same (`read_number`).

`write_video` encodes such frames with PyAV: H.264 (libx264, with B-frames unless `bframes=0`)
in MP4, MOV or Matroska, or VP9 in WebM; at a constant frame rate, or a variable one whose frame
durations cycle through 1, 1/2, 2 and 5/6 of the nominal one (`vfr=True`). The times it wrote are
returned, in seconds as a browser's media clock counts them, so that a test can check the frame
table (docs/video.md) against them and, decoding the file back, check that the frame shown at
time `times[i]` reads `i`. `write_sequence` writes the same frames as image files (`000001.png`,
...), one video for an image-sequence import.

Nothing is held but the frame being encoded: an hour of test card streams through.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

BITS = 16
FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}
VFR_PATTERN = (Fraction(1), Fraction(1, 2), Fraction(2), Fraction(5, 6))  # of the nominal duration
_FONT = {  # 3x5 digits, rows top to bottom
    "0": ("111", "101", "101", "101", "111"), "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"), "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"), "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"), "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"), "9": ("111", "101", "111", "001", "111"),
}

Image = np.ndarray[Any, np.dtype[np.uint8]]


@dataclass(frozen=True)
class TestCard:
    """What `write_video` wrote: frame i is on screen from `times[i]` to `times[i + 1]` (the last
    to `duration`), in seconds of the media clock."""

    __test__ = False  # not a pytest class

    path: Path
    width: int
    height: int
    times: tuple[float, ...]
    duration: float
    codec: str

    @property
    def frame_count(self) -> int:
        return len(self.times)


def frame_image(number: int, width: int, height: int) -> Image:
    """The RGB frame (height, width, 3) that shows `number`: the bar code on top, digits below."""
    if not 0 <= number < 1 << BITS:
        raise ValueError(f"a test card numbers frames 0 to {(1 << BITS) - 1}, not {number}")
    image = np.full((height, width, 3), 96, dtype=np.uint8)
    bar = max(1, height // 8)
    for k in range(BITS):
        left, right = round(k * width / BITS), round((k + 1) * width / BITS)
        image[:bar, left:right] = 255 if number >> (BITS - 1 - k) & 1 else 0
    _draw_digits(image, str(number), top=bar + max(1, height // 16))
    return image


def _draw_digits(image: Image, text: str, *, top: int) -> None:
    height, width = image.shape[:2]
    scale = max(1, min((height - top) // 7, width // (4 * len(text) + 1)))
    left = (width - (4 * len(text) - 1) * scale) // 2
    for n, ch in enumerate(text):
        for row, bits in enumerate(_FONT[ch]):
            for col, bit in enumerate(bits):
                if bit == "1":
                    y, x = top + row * scale, left + (4 * n + col) * scale
                    image[y:y + scale, x:x + scale] = 255


def read_number(image: Image) -> int:
    """The number a test-card frame shows, read from its bar code (RGB or grey, any size)."""
    grey = image.astype(np.float32).mean(axis=2) if image.ndim == 3 else image.astype(np.float32)
    height, width = grey.shape
    y0, y1 = int(height / 32), max(int(height / 32) + 1, int(3 * height / 32))
    number = 0
    reach = int(width / BITS / 4)  # columns either side of a cell's centre, clear of its edges
    for k in range(BITS):
        centre = int((k + 0.5) * width / BITS)
        number = number << 1 | int(grey[y0:y1, centre - reach:centre + reach + 1].mean() > 127.5)
    return number


def frame_ticks(frame_count: int, *, fps: int, vfr: bool) -> tuple[Fraction, list[int]]:
    """The time base and each frame's start in its ticks: 1/fps a frame, or (VFR) milliseconds
    cycling through `VFR_PATTERN` of 1000/fps."""
    if not vfr:
        return Fraction(1, fps), list(range(frame_count))
    nominal = Fraction(1000, fps)
    starts, t = [], 0
    for i in range(frame_count):
        starts.append(t)
        t += max(1, round(nominal * VFR_PATTERN[i % len(VFR_PATTERN)]))
    return Fraction(1, 1000), [*starts, t]  # the end of the last frame after the starts


def write_video(
    path: Path, frame_count: int = 50, *, width: int = 320, height: int = 240, fps: int = 25,
    vfr: bool = False, bframes: int = 2, rotation: int = 0, gop: int | None = None,
    crf: int = 20, preset: str = "veryfast",
) -> TestCard:
    """Encode a test card of `frame_count` frames at `path` (its suffix picks the container:
    .mp4, .mov, .mkv: H.264; .webm: VP9). `rotation` (0, 90, 180, 270, clockwise) is written as
    the container's display matrix; `gop` frames between keyframes (default: 2 seconds)."""
    import av

    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ValueError(f"a test card is written as {', '.join(FORMATS)}, not {path.suffix!r}")
    if width % 2 or height % 2:
        raise ValueError("width and height must be even (4:2:0 chroma)")
    base, ticks = frame_ticks(frame_count, fps=fps, vfr=vfr)
    if vfr:
        starts, end = ticks[:-1], ticks[-1]
    else:
        starts, end = ticks, frame_count
    codec = "libvpx-vp9" if kind == "webm" else "libx264"
    with av.open(str(path), mode="w", format=kind) as container:
        stream: Any = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = base
        stream.codec_context.time_base = base
        if codec == "libx264":
            stream.codec_context.options = {
                "bf": str(bframes), "crf": str(crf), "preset": preset, "g": str(gop or 2 * fps)}
        else:
            stream.codec_context.options = {"crf": str(crf), "b": "0", "deadline": "realtime",
                                            "cpu-used": "8", "g": str(gop or 2 * fps)}
        if rotation:
            if rotation not in (90, 180, 270):
                raise ValueError("rotation is 0, 90, 180 or 270 degrees clockwise")
            stream.set_display_rotation((360 - rotation) % 360)  # PyAV counts counter-clockwise
        durations = {s: (starts[i + 1] if i + 1 < len(starts) else end) - s for i, s in enumerate(starts)}

        def mux(packets: Iterator[Any]) -> None:
            for packet in packets:
                if packet.pts is not None and packet.time_base == base and packet.pts in durations:
                    packet.duration = durations[packet.pts]  # exact, for the last frame above all
                container.mux(packet)

        for i, start in enumerate(starts):
            frame = av.VideoFrame.from_ndarray(frame_image(i, width, height), format="rgb24")
            frame.pts, frame.time_base = start, base
            mux(iter(stream.encode(frame)))
        mux(iter(stream.encode()))
    times = tuple(float(s * base) for s in starts)
    return TestCard(path, width, height, times, float(end * base), "vp9" if kind == "webm" else "h264")


def write_sequence(folder: Path, frame_count: int, *, width: int = 320, height: int = 240,
                   suffix: str = ".png", first: int = 1) -> list[Path]:
    """The test card as image files `folder/000001.png` ... (numbered from `first`): image i of
    the folder, in natural order, shows frame i."""
    from PIL import Image as PILImage

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(frame_count):
        path = folder / f"{first + i:06d}{suffix}"
        PILImage.fromarray(frame_image(i, width, height)).save(path, quality=95)
        paths.append(path)
    return paths


def decoded_numbers(path: Path) -> Iterator[tuple[float, int]]:
    """Every frame of a video file decoded with PyAV, in display order: (its time in seconds,
    the number its bar code reads). Streams: one frame at a time."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            pixels = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
            yield float(frame.time or 0.0), read_number(pixels)
