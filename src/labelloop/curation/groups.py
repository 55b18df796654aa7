"""Pairs of similar inputs, and the groups they form (union-find: connected components)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Pairs:
    """Pairs `(i[k], j[k])` with `i < j`, each with its similarity `score[k]`, and the inputs skipped
    (index -> why)."""

    i: NDArray[np.intp]
    j: NDArray[np.intp]
    score: NDArray[np.float32]
    skipped: dict[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.i)

    @staticmethod
    def empty(skipped: dict[int, str] | None = None) -> Pairs:
        none = np.zeros(0, dtype=np.intp)
        return Pairs(none, none.copy(), np.zeros(0, dtype=np.float32), skipped or {})

    def as_set(self) -> set[tuple[int, int]]:
        return {(int(a), int(b)) for a, b in zip(self.i, self.j, strict=True)}


def union_groups(n: int, i: NDArray[np.intp], j: NDArray[np.intp]) -> NDArray[np.intp]:
    """`groups[k]`: the smallest index connected to k through the pairs (k itself when alone).

    Union-find with path halving, each root the smallest index of its set, so a group's name does
    not depend on the order of the pairs."""
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([root(x) for x in range(n)], dtype=np.intp)


def best_scores(n: int, pairs: Pairs) -> NDArray[np.float32]:
    """Each input's highest similarity to another (0 for an input in no pair)."""
    best = np.zeros(n, dtype=np.float32)
    np.maximum.at(best, pairs.i, pairs.score)
    np.maximum.at(best, pairs.j, pairs.score)
    return best


def equal_key_pairs(keys: Sequence[Hashable | None]) -> Pairs:
    """Exact duplicates: each input paired with the first input of the same key (score 1); a None
    key is skipped."""
    first: dict[Hashable, int] = {}
    a: list[int] = []
    b: list[int] = []
    skipped: dict[int, str] = {}
    for k, key in enumerate(keys):
        if key is None:
            skipped[k] = "no content hash"
            continue
        at = first.setdefault(key, k)
        if at != k:
            a.append(at)
            b.append(k)
    return Pairs(np.array(a, dtype=np.intp), np.array(b, dtype=np.intp), np.ones(len(a), dtype=np.float32),
                 skipped)
