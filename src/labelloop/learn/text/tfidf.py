r"""Hashed TF-IDF: a cheap, dependency-light text encoder (scikit-learn only), for tests and fallbacks.

Words and word bigrams (scikit-learn's default token pattern, lower-cased) are hashed into ``dim``
buckets with the signed 32-bit MurmurHash3 (the hashing trick, Weinberger et al., ICML 2009), so no
vocabulary is stored. A bucket's weight is the sublinear term frequency times the inverse document
frequency, and each vector has unit L2 norm:

.. math:: x_{d,j} = \frac{(1 + \log \mathrm{tf}_{d,j})\,\mathrm{idf}_j}{\lVert\cdot\rVert_2},\qquad
          \mathrm{idf}_j = 1 + \log\frac{1 + N}{1 + \mathrm{df}_j}

(scikit-learn's smoothed idf). The idf is learned by :meth:`HashedTfidfEncoder.fit` on a corpus; an
unfitted encoder uses :math:`\mathrm{idf}_j = 1` (plain sublinear TF). The encoder's ``name`` carries
``dim`` and a digest of the idf vector, so cached vectors of two fits never mix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer  # type: ignore[import-untyped, unused-ignore]

from labelloop.learn._checks import Floats
from labelloop.learn.encoder_base import TextEncoder, Vectors


class HashedTfidfEncoder(TextEncoder):
    """Dense hashed TF-IDF vectors of texts (see the module docstring for the weighting)."""

    def __init__(self, *, dim: int = 1024, ngram_max: int = 2, idf: Floats | None = None) -> None:
        if dim < 2:
            raise ValueError("dim must be >= 2")
        if ngram_max < 1:
            raise ValueError("ngram_max must be >= 1")
        if idf is not None:
            idf = np.asarray(idf, dtype=np.float64)
            if idf.shape != (dim,) or not np.isfinite(idf).all() or (idf < 0).any():
                raise ValueError(f"idf must be {dim} finite, non-negative weights")
        self.dim = dim
        self.ngram_max = ngram_max
        self.idf = idf
        self._hasher = HashingVectorizer(
            n_features=dim, ngram_range=(1, ngram_max), alternate_sign=False, norm=None, dtype=np.float64
        )
        digest = "tf" if idf is None else hashlib.sha256(idf.tobytes()).hexdigest()[:12]
        self.name = f"hashed-tfidf-{dim}-ng{ngram_max}-{digest}"

    def fit(self, texts: Iterable[str]) -> HashedTfidfEncoder:
        """A new encoder whose idf is learned from *texts* (the encoder itself is not changed)."""
        counts = self._hasher.transform(list(texts))
        n = counts.shape[0]
        if n == 0:
            raise ValueError("fit needs at least one text")
        df = np.bincount(counts.indices, minlength=self.dim).astype(np.float64)
        idf = 1.0 + np.log((1.0 + n) / (1.0 + df))
        return HashedTfidfEncoder(dim=self.dim, ngram_max=self.ngram_max, idf=idf)

    def encode_batch(self, items: Sequence[str]) -> Vectors:
        texts = self.check_texts(items)
        counts = self._hasher.transform(texts).tocsr()
        counts.data = 1.0 + np.log(counts.data)
        dense = counts.toarray()
        if self.idf is not None:
            dense *= self.idf
        norms = np.linalg.norm(dense, axis=1, keepdims=True)
        dense = np.divide(dense, norms, out=np.zeros_like(dense), where=norms > 0)
        return np.asarray(dense, dtype=np.float32)
