"""Reading S3 objects as Python streams: by byte ranges (seekable, for encrypted files and HTTP
`Range` requests) or front to back (a GetObject body), for store/s3_blobs.py."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from labelloop.store.blobs import PIECE

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

READ_AHEAD = 1024 * 1024  # a ranged reader fetches at least this much per GetObject


def client_error_code(e: Exception) -> str:
    response = getattr(e, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def missing(e: Exception) -> bool:
    return client_error_code(e) in ("404", "NoSuchKey", "NotFound")


class RangeReader(io.RawIOBase):
    """A seekable read-only view of one object: each read is a ranged GetObject of at least
    `READ_AHEAD` bytes, the last one kept (so `DecryptingReader` reading a chunk at a time makes
    one request per MiB, not per 64 KiB chunk)."""

    def __init__(self, client: S3Client, bucket: str, key: str, size: int, *, read_ahead: int = READ_AHEAD
                 ) -> None:
        super().__init__()
        self.client, self.bucket, self.key, self.size = client, bucket, key, size
        self.read_ahead = read_ahead
        self.name = key.rsplit("/", 1)[-1]
        self._pos = 0
        self._buf_start = 0
        self._buf = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def keep(self, start: int, data: bytes) -> None:
        """Bytes from `start` already fetched (by the request that learnt the size)."""
        self._buf_start, self._buf = start, data

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._pos >= self.size or len(view) == 0:
            return 0
        within = self._pos - self._buf_start
        wanted = min(len(view), self.size - self._pos)
        # Refetched unless the kept bytes hold all that is asked: a read returns all it asks for
        # (before the end), as `DecryptingReader` expects of a file.
        if not (within >= 0 and within + wanted <= len(self._buf)):
            end = min(self.size, self._pos + max(len(view), self.read_ahead))
            got = self.client.get_object(Bucket=self.bucket, Key=self.key,
                                         Range=f"bytes={self._pos}-{end - 1}")
            self._buf_start, self._buf = self._pos, got["Body"].read()
            within = 0
            if not self._buf:
                return 0
        piece = self._buf[within: within + len(view)]
        view[: len(piece)] = piece
        self._pos += len(piece)
        return len(piece)

    def range(self, start: int, end: int) -> Iterator[bytes]:
        """Bytes start..end-1 in one ranged GetObject, streamed (how a plaintext Range is served)."""
        if end <= start:
            return
        got = self.client.get_object(Bucket=self.bucket, Key=self.key, Range=f"bytes={start}-{end - 1}")
        body = got["Body"]
        try:
            while piece := body.read(PIECE):
                yield piece
        finally:
            body.close()


class BodyReader(io.RawIOBase):
    """A GetObject body as a raw stream (buffered by the caller), read front to back."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        piece = self._body.read(len(view))
        view[: len(piece)] = piece
        return len(piece)

    def close(self) -> None:
        self._body.close()
        super().close()


class Prefixed:
    """A body with some bytes already read put back in front."""

    def __init__(self, head: bytes, body: Any) -> None:
        self._head = head
        self._body = body

    def read(self, n: int) -> bytes:
        if self._head:
            piece, self._head = self._head[:n], self._head[n:]
            return piece
        return cast(bytes, self._body.read(n))

    def close(self) -> None:
        self._body.close()
