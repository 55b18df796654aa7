"""A video's poster: its frame 0 as displayed (turned by the container's rotation), at most
1280 pixels wide, as a JPEG."""

from __future__ import annotations

import io
from typing import Any

MEDIA_TYPE = "image/jpeg"
MAX_WIDTH = 1280


def poster_jpeg(frame: Any, rotation: int) -> tuple[bytes, int, int]:
    """A decoded PyAV frame as the poster: (JPEG bytes, width, height)."""
    from PIL import Image

    image = frame.to_image()
    if rotation:  # clockwise degrees; PIL turns counter-clockwise
        image = image.rotate(-rotation, expand=True)
    if image.width > MAX_WIDTH:
        height = max(1, round(image.height * MAX_WIDTH / image.width))
        image = image.resize((MAX_WIDTH, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=85)
    return out.getvalue(), image.width, image.height
