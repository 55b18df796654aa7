"""Selection strategies on hand-made cases with known answers, and their shared contract."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labelloop.learn import STRATEGIES, rank_items

# Four items, three classes: item 0 is sure, 1 splits two classes evenly, 2 is flat, 3 leans one way.
PROBA = np.array(
    [
        [0.98, 0.01, 0.01],
        [0.50, 0.50, 0.00],
        [0.34, 0.33, 0.33],
        [0.70, 0.20, 0.10],
    ]
)


def test_least_confidence_ranks_by_top_probability() -> None:
    assert rank_items("least_confidence", proba=PROBA).tolist() == [2, 1, 3, 0]


def test_margin_ranks_by_gap_between_top_two() -> None:
    # margins: 0.97, 0.00, 0.01, 0.50
    assert rank_items("margin", proba=PROBA).tolist() == [1, 2, 3, 0]


def test_entropy_ranks_flat_rows_first() -> None:
    # entropies: flat (2) 1.10 > leaning (3) 0.80 > even split of two (1) log 2 = 0.69 > sure (0):
    # unlike margin, entropy counts the third class's mass.
    assert rank_items("entropy", proba=PROBA).tolist() == [2, 3, 1, 0]


def test_labelled_items_are_never_returned() -> None:
    assert rank_items("margin", proba=PROBA, labelled=[1]).tolist() == [2, 3, 0]
    mask = np.array([False, False, True, False])
    assert rank_items("entropy", proba=PROBA, labelled=mask).tolist() == [3, 1, 0]


def test_ties_go_to_the_lower_index() -> None:
    flat = np.full((5, 2), 0.5)
    for name in ("least_confidence", "margin", "entropy"):
        assert rank_items(name, proba=flat).tolist() == [0, 1, 2, 3, 4]


def test_random_is_a_reproducible_permutation_of_the_unlabelled() -> None:
    a = rank_items("random", proba=PROBA, labelled=[0], seed=3)
    b = rank_items("random", proba=PROBA, labelled=[0], seed=3)
    assert a.tolist() == b.tolist()
    assert sorted(a.tolist()) == [1, 2, 3]


def test_diversity_picks_the_farthest_point_from_the_labelled_set() -> None:
    # Points on a line; 0 is labelled. Farthest from {0} is 10; then farthest from {0, 10} is 5.
    x = np.array([[0.0], [1.0], [2.0], [5.0], [10.0], [9.0]])
    order = rank_items("diversity", embeddings=x, labelled=[0], batch_size=2)
    assert order[:2].tolist() == [4, 3]
    # The rest by distance to the nearest centre in {0, 10, 5}: 2 (2 from 0), then 1 and 9 (1 each; lower index).
    assert order[2:].tolist() == [2, 1, 5]


def test_diversity_without_labels_starts_from_the_most_central_item() -> None:
    x = np.array([[-4.0], [0.1], [4.0], [3.9]])
    assert rank_items("diversity", embeddings=x, batch_size=1)[0] == 1


def test_cold_start_takes_one_representative_per_cluster_largest_first() -> None:
    rng = np.random.default_rng(0)
    big = rng.normal(0, 0.1, size=(30, 2))
    small = rng.normal(0, 0.1, size=(10, 2)) + 5.0
    x = np.vstack([big, small])
    order = rank_items("cold_start", embeddings=x, batch_size=2, seed=0)
    assert order[0] < 30 <= order[1]  # the big cluster's representative first, then the small one's
    # Each representative is its cluster's most central point.
    assert order[0] == np.argmin(((big - big.mean(axis=0)) ** 2).sum(axis=1)) or np.linalg.norm(
        x[order[0]] - big.mean(axis=0)
    ) < 0.05
    assert sorted(order.tolist()) == list(range(40))


def test_hybrid_batch_is_uncertain_and_spread_out() -> None:
    # Two far-apart groups of near-duplicates, all equally uncertain, plus confident items.
    # Pure margin would take the first group's near-duplicates; hybrid takes one from each group.
    group_a = np.array([[0.0, 0.0]] * 5) + np.linspace(0, 0.01, 5)[:, None]
    group_b = np.array([[10.0, 10.0]] * 5) + np.linspace(0, 0.01, 5)[:, None]
    sure = np.array([[5.0, 0.0]] * 4)
    x = np.vstack([group_a, group_b, sure])
    proba = np.vstack([np.tile([0.5, 0.5], (10, 1)), np.tile([0.99, 0.01], (4, 1))])
    margin_top = rank_items("margin", proba=proba)[:2]
    assert set(margin_top.tolist()) <= set(range(5))
    batch = rank_items("hybrid", proba=proba, embeddings=x, batch_size=2, seed=0)[:2]
    assert {int(i) // 5 for i in batch} == {0, 1}


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_returns_each_unlabelled_item_once(name: str) -> None:
    rng = np.random.default_rng(1)
    proba = rng.dirichlet(np.ones(3), size=40)
    emb = rng.normal(size=(40, 5))
    labelled = rng.choice(40, size=7, replace=False)
    order = rank_items(name, proba=proba, embeddings=emb, labelled=labelled, batch_size=5, seed=0)
    assert order.dtype == np.intp
    assert sorted(order.tolist()) == sorted(set(range(40)) - set(labelled.tolist()))


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown strategy"):
        rank_items("bald", proba=PROBA)
    with pytest.raises(ValueError, match="needs proba"):
        rank_items("margin", embeddings=np.zeros((4, 2)))
    with pytest.raises(ValueError, match="needs embeddings"):
        rank_items("diversity", proba=PROBA)
    with pytest.raises(ValueError, match="same number of rows"):
        rank_items("hybrid", proba=PROBA, embeddings=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="sum to 1"):
        rank_items("margin", proba=PROBA * 2 / 3)
    with pytest.raises(ValueError, match="batch_size"):
        rank_items("diversity", embeddings=np.zeros((4, 2)), batch_size=0)


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(1, 12), st.integers(1, 4)), elements=st.floats(0.01, 1.0)),
    st.sampled_from(["least_confidence", "margin", "entropy"]),
)
def test_uncertainty_orders_are_permutations_and_put_the_surest_last(raw: np.ndarray, name: str) -> None:
    proba = raw / raw.sum(axis=1, keepdims=True)
    order = rank_items(name, proba=proba)
    assert sorted(order.tolist()) == list(range(len(proba)))
    if name == "least_confidence":
        top = proba.max(axis=1)[order]
        assert np.all(np.diff(top) >= -1e-12)


def test_duplicates_do_not_break_the_batch_strategies() -> None:
    x = np.zeros((6, 2))  # six identical items: one distinct point, batch of three
    proba = np.tile([0.6, 0.4], (6, 1))
    for name in ("cold_start", "hybrid", "diversity"):
        order = rank_items(name, proba=proba, embeddings=x, batch_size=3)
        assert sorted(order.tolist()) == list(range(6))
