"""Waveform peaks: the min and max of the mono mixdown per bucket of about 10 ms, so a browser
draws an hour of audio from 720 KB without decoding it (docs/audio.md, "Peaks").

The file is BBC audiowaveform's binary format, version 1 (github.com/bbc/audiowaveform,
doc/DataFormat.md), which waveform-data.js reads: a little-endian header `int32 version = 1`,
`uint32 flags` (bit 0 set: 8-bit values), `int32 sample_rate`, `int32 samples_per_pixel`,
`uint32 length`, then `length` pairs `int8 min, int8 max`. Bucket i holds samples
[i * spp, (i + 1) * spp) (the last one may hold fewer); a sample x in [-1, 1] is stored as
round(127 x), clipped to [-128, 127].
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

BUCKETS_PER_SECOND = 100
HEADER = struct.Struct("<iIiiI")
VERSION = 1
EIGHT_BIT = 1
MEDIA_TYPE = "application/vnd.labelloop.peaks"

Samples = npt.NDArray[np.float32]


def samples_per_bucket(sample_rate: int) -> int:
    return max(1, round(sample_rate / BUCKETS_PER_SECOND))


def quantize(x: npt.NDArray[np.floating]) -> npt.NDArray[np.int8]:
    out: npt.NDArray[np.int8] = np.clip(np.rint(x * 127.0), -128, 127).astype(np.int8)
    return out


class PeakBuilder:
    """Min and max per bucket of samples given piece by piece (one decoded frame at a time):
    memory holds the buckets and less than one bucket of samples."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.spp = samples_per_bucket(sample_rate)
        self._rest: Samples = np.zeros(0, dtype=np.float32)
        self._mins: list[npt.NDArray[np.int8]] = []
        self._maxs: list[npt.NDArray[np.int8]] = []

    def add(self, mono: Samples) -> None:
        if self._rest.size:
            mono = np.concatenate([self._rest, mono])
        whole = mono.size // self.spp * self.spp
        if whole:
            buckets = mono[:whole].reshape(-1, self.spp)
            self._mins.append(quantize(buckets.min(axis=1)))
            self._maxs.append(quantize(buckets.max(axis=1)))
        self._rest = mono[whole:].copy()

    def finish(self) -> bytes:
        if self._rest.size:
            self._mins.append(quantize(self._rest.min(keepdims=True)))
            self._maxs.append(quantize(self._rest.max(keepdims=True)))
            self._rest = np.zeros(0, dtype=np.float32)
        mins = np.concatenate(self._mins) if self._mins else np.zeros(0, dtype=np.int8)
        maxs = np.concatenate(self._maxs) if self._maxs else np.zeros(0, dtype=np.int8)
        pairs = np.empty(2 * mins.size, dtype=np.int8)
        pairs[0::2], pairs[1::2] = mins, maxs
        return HEADER.pack(VERSION, EIGHT_BIT, self.sample_rate, self.spp, mins.size) + pairs.tobytes()


@dataclass(frozen=True)
class Peaks:
    sample_rate: int
    samples_per_bucket: int
    mins: npt.NDArray[np.int8]
    maxs: npt.NDArray[np.int8]

    def bucket_seconds(self) -> float:
        return self.samples_per_bucket / self.sample_rate


def read_peaks(data: bytes) -> Peaks:
    """A peaks file back as arrays (what the browser does with it; for tests and tools)."""
    version, flags, rate, spp, length = HEADER.unpack_from(data)
    if version != VERSION or flags != EIGHT_BIT or len(data) != HEADER.size + 2 * length:
        raise ValueError("not an 8-bit audiowaveform v1 peaks file")
    pairs = np.frombuffer(data, dtype=np.int8, offset=HEADER.size)
    return Peaks(rate, spp, pairs[0::2].copy(), pairs[1::2].copy())
