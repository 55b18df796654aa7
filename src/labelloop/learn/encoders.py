"""Encoders: items (texts, small images) in, fixed-length float vectors out, behind one interface.

An encoder has a ``name`` that identifies it *and its settings* (the cache keys vectors by it), a
``dim``, a way to turn one item into the bytes its cache key is hashed from (``content``), and
``encode_batch``. :func:`embed` runs any encoder over many items in batches, with an optional
``progress(done, total)`` callback and an optional on-disk :class:`~labelloop.learn.cache.EmbeddingCache`.

Encoders are chosen by name with :func:`get_encoder`:

===================  ====================================================================  ==================
name                 what                                                                  needs
===================  ====================================================================  ==================
``hashed-tfidf``     hashed word 1-2-gram TF-IDF, dense (:mod:`~.text.tfidf`)              scikit-learn
``minilm``           all-MiniLM-L6-v2 sentence embeddings, int8 ONNX (:mod:`~.text.minilm`) ``[embeddings]``
``multilingual-e5``  multilingual-e5-small, 4-bit, about 100 languages (:mod:`~.text.e5`)  ``[embeddings]``
``image-features``   downscaled intensities + gradient histograms (:mod:`~.images.features`) numpy
===================  ====================================================================  ==================

and ``efficientnet-lite3``: EfficientNet-Lite3 image embeddings, 1280-d (:mod:`~.images.embeddings`),
which needs the ``[images-models]`` extra.

The heavy encoders are imported only when asked for, so ``pip install labelloop`` stays light;
:func:`default_image_encoder` falls back to ``image-features`` when the image models are missing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from labelloop.learn.encoder_base import Encoder, Progress, T, TextEncoder, Vectors

if TYPE_CHECKING:
    from labelloop.learn.cache import EmbeddingCache

__all__ = [
    "Encoder", "TextEncoder", "Vectors", "available_encoders", "default_image_encoder", "embed",
    "get_encoder",
]


def embed(
    encoder: Encoder[T],
    items: Sequence[T],
    *,
    cache: EmbeddingCache | None = None,
    batch_size: int = 64,
    progress: Progress | None = None,
) -> Vectors:
    """Vectors of *items* (``(len(items), encoder.dim)`` float32), computed in batches.

    Items with the same content are encoded once. With *cache*, vectors already stored under
    ``(encoder.name, sha256(content))`` are read instead of computed, and each computed batch is
    written at once (an interrupted run resumes where it stopped). Items still to compute are encoded
    shortest first, so a batch pads little. *progress* is called as ``progress(done, total)`` with
    ``total = len(items)``: once for the items found in the cache, then after each batch.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    n = len(items)
    out = np.zeros((n, encoder.dim), dtype=np.float32)
    if n == 0:
        if progress is not None:
            progress(0, 0)
        return out
    keys = [encoder.key(item) for item in items]
    first: dict[bytes, int] = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    found = cache.get_many(encoder.name, list(first), dim=encoder.dim) if cache is not None else {}
    todo = [k for k in first if k not in found]
    todo.sort(key=lambda k: len(encoder.content(items[first[k]])))
    vectors: dict[bytes, Vectors] = dict(found)
    counts = Counter(keys)
    done = sum(counts[k] for k in found)
    if progress is not None:
        progress(done, n)
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        batch = encoder.encode_batch([items[first[k]] for k in chunk])
        if batch.shape != (len(chunk), encoder.dim):
            raise RuntimeError(f"encoder {encoder.name} returned shape {batch.shape} for {len(chunk)} items")
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if cache is not None:
            cache.put_many(encoder.name, chunk, batch)
        for k, vec in zip(chunk, batch, strict=True):
            vectors[k] = vec
            done += counts[k]
        if progress is not None:
            progress(done, n)
    for i, k in enumerate(keys):
        out[i] = vectors[k]
    return out


def available_encoders() -> tuple[str, ...]:
    """Names :func:`get_encoder` accepts."""
    return ("hashed-tfidf", "minilm", "multilingual-e5", "image-features", "efficientnet-lite3")


def get_encoder(name: str, **options: Any) -> Encoder[Any]:
    """The encoder called *name*, built with keyword *options* (see each encoder's constructor)."""
    if name == "hashed-tfidf":
        from labelloop.learn.text.tfidf import HashedTfidfEncoder

        return HashedTfidfEncoder(**options)
    if name == "minilm":
        from labelloop.learn.text.minilm import MiniLMEncoder

        return MiniLMEncoder(**options)
    if name == "multilingual-e5":
        from labelloop.learn.text.e5 import MultilingualE5Encoder

        return MultilingualE5Encoder(**options)
    if name == "image-features":
        from labelloop.learn.images.features import ImageFeatureEncoder

        return ImageFeatureEncoder(**options)
    if name == "efficientnet-lite3":
        from labelloop.learn.images.embeddings import EfficientNetLiteEncoder

        return EfficientNetLiteEncoder(**options)
    raise ValueError(f"unknown encoder {name!r}; choose one of {', '.join(available_encoders())}")


def default_image_encoder() -> Encoder[Any]:
    """``efficientnet-lite3`` when the ``images-models`` extra is installed, else ``image-features``.

    The two give different vectors under different names, so a cache never mixes them.
    """
    try:
        return get_encoder("efficientnet-lite3")
    except ImportError:
        return get_encoder("image-features")
