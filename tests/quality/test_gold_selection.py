"""GoldSelectedAggregator: choosing a candidate from gold items, leaning towards the first one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labelloop.quality import DawidSkene, GoldSelectedAggregator, MajorityVote, WeightedMajorityVote

# Three workers who are always right and one who is always wrong, on ten binary tasks.
TRUTH = {t: t % 2 for t in range(10)}
ROWS = [(t, w, TRUTH[t]) for t in range(10) for w in ("g1", "g2", "g3")] + [
    (t, "bad", 1 - TRUTH[t]) for t in range(10)
]
ANSWERS = pd.DataFrame(ROWS, columns=["task", "worker", "label"])


def _candidates() -> list[WeightedMajorityVote | MajorityVote]:
    # Candidate 0 trusts only the bad worker (every task wrong); candidate 1 is the plain vote.
    only_bad = WeightedMajorityVote(weights={"bad": 1.0, "g1": 0.0, "g2": 0.0, "g3": 0.0})
    return [only_bad, MajorityVote()]


def test_without_gold_it_is_the_first_candidate() -> None:
    model = GoldSelectedAggregator(candidates=_candidates()).fit(ANSWERS)
    first = _candidates()[0].fit(ANSWERS)
    assert model.chosen_ == 0 and model.gold_hits_ == []
    pd.testing.assert_frame_equal(model.probas_, first.probas_)


def test_enough_gold_overrules_the_first_candidate() -> None:
    gold = {t: TRUTH[t] for t in range(5)}
    model = GoldSelectedAggregator(candidates=_candidates(), prior_strength=2.0).fit(ANSWERS, gold=gold)
    assert model.gold_hits_ == [0, 5]  # fitted without gold: 0 of 5 right, 5 of 5 right
    assert model.chosen_ == 1
    assert (model.labels_ == pd.Series(TRUTH)).all()
    assert isinstance(model.selected_, MajorityVote)


@pytest.mark.parametrize(("n_gold", "chosen"), [(1, 0), (2, 0), (3, 1)])
def test_the_prior_needs_more_than_its_strength_in_extra_hits(n_gold: int, chosen: int) -> None:
    """Score = hits + 2 for the first candidate: 1 or 2 gold tasks cannot overrule it (ties keep it)."""
    gold = {t: TRUTH[t] for t in range(n_gold)}
    model = GoldSelectedAggregator(candidates=_candidates(), prior_strength=2.0).fit(ANSWERS, gold=gold)
    assert model.gold_hits_ == [0, n_gold]
    assert model.chosen_ == chosen
    # Gold tasks are clamped whichever candidate is used.
    for task, label in gold.items():
        assert model.labels_[task] == label and model.probas_.loc[task, label] == 1.0


def test_skills_come_from_the_chosen_candidate() -> None:
    model = GoldSelectedAggregator(candidates=[MajorityVote(), DawidSkene()], prior_strength=0.0)
    model.fit(ANSWERS, gold={0: 0, 1: 1})
    assert model.chosen_ == 0  # both get both right: the tie keeps the first
    assert np.allclose(model.skills_.sort_index().to_numpy(), [0.0, 1.0, 1.0, 1.0])


def test_invalid_options() -> None:
    with pytest.raises(ValueError):
        GoldSelectedAggregator(candidates=[])
    with pytest.raises(ValueError):
        GoldSelectedAggregator(candidates=[MajorityVote()], prior_strength=-1)
