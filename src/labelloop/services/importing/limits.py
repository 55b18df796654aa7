"""How much one import may hold: bytes per item, bytes per archive, nesting depth.

The numbers are settings (`LABELLOOP_MAX_ITEM_BYTES`, `..._ARCHIVE_BYTES`, `..._JSON_DEPTH`,
`..._IMAGE_BYTES`, `..._AUDIO_BYTES`, `..._AUDIO_SECONDS`, `..._VIDEO_BYTES`,
`..._VIDEO_SECONDS`).
readers.py checks bytes while streaming, so an oversized line or archive member is never read
whole; records.py checks the item as it will be stored (its size, nesting and characters).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labelloop.config import Settings

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


def _default(name: str) -> int:
    return int(Settings.model_fields[name].default)


@dataclass(frozen=True)
class ImportLimits:
    max_item_bytes: int = _default("max_item_bytes")
    max_archive_bytes: int = _default("max_archive_bytes")
    max_json_depth: int = _default("max_json_depth")
    max_image_bytes: int = _default("max_image_bytes")
    max_audio_bytes: int = _default("max_audio_bytes")
    max_audio_seconds: int = _default("max_audio_seconds")
    max_video_bytes: int = _default("max_video_bytes")
    max_video_seconds: int = _default("max_video_seconds")

    @classmethod
    def from_settings(cls, settings: Settings) -> ImportLimits:
        return cls(settings.max_item_bytes, settings.max_archive_bytes, settings.max_json_depth,
                   settings.max_image_bytes, settings.max_audio_bytes, settings.max_audio_seconds,
                   settings.max_video_bytes, settings.max_video_seconds)

    def item_too_large(self, what: str) -> str:
        return (f"the {what} is larger than {limit_text(self.max_item_bytes)}, "
                "the limit for one item (LABELLOOP_MAX_ITEM_BYTES)")

    def stored_too_large(self, size: int) -> str:
        return (f"the item is {size_text(size)} as stored (fields, meta and gold as JSON), over "
                f"the {limit_text(self.max_item_bytes)} limit for one item (LABELLOOP_MAX_ITEM_BYTES)")

    def archive_too_large(self, what: str = ".txt files") -> str:
        return (f"the archive holds more than {limit_text(self.max_archive_bytes)} of {what} "
                "uncompressed, the limit for one archive (LABELLOOP_MAX_ARCHIVE_BYTES)")

    def image_too_large(self) -> str:
        return (f"the image is larger than {limit_text(self.max_image_bytes)}, the limit for one "
                "image file (LABELLOOP_MAX_IMAGE_BYTES)")

    def audio_too_large(self) -> str:
        return (f"the audio file is larger than {limit_text(self.max_audio_bytes)}, the limit for one "
                "audio file (LABELLOOP_MAX_AUDIO_BYTES)")

    def video_too_large(self) -> str:
        return (f"the video is larger than {limit_text(self.max_video_bytes)}, the limit for one "
                "video file (LABELLOOP_MAX_VIDEO_BYTES)")

    def too_deep(self) -> str:
        return f"nested deeper than {self.max_json_depth} levels (LABELLOOP_MAX_JSON_DEPTH)"


def limit_text(n: int) -> str:
    """A limit as people set it: '1 MiB', '64 KiB', or exact bytes."""
    for unit, name in ((GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
        if n >= unit and n % unit == 0:
            return f"{n // unit} {name}"
    return f"{n:,} bytes"


def size_text(n: int) -> str:
    """A measured size, rounded: '1.5 MiB'."""
    for unit, name in ((GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
        if n >= unit:
            return f"{n / unit:.1f} {name}"
    return f"{n:,} bytes"


def deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays in `value` nest more than `limit` levels (`value` is level 1).

    A loop, not recursion: the input may be nested far deeper than Python's stack."""
    if not isinstance(value, dict | list):
        return False
    if limit < 1:
        return True
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                if level >= limit:
                    return True
                stack.append((child, level + 1))
    return False

