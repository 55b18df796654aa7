"""The vector index: the HNSW search finds what the exact one finds, both survive a save and a
load, and an empty index or a k larger than the index answer without error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("usearch")

from labelloop.curation.vector_index import VectorIndex, expansion_for


def clustered(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(1, n // 50), dim))
    x = centres[rng.integers(0, len(centres), n)] + 0.3 * rng.normal(size=(n, dim))
    out: np.ndarray = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    return out


def test_ann_recall_at_10_against_the_exact_search() -> None:
    x = clustered(5000, 48)
    ids = np.arange(100, 5100)
    ann, exact = VectorIndex.build(ids, x, exact=False), VectorIndex.build(ids, x, exact=True)
    assert not ann.exact and exact.exact and len(ann) == len(exact) == 5000
    rng = np.random.default_rng(1)
    queries = x[rng.integers(0, 5000, 100)] + 0.2 * rng.normal(size=(100, 48)).astype(np.float32)
    hits = sum(len(set(ann.search(q, 10)[0]) & set(exact.search(q, 10)[0])) for q in queries)
    assert hits / 1000 >= 0.95
    found, sims = exact.search(x[7], 3)
    assert found[0] == 107 and sims[0] == pytest.approx(1.0, abs=1e-5)
    found, sims = ann.search(x[7], 3)
    assert found[0] == 107 and sims[0] == pytest.approx(1.0, abs=1e-5)
    assert list(sims) == sorted(sims, reverse=True)


@pytest.mark.parametrize("exact", [True, False])
def test_save_and_load_give_the_same_answers(tmp_path: Path, exact: bool) -> None:
    x = clustered(300, 16)
    index = VectorIndex.build(np.arange(300) * 2, x, exact=exact)
    index.save(tmp_path / "index")
    again = VectorIndex.load(tmp_path / "index")
    assert again.exact is exact and len(again) == 300 and again.dim == 16
    for q in x[:5]:
        a, b = index.search(q, 5), again.search(q, 5)
        assert list(a[0]) == list(b[0])
        np.testing.assert_allclose(a[1], b[1], atol=1e-6)


@pytest.mark.parametrize("exact", [True, False])
def test_empty_index_k_larger_than_n_and_rows_without_embedding(exact: bool) -> None:
    empty = VectorIndex.build(np.zeros(0, np.int64), np.zeros((0, 4), np.float32), exact=exact)
    assert len(empty) == 0 and len(empty.search(np.ones(4), 10)[0]) == 0
    x = np.array([[1, 0, 0, 0], [0, 0, 0, 0], [1, 1, 0, 0], [np.nan, 1, 0, 0]], np.float32)
    index = VectorIndex.build([1, 2, 3, 4], x, exact=exact)
    assert len(index) == 2  # no embedding (zeros, NaN): left out
    found, sims = index.search([1, 0, 0, 0], 10)
    assert list(found) == [1, 3]
    np.testing.assert_allclose(sims, [1.0, np.sqrt(0.5)], atol=1e-5)
    assert len(index.search([0, 0, 0, 0], 10)[0]) == 0


def test_bad_input_is_refused_naming_the_problem() -> None:
    with pytest.raises(ValueError, match="distinct"):
        VectorIndex.build([1, 1], np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"\(3, dim\)"):
        VectorIndex.build([1, 2, 3], np.ones((2, 3)))
    with pytest.raises(ValueError, match="3 dimensions, the index 4"):
        VectorIndex.build([1], np.ones((1, 4))).search(np.ones(3), 1)


def test_a_larger_graph_is_searched_wider_and_keeps_its_width_when_loaded(tmp_path: Path) -> None:
    assert [expansion_for(n) for n in (0, 20_000, 128_000, 500_000, 1_000_000, 10**8)] == [
        128, 128, 128, 500, 1000, 1024]
    x = clustered(300, 16)
    index = VectorIndex.build(np.arange(300), x, exact=False)
    assert index.expansion_search == 128
    index.expansion_search = 40
    assert index.expansion_search == 40
    index.save(tmp_path / "index")
    assert VectorIndex.load(tmp_path / "index").expansion_search == 128  # the width is the size's
    assert VectorIndex.build(np.arange(300), x, exact=True).expansion_search is None
