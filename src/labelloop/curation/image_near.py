"""Near-duplicate images: perceptual hashes (pHash) within a Hamming distance, found by bands.

pHash (`imagehash.phash`; Zauner, "Implementation and benchmarking of perceptual image hash
functions", 2010) keeps the signs of the lowest frequencies of a 32x32 greyscale DCT: 64 bits that
survive resizing, recompression and small edits. Two images are near-duplicates when their hashes
differ in at most `max_distance` bits; the score is `1 - distance / 64`.

Not every pair is compared: the 64 bits are cut into `max_distance + 1` bands, and two hashes
within the distance agree exactly on at least one band (pigeonhole), so only hashes sharing a
band value are compared. An image that fails to decode is skipped with the reason.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

from labelloop.curation.groups import Pairs

BITS = 64


def perceptual_hash(data: bytes) -> int:
    """The 64-bit pHash of an encoded image (ValueError when it does not decode)."""
    import imagehash
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            bits = imagehash.phash(img).hash.ravel()
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise ValueError(f"the image does not decode: {e}") from None
    return int("".join("1" if b else "0" for b in bits), 2)


def perceptual_hashes(images: Iterable[bytes | None],
                      ) -> tuple[NDArray[np.uint64], NDArray[np.bool_], dict[int, str]]:
    """(each image's pHash, which are valid, the skipped images and why)."""
    hashes: list[int] = []
    valid: list[bool] = []
    skipped: dict[int, str] = {}
    for k, data in enumerate(images):
        h = 0
        if data is None:
            skipped[k] = "no stored image"
        else:
            try:
                h = perceptual_hash(data)
            except ValueError as e:
                skipped[k] = str(e)
        hashes.append(h)
        valid.append(k not in skipped)
    return np.array(hashes, dtype=np.uint64), np.array(valid, dtype=bool), skipped


def near_duplicate_images(
    hashes: NDArray[np.uint64], *, valid: NDArray[np.bool_] | None = None, max_distance: int = 6,
    skipped: dict[int, str] | None = None,
) -> Pairs:
    """Pairs of hashes at most `max_distance` bits apart (score `1 - distance/64`)."""
    if not 0 <= max_distance < BITS // 2:
        raise ValueError(f"max_distance must lie in [0, {BITS // 2}), got {max_distance}")
    hashes = np.asarray(hashes, dtype=np.uint64)
    rows = np.flatnonzero(valid) if valid is not None else np.arange(len(hashes))
    h = hashes[rows]
    found: list[NDArray[np.int64]] = []
    edges = np.linspace(0, BITS, max_distance + 2).astype(int)
    for lo, hi in itertools.pairwise(edges.tolist()):
        band = (h >> np.uint64(lo)) & np.uint64((1 << (hi - lo)) - 1)
        found.extend(_same_band(band))
    if not found:
        return Pairs.empty(dict(skipped or {}))
    pairs = np.concatenate(found)
    pairs.sort(axis=1)
    n = np.int64(max(len(h), 1))
    code = np.unique(pairs[:, 0] * n + pairs[:, 1])
    a, b = code // n, code % n
    distance = np.bitwise_count(h[a] ^ h[b])
    close = distance <= max_distance
    return Pairs(rows[a[close]].astype(np.intp), rows[b[close]].astype(np.intp),
                 (1 - distance[close] / BITS).astype(np.float32), dict(skipped or {}))


def _same_band(band: NDArray[np.uint64]) -> list[NDArray[np.int64]]:
    """Every pair of rows with the same band value."""
    order = np.argsort(band, kind="stable")
    sorted_band = band[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(sorted_band)) + 1))
    sizes = np.diff(np.concatenate((starts, [len(band)])))
    out: list[NDArray[np.int64]] = []
    for size in np.unique(sizes[sizes >= 2]).tolist():
        members = order[starts[sizes == size][:, None] + np.arange(size)[None, :]]
        a, b = np.triu_indices(size, k=1)
        out.append(np.stack([members[:, a].ravel(), members[:, b].ravel()], axis=1).astype(np.int64))
    return out
