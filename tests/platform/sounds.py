"""Real audio files made in the tests: encoded by PyAV (FFmpeg) from numpy signals, and speech of
known text from espeak-ng when the machine has it (scripts/test-deps.sh installs it)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

av = pytest.importorskip("av", reason="audio needs the audio extra (pip install -e '.[audio]')")

# (container, encoder, sample rate): what each kind of file is written with.
KINDS = {
    "wav": ("wav", "pcm_s16le", 16000),
    "flac": ("flac", "flac", 16000),
    "mp3": ("mp3", "libmp3lame", 16000),
    "ogg": ("ogg", "libopus", 48000),
    "m4a": ("ipod", "aac", 16000),
}


def tone(seconds: float, rate: int, *, amplitude: float = 0.5, hz: float = 440.0) -> npt.NDArray[np.float32]:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def encode(signal: npt.NDArray[np.float32], kind: str = "wav", *, rate: int | None = None) -> bytes:
    """`signal` (samples, or channels x samples, floats in [-1, 1]) as a file of this kind."""
    fmt, codec, default_rate = KINDS[kind]
    rate = rate or default_rate
    planes = np.atleast_2d(signal).astype(np.float32)
    layout = "mono" if planes.shape[0] == 1 else "stereo"
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        for i in range(0, planes.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(planes[:, i:i + 1024]), format="fltp",
                                               layout=layout)
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def sound(kind: str = "wav", seconds: float = 1.0, *, amplitude: float = 0.5, channels: int = 1,
          hz: float = 440.0) -> bytes:
    rate = KINDS[kind][2]
    x = tone(seconds, rate, amplitude=amplitude, hz=hz)
    return encode(np.tile(x, (channels, 1)), kind)


def write_long_wav(path: Path, seconds: int, *, rate: int = 16000, channels: int = 1) -> None:
    """A long 16-bit WAV written a second at a time (never the whole signal in memory)."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        for s in range(seconds):
            x = tone(1.0, rate, amplitude=0.1 + 0.08 * (s % 10), hz=220.0 + s % 7)
            w.writeframes(np.repeat((x * 32767).astype(np.int16)[:, None], channels, axis=1).tobytes())


def espeak(text: str) -> bytes:
    """`text` spoken by espeak-ng as a WAV; skips where espeak-ng is missing, fails on CI."""
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI"):
            pytest.fail("espeak-ng is missing: run scripts/test-deps.sh")
        pytest.skip("espeak-ng is not installed (scripts/test-deps.sh installs it)")
    # Written to a file, not to stdout: espeak-ng streams to stdout with placeholder sizes in the
    # WAV header (it cannot seek back), which the import rightly takes for a file cut short.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-w", str(path), text], check=True, capture_output=True, timeout=60)
        return path.read_bytes()
