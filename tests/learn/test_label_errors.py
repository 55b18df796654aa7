"""Confident learning: hand-made cases, planted errors, and cleanlab as an oracle."""

from __future__ import annotations

import numpy as np
import pytest

from labelloop.learn import (
    EmbeddingClassifier,
    confident_joint,
    confident_thresholds,
    consensus_disagreements,
    estimated_noise_rate,
    find_label_issues,
    label_quality_scores,
)

FILTERS = [
    "prune_by_noise_rate", "prune_by_class", "both", "confident_learning", "predicted_neq_given", "mixture"
]

# Six items, two classes. Items 2 and 5 carry the label the model is sure is wrong.
LABELS = np.array([0, 0, 0, 1, 1, 1])
PROBA = np.array(
    [
        [0.9, 0.1],
        [0.8, 0.2],
        [0.1, 0.9],  # labelled 0, looks like 1
        [0.2, 0.8],
        [0.3, 0.7],
        [0.95, 0.05],  # labelled 1, looks like 0
    ]
)


def test_thresholds_are_mean_self_confidence_per_class() -> None:
    t = confident_thresholds(LABELS, PROBA)
    assert t == pytest.approx([(0.9 + 0.8 + 0.1) / 3, (0.8 + 0.7 + 0.05) / 3])
    # A class nobody labelled gets a threshold no probability reaches.
    assert confident_thresholds(np.array([0, 0]), np.array([[0.5, 0.5], [0.6, 0.4]]))[1] == 2.0


def test_confident_joint_by_hand() -> None:
    # t = (0.6, 0.5167). Item 0: p0=.9 >= t0 only -> (0,0). Item 1: (0,0). Item 2: p1=.9 -> (0,1).
    # Item 3: p1=.8 -> (1,1). Item 4: p1=.7 -> (1,1). Item 5: p0=.95 -> (1,0).
    assert confident_joint(LABELS, PROBA, calibrate=False).tolist() == [[2, 1], [1, 2]]
    assert confident_joint(LABELS, PROBA).sum() == len(LABELS)
    assert estimated_noise_rate(LABELS, PROBA) == pytest.approx(2 / 6)


@pytest.mark.parametrize("filter_by", FILTERS)
def test_the_two_planted_errors_are_found_most_suspect_first(filter_by: str) -> None:
    issues = find_label_issues(LABELS, PROBA, filter_by=filter_by)  # type: ignore[arg-type]
    assert issues.tolist() == [5, 2]  # self-confidence 0.05 < 0.1


def test_quality_scores() -> None:
    assert label_quality_scores(LABELS, PROBA).tolist() == pytest.approx([0.9, 0.8, 0.1, 0.8, 0.7, 0.05])
    margin = label_quality_scores(LABELS, PROBA, method="normalized_margin")
    assert margin.tolist() == pytest.approx([0.9, 0.8, 0.1, 0.8, 0.7, 0.05])  # two classes: (p - (1-p) + 1)/2 = p
    three = np.array([[0.5, 0.3, 0.2]])
    assert label_quality_scores([1], three, method="normalized_margin")[0] == pytest.approx((0.3 - 0.5 + 1) / 2)


def test_consensus_disagreements() -> None:
    consensus = np.array([0, 0, 0, 1, 1, 1])
    confidence = np.array([1.0, 1.0, 0.6, 1.0, 1.0, 0.95])
    # Model sure of another class: items 2 (0.9) and 5 (0.95). With the crowd's confidence >= 0.9, only 5.
    assert consensus_disagreements(consensus, PROBA, min_model_confidence=0.85).tolist() == [5, 2]
    flagged = consensus_disagreements(
        consensus, PROBA, consensus_confidence=confidence, min_model_confidence=0.85, min_consensus_confidence=0.9
    )
    assert flagged.tolist() == [5]


def planted(seed: int, n: int = 1500, k: int = 4, noise: float = 0.2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaussian blobs with a fraction *noise* of labels flipped to another class; returns X, noisy, flipped."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, 8)) * 2.2
    truth = rng.integers(0, k, size=n)
    x = centres[truth] + rng.normal(size=(n, 8))
    flipped = rng.random(n) < noise
    noisy = truth.copy()
    noisy[flipped] = (truth[flipped] + rng.integers(1, k, size=flipped.sum())) % k
    return x, noisy, flipped


def test_planted_errors_are_found_with_high_precision_and_recall() -> None:
    x, noisy, flipped = planted(0)
    oof = EmbeddingClassifier(C=1.0, seed=0).fit(x, noisy).oof_proba_
    assert oof is not None
    issues = find_label_issues(noisy, oof)
    found = np.zeros(len(noisy), bool)
    found[issues] = True
    tp = int((found & flipped).sum())
    precision, recall = tp / found.sum(), tp / flipped.sum()
    f1 = 2 * precision * recall / (precision + recall)
    print(f"planted 20% noise: precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f}")
    assert precision > 0.8 and recall > 0.7 and f1 > 0.8


def f1_of(issues: np.ndarray, flipped: np.ndarray) -> tuple[float, int]:
    found = np.zeros(len(flipped), bool)
    found[issues] = True
    tp = int((found & flipped).sum())
    return 2 * tp / (found.sum() + flipped.sum()), int(found.sum())


def test_the_mixture_counts_uniform_errors_about_right() -> None:
    x, noisy, flipped = planted(0)
    oof = EmbeddingClassifier(C=1.0, seed=0).fit(x, noisy).oof_proba_
    assert oof is not None
    f1, flagged = f1_of(find_label_issues(noisy, oof, filter_by="mixture"), flipped)
    print(f"uniform 20%: {flipped.sum()} planted, mixture flags {flagged}, F1 {f1:.3f}")
    assert abs(flagged - flipped.sum()) < 0.15 * flipped.sum() and f1 > 0.8


def test_the_mixture_finds_errors_on_hard_items_that_confident_learning_misses() -> None:
    """Annotators err on hard items, towards the class the item most resembles: flip items with a
    probability that grows with a clean-label model's doubt, to its second likeliest class."""
    x, truth, _ = planted(1, noise=0.0)
    clean = EmbeddingClassifier(C=1.0, seed=0).fit(x, truth).oof_proba_
    assert clean is not None
    rng = np.random.default_rng(2)
    doubt = 1.0 - clean[np.arange(truth.size), truth]
    flipped = rng.random(truth.size) < np.clip(doubt / doubt.mean() * 0.2, 0.0, 0.9)
    other = clean.copy()
    other[np.arange(truth.size), truth] = -1.0
    noisy = np.where(flipped, other.argmax(axis=1), truth)
    oof = EmbeddingClassifier(C=1.0, seed=0).fit(x, noisy).oof_proba_
    assert oof is not None
    ours, _ = f1_of(find_label_issues(noisy, oof, filter_by="mixture"), flipped)
    theirs, _ = f1_of(find_label_issues(noisy, oof), flipped)
    print(f"hard-item noise: mixture F1 {ours:.3f}, confident learning F1 {theirs:.3f}")
    assert ours > theirs + 0.15 and ours > 0.6


@pytest.mark.parametrize("proba", [[[0.5, 0.5]] * 4, [[0.9, 0.1]]])
def test_the_mixture_flags_nothing_without_spread(proba: list[list[float]]) -> None:
    labels = np.zeros(len(proba), dtype=int)
    assert find_label_issues(labels, np.array(proba), filter_by="mixture").tolist() == []
