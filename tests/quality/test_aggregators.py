"""Dawid-Skene, one-coin Dawid-Skene, GLAD and MACE on hand-made and simulated crowds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labelloop.quality import (
    GLAD,
    MACE,
    CategoricalAggregator,
    DawidSkene,
    EnsembleAggregator,
    MajorityVote,
    OneCoinDawidSkene,
    WeightedMajorityVote,
    default_aggregator,
)

from .conftest import random_confusions, simulate

ALL = [MajorityVote, WeightedMajorityVote, DawidSkene, OneCoinDawidSkene, GLAD, MACE, default_aggregator]
EM = [DawidSkene, OneCoinDawidSkene, GLAD, MACE]


def _check_contract(model: CategoricalAggregator) -> None:
    probas = model.probas_
    assert np.allclose(probas.sum(axis=1), 1.0)
    assert ((probas >= 0) & (probas <= 1)).all().all()
    assert probas.index.name == "task" and probas.columns.name == "label"
    assert model.labels_.index.equals(probas.index)
    assert (model.labels_ == probas.idxmax(axis=1)).all()


@pytest.mark.parametrize("cls", ALL)
def test_contract_on_awkward_data(cls: type[CategoricalAggregator]) -> None:
    """One-worker tasks, a label seen in one task only, unequal overlap, a duplicate row."""
    answers = pd.DataFrame(
        [
            ("t1", "a", "x"), ("t1", "b", "x"), ("t1", "c", "y"),
            ("t2", "a", "y"), ("t2", "b", "y"),
            ("t3", "c", "rare"),
            ("t4", "a", "x"), ("t4", "a", "y"),
            ("t5", "d", "x"),
        ],
        columns=["task", "worker", "label"],
    )  # fmt: skip
    model = cls().fit(answers)
    _check_contract(model)
    assert list(model.probas_.columns) == ["rare", "x", "y"]
    assert set(model.labels_.index) == {"t1", "t2", "t3", "t4", "t5"}
    assert model.labels_["t2"] == "y"


@pytest.mark.parametrize("cls", ALL)
def test_a_single_label_everywhere(cls: type[CategoricalAggregator]) -> None:
    answers = pd.DataFrame({"task": [1, 1, 2], "worker": [1, 2, 1], "label": ["only"] * 3})
    model = cls().fit(answers)
    _check_contract(model)
    assert (model.probas_["only"] == 1.0).all()


@pytest.mark.parametrize("cls", ALL)
def test_gold_tasks_are_clamped(cls: type[CategoricalAggregator]) -> None:
    answers = pd.DataFrame({"task": [1, 1, 1, 2, 2], "worker": [1, 2, 3, 1, 2], "label": [0, 0, 0, 1, 1]})
    model = cls().fit(answers, gold=pd.Series({1: 1, 99: 0}))
    assert model.probas_.loc[1].tolist() == [0.0, 1.0]
    assert model.labels_[1] == 1
    assert 99 not in model.labels_.index  # gold without answers is not a task of the fit


@pytest.mark.parametrize("cls", EM)
def test_better_workers_get_higher_skill(cls: type[CategoricalAggregator]) -> None:
    k = 3
    skill = np.linspace(0.45, 0.95, 10)
    off = (1 - skill) / (k - 1)
    conf = off[:, None, None] + np.eye(k)[None] * (skill - off)[:, None, None]
    answers, truth = simulate(n_tasks=600, confusions=conf, per_task=5, seed=1)
    model = cls().fit(answers)
    skills = model.skills_.sort_index().to_numpy()  # type: ignore[attr-defined]
    assert np.corrcoef(skills, np.arange(10))[0, 1] > 0.9
    accuracy = (model.labels_.sort_index().to_numpy() == truth.to_numpy()).mean()
    assert accuracy > 0.9


def test_dawid_skene_recovers_confusions_as_data_grows() -> None:
    k, n_workers = 3, 15
    conf = random_confusions(n_workers, k, seed=3)
    errors = []
    for n_tasks in (150, 1500, 6000):
        answers, _ = simulate(n_tasks=n_tasks, confusions=conf, per_task=5, seed=4)
        model = DawidSkene(smoothing=0.1).fit(answers)
        workers = model.confusions_.index.get_level_values("worker").unique()
        learned = model.confusions_.to_numpy().reshape(n_workers, k, k)[np.argsort(workers)]
        errors.append(float(np.abs(learned - conf).mean()))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.02


def test_dawid_skene_learns_class_dependent_errors_majority_vote_cannot() -> None:
    # Three workers who call every "b" an "a", two perfect workers: MV says "a" for every b-task.
    k = 2
    lazy = np.array([[1.0, 0.0], [1.0, 0.0]])
    good = np.eye(k)
    conf = np.stack([lazy, lazy, lazy, good, good])
    answers, truth = simulate(n_tasks=400, confusions=conf, per_task=5, prior=np.array([0.6, 0.4]), seed=2)
    mv = MajorityVote().fit_predict(answers).sort_index()
    ds = DawidSkene().fit_predict(answers).sort_index()
    assert (mv == truth).mean() < 0.7
    assert (ds == truth).mean() == 1.0


def test_gold_breaks_the_label_swap_symmetry() -> None:
    # Most workers systematically swap the two labels: unsupervised EM settles on the swapped truth,
    # clamping a few gold labels pulls it to the right one.
    swap = np.array([[0.1, 0.9], [0.9, 0.1]])
    good = np.array([[0.9, 0.1], [0.1, 0.9]])
    conf = np.stack([swap, swap, swap, good, good])
    answers, truth = simulate(n_tasks=300, confusions=conf, per_task=5, seed=5)
    plain = DawidSkene().fit_predict(answers).sort_index()
    gold = truth.iloc[:20]
    clamped = DawidSkene().fit_predict(answers, gold=gold).sort_index()
    assert (plain == truth).mean() < 0.2
    assert (clamped == truth).mean() > 0.95


def test_dawid_skene_iterations_and_objective() -> None:
    conf = random_confusions(8, 3, seed=6)
    answers, _ = simulate(n_tasks=200, confusions=conf, per_task=4, seed=6)
    full = DawidSkene(n_iter=30, tol=0.0, shrinkage=0.0).fit(answers)  # a fixed prior: plain MAP-EM
    assert full.n_iter_ == 30
    assert np.all(np.diff(full.objective_history_) >= -1e-9)  # MAP-EM never decreases its objective
    early = DawidSkene(n_iter=30, tol=1e-2).fit(answers)
    assert early.n_iter_ < 30
    none = DawidSkene(n_iter=0).fit(answers)
    pd.testing.assert_series_equal(none.labels_, MajorityVote().fit_predict(answers))
    assert full.priors_.sum() == pytest.approx(1.0)
    rows = full.confusions_.to_numpy().sum(axis=1)
    assert np.allclose(rows, 1.0)


@pytest.mark.parametrize("kwargs", [{"n_iter": -1}, {"tol": -1.0}, {"smoothing": -0.5}])
def test_invalid_options(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        DawidSkene(**kwargs)  # type: ignore[arg-type]


def test_options_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        DawidSkene(10)  # type: ignore[misc]


def test_glad_finds_hard_tasks() -> None:
    rows = [(f"easy{i}", f"w{j}", "x") for i in range(20) for j in range(6)]
    rows += [(f"hard{i}", f"w{j}", "x" if j % 2 else "y") for i in range(20) for j in range(6)]
    model = GLAD().fit(pd.DataFrame(rows, columns=["task", "worker", "label"]))
    betas = model.betas_
    assert betas[betas.index.str.startswith("easy")].min() > betas[betas.index.str.startswith("hard")].max()


def test_mace_spots_a_spammer_and_its_strategy() -> None:
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 3, 300)
    rows = [
        (t, f"good{j}", truth[t] if rng.random() < 0.9 else rng.integers(0, 3))
        for t in range(300)
        for j in range(4)
    ]
    rows += [(t, "spammer", 2) for t in range(300)]
    model = MACE().fit(pd.DataFrame(rows, columns=["task", "worker", "label"]))
    assert model.skills_["spammer"] < 0.4 < model.skills_.drop("spammer").min()
    assert model.spam_strategies_.loc["spammer"].idxmax() == 2
    assert (model.labels_.sort_index().to_numpy() == truth).mean() > 0.95


def test_default_aggregator_averages_dawid_skene_and_mace() -> None:
    first, second = default_aggregator(), default_aggregator()
    assert isinstance(first, EnsembleAggregator) and first is not second
    conf = random_confusions(6, 3, seed=8)
    answers, _ = simulate(n_tasks=100, confusions=conf, per_task=3, seed=8)
    first.fit(answers)
    ds, mace = DawidSkene().fit_predict_proba(answers), MACE().fit_predict_proba(answers)
    pd.testing.assert_frame_equal(first.probas_, (ds + mace) / 2)
    assert first.skills_.equals(DawidSkene().fit(answers).skills_)


def test_ensemble_weights_and_validation() -> None:
    answers = pd.DataFrame({"task": [1, 1, 1], "worker": [1, 2, 3], "label": ["a", "a", "b"]})
    only_mv = EnsembleAggregator(members=[MajorityVote(), DawidSkene()], weights=[1.0, 0.0]).fit(answers)
    pd.testing.assert_frame_equal(only_mv.probas_, MajorityVote().fit_predict_proba(answers))
    with pytest.raises(ValueError):
        EnsembleAggregator(members=[])
    with pytest.raises(ValueError):
        EnsembleAggregator(members=[MajorityVote()], weights=[1.0, 2.0])
