"""Per-item decisions: posterior confidence and whether to ask for one more answer."""

from __future__ import annotations

import pandas as pd
import pytest

from labelloop.quality import (
    DawidSkene,
    MajorityVote,
    answer_decisions,
    default_aggregator,
    needs_more_answers,
    posterior_confidence,
)

from .conftest import random_confusions, simulate


def test_posterior_confidence_is_the_row_maximum() -> None:
    probas = pd.DataFrame({"a": [0.9, 0.5], "b": [0.1, 0.5]}, index=pd.Index(["t1", "t2"], name="task"))
    assert posterior_confidence(probas).tolist() == [0.9, 0.5]
    model = MajorityVote().fit(pd.DataFrame({"task": [1, 1], "worker": [1, 2], "label": ["a", "b"]}))
    assert posterior_confidence(model).tolist() == [0.5]
    with pytest.raises(TypeError):
        posterior_confidence([0.5])  # type: ignore[arg-type]


def test_stopping_rule() -> None:
    probas = pd.DataFrame(
        {"a": [0.99, 0.99, 0.6, 0.6], "b": [0.01, 0.01, 0.4, 0.4]},
        index=["sure", "early", "unsure", "capped"],
    )
    n = pd.Series({"sure": 3, "early": 1, "unsure": 3, "capped": 5, "unanswered": 0})
    more = needs_more_answers(probas, n, target_confidence=0.95, min_answers=2, max_answers=5)
    assert more.to_dict() == {
        "sure": False,
        "early": True,
        "unsure": True,
        "capped": False,
        "unanswered": True,
    }
    assert not needs_more_answers(probas, n, target_confidence=0.5)["unsure"]
    with pytest.raises(ValueError):
        needs_more_answers(probas, n, target_confidence=1.5)
    with pytest.raises(ValueError):
        needs_more_answers(probas, n, min_answers=3, max_answers=2)


def test_answer_decisions_table() -> None:
    conf = random_confusions(8, 2, seed=1, skill=(0.8, 0.95))
    answers, _ = simulate(n_tasks=100, confusions=conf, per_task=3, seed=1)
    table = answer_decisions(answers, target_confidence=0.99, max_answers=5)
    assert list(table.columns) == ["label", "confidence", "n_answers", "needs_more"]
    assert (table["n_answers"] == 3).all()
    assert table["needs_more"].equals(table["confidence"] < 0.99)
    pd.testing.assert_series_equal(
        table["label"], default_aggregator().fit_predict(answers), check_names=False
    )


def test_adaptive_stopping_saves_answers_without_losing_accuracy() -> None:
    """Replay: reveal answers one at a time per item and stop when the rule says so."""
    conf = random_confusions(12, 2, seed=2, skill=(0.7, 0.95))
    answers, truth = simulate(n_tasks=300, confusions=conf, per_task=9, seed=2)
    answers["rank"] = answers.groupby("task").cumcount()
    full = DawidSkene().fit_predict(answers).sort_index()
    revealed = answers[answers["rank"] == 0]
    for rank in range(1, 9):
        model = DawidSkene().fit(revealed)
        counts = revealed.groupby("task").size()
        more = needs_more_answers(model, counts, target_confidence=0.99, min_answers=2, max_answers=9)
        asking = more.index[more]
        if asking.empty:
            break
        revealed = pd.concat([revealed, answers[(answers["rank"] == rank) & answers["task"].isin(asking)]])
    adaptive = DawidSkene().fit_predict(revealed).sort_index()
    assert len(revealed) < 0.6 * len(answers)
    assert (adaptive == truth).mean() >= (full == truth).mean() - 0.02
