"""Names of files in an imported folder or zip: which are images or audio, which are skipped, which
are unsafe."""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path, PurePosixPath

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".webp", ".bmp",
                            ".tif", ".tiff"})
# By name only, to route a file; what it holds is probed (docs/audio.md).
AUDIO_SUFFIXES = frozenset({".wav", ".wave", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".mp4",
                            ".aac"})
# Videos (docs/video.md); an .mp4 may be audio only: probed when the schema takes both.
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".webm", ".mkv"})
RECORD_SUFFIXES = frozenset({".jsonl", ".ndjson", ".csv", ".tsv", ".json"})
# What Hugging Face's `save_to_disk` writes at the top of a DatasetDict's folder or a Dataset's.
HF_MARKERS = ("dataset_dict.json", "state.json")
JUNK_NAMES = frozenset({"thumbs.db", "desktop.ini"})
_DRIVE = re.compile(r"^[A-Za-z]:")


def suffix(name: str) -> str:
    return PurePosixPath(name).suffix.lower()


def is_junk(name: str) -> bool:
    """Files an archive tool or a desktop adds by itself: `__MACOSX/`, hidden files, `Thumbs.db`."""
    parts = name.split("/")
    return (parts[0] == "__MACOSX" or parts[-1].lower() in JUNK_NAMES
            or any(p.startswith(".") and p not in (".", "..") for p in parts))


def unsafe_name(name: str) -> str | None:
    """Why a member's name is not a plain relative path inside the archive, or None."""
    if any(ord(c) < 32 or c == "\x7f" for c in name):
        return "the name holds control characters"
    if "\\" in name:
        return "the name holds a backslash (write paths with /)"
    if name.startswith("/") or _DRIVE.match(name):
        return "an absolute path: names must be relative to the archive"
    parts = name.split("/")
    if ".." in parts:
        return "the name leads out of the archive (../)"
    if any(p in ("", ".") for p in parts):
        return "the name has an empty or '.' part"
    return None


def holds_images(path: Path) -> bool:
    """Whether a folder or zip has image files (or SVGs, to be refused by name) to import."""
    wanted = IMAGE_SUFFIXES | {".svg"}
    if path.is_dir():
        for _root, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if not is_junk(d)]
            if any(suffix(f) in wanted and not is_junk(f) for f in files):
                return True
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return any(suffix(n) in wanted and not is_junk(n) for n in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def holds_media(path: Path) -> bool:
    """Whether a folder or zip has image, audio or video files to import (or SVGs, to be refused)."""
    wanted = IMAGE_SUFFIXES | AUDIO_SUFFIXES | VIDEO_SUFFIXES | {".svg"}
    if path.is_dir():
        for _root, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if not is_junk(d)]
            if any(suffix(f) in wanted and not is_junk(f) for f in files):
                return True
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return any(suffix(n) in wanted and not is_junk(n) for n in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def hf_root(names: list[str]) -> str | None:
    """Where in a zip's names a `save_to_disk` folder starts ('' or 'top/'), or None: the
    shallowest folder holding `dataset_dict.json`, or else `state.json`, with Arrow files under it."""
    for marker in HF_MARKERS:
        found = sorted((n[: -len(marker)] for n in names
                        if (n == marker or n.endswith("/" + marker)) and not is_junk(n)),
                       key=lambda prefix: prefix.count("/"))
        if found:
            root = found[0]
            return root if any(n.startswith(root) and n.endswith(".arrow") for n in names) else None
    return None


def holds_hf_dataset(path: Path) -> bool:
    """Whether a folder or zip is a Hugging Face dataset written by `save_to_disk` (a marker file
    at its top, and Arrow files)."""
    if path.is_dir():
        return (any((path / marker).is_file() for marker in HF_MARKERS)
                and next(path.rglob("*.arrow"), None) is not None)
    try:
        with zipfile.ZipFile(path) as archive:
            return hf_root(archive.namelist()) is not None
    except (zipfile.BadZipFile, OSError):
        return False
