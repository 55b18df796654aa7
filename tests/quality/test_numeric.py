"""Numeric answers: robust consensus with per-worker additive bias."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labelloop.quality import RobustMean, RobustMedian


def _ratings(seed: int = 0, n_tasks: int = 300) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    bias = np.array([0.0, 2.0, -3.0, 0.0, 5.0, 0.0])
    noise = np.array([1.0, 1.0, 3.0, 1.0, 0.5, 1.0])
    truth = rng.normal(0, 10, n_tasks)
    tasks = np.repeat(np.arange(n_tasks), 5)
    workers = np.concatenate([rng.choice(6, 5, replace=False) for _ in range(n_tasks)])
    values = truth[tasks] + bias[workers] + rng.normal(0, 1, tasks.size) * noise[workers]
    values[rng.random(tasks.size) < 0.03] += 40  # gross outliers
    answers = pd.DataFrame({"task": tasks, "worker": [f"w{w}" for w in workers], "label": values})
    return answers, truth, bias


@pytest.mark.parametrize("cls", [RobustMedian, RobustMean])
def test_biases_recovered_and_consensus_beats_the_plain_mean(cls: type[RobustMedian]) -> None:
    answers, truth, bias = _ratings()
    model = cls().fit(answers)
    learned = model.biases_.reindex([f"w{i}" for i in range(6)]).to_numpy()
    assert np.abs(learned - (bias - np.median(bias))).max() < 0.6  # biases are relative to the median
    error = np.abs(model.labels_.sort_index().to_numpy() - truth - np.median(bias)).mean()
    plain = np.abs(answers.groupby("task")["label"].mean().to_numpy() - truth).mean()
    assert error < 0.5 * plain
    assert model.scales_["w2"] > model.scales_["w4"]  # the noisy worker vs the precise one


def test_robust_mean_is_more_efficient_than_the_median() -> None:
    answers, truth, bias = _ratings(seed=1)
    shift = np.median(bias)
    mean_err = np.abs(RobustMean().fit_predict(answers).sort_index().to_numpy() - truth - shift).mean()
    median_err = np.abs(RobustMedian().fit_predict(answers).sort_index().to_numpy() - truth - shift).mean()
    assert mean_err < median_err


def test_single_answers_duplicates_and_no_bias() -> None:
    answers = pd.DataFrame(
        {
            "task": ["a", "b", "b", "b", "c"],
            "worker": ["x", "x", "y", "y", "z"],
            "label": [1.0, 2.0, 9.0, 4.0, 7.0],
        }
    )
    model = RobustMedian(bias=False).fit(answers)
    assert model.labels_.to_dict() == {"a": 1.0, "b": 3.0, "c": 7.0}  # y's last answer (4) counts
    assert (model.biases_ == 0).all()
    with pytest.raises(ValueError):
        RobustMean(huber_c=0)
