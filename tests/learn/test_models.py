"""The calibrated classifier: honest out-of-fold probabilities, calibration, weights, fixed classes."""

from __future__ import annotations

import numpy as np
import pytest

from labelloop.learn import EmbeddingClassifier, out_of_fold_proba
from labelloop.learn.models import fit_temperature, softmax_temperature


def blobs(seed: int, n: int = 400, k: int = 3, spread: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, 6)) * 2
    y = rng.integers(0, k, size=n)
    return centres[y] + rng.normal(size=(n, 6)) * spread, y


def test_probabilities_have_one_column_per_class_in_sorted_order() -> None:
    x, y = blobs(0)
    names = np.array(["cat", "dog", "emu"])[y]
    model = EmbeddingClassifier().fit(x, names)
    assert model.classes_.tolist() == ["cat", "dog", "emu"]
    proba = model.predict_proba(x)
    assert proba.shape == (len(x), 3)
    assert np.allclose(proba.sum(axis=1), 1)
    assert (model.predict(x) == names).mean() > 0.9
    assert model.oof_proba_ is not None and model.oof_proba_.shape == (len(x), 3)
    assert model.class_counts_.tolist() == np.bincount(y).tolist()


def test_out_of_fold_predictions_are_honest() -> None:
    # Pure noise features: in-sample predictions memorise, out-of-fold ones cannot beat chance by much.
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 50))
    y = rng.integers(0, 2, size=300)
    model = EmbeddingClassifier(C=100.0).fit(x, y)
    in_sample = (model.predict(x) == y).mean()
    assert model.oof_proba_ is not None
    oof = (model.oof_proba_.argmax(axis=1) == y).mean()
    assert 0.35 < oof < 0.65
    assert in_sample > oof + 0.1
    # Calibration learns that the model knows nothing: probabilities pulled towards 1/2.
    assert np.abs(model.oof_proba_ - 0.5).mean() < 0.1


def test_temperature_scaling_recovers_a_known_temperature() -> None:
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(5000, 4)) * 3
    true_p = softmax_temperature(logits, 1.0)
    labels = (rng.random(5000)[:, None] > np.cumsum(true_p, axis=1)).sum(axis=1)
    # The model reports logits twice too sharp: the fitted temperature is about 2.
    assert fit_temperature(logits * 2, labels, np.ones(5000)) == pytest.approx(2.0, rel=0.1)


def test_weights_move_the_decision() -> None:
    # Two identical points with opposite labels: the heavier label wins.
    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    y = np.array([0, 1, 1, 1])
    heavy_zero = EmbeddingClassifier(calibrate=False).fit(x, y, sample_weight=[10.0, 0.1, 1.0, 1.0])
    heavy_one = EmbeddingClassifier(calibrate=False).fit(x, y, sample_weight=[0.1, 10.0, 1.0, 1.0])
    assert heavy_zero.predict_proba(x[:1])[0, 0] > 0.5 > heavy_one.predict_proba(x[:1])[0, 0]


def test_fixed_classes_give_unseen_classes_zero_probability() -> None:
    x, y = blobs(3, k=2)
    model = EmbeddingClassifier().fit(x, np.array(["a", "b"])[y], classes=["a", "b", "c"])
    proba = model.predict_proba(x)
    assert proba.shape == (len(x), 3)
    assert proba[:, 2].max() < 1e-12
    assert model.class_counts_[2] == 0
    with pytest.raises(ValueError, match="not one of classes"):
        EmbeddingClassifier().fit(x, np.array(["a", "z"])[y], classes=["a", "b"])


def test_a_class_with_one_item_gets_an_honest_zero_out_of_fold() -> None:
    x, y = blobs(4, n=60, k=2)
    y[0] = 2  # a single item of class 2: when it is held out, no fold model has seen class 2
    oof = out_of_fold_proba(x, y)
    assert oof[0, 2] < 1e-12


def test_small_and_bad_inputs() -> None:
    x, y = blobs(5, n=20)
    with pytest.raises(ValueError, match="two classes"):
        EmbeddingClassifier().fit(x, np.zeros(20, int))
    with pytest.raises(ValueError, match="one label per row"):
        EmbeddingClassifier().fit(x, y[:5])
    with pytest.raises(ValueError, match="sample_weight"):
        EmbeddingClassifier().fit(x, y, sample_weight=-np.ones(20))
    with pytest.raises(ValueError, match="finite"):
        EmbeddingClassifier().fit(np.full((20, 6), np.nan), y)
    # Two items per class: two folds; one item per class: no out-of-fold probabilities, T = 1.
    model = EmbeddingClassifier().fit(x[:3], np.array([0, 1, 2]))
    assert model.oof_proba_ is None and model.temperature_ == 1.0


def _flip(y: np.ndarray, k: int, rate: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noisy = y.copy()
    flipped = rng.random(y.size) < rate
    noisy[flipped] = (noisy[flipped] + rng.integers(1, k, size=int(flipped.sum()))) % k
    return noisy


def test_auto_regularisation_is_chosen_by_out_of_fold_likelihood() -> None:
    from labelloop.learn.models import C_GRID, weighted_nll

    # Many weak dimensions and 30% flipped labels: the weak penalties fit the flips and lose.
    x, y = blobs(5, n=300, k=3, spread=2.5)
    x = np.hstack([x, np.random.default_rng(6).normal(size=(300, 60))])
    noisy = _flip(y, 3, 0.3, seed=7)
    auto = EmbeddingClassifier(seed=3).fit(x, noisy)
    assert auto.C_ in C_GRID
    assert auto.oof_proba_ is not None
    # The chosen C is the one whose own calibrated out-of-fold likelihood is best.
    losses = {}
    for c in C_GRID:
        fixed = EmbeddingClassifier(C=c, seed=3).fit(x, noisy)
        assert fixed.oof_proba_ is not None
        losses[c] = weighted_nll(np.log(fixed.oof_proba_), noisy, np.ones(noisy.size))
    assert min(losses, key=losses.__getitem__) == auto.C_
    assert auto.C_ < 10.0
    # Same folds; the grid search warm-starts the solver, so equal up to its tolerance.
    again = EmbeddingClassifier(C=auto.C_, seed=3).fit(x, noisy).oof_proba_
    assert np.allclose(auto.oof_proba_, again, atol=0.01)


def test_auto_regularisation_finds_more_planted_label_errors_than_a_weak_fixed_penalty() -> None:
    from labelloop.learn import find_label_issues

    x, y = blobs(8, n=600, k=4, spread=2.0)
    x = np.hstack([x, np.random.default_rng(9).normal(size=(600, 80))])
    noisy = _flip(y, 4, 0.2, seed=10)
    flipped = noisy != y

    def f1(model: EmbeddingClassifier) -> float:
        assert model.oof_proba_ is not None
        found = np.zeros(y.size, dtype=bool)
        found[find_label_issues(noisy, model.oof_proba_)] = True
        tp = (found & flipped).sum()
        return float(2 * tp / (found.sum() + flipped.sum()))

    assert f1(EmbeddingClassifier(seed=0).fit(x, noisy)) > f1(EmbeddingClassifier(C=30.0, seed=0).fit(x, noisy)) + 0.05


def test_without_folds_auto_falls_back_to_the_default_penalty() -> None:
    from labelloop.learn.models import DEFAULT_C

    x, y = blobs(11, n=40)
    assert EmbeddingClassifier(calibrate=False).fit(x, y).C_ == DEFAULT_C
    assert EmbeddingClassifier(C=2.0, calibrate=False).fit(x, y).C_ == 2.0
    with pytest.raises(ValueError, match="C must be"):
        EmbeddingClassifier(C=0.0)
