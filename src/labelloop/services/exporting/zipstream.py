"""A zip archive written as a stream of bytes, one member after another, memory flat.

The standard library's `zipfile` writes to a file it cannot seek (it notices when `seek` is
missing): each member's sizes and CRC go into a data descriptor after its data, and the
central directory at the end holds them all. With `force_zip64` every member may pass 4 GiB.
Nothing else is needed, so no streaming-zip package is: the bytes written since the last
`drain` are handed to the caller (the HTTP response, or a file from the CLI) as they come.

Members are dated 1980-01-01 (the zip epoch), so the same export gives the same archive.
Images are stored as they are (JPEG and PNG do not deflate); text is deflated.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from typing import IO

PIECE = 256 * 1024  # read from an image file at a time


class _Sink:
    """A write-only, unseekable file that hands back what was written since the last drain."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.pos = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self.pos

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def drain(self) -> list[bytes]:
        """What was written since the last drain, as written (a piece of an image is not copied)."""
        out = self.parts
        self.parts = []
        return out


class ZipStream:
    def __init__(self) -> None:
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(self._sink, "w")

    def _info(self, name: str, deflate: bool) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        return info

    def text(self, name: str, parts: Iterator[bytes]) -> Iterator[bytes]:
        """Write a deflated member from pieces, yielding the archive's bytes as they are made."""
        with self._zip.open(self._info(name, True), "w", force_zip64=True) as out:
            for part in parts:
                out.write(part)
                yield from self._sink.drain()
        yield from self._sink.drain()

    def file(self, name: str, source: IO[bytes]) -> Iterator[bytes]:
        """Copy a file into a stored member, a piece at a time."""
        with self._zip.open(self._info(name, False), "w", force_zip64=True) as out:
            while piece := source.read(PIECE):
                out.write(piece)
                yield from self._sink.drain()
        yield from self._sink.drain()

    def close(self) -> bytes:
        """The central directory: the archive's last bytes."""
        self._zip.close()
        return b"".join(self._sink.drain())
