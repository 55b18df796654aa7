"""Content-addressed blob storage: the SHA-256 of a file's bytes is its name.

A file is written by streaming it to a temporary file in the store while hashing, then renaming
it into place (`<root>/ab/cd/abcd…`): a reader never sees half a file, two writers of the same
content end with the one file, and a crash leaves at most a temporary file (removed by
`sweep_temporary`). Nothing is ever rewritten: equal names mean equal bytes.

`BlobStore` is the interface the services use; `LocalBlobStore` keeps files on local disk and
`S3BlobStore` (store/s3_blobs.py) in an S3-compatible bucket (`stage` writing to a local temporary
file and uploading on `commit`, `local_path` None: serving reads byte ranges of the object, and
code that needs a file on disk takes `local_copy`). services/runtime.py makes the configured one.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol, cast

from labelloop.store.crypto import DecryptingReader, EncryptionError, Keyring, encrypt_stream, file_key_id

SHA256 = re.compile(r"[0-9a-f]{64}")
PIECE = 1024 * 1024
_TMP = "tmp"


def is_sha256(text: str) -> bool:
    return SHA256.fullmatch(text) is not None


@dataclass(frozen=True)
class BlobRow:
    """A row of `blobs`: a file's hash, size, media type and, for images, pixel size."""

    sha256: str
    size: int
    media_type: str
    width: int | None = None
    height: int | None = None

    def as_row(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "size": self.size, "media_type": self.media_type,
                "width": self.width, "height": self.height}


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


class RangedFile(Protocol):
    """A stored file's plaintext by byte ranges (what a Range request is served from)."""

    size: int

    def range(self, start: int, end: int) -> Iterator[bytes]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *_exc: Any) -> Any: ...


class BlobStore(Protocol):
    keyring: Keyring | None
    allow_plaintext: bool

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

    def local_copy(self, sha256: str) -> contextlib.AbstractContextManager[Path]:
        """A local file with the blob's plaintext for the block's length (Pillow, PyAV, OpenCV):
        the stored file itself when it is local and plaintext, else a temporary copy."""
        ...

    def open_range(self, sha256: str) -> RangedFile: ...

    def presigned_url(self, sha256: str, *, media_type: str, disposition: str) -> str | None:
        """A short-lived URL the browser may fetch the file from itself, or None (serve it)."""
        ...

    def hashes(self) -> Iterator[str]: ...

    def key_id_of(self, sha256: str) -> str | None: ...

    def encrypt(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> bool: ...

    def sweep_temporary(self, older_than: float = 0.0) -> int:
        """Remove the staging files a stopped process left, untouched for `older_than` seconds
        (other processes may be staging theirs right now); returns how many."""
        ...


def sweep_stale(folder: Path, older_than: float, keep: Collection[str] = ()) -> int:
    """Remove the files of `folder` not written for `older_than` seconds, except those named in
    `keep`; returns how many. Another process's file being written is younger than that."""
    if not folder.is_dir():
        return 0
    removed, now = 0, time.time()
    for stray in folder.iterdir():
        try:
            stale = stray.is_file() and now - stray.stat().st_mtime >= older_than
        except FileNotFoundError:  # its process finished with it meanwhile
            continue
        if stale and stray.name not in keep:
            stray.unlink(missing_ok=True)
            removed += 1
    return removed


class SpooledBlob:
    """A file staged by `spool`, until `place` puts it into a store (commit) or it is removed
    (discard, or leaving the `with` block uncommitted). The temporary file never outlives it."""

    def __init__(self, place: Callable[[Path, str], None], path: Path, sha256: str, size: int) -> None:
        self._place = place
        self.path = path
        self.sha256 = sha256
        self.size = size
        self._done = False

    def commit(self) -> None:
        if not self._done:
            self._done = True
            try:
                self._place(self.path, self.sha256)
            finally:  # moved into place already, or a failed placing's leftover
                self.path.unlink(missing_ok=True)

    def discard(self) -> None:
        if not self._done:
            self._done = True
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> SpooledBlob:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.discard()  # after a commit, nothing


def spool(source: IO[bytes], folder: Path, *, limit: int, sync: bool = False) -> tuple[Path, str, int]:
    """Copy `source` into a new temporary file in `folder` while hashing it: (path, SHA-256, size).
    More than `limit` bytes raises TooLarge; on any error the file is removed. `sync`: flushed to
    disk before returning (a file about to be renamed into the store)."""
    digest = hashlib.sha256()
    size = 0
    fd, name = tempfile.mkstemp(dir=folder, suffix=".part")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            while piece := source.read(min(PIECE, limit + 1 - size)):
                size += len(piece)
                if size > limit:
                    raise TooLarge
                digest.update(piece)
                out.write(piece)
            if sync:
                out.flush()
                os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, digest.hexdigest(), size


class LocalBlobStore:
    """Blobs as files under `root`, two levels of folders by hash prefix (65,536 folders at most,
    so no folder holds millions of entries)."""

    def __init__(self, root: Path, *, keyring: Keyring | None = None) -> None:
        self.root = root
        self.keyring = keyring
        # Only `labelloop encryption enable`, while it encrypts what is there, reads plaintext
        # files from a store that has a key; anything else refuses them (never silent plaintext).
        self.allow_plaintext = False

    def path_of(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise ValueError(f"not a SHA-256 in hex: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _tmp_dir(self) -> Path:
        tmp = self.root / _TMP
        tmp.mkdir(parents=True, exist_ok=True)
        return tmp

    def stage(self, source: IO[bytes], *, limit: int) -> SpooledBlob:
        # In the store's own folder, so the final rename never crosses file systems.
        return SpooledBlob(self._place, *spool(source, self._tmp_dir(), limit=limit, sync=True))

    def put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if self.exists(sha256):
            return sha256
        fd, name = tempfile.mkstemp(dir=self._tmp_dir(), suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                if self.keyring is None:
                    out.write(data)
                else:
                    encrypt_stream(self.keyring, io.BytesIO(data), out)
                out.flush()
                os.fsync(out.fileno())
            self._rename_into_place(Path(name), sha256)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return sha256

    def _place(self, tmp: Path, sha256: str) -> None:
        """Put a staged plaintext file in the store (encrypted first when there is a key)."""
        if self.keyring is None or self.exists(sha256):
            self._rename_into_place(tmp, sha256)
            return
        try:
            self._encrypt_file(tmp, sha256)
        finally:
            tmp.unlink(missing_ok=True)

    def _encrypt_file(self, plain: Path, sha256: str, *, replace: bool = False) -> None:
        assert self.keyring is not None
        fd, name = tempfile.mkstemp(dir=self._tmp_dir(), suffix=".enc")
        try:
            with os.fdopen(fd, "wb") as out, plain.open("rb") as source:
                found, _ = encrypt_stream(self.keyring, source, out)
                out.flush()
                os.fsync(out.fileno())
            if found != sha256:
                raise EncryptionError(f"blob file {sha256} holds other bytes ({found}); not encrypted")
            self._rename_into_place(Path(name), sha256, replace=replace)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise

    def _rename_into_place(self, tmp: Path, sha256: str, *, replace: bool = False) -> None:
        target = self.path_of(sha256)
        if target.exists() and not replace:  # the same bytes are already there
            tmp.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)  # atomic: readers see the old state or the whole file

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        path = self.path_of(sha256)
        if self.keyring is None:
            if file_key_id(path) is not None:
                raise EncryptionError(f"blob {sha256} is encrypted and no key is configured")
            return path.open("rb")
        if file_key_id(path) is None:
            if not self.allow_plaintext:
                raise EncryptionError(f"blob {sha256} is not encrypted although a key is configured: "
                                      "finish `labelloop encryption enable`")
            return path.open("rb")
        return cast(BinaryIO, io.BufferedReader(DecryptingReader(self.keyring, path, sha256=sha256)))

    def open_range(self, sha256: str) -> DecryptingReader:
        """The decrypting reader itself (its `size` and `range`), for serving byte ranges."""
        assert self.keyring is not None
        return DecryptingReader(self.keyring, self.path_of(sha256), sha256=sha256)

    def local_path(self, sha256: str) -> Path | None:
        return None if self.keyring is not None else self.path_of(sha256)

    def presigned_url(self, sha256: str, *, media_type: str, disposition: str) -> str | None:
        return None  # local files are served by this server

    @contextmanager
    def local_copy(self, sha256: str) -> Iterator[Path]:
        path = self.local_path(sha256)
        if path is not None:
            yield path
            return
        fd, name = tempfile.mkstemp(dir=self._tmp_dir(), suffix=".copy")
        try:
            with os.fdopen(fd, "wb") as out, self.open(sha256) as source:
                while piece := source.read(PIECE):
                    out.write(piece)
            yield Path(name)
        finally:
            Path(name).unlink(missing_ok=True)

    def hashes(self) -> Iterator[str]:
        """Every stored file's hash (the temporary folder left out)."""
        if not self.root.is_dir():
            return
        for first in sorted(self.root.iterdir()):
            if first.name == _TMP or not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                for f in sorted(second.iterdir()):
                    if is_sha256(f.name):
                        yield f.name

    def key_id_of(self, sha256: str) -> str | None:
        """The id of the key the file is encrypted with, or None for a plaintext file."""
        return file_key_id(self.path_of(sha256))

    def encrypt(self, sha256: str) -> bool:
        """Encrypt (or re-encrypt under the current key) one file in place; False if it already
        was under the current key. Atomic per file: a stop leaves the old or the new file."""
        assert self.keyring is not None
        path = self.path_of(sha256)
        kid = file_key_id(path)
        if kid == self.keyring.key_id:
            return False
        if kid is None:
            self._encrypt_file(path, sha256, replace=True)
            return True
        fd, name = tempfile.mkstemp(dir=self._tmp_dir(), suffix=".enc")
        try:
            with os.fdopen(fd, "wb") as out, DecryptingReader(self.keyring, path, sha256=sha256) as src:
                found, _ = encrypt_stream(self.keyring, io.BufferedReader(src), out)
                out.flush()
                os.fsync(out.fileno())
            if found != sha256:
                raise EncryptionError(f"blob file {sha256} decrypted to other bytes")
            self._rename_into_place(Path(name), sha256, replace=True)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return True

    def delete(self, sha256: str) -> bool:
        """Remove one file (erasure, retention); False if it was not there."""
        path = self.path_of(sha256)
        if not path.is_file():
            return False
        path.unlink()
        return True

    def sweep_temporary(self, older_than: float = 0.0) -> int:
        """Remove the temporary files a stopped process left (see `sweep_stale`)."""
        return sweep_stale(self.root / _TMP, older_than)
