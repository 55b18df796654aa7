"""Content-addressed blob storage: the SHA-256 of a file's bytes is its name.

A file is written by streaming it to a temporary file in the store while hashing, then renaming
it into place (`<root>/ab/cd/abcd…`): a reader never sees half a file, two writers of the same
content end with the one file, and a crash leaves at most a temporary file (removed by
`sweep_temporary`). Nothing is ever rewritten: equal names mean equal bytes.

`BlobStore` is the interface the services use; `LocalBlobStore` keeps files on local disk. An
S3-compatible store would implement the same methods (`stage` writing to a local temporary file
and uploading on `commit`, `local_path` returning None so that serving streams from `open`).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import IO, BinaryIO, Protocol

SHA256 = re.compile(r"[0-9a-f]{64}")
PIECE = 1024 * 1024
_TMP = "tmp"


def is_sha256(text: str) -> bool:
    return SHA256.fullmatch(text) is not None


class TooLarge(Exception):
    """The stream held more bytes than the limit it was staged under."""


class StagedBlob(Protocol):
    """Bytes written and hashed, not yet in the store: `commit` puts them there, `discard` drops
    them. `path` is a local file with the bytes (for Pillow to read) until either is called."""

    sha256: str
    size: int
    path: Path

    def commit(self) -> None: ...

    def discard(self) -> None: ...

    def __enter__(self) -> StagedBlob: ...

    def __exit__(self, *_exc: object) -> None:
        """Discards what was not committed."""
        ...


class BlobStore(Protocol):
    def stage(self, source: IO[bytes], *, limit: int) -> StagedBlob:
        """Stream `source` into a staged blob; `TooLarge` once it holds more than `limit` bytes."""
        ...

    def put(self, data: bytes) -> str:
        """Store `data` (small: a preview or a thumbnail) and return its SHA-256."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def open(self, sha256: str) -> BinaryIO: ...

    def local_path(self, sha256: str) -> Path | None:
        """The file on local disk to serve, or None for a store that is not local."""
        ...


class _LocalStaged:
    def __init__(self, store: LocalBlobStore, path: Path, sha256: str, size: int) -> None:
        self.store = store
        self.path = path
        self.sha256 = sha256
        self.size = size
        self._done = False

    def commit(self) -> None:
        if not self._done:
            self._done = True
            self.store._place(self.path, self.sha256)

    def discard(self) -> None:
        if not self._done:
            self._done = True
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> _LocalStaged:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.discard()  # after a commit, nothing


class LocalBlobStore:
    """Blobs as files under `root`, two levels of folders by hash prefix (65,536 folders at most,
    so no folder holds millions of entries)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise ValueError(f"not a SHA-256 in hex: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _tmp_dir(self) -> Path:
        tmp = self.root / _TMP
        tmp.mkdir(parents=True, exist_ok=True)
        return tmp

    def stage(self, source: IO[bytes], *, limit: int) -> _LocalStaged:
        digest = hashlib.sha256()
        size = 0
        # In the store's own folder, so the final rename never crosses file systems.
        fd, name = tempfile.mkstemp(dir=self._tmp_dir(), suffix=".part")
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                while piece := source.read(min(PIECE, limit + 1 - size)):
                    size += len(piece)
                    if size > limit:
                        raise TooLarge
                    digest.update(piece)
                    out.write(piece)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return _LocalStaged(self, path, digest.hexdigest(), size)

    def put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if self.exists(sha256):
            return sha256
        fd, name = tempfile.mkstemp(dir=self._tmp_dir(), suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            self._place(Path(name), sha256)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return sha256

    def _place(self, tmp: Path, sha256: str) -> None:
        target = self.path_of(sha256)
        if target.exists():  # the same bytes are already there
            tmp.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)  # atomic: readers see the old state or the whole file

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        return self.path_of(sha256).open("rb")

    def local_path(self, sha256: str) -> Path | None:
        return self.path_of(sha256)

    def sweep_temporary(self) -> int:
        """Remove the temporary files a stopped process left (only safe while nothing writes)."""
        tmp = self.root / _TMP
        removed = 0
        if tmp.is_dir():
            for stray in tmp.iterdir():
                if stray.is_file():
                    stray.unlink(missing_ok=True)
                    removed += 1
        return removed
