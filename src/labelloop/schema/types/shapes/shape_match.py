"""Matching objects across annotators: one-to-one assignment by similarity (IoU, OKS, ...).

Both hooks of the shape label types rest on the linear assignment problem (Kuhn 1955, "The
Hungarian method for the assignment problem"; solved by `scipy.optimize.linear_sum_assignment`,
Crouse 2016): given a similarity matrix S between two sets of objects, choose pairs, each
object in at most one, maximising the total similarity; a pair counts as the same object when
its similarity reaches a threshold (IoU 0.5, as in PASCAL VOC and COCO's AP50).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]


def matches(similarity: Floats, threshold: float) -> list[tuple[int, int, float]]:
    """(row, column, similarity) of the optimal one-to-one assignment, pairs below `threshold` left out."""
    if similarity.size == 0:
        return []
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    return [(int(r), int(c), float(similarity[r, c])) for r, c in zip(rows, cols, strict=True)
            if similarity[r, c] >= threshold]


def f1(similarity: Floats, threshold: float, *, soft: bool = False) -> float:
    """F1 of two annotators' objects at a similarity threshold: 2 TP / (|A| + |B|), TP the matched
    pairs (with `soft`, the sum of their similarities, as OKS-weighted matching does); 1 when
    neither drew anything."""
    n, m = similarity.shape
    if n + m == 0:
        return 1.0
    found = matches(similarity, threshold)
    tp = sum(s for _, _, s in found) if soft else len(found)
    return float(2 * tp / (n + m))


def cluster(
    owners: Sequence[int],
    order: Sequence[int],
    similarity: Callable[[Ints, Ints], Floats],
    threshold: float,
) -> list[list[int]]:
    """Group the objects of one item into clusters holding at most one object per annotator.

    `owners[k]` is the annotator of object k; annotators are taken in `order` (most trusted
    first). The first one's objects each open a cluster; each next annotator's objects are
    assigned one-to-one (Hungarian) to the clusters so far by their mean similarity to the
    cluster's members (average linkage), and join those at or above `threshold`; the rest open
    new clusters. `similarity(rows, cols)` gives the matrix between objects by index; it is
    asked only about objects of different annotators. Clusters come in the order they opened.
    """
    own = np.asarray(owners, dtype=np.intp)
    where = np.full(len(own), -1, dtype=np.intp)
    clusters: list[list[int]] = []
    for annotator in order:
        mine = np.flatnonzero(own == annotator)
        if len(mine) == 0:
            continue
        joined: dict[int, int] = {}
        seen = np.flatnonzero(where >= 0)
        if len(seen):
            by_cluster = seen[np.argsort(where[seen], kind="stable")]
            sims = similarity(mine, by_cluster)
            ids, first = np.unique(where[by_cluster], return_index=True)
            sizes = np.diff(np.append(first, len(by_cluster)))
            mean = np.add.reduceat(sims, first, axis=1) / sizes
            joined = {r: int(ids[c]) for r, c, _ in matches(mean, threshold)}
        for r, k in enumerate(mine):
            c = joined.get(r)
            if c is None:
                c = len(clusters)
                clusters.append([])
            clusters[c].append(int(k))
            where[k] = c
    return clusters


def pairwise(
    a: Sequence[object],
    b: Sequence[object],
    bounds_a: Floats,
    bounds_b: Floats,
    score: Callable[[int, int], float],
    margin: float | Floats = 0.0,
) -> Floats:
    """Similarity matrix computed only for pairs whose bounds ([x1, y1, x2, y2]) overlap, grown by
    `margin`; the others score 0 (no overlap, no IoU)."""
    out = np.zeros((len(a), len(b)))
    if not len(a) or not len(b):
        return out
    m = np.broadcast_to(np.asarray(margin, dtype=np.float64), (len(a),))[:, None]
    lo_a, hi_a = bounds_a[:, None, :2] - m[..., None], bounds_a[:, None, 2:] + m[..., None]
    lo_b, hi_b = bounds_b[None, :, :2], bounds_b[None, :, 2:]
    near = ((lo_a <= hi_b) & (lo_b <= hi_a)).all(axis=2)
    for i, j in zip(*np.nonzero(near), strict=True):
        out[i, j] = score(int(i), int(j))
    return out
