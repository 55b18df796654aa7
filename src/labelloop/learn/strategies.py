r"""Selection strategies: which unlabelled items to label next.

Every strategy has the same signature, ``strategy(*, proba=None, embeddings=None, labelled=None,
batch_size=None, seed=0) -> indices``: ``proba`` is ``(n_items, K)`` class probabilities of the current
model, ``embeddings`` ``(n_items, d)``, ``labelled`` the items already labelled (mask or indices; they
are never returned), and the result is **every other item's index, best first**. Strategies that build
a batch jointly (diversity, hybrid, cold start) pick ``batch_size`` items that way (default
``min(100, candidates)``) and then rank the rest by a simple score. Ties go to the lower index.
Pick one by name with :func:`rank_items`.

Uncertainty scores (Settles, "Active Learning Literature Survey", 2009, section 3.1), with
:math:`p_{(1)} \ge p_{(2)}` the two largest probabilities of an item:

- ``least_confidence``: :math:`1 - p_{(1)}`, highest first;
- ``margin``: :math:`p_{(1)} - p_{(2)}`, lowest first (Scheffer et al. 2001);
- ``entropy``: :math:`-\sum_k p_k \log p_k`, highest first (Shannon).

``diversity``: k-center greedy (Gonzalez 1985; Sener & Savarese, "Active Learning for Convolutional
Neural Networks: A Core-Set Approach", ICLR 2018): repeatedly take the item farthest (Euclidean) from
every labelled or already chosen item, a 2-approximation of the minimax cover; the rest follow by that
distance, farthest first.

``hybrid`` (Zhdanov, "Diverse mini-batch Active Learning", 2019): keep the ``prefilter * batch_size``
items of smallest margin, cluster them into ``batch_size`` groups by k-means weighted by uncertainty
:math:`1 - (p_{(1)} - p_{(2)})`, and take from each group the item nearest its centre: uncertain and
spread out in one batch. The batch is ordered by margin, the rest follow by margin.

``cold_start`` (no labels yet; needs only embeddings): k-means with ``batch_size`` clusters over the
candidates and, from each cluster, the item nearest its centre, the most typical one (in the spirit of
TypiClust: Hacohen, Dekel & Weinshall, "Active Learning on a Budget", ICML 2022), larger clusters
first; the rest follow by distance to their cluster centre, nearest first.

``random``: a uniform random order (the baseline), reproducible from ``seed``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike
from sklearn.cluster import KMeans  # type: ignore[import-untyped, unused-ignore]
from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped, unused-ignore]

from labelloop.learn._checks import Floats, Indices, Mask, as_embeddings, as_mask, as_proba

DEFAULT_BATCH = 100


class Strategy(Protocol):
    def __call__(
        self,
        *,
        proba: ArrayLike | None = None,
        embeddings: ArrayLike | None = None,
        labelled: ArrayLike | None = None,
        batch_size: int | None = None,
        seed: int = 0,
    ) -> Indices: ...


def _inputs(
    proba: ArrayLike | None, embeddings: ArrayLike | None, labelled: ArrayLike | None, *, need: str
) -> tuple[Floats | None, Floats | None, Mask]:
    p = as_proba(proba) if proba is not None else None
    e = as_embeddings(embeddings) if embeddings is not None else None
    if "proba" in need and p is None:
        raise ValueError("this strategy needs proba")
    if "embeddings" in need and e is None:
        raise ValueError("this strategy needs embeddings")
    sizes = {a.shape[0] for a in (p, e) if a is not None}
    if not sizes:
        raise ValueError("give proba or embeddings")
    if len(sizes) > 1:
        raise ValueError(f"proba and embeddings must have the same number of rows, got {sorted(sizes)}")
    return p, e, as_mask(labelled, sizes.pop())


def _batch(batch_size: int | None, n_candidates: int) -> int:
    if batch_size is not None and batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    return min(DEFAULT_BATCH if batch_size is None else batch_size, n_candidates)


def _order(candidates: Indices, score: Floats) -> Indices:
    """Candidates by descending *score*, ties to the lower index."""
    return candidates[np.lexsort((candidates, -score))]


def top_two(p: Floats) -> tuple[Floats, Floats]:
    if p.shape[1] == 1:
        return p[:, 0], np.zeros(p.shape[0])
    part = -np.partition(-p, 1, axis=1)
    return part[:, 0], part[:, 1]


def uncertainty(p: Floats, kind: str) -> Floats:
    """Higher = more uncertain: ``least_confidence``, ``margin`` (negated margin) or ``entropy``."""
    if kind == "least_confidence":
        return np.asarray(1.0 - p.max(axis=1), dtype=np.float64)
    if kind == "margin":
        first, second = top_two(p)
        return -(first - second)
    if kind == "entropy":
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p > 0, p * np.log(p), 0.0)
        return np.asarray(-terms.sum(axis=1), dtype=np.float64)
    raise ValueError(f"unknown uncertainty {kind!r}")


UNCERTAINTY_STRATEGIES = ("least_confidence", "margin", "entropy")


def item_scores(proba: ArrayLike, kind: str) -> Floats:
    """The per-item score an uncertainty strategy (``kind``) ranks by, higher first.

    A per-row map: the scores of a batch of rows are those rows' scores over the whole set, so
    batches can be scored apart (in other processes) and ranked together by :func:`rank_by_score`.
    """
    return uncertainty(as_proba(proba), kind)


def rank_by_score(score: ArrayLike, labelled: ArrayLike | None = None) -> Indices:
    """Every unlabelled item by descending *score*, ties to the lower index: with
    :func:`item_scores`, what the strategy of the same name returns."""
    s = np.asarray(score, dtype=np.float64)
    if s.ndim != 1:
        raise ValueError(f"score must be 1-d, got shape {s.shape}")
    candidates = np.flatnonzero(~as_mask(labelled, s.shape[0]))
    return _order(candidates, s[candidates])


def random(
    *, proba: ArrayLike | None = None, embeddings: ArrayLike | None = None, labelled: ArrayLike | None = None,
    batch_size: int | None = None, seed: int = 0,
) -> Indices:
    """A uniform random order of the unlabelled items."""
    _, _, done = _inputs(proba, embeddings, labelled, need="")
    candidates = np.flatnonzero(~done)
    return np.random.default_rng(seed).permutation(candidates).astype(np.intp)


def _uncertainty_strategy(kind: str) -> Strategy:
    def rank(
        *, proba: ArrayLike | None = None, embeddings: ArrayLike | None = None,
        labelled: ArrayLike | None = None, batch_size: int | None = None, seed: int = 0,
    ) -> Indices:
        p, _, done = _inputs(proba, embeddings, labelled, need="proba")
        assert p is not None
        candidates = np.flatnonzero(~done)
        return _order(candidates, uncertainty(p[candidates], kind))

    rank.__name__ = kind
    rank.__doc__ = f"Unlabelled items by {kind.replace('_', ' ')}, most uncertain first."
    return rank


least_confidence = _uncertainty_strategy("least_confidence")
margin = _uncertainty_strategy("margin")
entropy = _uncertainty_strategy("entropy")


def sq_distances(x: Floats, centre: Floats) -> Floats:
    d = x - centre
    return np.asarray(np.einsum("ij,ij->i", d, d), dtype=np.float64)


def k_center_greedy(x: Floats, centres: Floats, n: int) -> tuple[Indices, Floats]:
    """Greedy picks of *n* rows of *x* (indices into x), and each row's final squared distance to a centre."""
    nearest = np.full(x.shape[0], np.inf)
    for start in range(0, centres.shape[0], 1024):
        block = centres[start : start + 1024]
        d = (x * x).sum(axis=1)[:, None] - 2 * x @ block.T + (block * block).sum(axis=1)[None, :]
        nearest = np.minimum(nearest, np.maximum(d.min(axis=1), 0.0))
    picks = np.empty(n, dtype=np.intp)
    for i in range(n):
        if np.isinf(nearest).all():  # no centre yet: start from the item nearest the mean
            j = int(np.argmin(sq_distances(x, x.mean(axis=0))))
        else:
            j = int(np.argmax(nearest))
        picks[i] = j
        nearest = np.minimum(nearest, sq_distances(x, x[j]))
        nearest[j] = -1.0  # never picked twice
    return picks, nearest


def diversity(
    *, proba: ArrayLike | None = None, embeddings: ArrayLike | None = None, labelled: ArrayLike | None = None,
    batch_size: int | None = None, seed: int = 0,
) -> Indices:
    """k-center greedy over the embeddings, labelled items as the first centres."""
    _, e, done = _inputs(proba, embeddings, labelled, need="embeddings")
    assert e is not None
    candidates = np.flatnonzero(~done)
    if candidates.size == 0:
        return candidates.astype(np.intp)
    b = _batch(batch_size, candidates.size)
    picks, nearest = k_center_greedy(e[candidates], e[done], b)
    rest = np.setdiff1d(np.arange(candidates.size), picks)
    return np.concatenate([candidates[picks], _order(candidates[rest], nearest[rest])]).astype(np.intp)


def _kmeans_representatives(
    x: Floats, k: int, weights: Floats | None, seed: int
) -> tuple[Indices, Floats, Indices]:
    """Per cluster the row nearest its centre (largest clusters first); every row's distance and cluster."""
    with warnings.catch_warnings():
        # Fewer distinct points than clusters (duplicates): some clusters stay empty, which is fine here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        km = KMeans(n_clusters=k, n_init=1, max_iter=100, random_state=seed).fit(x, sample_weight=weights)
    assign = np.asarray(km.labels_, dtype=np.intp)
    dist = sq_distances(x, km.cluster_centers_[assign])
    sizes = np.bincount(assign, minlength=k)
    reps = []
    for c in range(k):
        members = np.flatnonzero(assign == c)
        if members.size:
            reps.append((-sizes[c], c, int(members[np.lexsort((members, dist[members]))[0]])))
    reps.sort()
    return np.array([r[2] for r in reps], dtype=np.intp), dist, assign


def hybrid(
    *, proba: ArrayLike | None = None, embeddings: ArrayLike | None = None, labelled: ArrayLike | None = None,
    batch_size: int | None = None, seed: int = 0, prefilter: int = 10,
) -> Indices:
    """Uncertain and diverse: weighted k-means over the most uncertain items (Zhdanov 2019)."""
    if prefilter < 1:
        raise ValueError("prefilter must be >= 1")
    p, e, done = _inputs(proba, embeddings, labelled, need="proba embeddings")
    assert p is not None and e is not None
    candidates = np.flatnonzero(~done)
    if candidates.size == 0:
        return candidates.astype(np.intp)
    b = _batch(batch_size, candidates.size)
    by_margin = _order(candidates, uncertainty(p[candidates], "margin"))
    pool = by_margin[: min(candidates.size, prefilter * b)]
    weight = 1.0 + uncertainty(p[pool], "margin")  # 1 - margin, in [0, 1]
    reps, _, _ = _kmeans_representatives(e[pool], b, np.maximum(weight, 1e-6), seed)
    picked = np.isin(by_margin, pool[reps])
    chosen, rest = by_margin[picked], by_margin[~picked]
    return np.concatenate([chosen, rest]).astype(np.intp)


def cold_start(
    *, proba: ArrayLike | None = None, embeddings: ArrayLike | None = None, labelled: ArrayLike | None = None,
    batch_size: int | None = None, seed: int = 0,
) -> Indices:
    """Cluster representatives first (for a project with no labels yet; needs embeddings only)."""
    _, e, done = _inputs(proba, embeddings, labelled, need="embeddings")
    assert e is not None
    candidates = np.flatnonzero(~done)
    if candidates.size == 0:
        return candidates.astype(np.intp)
    b = _batch(batch_size, candidates.size)
    reps, dist, _ = _kmeans_representatives(e[candidates], b, None, seed)
    rest = np.setdiff1d(np.arange(candidates.size), reps)
    return np.concatenate([candidates[reps], _order(candidates[rest], -dist[rest])]).astype(np.intp)


STRATEGIES: dict[str, Callable[..., Indices]] = {
    "random": random,
    "least_confidence": least_confidence,
    "margin": margin,
    "entropy": entropy,
    "diversity": diversity,
    "hybrid": hybrid,
    "cold_start": cold_start,
}


def rank_items(strategy: str, **kwargs: Any) -> Indices:
    """Run the strategy called *strategy* (a key of :data:`STRATEGIES`) with the common keyword arguments."""
    try:
        fn = STRATEGIES[strategy]
    except KeyError:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}") from None
    return fn(**kwargs)
