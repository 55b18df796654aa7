"""The per-item steps a round runs over batches (in process or on Ray) give, put together, what
one call over the whole set gives: uncertainty scores ranked together, and disagreements."""

from __future__ import annotations

import numpy as np
import pytest

from labelloop.learn import consensus_disagreements, rank_items
from labelloop.learn.label_errors import order_disagreements
from labelloop.learn.strategies import UNCERTAINTY_STRATEGIES, item_scores, rank_by_score

PROBA = np.array([[0.98, 0.01, 0.01], [0.50, 0.50, 0.00], [0.34, 0.33, 0.33], [0.70, 0.20, 0.10]])


def _proba(n: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    raw = rng.dirichlet(np.ones(k), size=n)
    raw[::7] = raw[0]  # repeated rows: ties, broken by the lower index
    return raw


def test_scores_rank_as_the_strategy_on_a_hand_made_case() -> None:
    assert rank_by_score(item_scores(PROBA, "margin")).tolist() == [1, 2, 3, 0]
    assert rank_by_score(item_scores(PROBA, "least_confidence"), [2]).tolist() == [1, 3, 0]
    with pytest.raises(ValueError, match="unknown uncertainty 'vibes'"):
        item_scores(PROBA, "vibes")


@pytest.mark.parametrize("kind", UNCERTAINTY_STRATEGIES)
@pytest.mark.parametrize("size", [1, 7, 100, 1000])
def test_scores_of_batches_rank_as_the_strategy_on_the_whole_set(kind: str, size: int) -> None:
    p = _proba(500, 4, seed=3)
    labelled = np.zeros(500, dtype=bool)
    labelled[::5] = True
    scores = np.concatenate([item_scores(p[s:s + size], kind) for s in range(0, 500, size)])
    assert np.array_equal(scores, item_scores(p, kind))
    assert rank_by_score(scores, labelled).tolist() == rank_items(kind, proba=p, labelled=labelled).tolist()


@pytest.mark.parametrize("size", [1, 13, 250, 1000])
def test_disagreements_of_batches_rank_as_one_search(size: int) -> None:
    p = _proba(400, 3, seed=5)
    y = np.random.default_rng(6).integers(0, 3, 400)
    cc = np.round(np.random.default_rng(7).uniform(0.3, 1.0, 400), 1)  # ties in consensus confidence
    whole = consensus_disagreements(y, p, consensus_confidence=cc, min_model_confidence=0.5)
    parts = [consensus_disagreements(y[s:s + size], p[s:s + size], consensus_confidence=cc[s:s + size],
                                     min_model_confidence=0.5) + s for s in range(0, 400, size)]
    merged = order_disagreements(np.concatenate(parts), p, consensus_confidence=cc)
    assert len(whole) == int(((p.argmax(axis=1) != y) & (p.max(axis=1) >= 0.5)).sum()) == 172
    assert merged.tolist() == whole.tolist()
