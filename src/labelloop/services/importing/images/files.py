"""An image file at import: checked with Pillow, measured, stored with a preview and a thumbnail.

What is checked, in order (the first failure is the problem named for the file):
1. the bytes fit the limit (`LABELLOOP_MAX_IMAGE_BYTES`), counted while they are streamed;
2. Pillow recognises the file as JPEG, PNG, GIF, WebP, BMP or TIFF (SVG and the rest are refused:
   vector formats can carry scripts, and a browser cannot show most others);
3. the pixel count is within Pillow's `Image.MAX_IMAGE_PIXELS` (about 89 megapixels): a small
   file claiming a huge size is a decompression bomb, refused before any pixel is decoded;
4. the structure checks out (`verify`: PNG checksums and chunks) and every pixel decodes (`load`:
   a truncated file fails here).

`width` and `height` are the image's after its EXIF orientation (tag 274) is applied, the
coordinate system of every shape drawn on it. The preview (at most 2048 px on the long side) and
the thumbnail (256 px) are oriented, 8-bit sRGB: CMYK and images with an ICC profile are converted
through LittleCMS, palette images become RGB (RGBA with transparency), and 16-bit or 32-bit grey
is scaled by the bit depth its values use (12-bit data in a 16-bit file is not shown nearly black).
Opaque variants are JPEG (quality 88), those with alpha WebP. An original that a browser shows as it
is (JPEG, PNG, GIF or WebP, upright, 8-bit, one frame, small enough) is its own preview.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import IO, Any

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from labelloop.services.blobs import StoredImage
from labelloop.store.blobs import BlobRow, BlobStore

ACCEPTED = {
    "JPEG": "image/jpeg", "MPO": "image/jpeg",  # MPO: a camera's JPEG with a second picture inside
    "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp", "BMP": "image/bmp",
    "TIFF": "image/tiff",
}
ACCEPTED_TEXT = "JPEG, PNG, GIF, WebP, BMP or TIFF"
PREVIEW_SIDE = 2048
THUMB_SIDE = 256
WEB_READY = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
# An original larger than this is not sent as a preview even when a browser could show it.
REUSE_BYTES = {"preview": 4 * 1024 * 1024, "thumb": 96 * 1024}
_SIDE = {"preview": PREVIEW_SIDE, "thumb": THUMB_SIDE}
_ROTATED = frozenset({5, 6, 7, 8})  # EXIF orientations that swap width and height
# What turns an image with each EXIF orientation upright (as ImageOps.exif_transpose does; applied
# here from the orientation read once, since converting a TIFF's mode drops its EXIF tags).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90,
}
_SRGB = ImageCms.createProfile("sRGB")

KnownFn = Callable[[str], StoredImage | None]


class NotAnImage(Exception):
    """The file cannot be imported as an image; the message says why, for the user."""


def store_image(store: BlobStore, source: IO[bytes], *, limit: int,
                known: KnownFn | None = None) -> StoredImage:
    """Stream `source` into the store as an image with its variants.

    Raises `store.blobs.TooLarge` past `limit` bytes and `NotAnImage` for anything that is not a
    readable image; nothing stays in the store then. A file stored before (same hash, variants
    recorded: `known`) is not decoded again.
    """
    with store.stage(source, limit=limit) as staged:
        if known is not None and (done := known(staged.sha256)) is not None and store.exists(staged.sha256):
            return done
        media_type, width, height, variants = _examine(staged.path, staged.size, store)
        staged.commit()
        original = BlobRow(staged.sha256, staged.size, media_type, width, height)
        return StoredImage(original, variants.get("preview") or original,
                           variants.get("thumb") or original)


def bomb_message(pixels: int, size: str = "") -> str:
    return (f"the image claims {pixels:,} pixels{size}, more than the {Image.MAX_IMAGE_PIXELS or 0:,} "
            "Pillow decodes (a decompression bomb?)")


def _examine(path: Any, size: int, store: BlobStore) -> tuple[str, int, int, dict[str, BlobRow]]:
    try:
        with Image.open(path) as im:  # reads the header only
            media_type = _media_type(im)
            width, height = im.size
            if Image.MAX_IMAGE_PIXELS is not None and width * height > Image.MAX_IMAGE_PIXELS:
                raise NotAnImage(bomb_message(width * height, f" ({width:,} x {height:,})"))
            im.verify()
        with Image.open(path) as im:  # `verify` leaves the file unusable: open it again
            orientation = _orientation(im)
            frames = getattr(im, "n_frames", 1)
            reusable = (media_type in WEB_READY and orientation == 1 and frames == 1
                        and im.mode in ("1", "L", "LA", "P", "PA", "RGB", "RGBA"))
            fit = PREVIEW_SIDE / max(width, height)
            if im.format in ("JPEG", "MPO") and fit < 1:
                # Decode at the smallest DCT scale (1/2, 1/4, 1/8) still at least preview-sized:
                # a 24-megapixel photo decodes at 6; every byte is still read (a truncated file
                # still fails).
                im.draft(im.mode, (max(1, int(width * fit)), max(1, int(height * fit))))
            im.load()
            upright = _upright(_displayable(im), orientation)
    except NotAnImage:
        raise
    except Image.DecompressionBombError as e:  # Pillow's own stop, at twice its limit
        claimed = re.search(r"\((\d+) pixels\)", str(e))
        pixels = int(claimed.group(1)) if claimed else 2 * (Image.MAX_IMAGE_PIXELS or 0)
        raise NotAnImage(bomb_message(pixels)) from None
    except UnidentifiedImageError:
        raise NotAnImage(f"not an image that can be read (accepted: {ACCEPTED_TEXT})") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, MemoryError) as e:
        # Pillow's decoders say "image file is truncated", "broken PNG file", ... in several types.
        raise NotAnImage(f"the image cannot be decoded: {_reason(e)}") from None
    if orientation in _ROTATED:
        width, height = height, width
    variants: dict[str, BlobRow] = {}
    source = upright
    for name in ("preview", "thumb"):
        side = _SIDE[name]
        if reusable and max(width, height) <= side and size <= REUSE_BYTES[name]:
            continue  # the original itself
        source = _fit(source, side)
        variants[name] = _save(store, source)
    return media_type, width, height, variants


def _media_type(im: Image.Image) -> str:
    media_type = ACCEPTED.get(im.format or "")
    if media_type is None:
        raise NotAnImage(f"a {im.format} image; accepted: {ACCEPTED_TEXT}")
    return media_type


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
    except Exception:  # a malformed EXIF block: the pixels still decode, take them upright
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _upright(im: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE.get(orientation)
    return im if method is None else im.transpose(method)


def _reason(e: BaseException) -> str:
    text = (str(e).strip() or type(e).__name__)[:200]
    if "truncat" in text.lower():
        return f"the file is cut short ({text})"
    return text


def _displayable(im: Image.Image) -> Image.Image:
    """The image as 8-bit L, RGB or RGBA in sRGB, for a browser."""
    mode = im.mode
    if mode.startswith("I") or mode == "F":
        return _eight_bit(im)
    if mode == "1":
        return im.convert("L")
    if mode in ("P", "PA"):
        alpha = mode == "PA" or "transparency" in im.info
        return im.convert("RGBA" if alpha else "RGB")
    if mode in ("LA", "La", "RGBa"):
        return im.convert("RGBA")
    profile = im.info.get("icc_profile")
    if mode in ("RGB", "CMYK") and profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            converted = ImageCms.profileToProfile(im, source, _SRGB, outputMode="RGB")
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken profile: the plain conversion below
    if mode in ("L", "RGB", "RGBA"):
        return im
    return im.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX


def _eight_bit(im: Image.Image) -> Image.Image:
    """16-bit or 32-bit grey as 8-bit: shifted by the bits its largest value needs (at least 8),
    so full-range 16-bit keeps its top byte and 10- or 12-bit data keeps its contrast; float
    images are scaled from their minimum to their maximum."""
    arr = np.asarray(im)
    if arr.dtype.kind == "f":
        finite = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        lo, hi = float(finite.min()), float(finite.max())
        scaled = (finite - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(finite)
        return Image.fromarray(scaled.round().astype(np.uint8), mode="L")
    values = np.clip(arr.astype(np.int64), 0, None)
    bits = max(8, int(values.max()).bit_length()) if values.size else 8
    return Image.fromarray((values >> (bits - 8)).astype(np.uint8), mode="L")


def _fit(im: Image.Image, side: int) -> Image.Image:
    width, height = im.size
    if max(width, height) <= side:
        return im
    scale = side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # Bicubic (antialiased: Pillow widens the kernel by the scale), after a box reduction by an
    # integer factor when the image is more than twice the size. Lanczos took half as long again
    # (170 against 110 ms from 12 megapixels) for a preview that looks the same.
    return im.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)


def _save(store: BlobStore, im: Image.Image) -> BlobRow:
    buf = io.BytesIO()
    if im.mode == "RGBA":
        im.save(buf, "WEBP", quality=88, method=4)
        media_type = "image/webp"
    else:
        im.save(buf, "JPEG", quality=88)  # baseline: progressive took 7 times as long to encode
        media_type = "image/jpeg"
    data = buf.getvalue()
    return BlobRow(store.put(data), len(data), media_type, im.width, im.height)
