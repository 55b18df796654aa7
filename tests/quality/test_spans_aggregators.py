"""Span aggregators: hand-made cases with known answers, the contract of the default, invariants, and a
simulated crowd with known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.quality import (
    HMMCrowd,
    TokenDawidSkene,
    TokenMajorityVote,
    default_span_aggregator,
    simulate_span_crowd,
    span_f1,
)

TEXT = "Mr John Smith visited New York ."
MAKERS = [TokenMajorityVote, TokenDawidSkene, HMMCrowd]


def answers(*spans: list[list[object]], text: str = TEXT, task: str = "t") -> pd.DataFrame:
    return pd.DataFrame(
        {"task": task, "worker": [f"w{i}" for i in range(len(spans))], "spans": list(spans), "text": text}
    )


def test_default_contract() -> None:
    model = default_span_aggregator()
    assert isinstance(model, HMMCrowd)
    both = pd.concat(
        [
            answers([[3, 13, "PER"], [22, 30, "LOC"]], [[3, 13, "PER"], [22, 30, "LOC"]], [[3, 13, "PER"]]),
            answers([], [], [], task="empty"),
        ]
    )
    out = model.fit_predict(both)
    assert list(out.index) == ["t", "empty"] and out.index.name == "task"
    assert out["t"] == [[3, 13, "PER"], [22, 30, "LOC"]]
    assert out["empty"] == []
    assert all(type(v) is int for span in out["t"] for v in span[:2])


def test_majority_vote_by_hand_ties_go_to_outside() -> None:
    votes = answers([[3, 13, "PER"]], [[3, 13, "PER"]], [[8, 13, "PER"], [22, 30, "LOC"]])
    assert TokenMajorityVote().fit_predict(votes)["t"] == [[3, 13, "PER"]]
    # Two annotators, one marks a name, one does not: a tie, and the token stays outside.
    assert TokenMajorityVote().fit_predict(answers([[3, 13, "PER"]], []))["t"] == []


def test_majority_vote_repairs_an_inside_tag_after_outside() -> None:
    # Mr: B, O, O -> O; John: I, B, O -> three-way tie -> O; Smith: I, I, B -> I-PER. "O O I-PER" is not
    # valid BIO; the CoNLL rule reads the I as the start of a span.
    votes = answers([[0, 13, "PER"]], [[3, 13, "PER"]], [[8, 13, "PER"]])
    model = TokenMajorityVote().fit(votes)
    assert list(model.token_tags_["tag"][:3]) == ["O", "O", "I-PER"]
    assert model.spans_["t"] == [[8, 13, "PER"]]


def test_weighted_models_outvote_a_colluding_majority() -> None:
    """Three careful annotators and two who always tag "visited" as a person, on 30 texts; on one more
    text only one careful annotator answered, with the two others: the vote follows the pair, the
    models that learned who is reliable follow the careful one."""
    truth = [[3, 13, "PER"], [22, 30, "LOC"]]
    junk = [[14, 21, "PER"]]
    rows = [(t, w, truth) for t in range(30) for w in ("good1", "good2", "good3")]
    rows += [(t, w, junk) for t in range(30) for w in ("bad1", "bad2")]
    rows += [("x", "good1", truth), ("x", "bad1", junk), ("x", "bad2", junk)]
    frame = pd.DataFrame(rows, columns=["task", "worker", "spans"]).assign(text=TEXT)
    assert TokenMajorityVote().fit_predict(frame)["x"] == junk
    for make in (TokenDawidSkene, HMMCrowd):
        model = make().fit(frame)
        assert model.spans_["x"] == truth, make.__name__
        assert model.skills_[["bad1", "bad2"]].max() < 0.2 < 0.8 < model.skills_[["good1", "good2"]].min()


@pytest.mark.parametrize("make", MAKERS)
def test_unanimous_answers_come_back(make: type) -> None:
    spans = [[3, 13, "PER"], [22, 30, "LOC"]]
    assert make().fit_predict(answers(spans, spans, spans))["t"] == spans


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_results_do_not_depend_on_row_order(seed: int) -> None:
    """Exactly for the vote; for the EM models up to floating-point sums taken in another order, which
    may tip a token that sits on a tie."""
    data, _ = simulate_span_crowd(n_tasks=15, n_workers=6, per_task=3, seed=seed)
    shuffled = data.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    vote = TokenMajorityVote().fit_predict(data)
    assert vote.to_dict() == TokenMajorityVote().fit_predict(shuffled).to_dict()
    for make in (TokenDawidSkene, HMMCrowd):
        a, b = make().fit(data), make().fit(shuffled)
        assert span_f1(a.spans_, b.spans_) > 0.97
        pd.testing.assert_series_equal(a.skills_, b.skills_.reindex(a.skills_.index), atol=1e-6)


def test_learned_attributes_are_distributions() -> None:
    data, _ = simulate_span_crowd(n_tasks=60, n_workers=8, per_task=3, seed=4)
    model = HMMCrowd().fit(data)
    assert np.allclose(model.transitions_.sum(axis=1), 1.0)
    assert np.allclose(model.confusions_.sum(axis=1), 1.0)
    assert model.initial_.sum() == pytest.approx(1.0) and model.priors_.sum() == pytest.approx(1.0)
    inside = [c for c in model.transitions_.columns if c.startswith("I-")]
    assert (model.initial_[inside] == 0).all()
    assert (model.transitions_.loc["O", inside] == 0).all()  # the BIO grammar
    assert model.transitions_.loc["B-PER", "I-PER"] > 0.2
    assert model.skills_.between(0, 1).all() and set(model.skills_.index) == set(data["worker"])
    tags = model.token_tags_
    assert tags["confidence"].between(0, 1 + 1e-9).all()
    assert set(tags.columns) == {"task", "start", "end", "tag", "confidence"}
    free = HMMCrowd(constrained=False).fit(data)
    assert (free.transitions_.to_numpy() > 0).all()


def test_em_never_lowers_its_objective_without_empirical_bayes() -> None:
    """MAP-EM climbs; shrinkage re-estimates its prior every step, so the check uses shrinkage=0."""
    data, _ = simulate_span_crowd(n_tasks=80, n_workers=10, per_task=4, seed=2)
    for worker_model in ("sequential", "confusion"):
        model = HMMCrowd(shrinkage=0.0, worker_model=worker_model, n_iter=30, tol=0.0).fit(data)
        steps = np.diff(model.objective_history_)
        assert (steps > -1e-9).all(), steps.min()


def test_simulated_crowd_is_valid_and_reproducible() -> None:
    a, truth = simulate_span_crowd(n_tasks=50, seed=9)
    b, _ = simulate_span_crowd(n_tasks=50, seed=9)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 50 * 5 and set(truth.index) == set(range(50))
    assert span_f1(truth, truth) == 1.0
    TokenMajorityVote().fit(a)  # every span passes the input checks
    with pytest.raises(ValueError, match="per_task cannot exceed n_workers"):
        simulate_span_crowd(n_tasks=5, n_workers=3, per_task=4)


def test_on_a_simulated_crowd_the_weighted_models_beat_the_vote() -> None:
    """Workers of differing recall, boundary care, type accuracy and false spans, 10% spammers."""
    data, truth = simulate_span_crowd(n_tasks=300, n_workers=20, per_task=5, seed=1)
    mv = span_f1(TokenMajorityVote().fit_predict(data), truth)
    ds = span_f1(TokenDawidSkene().fit_predict(data), truth)
    hmm = span_f1(default_span_aggregator().fit_predict(data), truth)
    assert hmm > mv + 0.05 and ds > mv + 0.05
    assert hmm > 0.8


def test_options_are_checked() -> None:
    for bad in ({"init": "random"}, {"decode": "beam"}, {"worker_model": "two-coin"}, {"smoothing": -1.0}):
        with pytest.raises(ValueError):
            HMMCrowd(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        TokenDawidSkene(shrinkage=-1.0)


def test_texts_without_tokens_get_no_spans() -> None:
    data = pd.concat([answers([], text="  ", task="blank"), answers([[3, 13, "PER"]], [[3, 13, "PER"]])])
    for make in MAKERS:
        out = make().fit_predict(data)
        assert out["blank"] == [] and out["t"] == [[3, 13, "PER"]]
