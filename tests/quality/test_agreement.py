"""Agreement statistics against published worked examples and reference implementations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from labelloop.quality import (
    ConfidenceInterval,
    bootstrap_ci,
    category_counts,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    pairwise_agreement_matrix,
    percent_agreement,
    reliability_to_long,
)

NAN = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers, 12 units,
# missing values; rows are observers A-D, columns units 1-12.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    ]
)
# The paper's rounded values, and the exact ones from the `krippendorff` PyPI package 0.9.0
# (krippendorff.alpha(reliability_data=..., level_of_measurement=...)), run in .venv-oracle.
PUBLISHED = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}
REFERENCE = {
    "nominal": 0.743421052631579,
    "ordinal": 0.8153875037548814,
    "interval": 0.8491071428571428,
    "ratio": 0.7974027747116121,
}

# Fleiss (1971): 30 patients, 6 psychiatrists, 5 diagnoses (as in R irr::diagnoses and statsmodels'
# tests); kappa = 0.4302445 (R irr::kappam.fleiss).
DIAGNOSES = np.array(
    [
        [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
        [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
        [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
        [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
        [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
        [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
    ]
)  # fmt: skip
# statsmodels' test table (the Wikipedia example: 10 subjects, 14 raters, 5 categories): 0.2099307.
WIKIPEDIA_TABLE = np.array(
    [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]
)  # fmt: skip


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_krippendorff_worked_example(level: str) -> None:
    alpha = krippendorff_alpha(KRIPPENDORFF_2011, level=level)  # type: ignore[arg-type]
    assert alpha == pytest.approx(PUBLISHED[level], abs=5e-4)
    assert alpha == pytest.approx(REFERENCE[level], abs=1e-12)


def test_krippendorff_long_table_and_dataframe_inputs() -> None:
    long = reliability_to_long(KRIPPENDORFF_2011)
    assert len(long) == np.isfinite(KRIPPENDORFF_2011).sum()
    assert krippendorff_alpha(long) == pytest.approx(REFERENCE["nominal"])
    assert krippendorff_alpha(pd.DataFrame(KRIPPENDORFF_2011)) == pytest.approx(REFERENCE["nominal"])
    as_text = long.assign(label=long["label"].map(lambda v: f"v{int(v)}"))
    assert krippendorff_alpha(as_text) == pytest.approx(REFERENCE["nominal"])


def test_krippendorff_ordinal_order_for_text_labels() -> None:
    long = reliability_to_long(KRIPPENDORFF_2011)
    words = {1: "none", 2: "low", 3: "mid", 4: "high", 5: "max"}
    text = long.assign(label=long["label"].map(lambda v: words[int(v)]))
    order = ["none", "low", "mid", "high", "max"]
    assert krippendorff_alpha(text, level="ordinal", order=order) == pytest.approx(REFERENCE["ordinal"])
    with pytest.raises(ValueError, match="numeric"):
        krippendorff_alpha(text, level="interval")
    with pytest.raises(ValueError, match="missing from order"):
        krippendorff_alpha(text, level="ordinal", order=order[:3])


def test_krippendorff_edge_cases() -> None:
    single = pd.DataFrame({"task": [1, 2], "worker": [1, 1], "label": [1, 2]})
    assert np.isnan(krippendorff_alpha(single))  # no unit has two values
    constant = pd.DataFrame({"task": [1, 1, 2, 2], "worker": [1, 2, 1, 2], "label": [3, 3, 3, 3]})
    assert np.isnan(krippendorff_alpha(constant))  # no variation: undefined
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha(single, level="cardinal")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative"):
        krippendorff_alpha(single.assign(label=[-1, 2]), level="ratio")


def test_fleiss_1971_and_statsmodels_table() -> None:
    counts = np.stack([np.equal(DIAGNOSES, c).sum(axis=1) for c in range(1, 6)], axis=1)
    assert fleiss_kappa(counts) == pytest.approx(0.4302445, abs=1e-7)
    assert fleiss_kappa(WIKIPEDIA_TABLE) == pytest.approx(0.2099307, abs=1e-7)
    long = reliability_to_long(DIAGNOSES.T)  # rows raters, columns patients
    assert fleiss_kappa(long) == pytest.approx(0.4302445, abs=1e-7)
    assert category_counts(long).to_numpy().sum() == DIAGNOSES.size


def test_fleiss_edge_cases() -> None:
    assert np.isnan(fleiss_kappa(np.array([[3, 0], [2, 0]])))  # one category throughout
    assert np.isnan(fleiss_kappa(np.array([[1, 0], [0, 1]])))  # nobody rated twice
    with pytest.raises(ValueError):
        fleiss_kappa(np.array([[-1, 2]]))


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
@pytest.mark.parametrize("seed", range(5))
def test_cohen_kappa_matches_scikit_learn(weights: str | None, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, 60)
    b = np.where(rng.random(60) < 0.6, a, rng.integers(0, 5, 60))
    expected = cohen_kappa_score(a, b, weights=weights)
    assert cohen_kappa(a, b, weights=weights) == pytest.approx(expected, abs=1e-12)  # type: ignore[arg-type]


def test_cohen_kappa_labels_missing_and_errors() -> None:
    a = ["low", "high", "mid", None, "mid"]
    b = ["low", "mid", "mid", "high", "high"]
    order = ["low", "mid", "high"]
    expected = cohen_kappa_score(
        ["low", "high", "mid", "mid"], ["low", "mid", "mid", "high"], labels=order, weights="linear"
    )
    assert cohen_kappa(a, b, labels=order, weights="linear") == pytest.approx(expected)
    assert cohen_kappa([1, 1], [1, 1]) != cohen_kappa([1, 1], [1, 1])  # NaN: no chance disagreement
    with pytest.raises(ValueError, match="lengths"):
        cohen_kappa([1], [1, 2])
    with pytest.raises(ValueError, match="weights"):
        cohen_kappa([1, 2], [1, 2], weights="cubic")  # type: ignore[arg-type]


def test_percent_agreement_by_hand() -> None:
    # item 1: a,a,b -> 2 of 6 ordered pairs agree; item 2: a,a -> 1; item 3: one answer, ignored.
    answers = pd.DataFrame(
        {"task": [1, 1, 1, 2, 2, 3], "worker": ["x", "y", "z", "x", "y", "x"], "label": list("aabaac")}
    )
    assert percent_agreement(answers) == pytest.approx((1 / 3 + 1) / 2)


def test_pairwise_matrix_by_hand() -> None:
    answers = pd.DataFrame(
        {
            "task": [1, 1, 1, 2, 2, 3, 3, 4],
            "worker": ["x", "y", "z", "x", "y", "x", "z", "y"],
            "label": ["a", "a", "b", "b", "b", "a", "a", "c"],
        }
    )
    matrix = pairwise_agreement_matrix(answers)
    assert matrix.loc["x", "y"] == 1.0 and matrix.loc["y", "x"] == 1.0
    assert matrix.loc["x", "z"] == 0.5
    assert matrix.loc["y", "z"] == 0.0
    assert (np.diag(matrix) == 1.0).all()
    strict = pairwise_agreement_matrix(answers, min_overlap=2)
    assert np.isnan(strict.loc["y", "z"]) and strict.loc["x", "y"] == 1.0


def test_pairwise_cohen_matches_cohen_kappa() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 3, 40)
    b = np.where(rng.random(40) < 0.7, a, rng.integers(0, 3, 40))
    answers = pd.DataFrame(
        {
            "task": np.tile(np.arange(40), 2),
            "worker": np.repeat(["a", "b"], 40),
            "label": np.concatenate([a, b]),
        }
    )
    matrix = pairwise_agreement_matrix(answers, metric="cohen", weights="quadratic")
    assert matrix.loc["a", "b"] == pytest.approx(cohen_kappa(a, b, weights="quadratic"))


def test_bootstrap_is_seeded_and_brackets_the_estimate() -> None:
    long = reliability_to_long(DIAGNOSES.T)
    first = bootstrap_ci(fleiss_kappa, long, n_resamples=200, seed=1)
    again = bootstrap_ci(fleiss_kappa, long, n_resamples=200, seed=1)
    other = bootstrap_ci(fleiss_kappa, long, n_resamples=200, seed=2)
    assert isinstance(first, ConfidenceInterval) and first == again and first != other
    assert first.estimate == pytest.approx(0.4302445)
    assert first.low < first.estimate < first.high
    assert first.n_resamples == 200 and first.confidence == 0.95
    narrow = bootstrap_ci(fleiss_kappa, long, n_resamples=200, seed=1, confidence=0.5)
    assert first.low < narrow.low < narrow.high < first.high


def test_bootstrap_treats_a_redrawn_task_as_a_new_task() -> None:
    answers = pd.DataFrame({"task": [1, 1], "worker": ["a", "b"], "label": ["x", "y"]})
    seen = []

    def count_tasks(frame: pd.DataFrame) -> float:
        seen.append(frame["task"].nunique())
        return float(len(frame))

    result = bootstrap_ci(count_tasks, answers, n_resamples=5)
    assert result.low == result.high == 2.0 and all(n == 1 for n in seen)
    with pytest.raises(ValueError):
        bootstrap_ci(count_tasks, answers, n_resamples=0)
