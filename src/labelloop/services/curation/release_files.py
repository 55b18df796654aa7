"""A release's files in the blob store: written once under their SHA-256, verified on every read.

The release manifest (`release.json`) lists each file's name, SHA-256 and size; the database row
holds the manifest's own SHA-256. Reading a file hashes what the store hands back and refuses it
when a byte changed, naming the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from labelloop.errors import Conflict
from labelloop.store.blobs import PIECE, BlobStore

MANIFEST = "release.json"
NO_LIMIT = 1 << 50  # a release writes what it made itself: no upload limit applies


class Tampered(Conflict):
    """A release file's bytes no longer match the SHA-256 its manifest records."""


def store_file(blobs: BlobStore, path: Path) -> dict[str, Any]:
    """Put a file in the store; its manifest entry."""
    with path.open("rb") as source, blobs.stage(source, limit=NO_LIMIT) as staged:
        staged.commit()
        return {"name": path.name, "sha256": staged.sha256, "size": staged.size}


def _chunks(blobs: BlobStore, sha256: str) -> Iterator[bytes]:
    with blobs.open(sha256) as f:
        while piece := f.read(PIECE):
            yield piece


def verify(blobs: BlobStore, release: str, entry: dict[str, Any]) -> None:
    """Tampered unless the stored bytes hash to the entry's SHA-256."""
    digest = hashlib.sha256()
    try:
        for piece in _chunks(blobs, entry["sha256"]):
            digest.update(piece)
    except FileNotFoundError:
        raise Tampered(f"release {release}: file {entry['name']} ({entry['sha256']}) is missing "
                       "from the blob store") from None
    if digest.hexdigest() != entry["sha256"]:
        raise Tampered(f"release {release}: file {entry['name']} does not match its SHA-256 "
                       f"{entry['sha256']} (got {digest.hexdigest()}): it was changed after the release")


def read_verified(blobs: BlobStore, release: str, entry: dict[str, Any]) -> bytes:
    """The whole file, hashed as it is read."""
    data = b"".join(_chunks(blobs, entry["sha256"])) if blobs.exists(entry["sha256"]) else None
    if data is None or hashlib.sha256(data).hexdigest() != entry["sha256"]:
        verify(blobs, release, entry)  # names what is wrong
        raise Tampered(f"release {release}: file {entry['name']} changed while being read")
    return data


def stream_verified(blobs: BlobStore, release: str, entry: dict[str, Any]) -> Iterator[bytes]:
    """Verified first, then streamed (a file may be larger than memory)."""
    verify(blobs, release, entry)
    return _chunks(blobs, entry["sha256"])


def read_manifest(blobs: BlobStore, release: str, sha256: str) -> dict[str, Any]:
    manifest: dict[str, Any] = orjson.loads(read_verified(
        blobs, release, {"name": MANIFEST, "sha256": sha256}))
    return manifest


def entry_of(manifest: dict[str, Any], release: str, name: str) -> dict[str, Any]:
    from labelloop.errors import NotFound

    for entry in manifest["files"]:
        if entry["name"] == name:
            return dict(entry)
    names = ", ".join(e["name"] for e in manifest["files"])
    raise NotFound(f"release {release} has no file {name!r}; its files: {names}")
