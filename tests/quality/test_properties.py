"""Invariants, checked by hypothesis on random small answer tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labelloop.quality import (
    GLAD,
    MACE,
    CategoricalAggregator,
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    WeightedMajorityVote,
    default_aggregator,
    fleiss_kappa,
    krippendorff_alpha,
    pairwise_agreement_matrix,
    percent_agreement,
)

ALL = [MajorityVote, WeightedMajorityVote, DawidSkene, OneCoinDawidSkene, GLAD, MACE, default_aggregator]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def answer_tables(draw: st.DrawFn, *, min_per_task: int = 1) -> pd.DataFrame:
    """Random sparse tables: 1-8 tasks, 1-5 workers, 1-4 labels, unequal overlap."""
    n_tasks = draw(st.integers(1, 8))
    n_workers = draw(st.integers(max(1, min_per_task), 5))
    n_labels = draw(st.integers(1, 4))
    rows = []
    for t in range(n_tasks):
        who = draw(st.sets(st.integers(0, n_workers - 1), min_size=min_per_task, max_size=n_workers))
        for w in sorted(who):
            rows.append((f"t{t}", f"w{w}", f"l{draw(st.integers(0, n_labels - 1))}"))
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


@pytest.mark.parametrize("cls", ALL)
@SETTINGS
@given(answers=answer_tables())
def test_probabilities_sum_to_one(cls: type[CategoricalAggregator], answers: pd.DataFrame) -> None:
    model = cls().fit(answers)
    probas = model.probas_
    assert np.allclose(probas.sum(axis=1), 1.0)
    assert ((probas >= 0) & (probas <= 1 + 1e-12)).all().all()
    assert set(probas.index) == set(answers["task"])
    top = probas.to_numpy().max(axis=1)
    chosen = probas.to_numpy()[np.arange(len(probas)), probas.columns.get_indexer(model.labels_)]
    assert np.allclose(chosen, top)


@pytest.mark.parametrize("cls", ALL)
@SETTINGS
@given(answers=answer_tables(), data=st.data())
def test_renaming_workers_and_tasks_changes_nothing(
    cls: type[CategoricalAggregator], answers: pd.DataFrame, data: st.DataObject
) -> None:
    workers = sorted(answers["worker"].unique())
    tasks = sorted(answers["task"].unique())
    new_workers = dict(
        zip(workers, data.draw(st.permutations([f"W{i}" for i in range(len(workers))])), strict=True)
    )
    new_tasks = dict(
        zip(tasks, data.draw(st.permutations([f"T{i}" for i in range(len(tasks))])), strict=True)
    )
    renamed = answers.assign(task=answers["task"].map(new_tasks), worker=answers["worker"].map(new_workers))
    renamed = renamed.sample(frac=1.0, random_state=data.draw(st.integers(0, 1000)))  # and reorder rows
    before = cls().fit_predict_proba(answers)
    after = cls().fit_predict_proba(renamed).rename(index={v: k for k, v in new_tasks.items()})
    after = after.loc[before.index, before.columns]
    assert np.allclose(before.to_numpy(), after.to_numpy(), atol=1e-6)


@SETTINGS
@given(answers=answer_tables(min_per_task=2), data=st.data())
def test_unanimous_answers_give_full_agreement(answers: pd.DataFrame, data: st.DataObject) -> None:
    # Overwrite every answer with one label per task, using at least two labels overall.
    tasks = sorted(answers["task"].unique())
    per_task = {t: data.draw(st.sampled_from(["a", "b", "c"])) for t in tasks}
    answers = answers.assign(label=answers["task"].map(per_task))
    assert percent_agreement(answers) == 1.0
    matrix = pairwise_agreement_matrix(answers).to_numpy()
    assert np.all(np.isnan(matrix) | (matrix == 1.0))
    for cls in ALL:
        assert (cls().fit_predict(answers) == answers.groupby("task")["label"].first()).all()
    if len(set(per_task.values())) >= 2:
        assert fleiss_kappa(answers) == pytest.approx(1.0)
        assert krippendorff_alpha(answers) == pytest.approx(1.0)
        numeric = answers.assign(label=answers["label"].map({"a": 1.0, "b": 2.0, "c": 4.0}))
        for level in ("ordinal", "interval", "ratio"):
            assert krippendorff_alpha(numeric, level=level) == pytest.approx(1.0)  # type: ignore[arg-type]


@SETTINGS
@given(answers=answer_tables(min_per_task=2))
def test_agreement_statistics_stay_in_range(answers: pd.DataFrame) -> None:
    assert 0.0 <= percent_agreement(answers) <= 1.0
    alpha = krippendorff_alpha(answers)
    assert np.isnan(alpha) or alpha <= 1.0 + 1e-12
    kappa = fleiss_kappa(answers)
    assert np.isnan(kappa) or kappa <= 1.0 + 1e-12
