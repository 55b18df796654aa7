"""EBCC and Bayesian Dawid-Skene: known answers, the evidence bound, invariants."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import digamma, gammaln

from labelloop.quality import EBCC, BayesianDawidSkene, CategoricalAggregator, MajorityVote

from .conftest import random_confusions, simulate

MODELS = [BayesianDawidSkene, EBCC]


def _check_contract(model: CategoricalAggregator) -> None:
    probas = model.probas_
    assert np.allclose(probas.sum(axis=1), 1.0)
    assert ((probas >= 0) & (probas <= 1)).all().all()
    assert (model.labels_ == probas.idxmax(axis=1)).all()


@pytest.mark.parametrize("cls", MODELS)
def test_contract_gold_and_awkward_data(cls: type[EBCC]) -> None:
    answers = pd.DataFrame(
        [("t1", "a", "x"), ("t1", "b", "x"), ("t1", "c", "y"), ("t2", "a", "y"), ("t2", "b", "y"),
         ("t3", "c", "rare"), ("t4", "a", "x"), ("t4", "a", "y"), ("t5", "d", "x")],
        columns=["task", "worker", "label"],
    )  # fmt: skip
    model = cls().fit(answers)
    _check_contract(model)
    assert list(model.probas_.columns) == ["rare", "x", "y"]
    assert model.labels_["t2"] == "y"
    clamped = cls().fit(answers, gold={"t2": "x"})
    assert clamped.probas_.loc["t2"].tolist() == [0.0, 1.0, 0.0]
    conf = clamped.confusions_
    assert np.allclose(conf.sum(axis=1), 1.0)


def test_bayesian_dawid_skene_one_answer_fixed_point() -> None:
    """One task, one worker answering label 0, K=2, alpha=1, a_v=4, b_v=1. The VB fixed point for
    q = P(z=0), written out by hand from the updates:
    nu = (1+q, 2-q); the worker's rows mu_0 = (4+q, 1), mu_1 = (2-q, 4);
    log q - log(1-q) = psi(1+q) - psi(2-q) + psi(4+q) - psi(5+q) - psi(2-q) + psi(6-q)."""
    q = 0.5
    for _ in range(200):
        logit = digamma(1 + q) - digamma(2 - q) + digamma(4 + q) - digamma(5 + q) - digamma(2 - q)
        logit += digamma(6 - q)
        q = 1 / (1 + np.exp(-logit))
    one = pd.DataFrame({"task": [1], "worker": [1], "label": [0]})
    model = BayesianDawidSkene(tol=1e-12).fit(one, gold={99: 1})  # gold on no task: only adds label 1
    assert list(model.probas_.columns) == [0, 1]
    assert model.probas_.loc[1, 0] == pytest.approx(q, abs=1e-8)
    assert 0.9 < q < 0.95


def _exact_log_joint(
    tasks: list[int], workers: list[int], labels: list[int], k: int
) -> dict[tuple[int, ...], float]:
    """log p(y, z) of Bayesian Dawid-Skene for every truth assignment z (Dirichlet-multinomial)."""
    alpha, beta = np.ones(k), np.ones((k, k)) + 3 * np.eye(k)
    n_t, n_w = max(tasks) + 1, max(workers) + 1

    def log_dm(counts: np.ndarray, prior: np.ndarray) -> float:
        return float(gammaln(prior.sum()) - gammaln(prior.sum() + counts.sum())
                     + (gammaln(prior + counts) - gammaln(prior)).sum())  # fmt: skip

    terms = {}
    for z in itertools.product(range(k), repeat=n_t):
        total = log_dm(np.bincount(z, minlength=k).astype(float), alpha)
        for w in range(n_w):
            for true in range(k):
                counts = np.zeros(k)
                for t, ww, lab in zip(tasks, workers, labels, strict=True):
                    if ww == w and z[t] == true:
                        counts[lab] += 1
                total += log_dm(counts, beta[true])
        terms[z] = total
    return terms


def test_evidence_bound_is_below_and_near_the_exact_evidence() -> None:
    tasks = [0, 0, 0, 1, 1, 2, 2, 2]
    workers = [0, 1, 2, 0, 2, 0, 1, 2]
    labels = [0, 0, 1, 1, 1, 0, 1, 1]
    joint = _exact_log_joint(tasks, workers, labels, 2)
    exact = float(np.logaddexp.reduce(list(joint.values())))
    answers = pd.DataFrame({"task": tasks, "worker": workers, "label": labels})
    model = BayesianDawidSkene(tol=1e-10).fit(answers)
    assert model.elbo_ <= exact + 1e-9
    assert model.elbo_ > exact - 1.0  # mean field loses little on a crowd this small
    assert model.elbo_per_answer_ == pytest.approx(model.elbo_ / len(tasks))
    # With every truth known the Dirichlet posteriors are exact, so the bound is log p(y, z) itself.
    truth = {0: 0, 1: 1, 2: 1}
    clamped = BayesianDawidSkene(tol=1e-10).fit(answers, gold=truth)
    assert clamped.elbo_ == pytest.approx(joint[(0, 1, 1)], abs=1e-9)


@pytest.mark.parametrize("cls", MODELS)
def test_coordinate_ascent_never_lowers_the_bound(cls: type[EBCC]) -> None:
    answers, _ = simulate(n_tasks=300, confusions=random_confusions(12, 3, seed=4), per_task=4, seed=4)
    model = cls(tol=0.0, n_iter=60).fit(answers)
    history = np.asarray(model.elbo_history_)
    assert len(history) == 60
    assert (np.diff(history) >= -1e-9).all()


@pytest.mark.parametrize("cls", MODELS)
def test_recovers_the_truth_better_than_majority_vote(cls: type[EBCC]) -> None:
    """Class-dependent confusions: half the workers call class 1 "0" most of the time."""
    conf = np.tile(np.eye(3) * 0.85 + 0.05, (10, 1, 1))
    conf[:5, 1] = [0.6, 0.35, 0.05]
    answers, truth = simulate(n_tasks=1500, confusions=conf, per_task=5, seed=2)
    ours = (cls().fit_predict(answers) == truth).mean()
    majority = (MajorityVote().fit_predict(answers) == truth).mean()
    assert ours > majority + 0.03
    assert ours > 0.93


def test_better_workers_get_higher_skill() -> None:
    k = 3
    skill = np.linspace(0.45, 0.95, 10)
    off = (1 - skill) / (k - 1)
    conf = off[:, None, None] + np.eye(k)[None] * (skill - off)[:, None, None]
    answers, _ = simulate(n_tasks=600, confusions=conf, per_task=5, seed=1)
    for model in (BayesianDawidSkene().fit(answers), EBCC().fit(answers)):
        est = model.skills_.sort_index().to_numpy()
        assert np.corrcoef(est, skill)[0, 1] > 0.9


def test_restarts_keep_the_largest_bound() -> None:
    answers, _ = simulate(n_tasks=200, confusions=random_confusions(8, 3, seed=5), per_task=3, seed=5)
    singles = [EBCC(seed=s).fit(answers).elbo_ for s in (7, 8, 9)]
    best = EBCC(seed=7, n_restarts=3).fit(answers)
    assert best.elbo_ == pytest.approx(max(singles))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(0, 2)), min_size=1, max_size=30),
       st.permutations([0, 1, 2]))  # fmt: skip
def test_bayesian_dawid_skene_ignores_names_and_row_order(
    rows: list[tuple[int, int, int]], perm: list[int]
) -> None:
    """The prior is symmetric in the classes and the start is the vote share: renaming labels
    permutes the posterior, shuffling rows changes nothing."""
    answers = pd.DataFrame(rows, columns=["task", "worker", "label"]).drop_duplicates(["task", "worker"])
    base = BayesianDawidSkene(tol=1e-10).fit_predict_proba(answers)
    renamed = answers.assign(label=answers["label"].map(lambda v: f"c{perm[v]}"))
    other = BayesianDawidSkene(tol=1e-10).fit_predict_proba(renamed.iloc[::-1])
    for label in base.columns:
        assert np.allclose(base[label].sort_index(), other[f"c{perm[label]}"].sort_index(), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs", [{"n_subtypes": 0}, {"a_pi": 0}, {"alpha": -1}, {"a_v": 0}, {"n_iter": -1}, {"n_restarts": 0}]
)
def test_invalid_options(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        EBCC(**kwargs)  # type: ignore[arg-type]


def test_modules_give_the_maths_and_cite_their_papers() -> None:
    import labelloop.quality.classification.ebcc as ebcc
    import labelloop.quality.classification.selection as selection

    for module, words in (
        (ebcc, ["Li", "Rubinstein", "Cohn", "2019", "Paun", "Kim"]),
        (selection, ["Cawley"]),
    ):
        doc = module.__doc__ or ""
        assert ".. math::" in doc
        assert all(word in doc for word in words)
