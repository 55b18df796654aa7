"""The one-item posteriors used to update consensus as answers arrive."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelloop.quality.classification.posterior import (
    accuracy_interval,
    accuracy_upper_bound,
    one_coin_posterior,
)


def test_one_coin_posterior_by_hand() -> None:
    # two workers of skill 0.8 say 0, one of skill 0.6 says 1, three classes
    p = one_coin_posterior([0, 0, 1], [0.8, 0.8, 0.6], 3)
    like = np.array([0.8 * 0.8 * 0.2, 0.1 * 0.1 * 0.6, 0.1 * 0.1 * 0.2])
    assert p == pytest.approx(like / like.sum())


def test_no_answers_gives_the_prior_and_chance_workers_carry_no_weight() -> None:
    assert one_coin_posterior([], [], 4) == pytest.approx([0.25] * 4)
    assert one_coin_posterior([1], [0.5], 2)[1] == pytest.approx(0.51)  # clipped just above chance


@given(st.lists(st.tuples(st.integers(0, 3), st.floats(0.0, 1.0)), max_size=12))
def test_posterior_is_a_distribution(pairs: list[tuple[int, float]]) -> None:
    p = one_coin_posterior([a for a, _ in pairs], [s for _, s in pairs], 4)
    assert p.sum() == pytest.approx(1.0) and (p >= 0).all()


@given(st.lists(st.tuples(st.integers(0, 2), st.floats(0.0, 1.0)), max_size=12),
       st.lists(st.floats(0.05, 1.0), min_size=3, max_size=3))
def test_posterior_is_the_product_of_the_workers_likelihoods(pairs: list[tuple[int, float]],
                                                             weights: list[float]) -> None:
    prior = np.array(weights) / sum(weights)
    like = prior.copy()
    for a, skill in pairs:
        s = min(max(skill, 1 / 3 + 0.01), 0.99)
        like *= np.where(np.arange(3) == a, s, (1 - s) / 2)
    p = one_coin_posterior([a for a, _ in pairs], [s for _, s in pairs], 3, prior=list(prior))
    assert p == pytest.approx(like / like.sum(), rel=1e-9)


def test_accuracy_bounds() -> None:
    assert accuracy_upper_bound(0, 10) < 0.3
    assert accuracy_upper_bound(9, 10) > 0.95
    mean, lo, hi = accuracy_interval(8, 10)
    assert lo < mean < hi and mean == pytest.approx(9 / 12)
    with pytest.raises(ValueError):
        accuracy_upper_bound(3, 2)
