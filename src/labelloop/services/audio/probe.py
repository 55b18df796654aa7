"""An audio file checked, measured and decoded once with PyAV (FFmpeg), its peaks made on the way.

What is checked, in order (the first failure is the problem named for the file):
1. FFmpeg recognises the bytes (never the file's name: the staged file has none) as WAV, FLAC,
   MP3, Ogg or MP4/M4A, with exactly one audio stream and no video (cover art is allowed);
2. the codec is one a browser plays (`CODECS`), since the original is what the workbench plays;
3. the duration the header states is within the limit (refused before decoding anything);
4. a WAV's data chunk is all there (FFmpeg reads a cut WAV to its end without complaint);
5. every packet decodes, the decoded length stays within the limit, is not zero, and is not
   shorter than the stated duration by more than `SHORT_RATIO` and `SHORT_SECONDS` (services/media_probe.py: a
   file cut short whose header says more: MP3 with a Xing frame count, MP4's moov, FLAC's STREAMINFO).

Decoding is streamed: one packet's frames at a time are mixed down to mono (the mean of the
channels), their peaks taken (peaks.py), and dropped, so an hour of audio never sits in memory.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labelloop.services.audio.peaks import PeakBuilder
from labelloop.services.media_probe import cut_short, ffmpeg_reason, hms, stated_seconds

CONTAINERS = {
    "wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg", "ogg": "audio/ogg",
    "mov,mp4,m4a,3gp,3g2,mj2": "audio/mp4",
}
ACCEPTED_TEXT = "WAV, FLAC, MP3, Ogg (Vorbis, Opus) or M4A (AAC)"
# What Chromium and Firefox play from those containers.
CODECS = frozenset({
    "pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_mulaw", "pcm_alaw",
    "flac", "mp3", "vorbis", "opus", "aac",
})
_SCALE = {np.dtype(np.int16): 1 / 32768, np.dtype(np.int32): 1 / 2147483648}


class NotAudio(Exception):
    """The file cannot be imported as audio; the message says why, for the user."""


@dataclass(frozen=True)
class AudioProbe:
    media_type: str
    duration: float  # seconds: decoded samples / sample rate
    sample_rate: int
    channels: int
    codec: str
    peaks: bytes


def probe(path: Path, *, max_seconds: float) -> AudioProbe:
    """Check and decode the audio file at `path`; `NotAudio` says why it cannot be imported."""
    if path.stat().st_size == 0:
        raise NotAudio("the file is empty (0 bytes)")
    try:
        import av
    except ImportError:  # pragma: no cover - the extra is installed wherever tests run
        raise NotAudio("audio imports need PyAV on the server: pip install 'labelloop[audio]'") from None
    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError):
        raise NotAudio(f"not an audio file FFmpeg can read (accepted: {ACCEPTED_TEXT})") from None
    with container:
        return _probe(container, path, max_seconds)


def _probe(container: Any, path: Path, max_seconds: float) -> AudioProbe:
    import av

    kind = container.format.name
    media_type = CONTAINERS.get(kind)
    if media_type is None:
        raise NotAudio(f"a {container.format.long_name or kind} file; accepted: {ACCEPTED_TEXT}")
    pictures = av.stream.Disposition.attached_pic
    if any(s.type == "video" and not (s.disposition & pictures) for s in container.streams):
        raise NotAudio("the file holds video: import it as a video")
    audio = list(container.streams.audio)
    if len(audio) != 1:
        raise NotAudio("the file holds no audio stream" if not audio
                       else f"the file holds {len(audio)} audio streams; one is expected")
    stream = audio[0]
    ctx = stream.codec_context
    codec = "mp3" if ctx.name == "mp3float" else ctx.name  # FFmpeg's float decoder of MP3
    if codec not in CODECS:
        raise NotAudio(f"audio coded as {codec}, which browsers do not play; convert it to {ACCEPTED_TEXT}")
    rate, channels = int(ctx.sample_rate or 0), int(ctx.channels or 0)
    if rate <= 0 or channels <= 0:
        raise NotAudio("the audio stream states no sample rate or channels")
    stated = stated_seconds(container, stream)
    if stated is not None and stated > max_seconds:
        raise NotAudio(f"{hms(stated)} of audio, longer than the {hms(max_seconds)} limit "
                       "(LABELLOOP_MAX_AUDIO_SECONDS)")
    if kind == "wav":
        _check_wav_data(path)
    builder = PeakBuilder(rate)
    decoded = 0
    limit = int(max_seconds * rate)
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                mono = _mono(frame)
                decoded += mono.size
                if decoded > limit:
                    raise NotAudio(f"longer than the {hms(max_seconds)} limit once decoded "
                                   "(LABELLOOP_MAX_AUDIO_SECONDS)")
                builder.add(mono)
    except av.FFmpegError as e:
        raise NotAudio(
            f"the audio cannot be decoded after {decoded / rate:.2f} s: {ffmpeg_reason(e)}") from None
    if decoded == 0:
        raise NotAudio("the file holds no audio (0 samples decode)")
    duration = decoded / rate
    if cut_short(stated, duration):
        raise NotAudio(f"the file is cut short: its header says {stated:.2f} s, {duration:.2f} s decode")
    return AudioProbe(media_type, duration, rate, channels, codec, builder.finish())


def _mono(frame: Any) -> np.ndarray[Any, np.dtype[np.float32]]:
    """The frame's samples as float32 in [-1, 1], channels averaged (one matrix-vector product:
    a mean over a strided axis took 8 times as long)."""
    raw = frame.to_ndarray()
    channels = frame.layout.nb_channels
    offset = 0.0
    if raw.dtype == np.uint8:
        scale, offset = 1 / 128, -1.0
    else:
        scale = _SCALE.get(raw.dtype, 1.0)
    mix = np.full(channels, scale / channels, dtype=np.float32)
    x = raw.astype(np.float32, copy=False)
    mono: np.ndarray[Any, np.dtype[np.float32]] = (
        mix @ x if frame.format.is_planar else x.reshape(-1, channels) @ mix)
    return mono + np.float32(offset) if offset else mono


def _check_wav_data(path: Path) -> None:
    """Refuse a WAV whose `data` chunk claims more bytes than the file has."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return  # RF64 and friends: FFmpeg's own checks
        offset = 12
        while offset + 8 <= size:
            f.seek(offset)
            chunk, length = struct.unpack("<4sI", f.read(8))
            if chunk == b"data":
                # 0 and 0xFFFFFFFF: written by a streaming recorder that never went back to say.
                if length not in (0, 0xFFFFFFFF) and offset + 8 + length > size:
                    raise NotAudio(f"the file is cut short: its data chunk says {length:,} bytes, "
                                   f"{size - offset - 8:,} are there")
                return
            offset += 8 + length + (length & 1)
