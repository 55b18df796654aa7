"""Transcript aggregation: hand-made networks with known answers, learned weights, invariants, a crowd."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.quality import (
    ROVER,
    RandomWorker,
    TextAggregator,
    corpus_wer,
    default_text_aggregator,
    simulate_text_crowd,
)


def frame(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["task", "worker", "text"])


def one_clip(*texts: str) -> pd.DataFrame:
    return frame([("c", f"w{k}", t) for k, t in enumerate(texts)])


@pytest.mark.parametrize("model", [ROVER(), default_text_aggregator()])
def test_each_error_is_outvoted(model: ROVER | TextAggregator) -> None:
    # a substitution, a deletion and an insertion, each made by one of three annotators
    answers = one_clip(
        "the quick brown fox", "the quick frown fox", "the brown fox", "the quick brown big fox"
    )[1:]
    answers = pd.concat([answers, one_clip("the quick brown fox").assign(worker="w9")])
    assert model.fit_predict(answers)["c"] == "the quick brown fox"


def test_a_word_missed_by_the_backbone_is_restored() -> None:
    # the medoid lacks "very" that three of five said: the realigned network puts it back
    answers = one_clip(
        "it is very cold", "it is very cold", "it is cold", "it is cold now", "it is very cold"
    )
    assert default_text_aggregator().fit_predict(answers)["c"] == "it is very cold"
    answers = one_clip("it is cold", "it is very cold", "it is cold", "it is very cold", "it is very cold")
    assert ROVER().fit_predict(answers)["c"] == "it is very cold"


def test_output_form_is_the_most_common_written_form() -> None:
    answers = one_clip("Hello, Mr. Smith!", "hello mr smith", "Hello, Mr. Smith!", "Hello Mr. smith")
    assert default_text_aggregator().fit_predict(answers)["c"] == "Hello, Mr. Smith!"


def test_two_spellings_still_say_a_word_is_there() -> None:
    # epsilon (3) beats each spelling (2, 1) alone, but not the three votes that a word was said
    answers = one_clip("we met ambrose", "we met ambrosch", "we met", "we met ambrose", "we met", "we met")
    assert TextAggregator(presence="total").fit_predict(answers)["c"] == "we met ambrose"
    assert TextAggregator(presence="best").fit_predict(answers)["c"] == "we met"


def test_reliable_annotators_outvote_a_majority_of_unreliable_ones() -> None:
    # two careful annotators and three sloppy ones on many clips; on the last clip the sloppy three
    # agree on a wrong word: learned weights give the careful pair the slot, plain ROVER does not
    rows = []
    for t in range(30):
        truth = f"alpha beta gamma delta {t}"
        rows += [(f"t{t}", "careful1", truth), (f"t{t}", "careful2", truth)]
        for k in range(3):
            words = truth.split()
            words[(t + k) % 4] = f"noise{k}"
            rows.append((f"t{t}", f"sloppy{k}", " ".join(words)))
    rows += [("last", "careful1", "red fish"), ("last", "careful2", "red fish")]
    rows += [("last", f"sloppy{k}", "red dish") for k in range(3)]
    answers = frame(rows)
    model = default_text_aggregator()
    out = model.fit_predict(answers)
    assert out["last"] == "red fish"
    assert ROVER().fit_predict(answers)["last"] == "red dish"
    assert model.skills_["careful1"] > model.skills_["sloppy0"] > 0
    assert model.errors_["careful1"] < model.errors_["sloppy0"]
    assert set(model.support_.index) == set(answers["task"])


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        TextAggregator(n_iter=-1)
    with pytest.raises(ValueError):
        TextAggregator(error_floor=0.6)
    with pytest.raises(ValueError):
        TextAggregator(presence="any")


def test_random_worker_returns_one_answer_as_typed() -> None:
    answers = one_clip("One.", "two", "Three!")
    picked = RandomWorker(seed=3).fit(answers)
    assert picked.texts_["c"] in {"One.", "two", "Three!"}
    assert picked.texts_["c"] == answers.set_index("worker").loc[picked.workers_["c"], "text"]


texts = st.lists(st.sampled_from(["a", "b", "c", "the", "dog", ""]), max_size=6).map(" ".join)
clips = st.lists(st.lists(texts, min_size=1, max_size=5), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(clips, st.integers(0, 2**16))
def test_row_order_does_not_matter_and_unanimity_is_kept(data: list[list[str]], seed: int) -> None:
    rows = [(f"t{t}", f"w{k}", s) for t, clip in enumerate(data) for k, s in enumerate(clip)]
    answers = frame(rows)
    shuffled = answers.sample(frac=1.0, random_state=seed)
    for make in (ROVER, default_text_aggregator):
        a = make().fit_predict(answers)
        b = make().fit_predict(shuffled)
        assert a.sort_index().tolist() == b.sort_index().tolist()
    unanimous = answers.assign(text=answers["task"].map(lambda t: f"say {t} now"))
    out = default_text_aggregator().fit_predict(unanimous)
    assert all(out[t] == f"say {t} now" for t in out.index)


def test_weighting_pays_off_on_a_simulated_crowd_with_spammers() -> None:
    answers, truth = simulate_text_crowd(n_tasks=400, n_workers=60, mean_error=0.3, spammer_share=0.2, seed=4)
    ours = corpus_wer(default_text_aggregator().fit_predict(answers), truth)
    plain = corpus_wer(ROVER().fit_predict(answers), truth)
    one = corpus_wer(RandomWorker().fit_predict(answers), truth)
    assert ours < plain < 0.5 * one
    model = default_text_aggregator().fit(answers)
    errors = model.errors_.sort_values()
    # spammers type unrelated words: their learned error is near 1, their weight 0
    assert errors.iloc[-1] > 0.8
    assert model.skills_[errors.index[-1]] == pytest.approx(0.0)


def test_a_model_hypothesis_is_one_more_voter_with_a_learned_weight() -> None:
    rows, hyps = [], {}
    for t in range(20):
        truth = f"one two three four {t}"
        hyps[f"t{t}"] = truth  # a perfect recogniser
        rows += [(f"t{t}", "a", truth), (f"t{t}", "b", truth.replace("two", "too"))]
        rows += [(f"t{t}", "c", truth.replace("three", "tree"))]
    # on the last clip the humans split 1-1-1; the model, learned reliable, settles it
    rows += [("last", "a", "red fish"), ("last", "b", "red dish"), ("last", "c", "red wish")]
    hyps["last"] = "red dish"
    hyps["unknown-task"] = "ignored"
    answers = frame(rows)
    model = default_text_aggregator()
    out = model.fit_predict(answers, hypotheses=pd.Series(hyps))
    assert out["last"] == "red dish"
    assert "unknown-task" not in out.index
    assert model.skills_["__model__"] == model.skills_.max()
    with pytest.raises(ValueError, match="reserved"):
        default_text_aggregator().fit(answers.assign(worker="__model__"), hypotheses=hyps)


def test_prior_strength_by_method_of_moments() -> None:
    import numpy as np

    from labelloop.quality.texts.rover import prior_strength

    words = np.full(200, 1000.0)
    # everyone at the same rate: the spread is binomial noise only, so the prior is as strong as allowed
    alike = np.random.default_rng(0).binomial(1000, 0.1, size=200).astype(float)
    assert prior_strength(alike, words) == 1000.0
    # true rates 0.05 or 0.35 half and half: tau^2 = 0.0225, e0 = 0.2, m = 0.16 / 0.0225 - 1 = 6.1
    varied = np.where(np.arange(200) % 2 == 0, 50.0, 350.0)
    assert prior_strength(varied, words) == pytest.approx(0.16 / (0.0225 - 0.16 / 1000) - 1, rel=1e-6)
    assert prior_strength(np.zeros(3), np.zeros(3)) == 1000.0


def test_simulated_crowd_is_reproducible_and_shaped() -> None:
    a1, t1 = simulate_text_crowd(n_tasks=50, n_workers=20, per_task=5, seed=2)
    a2, _ = simulate_text_crowd(n_tasks=50, n_workers=20, per_task=5, seed=2)
    pd.testing.assert_frame_equal(a1, a2)
    assert len(a1) == 250
    assert a1.groupby("task")["worker"].nunique().eq(5).all()
    assert set(t1.index) == set(a1["task"])
    with pytest.raises(ValueError):
        simulate_text_crowd(n_workers=3, per_task=5)
