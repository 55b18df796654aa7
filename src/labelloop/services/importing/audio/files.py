"""An audio file at import: streamed into the store, probed and decoded once (services/audio/),
stored with its waveform peaks (docs/audio.md).

The checks are probe.py's, in its order; the bytes are counted against the limit while they are
streamed (`LABELLOOP_MAX_AUDIO_BYTES`), before anything is decoded. A file stored before (same
hash, probe and peaks recorded: `known`) is not decoded again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from labelloop.services.audio.peaks import MEDIA_TYPE as PEAKS_MEDIA_TYPE
from labelloop.services.audio.probe import ACCEPTED_TEXT, NotAudio, probe
from labelloop.services.blobs import StoredAudio
from labelloop.store.blobs import BlobRow, BlobStore

__all__ = ["ACCEPTED_TEXT", "KnownAudioFn", "NotAudio", "store_audio"]

KnownAudioFn = Callable[[str], StoredAudio | None]


def store_audio(store: BlobStore, source: IO[bytes], *, limit: int, max_seconds: float,
                known: KnownAudioFn | None = None) -> StoredAudio:
    """Stream `source` into the store as audio with its peaks.

    Raises `store.blobs.TooLarge` past `limit` bytes and `NotAudio` for anything that is not
    importable audio; nothing stays in the store then.
    """
    with store.stage(source, limit=limit) as staged:
        if known is not None and (done := known(staged.sha256)) is not None and store.exists(staged.sha256):
            return done
        found = probe(staged.path, max_seconds=max_seconds)
        peaks = BlobRow(store.put(found.peaks), len(found.peaks), PEAKS_MEDIA_TYPE)
        staged.commit()
        original = BlobRow(staged.sha256, staged.size, found.media_type)
        return StoredAudio(original, peaks, found.duration, found.sample_rate, found.channels, found.codec)
