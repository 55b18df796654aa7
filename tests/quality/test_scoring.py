"""Annotator scoring: gold accuracy intervals, confusion matrices, agreement with consensus, flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from labelloop.quality import confusion_matrices, consensus_agreement, gold_accuracy, suspicious_workers


def test_gold_accuracy_beta_posterior() -> None:
    answers = pd.DataFrame(
        {
            "task": ["g1", "g2", "g3", "g1", "g2", "t9"],
            "worker": ["a", "a", "a", "b", "b", "c"],
            "label": ["x", "y", "x", "x", "x", "x"],
        }
    )
    gold = pd.Series({"g1": "x", "g2": "y", "g3": "x"})
    table = gold_accuracy(answers, gold, credibility=0.9)
    assert list(table.index) == ["a", "b"]  # c answered no gold task
    a = table.loc["a"]
    assert (a["n_gold"], a["n_correct"], a["accuracy"]) == (3, 3, 1.0)
    assert a["posterior_mean"] == pytest.approx(4 / 5)  # Beta(1 + 3, 1 + 0)
    assert a["ci_low"] == pytest.approx(stats.beta.ppf(0.05, 4, 1))
    assert a["ci_high"] == pytest.approx(stats.beta.ppf(0.95, 4, 1))
    b = table.loc["b"]
    assert b["accuracy"] == 0.5 and b["posterior_mean"] == pytest.approx(0.5)
    assert b["ci_high"] - b["ci_low"] > a["ci_high"] - a["ci_low"] - 0.5
    with pytest.raises(ValueError):
        gold_accuracy(answers, gold, prior=(0.0, 1.0))


def test_confusion_matrices_by_worker_and_overall() -> None:
    answers = pd.DataFrame(
        {"task": [1, 2, 3, 1, 2], "worker": ["a", "a", "a", "b", "b"], "label": ["x", "x", "y", "x", "y"]}
    )
    reference = pd.Series({1: "x", 2: "y", 3: "y"})
    per_worker = confusion_matrices(answers, reference, normalize=False)
    assert per_worker.loc[("a", "y")].to_dict() == {"x": 1.0, "y": 1.0}
    assert per_worker.loc[("b", "y")].to_dict() == {"x": 0.0, "y": 1.0}
    overall = confusion_matrices(answers, reference, by_worker=False)
    assert overall.loc["x"].to_dict() == {"x": 1.0, "y": 0.0}
    assert overall.loc["y"].to_dict() == pytest.approx({"x": 1 / 3, "y": 2 / 3})


def _crowd(seed: int = 0, n_tasks: int = 200) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n_tasks)
    rows = []
    for t in range(n_tasks):
        for w in range(6):
            label = truth[t] if rng.random() < 0.85 else rng.integers(0, 3)
            rows.append((t, f"good{w}", label, rng.lognormal(3.0, 0.2)))
        rows.append((t, "constant", 1, rng.lognormal(3.0, 0.2)))
        rows.append((t, "random", rng.integers(0, 3), rng.lognormal(3.0, 0.2)))
        rows.append((t, "fast", truth[t], rng.lognormal(3.0, 0.2) / 10))
    return pd.DataFrame(rows, columns=["task", "worker", "label", "duration"]), truth


def test_consensus_agreement_leave_one_out() -> None:
    answers, truth = _crowd()
    table = consensus_agreement(answers)
    assert table.loc["random", "kappa"] < 0.15 < 0.6 < table.loc["good0", "kappa"]
    assert abs(table.loc["constant", "kappa"]) < 0.1  # agreeing with the majority only by chance
    assert table.loc["good0", "chance"] == pytest.approx(1 / 3, abs=0.05)
    with_truth = consensus_agreement(answers, consensus=pd.Series(truth))
    assert with_truth.loc["fast", "agreement"] == 1.0 and with_truth.loc["fast", "kappa"] == pytest.approx(
        1.0
    )


def test_leave_one_out_ignores_ones_own_vote() -> None:
    # Two workers who always disagree: with the own vote counted each would "agree" half the time.
    answers = pd.DataFrame(
        {"task": [1, 1, 2, 2], "worker": ["a", "b", "a", "b"], "label": ["x", "y", "y", "x"]}
    )
    assert (consensus_agreement(answers)["agreement"] == 0.0).all()


def test_suspicious_patterns_are_flagged() -> None:
    answers, _ = _crowd()
    flags = suspicious_workers(answers)
    assert flags.loc["constant", "same_label"] and flags.loc["constant", "chance_level"]
    assert flags.loc["random", "chance_level"] and not flags.loc["random", "same_label"]
    assert flags.loc["fast", "too_fast"] and not flags.loc["fast", "chance_level"]
    assert flags.loc["fast", "relative_duration"] < 0.2
    good = flags.loc[[f"good{w}" for w in range(6)]]
    assert not good["suspicious"].any()
    assert set(flags.index[flags["suspicious"]]) == {"constant", "random", "fast"}


def test_suspicious_without_durations_and_with_few_answers() -> None:
    answers, _ = _crowd(n_tasks=30)
    flags = suspicious_workers(answers.drop(columns="duration"))
    assert not flags["too_fast"].any() and flags["relative_duration"].isna().all()
    few = suspicious_workers(answers, min_answers=1000)
    assert not few["suspicious"].any()
