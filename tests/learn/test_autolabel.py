"""Auto-labelling: known answers, the eligibility rule, and the accuracy guarantee over many seeds."""

from __future__ import annotations

import numpy as np
import pytest

from labelloop.learn import apply_policy, autolabel, choose_threshold
from labelloop.learn.autolabel import (
    candidate_thresholds,
    default_start_items,
    pool_errors_p_value,
    realised_accuracy_bound,
)


def two_class(conf: np.ndarray, right: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities with *conf* on the predicted class, and labels that agree with it where *right*."""
    proba = np.where(pred[:, None] == np.arange(2), conf[:, None], 1 - conf[:, None])
    return proba, np.where(right, pred, 1 - pred)


def test_finite_population_p_value_known_values() -> None:
    # One validation item (right) and one pool item: "the pool item is wrong" has p = 1/2.
    assert pool_errors_p_value(0, 1, 1, 1) == pytest.approx(0.5)
    # A pool far larger than the validation set: the binomial test, P(59 of 59 right | acc 0.95) = 0.95**59.
    assert pool_errors_p_value(0, 59, 10**7, int(0.05 * 10**7) + 1) == pytest.approx(0.95**59, rel=1e-3)
    assert default_start_items(0.95, 0.05) == 118  # 0.95**59 < 0.05 <= 0.95**58
    # The bound: 200 right validation items vouch for a pool of 500 down to about 98.6%.
    bound = realised_accuracy_bound(0, 200, 500, 0.05)
    assert 0.98 < bound < 0.99
    assert pool_errors_p_value(0, 200, 500, round((1 - bound) * 500) + 1) <= 0.05


def test_perfect_confident_half_is_auto_labelled_and_the_coin_flips_are_not() -> None:
    # 400 validation items: 200 at 0.99 all right, 200 at 0.6 with 60% right. Pool alike, 1000 items.
    rng = np.random.default_rng(0)
    conf = np.r_[np.full(200, 0.99), np.full(200, 0.6)]
    right = np.r_[np.ones(200, bool), rng.random(200) < 0.6]
    proba, labels = two_class(conf, right, rng.integers(0, 2, 400))
    pool, _ = two_class(np.r_[np.full(500, 0.99), np.full(500, 0.6)], np.ones(1000, bool), rng.integers(0, 2, 1000))
    out = autolabel(pool, proba, labels, target=0.95, alpha=0.05, min_per_class=0)
    assert out.policy.threshold == pytest.approx(0.99)
    assert out.policy.n_validation == 200 and out.policy.accuracy == 1.0
    assert out.policy.lower_bound == pytest.approx(realised_accuracy_bound(0, 200, 500, 0.05))
    assert out.coverage == 0.5
    assert sorted(out.indices.tolist()) == list(range(500))
    assert np.array_equal(out.labels, pool[out.indices].argmax(axis=1))


def test_nothing_is_auto_labelled_when_the_evidence_is_too_thin() -> None:
    proba, labels = two_class(np.full(50, 0.999), np.ones(50, bool), np.zeros(50, int))
    policy = choose_threshold(proba, labels, pool_proba=proba, min_per_class=0)
    assert policy.threshold is None  # 50 perfect items cannot show 95% at 95% confidence with a margin
    assert apply_policy(proba, policy).coverage == 0.0


def test_a_class_with_too_few_validation_items_is_never_auto_labelled() -> None:
    rng = np.random.default_rng(1)
    k = 3
    n = 600
    pred = np.r_[rng.integers(0, 2, n - 5), np.full(5, 2)]  # class 2 predicted (and labelled) only 5 times
    proba = np.full((n, k), 0.0025)
    proba[np.arange(n), pred] = 0.995
    labels = pred.copy()
    pool = proba.copy()
    policy = choose_threshold(proba, labels, pool_proba=pool, min_per_class=10)
    assert policy.classes == (0, 1)
    assert policy.threshold is not None
    accepted = policy.accepts(pool)
    assert not np.isin(np.flatnonzero(pred == 2), accepted).any()
    assert accepted.size == n - 5
    # The same rule through the training counts: class 1 unseen in training is dropped as well.
    policy = choose_threshold(proba, labels, pool_proba=pool, min_per_class=10, train_counts=[50, 3, 50])
    assert policy.classes == (0,)


def test_candidate_thresholds_are_fixed_by_the_pool_and_start_where_enough_items_are_expected() -> None:
    pool_conf = np.linspace(1.0, 0.5, 101)  # 101 distinct confidences
    t = candidate_thresholds(pool_conf, n_validation=200, start_items=100, steps=4)
    # Coverages 0.25 (50 expected items, too few), 0.5, 0.75, 1.0.
    assert t.tolist() == pytest.approx([pool_conf[50], pool_conf[75], pool_conf[100]])


def test_bad_inputs_are_refused() -> None:
    proba, labels = two_class(np.full(10, 0.9), np.ones(10, bool), np.zeros(10, int))
    with pytest.raises(ValueError, match="target"):
        choose_threshold(proba, labels, pool_proba=proba, target=1.0)
    with pytest.raises(ValueError, match="same classes"):
        choose_threshold(proba, labels, pool_proba=np.full((3, 3), 1 / 3))
    with pytest.raises(ValueError, match="labels"):
        choose_threshold(proba, labels[:5], pool_proba=proba)


# --- the guarantee, over many seeds ------------------------------------------------------------------


def scenario(rng: np.random.Generator, n: int, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binary predictions: confidence c, and P(right | c) calibrated, overconfident, or nearly flat."""
    c = 0.5 + 0.5 * rng.beta(6, 1, size=n)
    g = {
        "calibrated": c,
        "overconfident": 0.5 + 0.5 * ((c - 0.5) / 0.5) ** 3,
        "flat_near_target": 0.90 + 0.08 * (c - 0.5) / 0.5,  # acc(t) crosses 0.95 slowly
        "just_below_target": np.full(n, 0.945),  # every threshold is a true null: any pick is a violation
    }[kind]
    proba, labels = two_class(c, rng.random(n) < g, rng.integers(0, 2, n))
    return proba, labels, g


@pytest.mark.parametrize("kind", ["calibrated", "overconfident", "flat_near_target", "just_below_target"])
@pytest.mark.parametrize("pool_size", [600, 5000])
def test_auto_labels_meet_the_target_in_at_least_95_percent_of_seeds(kind: str, pool_size: int) -> None:
    """Realised accuracy of the items actually auto-labelled, against their true labels."""
    seeds, alpha, target = 300, 0.05, 0.95
    violations = labelled_somewhere = 0
    coverage = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        proba, labels, _ = scenario(rng, 600, kind)
        pool, pool_labels, _ = scenario(rng, pool_size, kind)
        out = autolabel(pool, proba, labels, target=target, alpha=alpha, min_per_class=0)
        coverage.append(out.coverage)
        if out.indices.size == 0:
            continue
        labelled_somewhere += 1
        violations += (out.labels == pool_labels[out.indices]).mean() < target
    rate = violations / seeds
    print(f"{kind}, pool {pool_size}: violation rate {rate:.3f} over {seeds} seeds, auto-labelled in {labelled_somewhere}, "
          f"mean coverage {np.mean(coverage):.3f}")
    # At most alpha, up to three binomial standard errors of Monte Carlo noise.
    assert rate <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / seeds)
    if kind == "calibrated" and pool_size > 600:
        assert labelled_somewhere > 0.7 * seeds and np.mean(coverage) > 0.3
