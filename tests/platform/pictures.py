"""Image files made in the tests with Pillow (nothing from the network), and zips of them."""

from __future__ import annotations

import hashlib
import io
import stat
import struct
import warnings
import zipfile
import zlib
from typing import Any

import numpy as np
from PIL import Image

from labelloop.services.blobs import StoredImage, link_blobs, record_images
from labelloop.services.runtime import Runtime
from labelloop.store.blobs import BlobRow

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "photo", "type": "image", "label": "Photo"}],
    "questions": [{"name": "ok", "type": "choice", "options": ["yes", "no"]}],
}


def encoded(im: Image.Image, fmt: str = "PNG", **options: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return buf.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def quadrants(width: int, height: int) -> Image.Image:
    """Red top-left, green top-right, blue bottom-left, white bottom-right: orientation shows."""
    arr = np.zeros((height, width, 3), np.uint8)
    h, w = height // 2, width // 2
    arr[:h, :w] = (255, 0, 0)
    arr[:h, w:] = (0, 255, 0)
    arr[h:, :w] = (0, 0, 255)
    arr[h:, w:] = (255, 255, 255)
    return Image.fromarray(arr)


def jpeg(width: int = 64, height: int = 48, *, orientation: int | None = None, seed: int = 0) -> bytes:
    im = quadrants(width, height)
    if seed:  # a different file of the same look
        im.putpixel((0, 0), (seed % 256, 0, 0))
    options: dict[str, Any] = {"quality": 95}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    return encoded(im, "JPEG", **options)


def png(width: int = 40, height: int = 30, color: tuple[int, ...] = (10, 200, 30)) -> bytes:
    return encoded(Image.new("RGB", (width, height), color))


def png16(width: int = 64, height: int = 32, top: int = 4095) -> bytes:
    """A 16-bit grey PNG whose values rise from 0 to `top` (12-bit data by default)."""
    ramp = np.linspace(0, top, width * height).reshape(height, width).astype(np.uint16)
    return encoded(Image.fromarray(ramp))


def cmyk_jpeg(width: int = 50, height: int = 40) -> bytes:
    return encoded(Image.new("CMYK", (width, height), (0, 255, 255, 0)), "JPEG", quality=95)  # red


def palette_png_with_alpha(width: int = 30, height: int = 20) -> bytes:
    im = Image.new("P", (width, height), 1)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * (256 * 3 - 6))
    for x in range(width // 2):
        for y in range(height):
            im.putpixel((x, y), 0)
    return encoded(im, "PNG", transparency=0)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG that claims `width` x `height` pixels (a decompression bomb's header)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\0" * 16)) \
        + _chunk(b"IEND", b"")


def zipped(files: dict[str, bytes], *, links: dict[str, str] | None = None,
           duplicates: dict[str, bytes] | None = None) -> bytes:
    """A zip of `files`, plus symbolic links (name -> target) and second members of the same name."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, target)
        for name, data in (duplicates or {}).items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "Duplicate name": the point of the test
                z.writestr(name, data)
    return buf.getvalue()


def stored_in(runtime: Runtime, project_id: int, data: bytes | None = None) -> str:
    """Put a small PNG (or `data`) into the store as a file the project holds; its SHA-256."""
    data = data or png(2, 2)
    digest = runtime.blobs.put(data)
    row = BlobRow(digest, len(data), "image/png", 2, 2)

    def go(conn: Any) -> None:
        record_images(conn, [StoredImage(row, row, row)])
        link_blobs(conn, project_id, [digest])

    runtime.db.run(go)
    return digest
