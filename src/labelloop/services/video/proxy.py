"""A video's proxy: what the browser plays when it cannot play the original, or when the original
is larger than 1920x1080 or longer than half an hour (docs/video.md): H.264 (8-bit 4:2:0) in
MP4, at most 1280 pixels wide as displayed, with every frame of the original at its very
presentation time, so the frame table of the original is the proxy's too and frame numbers mean
the same frames in both.

Each decoded frame is scaled and encoded with the original's pts in the original's time base
(the MP4 muxer keeps them: its timescale is a multiple of it), and no B-frames, so no edit list
shifts the times. The proxy is checked against the table once written (its packets' times,
sorted into display order, without decoding), and refused if a single one differs. The display
matrix is copied, so the proxy turns the way the original does. Streamed: one frame at a time.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

from labelloop.services.video.probe import NotVideo, VideoProbe, open_video, video_stream

MEDIA_TYPE = "video/mp4"
MAX_WIDTH = 1280
TOLERANCE = 1e-6  # seconds


def proxy_size(found: VideoProbe) -> tuple[int, int]:
    """(width, height) of the proxy's coded frames: displayed width at most `MAX_WIDTH` and height
    at most 720 (the same scale on both axes), both even."""
    coded = (found.height, found.width) if found.rotation in (90, 270) else (found.width, found.height)
    shown_w, shown_h = found.width, found.height
    scale = min(1.0, MAX_WIDTH / shown_w, 720 / shown_h if shown_h > shown_w else 1.0)
    return max(2, round(coded[0] * scale / 2) * 2), max(2, round(coded[1] * scale / 2) * 2)


def make_proxy(source: Path, target: Path, found: VideoProbe, *, preset: str = "veryfast") -> None:
    """Write the proxy of the probed video at `source` to `target`; `NotVideo` when it could not
    keep every frame time."""
    import av

    width, height = proxy_size(found)
    times = found.table.times
    with open_video(source) as src, av.open(str(target), mode="w", format="mp4") as out:
        stream_in = video_stream(src)
        if stream_in is None:  # pragma: no cover - the probe found one
            raise NotVideo("the file holds no video stream")
        base = Fraction(stream_in.time_base)
        stream_in.codec_context.thread_type = "AUTO"
        rate = max(1, round(found.fps))
        stream: Any = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = base
        stream.codec_context.time_base = base
        stream.codec_context.options = {"bf": "0", "crf": "23", "preset": preset, "g": str(2 * rate)}
        if found.rotation:
            stream.set_display_rotation((360 - found.rotation) % 360)
        ends = _durations(times, found.table.end, base)
        n = 0
        for frame in src.decode(stream_in):
            small = frame.reformat(width=width, height=height, format="yuv420p")
            small.pts, small.time_base = frame.pts, base
            _mux(out, stream.encode(small), ends)
            n += 1
        _mux(out, stream.encode(), ends)
    if n != len(times):
        raise NotVideo(f"the proxy got {n} frames of {len(times)}")
    _check(target, times)


def _durations(times: Any, end: float, base: Fraction) -> dict[int, int]:
    """Each frame's pts (in `base`) to its duration in ticks, so the last frame keeps its own."""
    ticks = [round(Fraction(t) / base) for t in times] + [round(Fraction(end) / base)]
    return {ticks[i]: ticks[i + 1] - ticks[i] for i in range(len(times))}


def _mux(out: Any, packets: Any, durations: dict[int, int]) -> None:
    for packet in packets:
        if packet.pts in durations and durations[packet.pts] > 0:
            packet.duration = durations[packet.pts]
        out.mux(packet)


def _check(target: Path, times: Any) -> None:
    with open_video(target) as container:
        stream = video_stream(container)
        got = sorted(float(p.pts * p.time_base) for p in container.demux(stream) if p.pts is not None)
    if len(got) != len(times) or any(abs(a - b) > TOLERANCE for a, b in zip(got, times, strict=True)):
        first = next((i for i, (a, b) in enumerate(zip(got, times, strict=False)) if abs(a - b) > TOLERANCE),
                     min(len(got), len(times)))
        raise NotVideo(f"the proxy could not keep the frame times (frame {first} differs)")
