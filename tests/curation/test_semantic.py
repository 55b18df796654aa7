"""Semantic neighbours over given embeddings; rows without an embedding skipped."""

from __future__ import annotations

import numpy as np

from labelloop.curation import equal_key_pairs, semantic_neighbours


def test_close_vectors_pair_and_missing_ones_are_skipped() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 16)).astype(np.float32)
    x[4] = x[1] * 3 + 0.01  # the same direction
    x[2] = 0  # no embedding
    x[5, 3] = np.nan
    found = semantic_neighbours(x, threshold=0.99)
    assert found.as_set() == {(1, 4)}
    assert found.skipped == {2: "no embedding", 5: "an embedding with a non-finite value"}
    assert float(found.score[0]) > 0.99


def test_exact_keys() -> None:
    found = equal_key_pairs(["a", "b", "a", None, "a"])
    assert found.as_set() == {(0, 2), (0, 4)}
    assert found.skipped == {3: "no content hash"}
