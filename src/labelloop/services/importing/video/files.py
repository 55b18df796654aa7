"""A video file at import: streamed into the store, probed and decoded once (services/video/),
stored with its frame table, poster and, when the browser needs one, its proxy (docs/video.md).

The checks are probe.py's, in its order; the bytes are counted against the limit while they are
streamed (`LABELLOOP_MAX_VIDEO_BYTES`), before anything is decoded. A file stored before (same
hash, probe and variants recorded: `known`) is not decoded again. Nothing stays in the store
when a file is refused: the variants are put only once the original passed every check.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from labelloop.services.blobs import StoredVideo
from labelloop.services.video import frames, poster
from labelloop.services.video import proxy as proxies
from labelloop.services.video.probe import ACCEPTED_TEXT, NotVideo, VideoProbe, probe
from labelloop.store.blobs import BlobRow, BlobStore

__all__ = ["ACCEPTED_TEXT", "KnownVideoFn", "NotVideo", "store_probed", "store_video"]

KnownVideoFn = Callable[[str], StoredVideo | None]


def store_video(store: BlobStore, source: IO[bytes], *, limit: int, max_seconds: float,
                known: KnownVideoFn | None = None) -> StoredVideo:
    """Stream `source` into the store as a video with its frame table, poster and proxy.

    Raises `store.blobs.TooLarge` past `limit` bytes and `NotVideo` for anything that is not an
    importable video; nothing stays in the store then.
    """
    with store.stage(source, limit=limit) as staged:
        if known is not None and (done := known(staged.sha256)) is not None and store.exists(staged.sha256):
            return done
        found = probe(staged.path, max_seconds=max_seconds)
        stored = store_probed(store, staged.path, found, staged.sha256, staged.size)
        staged.commit()
        return stored


def store_probed(store: BlobStore, path: Path, found: VideoProbe, sha256: str, size: int) -> StoredVideo:
    """Put the variants of a probed video (the original itself is the caller's to commit)."""
    proxy = _store_proxy(store, path, found) if found.needs_proxy else None
    table = found.table.to_json()
    frames_row = BlobRow(store.put(table), len(table), frames.MEDIA_TYPE)
    poster_row = BlobRow(store.put(found.poster), len(found.poster), poster.MEDIA_TYPE, *found.poster_size)
    original = BlobRow(sha256, size, found.media_type)
    return StoredVideo(original, frames_row, poster_row, proxy, found.width, found.height, found.rotation,
                       found.frame_count, found.fps, found.vfr, found.duration, found.codec)


def _store_proxy(store: BlobStore, path: Path, found: VideoProbe) -> BlobRow:
    fd, name = tempfile.mkstemp(suffix=".mp4")
    os.close(fd)
    target = Path(name)
    try:
        proxies.make_proxy(path, target, found)
        with target.open("rb") as f, store.stage(f, limit=target.stat().st_size) as staged:
            staged.commit()
            width, height = proxies.proxy_size(found)
            if found.rotation in (90, 270):  # as displayed, like the original's
                width, height = height, width
            return BlobRow(staged.sha256, staged.size, proxies.MEDIA_TYPE, width, height)
    finally:
        target.unlink(missing_ok=True)
