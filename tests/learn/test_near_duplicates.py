"""Near-duplicate search: planted duplicates found exactly, blocked search equal to brute force."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.learn import NearDuplicates, duplicate_groups, near_duplicate_pairs, top_k_similar


def brute_cosine(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    unit = x / np.where(norms > 0, norms, 1)
    return unit @ unit.T


@st.composite
def planted(draw: st.DrawFn) -> tuple[np.ndarray, set[tuple[int, int]], int, int]:
    """Random 48-d vectors, some copied (rescaled, with tiny noise) into groups; the pairs to find."""
    seed = draw(st.integers(0, 2**32 - 1))
    n_base = draw(st.integers(1, 40))
    sizes = draw(st.lists(st.integers(1, 4), min_size=n_base, max_size=n_base))
    chunk = draw(st.integers(1, 17))
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n_base, 48))
    rows, group = [], []
    for g, size in enumerate(sizes):
        for _ in range(size):
            rows.append(base[g] * rng.uniform(0.5, 3) + rng.normal(scale=1e-3, size=48))
            group.append(g)
    order = rng.permutation(len(rows))
    x = np.array(rows)[order]
    g = np.array(group)[order]
    want = {(i, j) for i in range(len(x)) for j in range(i + 1, len(x)) if g[i] == g[j]}
    return x, want, chunk, n_base


@settings(max_examples=60, deadline=None)
@given(planted())
def test_planted_duplicates_are_found_exactly(case: tuple[np.ndarray, set[tuple[int, int]], int, int]) -> None:
    x, want, chunk, n_groups = case
    found = near_duplicate_pairs(x, threshold=0.99, chunk_size=chunk)
    assert found.pairs() == want
    assert (found.i < found.j).all() and (found.similarity >= 0.99).all()
    assert list(zip(found.i.tolist(), found.j.tolist(), strict=True)) == sorted(want)
    # Groups: every planted copy of one vector lands in one group named by its smallest index.
    groups = duplicate_groups(len(x), found)
    for i, j in want:
        assert groups[i] == groups[j] == min(k for k in range(len(x)) if groups[k] == groups[i])
    assert len(set(groups.tolist())) == n_groups
    # Each copy's nearest neighbours are its own group's members first.
    if len(x) > 1:
        idx, sims = top_k_similar(x, k=1, chunk_size=chunk)
        for row, (nearest, sim) in enumerate(zip(idx[:, 0], sims[:, 0], strict=True)):
            mates = [j for j in range(len(x)) if j != row and ((row, j) in want or (j, row) in want)]
            if mates:
                assert nearest in mates and sim > 0.99


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 30), st.integers(1, 9), st.integers(1, 12),
       st.floats(0.2, 0.9))
def test_blocked_search_equals_brute_force(seed: int, n: int, chunk: int, k: int, threshold: float) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    x[rng.random(n) < 0.1] = 0  # zero vectors are similar to nothing
    exact = brute_cosine(x)
    near = np.abs(exact - threshold) < 1e-5  # float32 rounding may fall either side of the threshold
    found = near_duplicate_pairs(x, threshold=threshold, chunk_size=chunk).pairs()
    want = {(i, j) for i in range(n) for j in range(i + 1, n) if exact[i, j] >= threshold}
    assert {p for p in found ^ want if not near[p]} == set()
    idx, sims = top_k_similar(x, k=k, chunk_size=chunk)
    assert idx.shape == sims.shape == (n, min(k, n - 1))
    for row in range(n):
        assert row not in idx[row]
        assert np.allclose(sims[row], exact[row, idx[row]], atol=1e-5)
        others = np.delete(exact[row], row)
        assert np.allclose(sims[row], np.sort(others)[::-1][: idx.shape[1]], atol=1e-5)


def test_queries_against_other_vectors_and_ties_by_index() -> None:
    base = np.array([[1, 0], [0, 1], [1, 0], [2, 0], [1, 1]], dtype=np.float64)
    idx, sims = top_k_similar([[3, 0], [0, 5]], base, k=3, chunk_size=2)
    assert idx.tolist() == [[0, 2, 3], [1, 4, 0]]
    assert np.allclose(sims, [[1, 1, 1], [1, np.sqrt(0.5), 0]])
    idx, sims = top_k_similar([[1, 0]], base, k=99)
    assert idx.shape == (1, 5)  # no more neighbours than candidates


def test_a_memmap_of_vectors_is_read_block_by_block(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = np.lib.format.open_memmap(tmp_path / "v.npy", mode="w+", dtype=np.float32, shape=(300, 16))
    x[:] = rng.normal(size=(300, 16))
    x[299] = x[7] * 4
    x.flush()
    found = near_duplicate_pairs(np.load(tmp_path / "v.npy", mmap_mode="r"), threshold=0.999, chunk_size=64)
    assert found.pairs() == {(7, 299)}


def test_bad_input_is_refused_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="2-d"):
        near_duplicate_pairs(np.zeros(5))
    with pytest.raises(ValueError, match=r"vectors\[1\] is not finite"):
        near_duplicate_pairs([[1.0, 0.0], [np.nan, 1.0]])
    with pytest.raises(ValueError, match="threshold"):
        near_duplicate_pairs(np.eye(3), threshold=0)
    with pytest.raises(ValueError, match="columns"):
        top_k_similar(np.eye(3), np.eye(4))
    with pytest.raises(ValueError, match="k must"):
        top_k_similar(np.eye(3), k=0)
    with pytest.raises(ValueError, match="beyond n_items"):
        duplicate_groups(2, NearDuplicates(np.array([0]), np.array([5]), np.array([1.0], dtype=np.float32)))
    empty = near_duplicate_pairs(np.zeros((0, 4)))
    assert len(empty) == 0 and duplicate_groups(0, empty).shape == (0,)
