"""Encoders, the embedding cache, and the batching driver."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from labelloop.learn import EmbeddingCache, Encoder, available_encoders, embed, get_encoder
from labelloop.learn.data import digits
from labelloop.learn.images.features import ImageFeatureEncoder, resize_area
from labelloop.learn.text.tfidf import HashedTfidfEncoder


class CountingEncoder(Encoder[str]):
    """Encodes a text as (length, number of vowels); counts the texts it was asked to encode."""

    name = "counting"
    dim = 2

    def __init__(self) -> None:
        self.seen: list[str] = []

    def content(self, item: str) -> bytes:
        return item.encode()

    def encode_batch(self, items: Sequence[str]) -> np.ndarray:
        self.seen.extend(items)
        return np.array([[len(t), sum(c in "aeiou" for c in t)] for t in items], dtype=np.float32)


def test_embed_batches_dedupes_and_reports_progress() -> None:
    enc = CountingEncoder()
    calls: list[tuple[int, int]] = []
    out = embed(enc, ["abc", "a", "abc", "hello"], batch_size=2, progress=lambda d, t: calls.append((d, t)))
    assert out.tolist() == [[3, 1], [1, 1], [3, 1], [5, 2]]
    assert sorted(enc.seen) == ["a", "abc", "hello"]  # "abc" once
    assert enc.seen[0] == "a"  # shortest first
    assert calls == [(0, 4), (3, 4), (4, 4)]  # "a" and both "abc" after the first batch


def test_the_cache_serves_vectors_by_content_and_encoder(tmp_path: Path) -> None:
    with EmbeddingCache(tmp_path / "cache") as cache:
        first = CountingEncoder()
        embed(first, ["x", "yy"], cache=cache)
        assert cache.count("counting") == 2
        again = CountingEncoder()
        calls: list[tuple[int, int]] = []
        out = embed(again, ["yy", "zzz", "x"], cache=cache, progress=lambda d, t: calls.append((d, t)))
        assert again.seen == ["zzz"]
        assert out.tolist() == [[2, 0], [3, 0], [1, 0]]
        assert calls == [(2, 3), (3, 3)]
        # Another encoder name never reads these vectors.
        other = CountingEncoder()
        other.name = "counting-v2"
        embed(other, ["x"], cache=cache)
        assert other.seen == ["x"]
    with EmbeddingCache(tmp_path / "cache") as reopened:
        assert reopened.count() == 4


def test_hashed_tfidf_is_deterministic_unit_length_and_sees_word_overlap() -> None:
    enc = get_encoder("hashed-tfidf", dim=512)
    texts = ["the cat sat on the mat", "the cat sat on a mat", "stock prices fell sharply", ""]
    v = embed(enc, texts)
    assert v.shape == (4, 512) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v[:3], axis=1), 1, atol=1e-6)
    assert not v[3].any()  # no words, no vector
    sims = v[:3] @ v[:3].T
    assert sims[0, 1] > 0.5 > sims[0, 2]
    assert np.array_equal(v, embed(get_encoder("hashed-tfidf", dim=512), texts))


def test_fitted_idf_changes_the_name_and_downweights_common_words() -> None:
    base = HashedTfidfEncoder(dim=256)
    fitted = base.fit(["the cat", "the dog", "the emu"])
    assert fitted.name != base.name and base.idf is None
    v = fitted.encode_batch(["the cat"])[0]
    the, cat = v[np.flatnonzero(v)].min(), v[np.flatnonzero(v)].max()
    assert the < cat  # "the" is in every document


def test_image_features_of_digits_are_deterministic_and_classifiable() -> None:
    images, target = digits()
    enc = get_encoder("image-features")
    assert isinstance(enc, ImageFeatureEncoder)
    v = embed(enc, list(images[:300]))
    assert v.shape == (300, enc.dim) and enc.dim == 64 + 8 * 5
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    # Nearest neighbour (leave one out) on these features: digits are well separated.
    sims = v @ v.T
    np.fill_diagonal(sims, -np.inf)
    assert (target[:300][sims.argmax(axis=1)] == target[:300]).mean() > 0.9
    # Colour and uint8 input work; the same image gives the same features.
    rgb = np.repeat((images[0] * 15).astype(np.uint8)[:, :, None], 3, axis=2)
    assert np.allclose(enc.encode_batch([rgb])[0], enc.encode_batch([images[0]])[0], atol=1e-5)


def test_resize_area_averages_blocks() -> None:
    img = np.arange(16, dtype=np.float64).reshape(4, 4)
    assert resize_area(img, 2).tolist() == [[2.5, 4.5], [10.5, 12.5]]


def test_unknown_encoder_is_refused() -> None:
    assert "minilm" in available_encoders()
    with pytest.raises(ValueError, match="unknown encoder"):
        get_encoder("clip")
    with pytest.raises(TypeError):
        get_encoder("hashed-tfidf").encode_batch([b"bytes"])  # type: ignore[list-item]


def test_minilm_sentence_embeddings_rank_paraphrases_first(tmp_path: Path) -> None:
    enc = get_encoder("minilm", threads=1)
    texts = [
        "A man is playing a guitar.",
        "Someone plays an acoustic guitar on stage.",
        "The central bank raised interest rates again.",
        "Interest rates were increased by the central bank.",
    ]
    with EmbeddingCache(tmp_path) as cache:
        v = embed(enc, texts, cache=cache, batch_size=3)
        assert cache.count(enc.name) == 4
    assert v.shape == (4, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-4)
    sims = v @ v.T
    assert sims[0, 1] > 0.5 and sims[2, 3] > 0.8
    assert max(sims[0, 2], sims[0, 3], sims[1, 2], sims[1, 3]) < 0.2
    # Padding does not change a text's vector: alone or in a batch with a long text.
    alone = enc.encode_batch([texts[0]])[0]
    assert np.allclose(alone, v[0], atol=1e-4)
