"""cleanlab (a test-only dependency) as an oracle: the same label issues on the same inputs."""

from __future__ import annotations

import warnings

import cleanlab.filter as cleanlab_filter  # a test dependency: make test installs it
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.learn import EmbeddingClassifier, find_label_issues
from tests.learn.test_label_errors import FILTERS, planted


def cleanlab_issues(labels: np.ndarray, proba: np.ndarray, **kw: object) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(cleanlab_filter.find_label_issues(labels, proba, n_jobs=1, **kw))


def test_same_issues_as_cleanlab_on_planted_noise() -> None:
    x, noisy, _ = planted(1)
    oof = EmbeddingClassifier(C=1.0, seed=1).fit(x, noisy).oof_proba_
    assert oof is not None
    ours = find_label_issues(noisy, oof)
    theirs = cleanlab_issues(noisy, oof, return_indices_ranked_by="self_confidence")
    assert len(ours) > 100
    assert ours.tolist() == theirs.tolist()


def test_same_issues_as_cleanlab_on_digits_with_planted_noise() -> None:
    from labelloop.learn import embed, get_encoder
    from labelloop.learn.data import digits

    images, truth = digits()
    x = embed(get_encoder("image-features"), list(images))
    rng = np.random.default_rng(7)
    noisy = truth.copy()
    flipped = rng.random(truth.size) < 0.2
    noisy[flipped] = (truth[flipped] + rng.integers(1, 10, size=flipped.sum())) % 10
    oof = EmbeddingClassifier(seed=0).fit(x, noisy).oof_proba_
    assert oof is not None
    ours = find_label_issues(noisy, oof)
    assert ours.tolist() == cleanlab_issues(noisy, oof, return_indices_ranked_by="self_confidence").tolist()
    found = np.zeros(truth.size, bool)
    found[ours] = True
    precision, recall = (found & flipped).sum() / found.sum(), (found & flipped).sum() / flipped.sum()
    assert precision > 0.85 and recall > 0.8


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(8, 120),
    k=st.integers(2, 5),
    sharpness=st.floats(0.3, 5.0),
    filter_by=st.sampled_from([f for f in FILTERS if f != "mixture"]),  # cleanlab has no mixture
    rank_by=st.sampled_from(["self_confidence", "normalized_margin"]),
    frac_noise=st.sampled_from([1.0, 0.5]),
)
def test_equal_to_cleanlab_on_random_inputs(
    seed: int, n: int, k: int, sharpness: float, filter_by: str, rank_by: str, frac_noise: float
) -> None:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)) * sharpness
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, k, size=n)
    labels[:k] = np.arange(k)  # cleanlab wants every class present
    if filter_by in ("confident_learning", "predicted_neq_given"):
        frac_noise = 1.0
    ours = find_label_issues(labels, proba, filter_by=filter_by, rank_by=rank_by, frac_noise=frac_noise)  # type: ignore[arg-type]
    theirs = cleanlab_issues(
        labels, proba, filter_by=filter_by, return_indices_ranked_by=rank_by, frac_noise=frac_noise
    )
    assert ours.tolist() == theirs.tolist()
