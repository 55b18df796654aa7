"""A video file checked, measured and decoded once with PyAV (FFmpeg), its frame table and poster
made on the way (docs/video.md, "Video items and blobs").

What is checked, in order (the first failure is the problem named for the file):
1. FFmpeg recognises the bytes (never the file's name) as MP4, MOV, Matroska or WebM holding a
   video stream (cover art is not one); the first video stream is the one played, as browsers do;
2. the duration the header states is within the limit (refused before decoding anything);
3. every packet decodes, each frame has a presentation time after the one before (the frame
   table: frames.py), the decoded length stays within the limit, is not zero frames, and is not
   shorter than the stated duration by more than `SHORT_RATIO` and `SHORT_SECONDS` (services/media_probe.py: a
   file cut short whose header says more).

Decoding is streamed, one frame at a time: only frame 0 is turned into pixels (the poster), the
others are counted and timed and dropped, so an hour of video never sits in memory (its frame
table, 8 bytes a frame, does). Rotation is the container's display matrix, in degrees clockwise;
`width` and `height` are as displayed, after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from labelloop.services.media_probe import cut_short, ffmpeg_reason, hms, stated_seconds
from labelloop.services.video.frames import FrameTable, TableBuilder
from labelloop.services.video.poster import poster_jpeg

ACCEPTED_TEXT = "MP4, MOV, WebM or MKV (Matroska)"
PLAYABLE = frozenset({"h264", "vp8", "vp9", "av1"})  # in MP4 or WebM, what browsers decode
PLAYABLE_PIXELS = frozenset({"yuv420p", "yuvj420p"})  # 8-bit 4:2:0: High 10 and 4:4:4 are not played
MAX_PLAYED = (1920, 1080)  # larger originals get a proxy (long side, short side)
# Longer videos get a proxy too: seeking in a small file is quicker, and annotators of a long
# recording step through it more than they watch it at full resolution.
LONG_SECONDS = 1800.0
_DECODERS = {"libdav1d": "av1", "libaom-av1": "av1", "libvpx": "vp8", "libvpx-vp9": "vp9"}
_WEBM_AUDIO = frozenset({"opus", "vorbis"})


class NotVideo(Exception):
    """The file cannot be imported as video; the message says why, for the user."""


@dataclass(frozen=True)
class VideoProbe:
    media_type: str  # video/mp4, video/quicktime, video/webm, video/x-matroska
    width: int  # as displayed: after the rotation
    height: int
    rotation: int  # 0, 90, 180 or 270 degrees clockwise
    codec: str
    vfr: bool
    table: FrameTable
    poster: bytes  # JPEG
    poster_size: tuple[int, int]
    needs_proxy: bool

    @property
    def frame_count(self) -> int:
        return self.table.frame_count

    @property
    def duration(self) -> float:
        return self.table.duration

    @property
    def fps(self) -> float:
        return self.table.fps


def open_video(path: Path) -> Any:
    """The file opened by PyAV; `NotVideo` when PyAV is missing or FFmpeg cannot read it."""
    if path.stat().st_size == 0:
        raise NotVideo("the file is empty (0 bytes)")
    try:
        import av
    except ImportError:  # pragma: no cover - the extra is installed wherever tests run
        raise NotVideo("video imports need PyAV on the server: pip install 'labelloop[video]'") from None
    try:
        return av.open(str(path), mode="r")
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError):
        raise NotVideo(f"not a video file FFmpeg can read (accepted: {ACCEPTED_TEXT})") from None


def video_stream(container: Any) -> Any | None:
    """The stream a browser would play: the first video stream that is not cover art."""
    import av

    pictures = av.stream.Disposition.attached_pic
    return next((s for s in container.streams.video if not s.disposition & pictures), None)


def holds_video(path: Path) -> bool:
    """Whether FFmpeg finds a video stream in the file (an .mp4 may be audio only)."""
    try:
        with open_video(path) as container:
            return video_stream(container) is not None
    except NotVideo:
        return False


def probe(path: Path, *, max_seconds: float) -> VideoProbe:
    """Check and decode the video file at `path`; `NotVideo` says why it cannot be imported."""
    with open_video(path) as container:
        return _probe(container, max_seconds)


def _media_type(container: Any, codec: str) -> str | None:
    kind = container.format.name
    if kind.startswith("mov,mp4"):
        brand = str(container.metadata.get("major_brand", "")).strip()
        return "video/quicktime" if brand == "qt" else "video/mp4"
    if kind.startswith("matroska"):
        audio = {_codec_name(s.codec_context) for s in container.streams.audio}
        webm = codec in ("vp8", "vp9", "av1") and audio <= _WEBM_AUDIO
        return "video/webm" if webm else "video/x-matroska"
    return None


def _codec_name(ctx: Any) -> str:
    name = str(ctx.name)
    return _DECODERS.get(name, name)


def _rotation(stream: Any, frame: Any) -> int:
    """Clockwise degrees, a multiple of 90 (PyAV reads the display matrix counter-clockwise)."""
    ccw = round(float(getattr(frame, "rotation", 0) or 0) / 90.0) * 90
    return (-ccw) % 360


def _probe(container: Any, max_seconds: float) -> VideoProbe:
    import av

    stream = video_stream(container)
    if stream is None:
        raise NotVideo("the file holds no video stream" + (" (it is audio: import it as audio)"
                                                           if container.streams.audio else ""))
    ctx = stream.codec_context
    codec = _codec_name(ctx)
    media_type = _media_type(container, codec)
    if media_type is None:
        kind = container.format.long_name or container.format.name
        raise NotVideo(f"a {kind} file; accepted: {ACCEPTED_TEXT}")
    stated = stated_seconds(container, stream)
    if stated is not None and stated > max_seconds:
        raise NotVideo(f"{hms(stated)} of video, longer than the {hms(max_seconds)} limit "
                       "(LABELLOOP_MAX_VIDEO_SECONDS)")
    ctx.thread_type = "AUTO"  # frame and slice threads: decoding is the whole cost of a probe
    table = TableBuilder()
    first: tuple[bytes, tuple[int, int], int, int, int] | None = None
    pixels = ""
    last_duration: float | None = None
    start: float | None = None
    try:
        for frame in container.decode(stream):
            n = len(table.times)
            if frame.pts is None or frame.time_base is None:
                raise NotVideo(f"frame {n} has no presentation time")
            problem = table.add(frame.pts, Fraction(frame.time_base))
            if problem is not None:
                raise NotVideo(problem)
            t = table.times[-1]
            start = t if start is None else start
            if t - start > max_seconds:
                raise NotVideo(f"longer than the {hms(max_seconds)} limit once decoded "
                               "(LABELLOOP_MAX_VIDEO_SECONDS)")
            if first is None:
                rotation = _rotation(stream, frame)
                jpeg, w, h = poster_jpeg(frame, rotation)
                first = (jpeg, (w, h), rotation, frame.width, frame.height)
                pixels = str(frame.format.name)
            duration = getattr(frame, "duration", None)
            last_duration = float(duration * frame.time_base) if duration else None
    except av.FFmpegError as e:
        n = len(table.times)
        raise NotVideo(f"the video cannot be decoded after frame {n}: {ffmpeg_reason(e)}") from None
    if first is None:
        raise NotVideo("the file holds no frames (0 decode)")
    found = table.finish(last_duration)
    if cut_short(stated, found.duration):
        raise NotVideo(f"the file is cut short: its header says {stated:.2f} s, "
                       f"{found.duration:.2f} s decode ({found.frame_count} frames)")
    poster, poster_size, rotation, coded_w, coded_h = first
    width, height = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)
    played = codec in PLAYABLE and media_type in ("video/mp4", "video/webm") and pixels in PLAYABLE_PIXELS
    small = max(width, height) <= MAX_PLAYED[0] and min(width, height) <= MAX_PLAYED[1]
    return VideoProbe(media_type, width, height, rotation, codec, table.vfr(), found, poster, poster_size,
                      needs_proxy=not (played and small) or found.duration > LONG_SECONDS)
