"""Near-duplicate images: resized and recompressed copies found by pHash, different images not,
an image that fails to decode skipped with its reason."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

from labelloop.curation import near_duplicate_images, perceptual_hashes
from labelloop.curation.image_near import perceptual_hash


def picture(seed: int, size: int = 256) -> Image.Image:
    """A smooth random picture: blurred noise, so its low frequencies carry it."""
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, size=(size // 16, size // 16, 3), dtype=np.uint8)
    return Image.fromarray(arr).resize((size, size), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(4))


def encoded(im: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return buf.getvalue()


def test_edited_copies_are_found_and_different_pictures_are_not() -> None:
    originals = [picture(s) for s in range(6)]
    copies = [
        encoded(originals[0].resize((128, 128))),  # smaller
        encoded(originals[1], "JPEG", quality=40),  # recompressed
        encoded(ImageEnhance.Brightness(originals[2]).enhance(1.1)),  # a little brighter
    ]
    data = [encoded(im) for im in originals] + copies
    hashes, valid, skipped = perceptual_hashes(data)
    found = near_duplicate_images(hashes, valid=valid, max_distance=6, skipped=skipped)
    assert found.as_set() == {(0, 6), (1, 7), (2, 8)}
    assert all(s >= 1 - 6 / 64 for s in found.score.tolist())


def test_an_image_that_does_not_decode_is_skipped_with_the_reason() -> None:
    good = encoded(picture(1))
    hashes, valid, skipped = perceptual_hashes([good, b"not an image", None, good[:200], good])
    assert valid.tolist() == [True, False, False, False, True]
    assert skipped[2] == "no stored image"
    assert skipped[1].startswith("the image does not decode")
    assert skipped[3].startswith("the image does not decode")
    found = near_duplicate_images(hashes, valid=valid, skipped=skipped)
    assert found.as_set() == {(0, 4)}
    assert found.skipped == skipped
    with pytest.raises(ValueError, match="does not decode"):
        perceptual_hash(b"\x89PNG\r\n\x1a\n")


def test_bands_find_every_pair_within_the_distance() -> None:
    """Pigeonhole: pairs up to `max_distance` bits apart are all found, farther ones never."""
    rng = np.random.default_rng(3)
    base = rng.integers(0, 2**63, size=50, dtype=np.uint64)
    flips = [0, 1, 3, 5, 6, 7, 12]
    variants = []
    for k, d in enumerate(flips):
        bits = rng.choice(64, size=d, replace=False)
        mask = np.uint64(sum(1 << int(b) for b in bits))
        variants.append(base[k] ^ mask)
    hashes = np.concatenate([base, np.array(variants, dtype=np.uint64)])
    found = near_duplicate_images(hashes, max_distance=6)
    expected = {(k, 50 + k) for k, d in enumerate(flips) if d <= 6}
    brute = {(a, b) for a in range(len(hashes)) for b in range(a + 1, len(hashes))
             if bin(int(hashes[a]) ^ int(hashes[b])).count("1") <= 6}
    assert found.as_set() == brute
    assert expected <= brute
