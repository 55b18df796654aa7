"""ROVER with fixed weights (the platform's vote between two fits) and per-clip pairwise WER: known
answers, the fitted aggregator and jiwer as oracles, and invariants."""

from __future__ import annotations

import itertools

import jiwer
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelloop.quality import default_text_aggregator, mean_pairwise_wer
from labelloop.quality.texts._input import encode_texts
from labelloop.quality.texts.per_task import task_pairwise_wer
from labelloop.quality.texts.weighted import encode_few, log_odds_weights, rover_choice, weighted_rover


def test_known_votes() -> None:
    out = weighted_rover([1, 1, 1, 2, 2], ["the cat sat", "the cat sat", "a dog sat down", "", ""],
                         [1, 1, 1, 1, 1])
    assert list(out.index) == [1, 2]
    assert out.loc[1, "text"] == "the cat sat"
    assert out.loc[1, "support"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)  # the mean share behind each word
    assert out.loc[2, "text"] == "" and np.isnan(out.loc[2, "support"])  # nothing said: no word to support
    # a word two of three dropped is dropped; one that one of two dropped stays (a tie keeps the word)
    assert rover_choice(["hello big world", "hello world", "hello world"], [1, 1, 1]) == "hello world"
    assert rover_choice(["hello world", "hello"], [1, 1]) == "hello world"
    # weights decide; a heavier voter beats two lighter ones; written forms follow the weight
    assert rover_choice(["Hello there.", "hello there", "hello dear"], [1, 1, 5]) == "hello dear"
    assert rover_choice(["Hello there.", "hello there", "hello dear"], [1, 3, 1]) == "hello there"
    assert rover_choice(["a lone one"], [0.0]) == "a lone one" and rover_choice([None, None], [1, 1]) is None


def test_nobody_with_weight_votes_equally_and_bad_input_is_refused() -> None:
    assert weighted_rover([0, 0, 0], ["a b", "a b", "c"], [0, 0, 0]).text.iloc[0] == "a b"
    with pytest.raises(ValueError, match="differ in length"):
        weighted_rover([0], ["a", "b"], [1, 1])
    with pytest.raises(ValueError, match="non-negative"):
        weighted_rover([0, 0], ["a", "b"], [1, -1])
    assert weighted_rover([0], [None], [1]).empty


def test_log_odds_weights() -> None:
    w = log_odds_weights([0.99, 0.9, 0.5, 0.2, 1.0])
    assert w == pytest.approx([np.log(99), np.log(9), 0.0, 0.0, np.log(99)])


def test_with_the_learned_weights_it_is_the_fitted_aggregators_vote() -> None:
    """Voting with the weights the aggregator learned gives the aggregator's own consensus."""
    rng = np.random.default_rng(0)
    vocab = [f"w{k}" for k in range(30)]
    rows = []
    for t in range(60):
        truth = list(rng.choice(vocab, 7, replace=False))
        for worker, rate in enumerate((0.05, 0.1, 0.15, 0.6)):
            said = [str(rng.choice(vocab)) if rng.random() < rate else w for w in truth]
            rows.append((t, worker, " ".join(said)))
    df = pd.DataFrame(rows, columns=["task", "worker", "text"])
    model = default_text_aggregator().fit(df)
    w = model.skills_.reindex(df.worker).to_numpy()
    again = weighted_rover(list(df.task), list(df.text), w)
    agree = (again.text == model.texts_.reindex(again.index)).mean()
    assert agree >= 0.95, agree


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=5), min_size=1, max_size=4),
       st.integers(1, 4))
def test_identical_transcripts_settle_on_themselves(words: list[list[str]], n: int) -> None:
    texts = [" ".join(w) for w in words for _ in range(n)]
    tasks = [k for k in range(len(words)) for _ in range(n)]
    out = weighted_rover(tasks, texts, [1.0] * len(texts))
    assert list(out.text) == [" ".join(w) for w in words]
    assert all(s == pytest.approx(1.0) or (np.isnan(s) and not w) for s, w in zip(out.support, words, strict=True))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="aBcé Ü-/\\_.,'!\t\n1\u2013", max_size=25), min_size=1, max_size=6))
def test_the_small_encoder_normalises_as_the_library(texts: list[str]) -> None:
    tasks = [k % 2 for k in range(len(texts))]
    few = encode_few(tasks, texts)
    lib = encode_texts(pd.DataFrame({"task": tasks, "worker": range(len(texts)), "text": texts}))

    def decoded(data: object) -> list[tuple[object, list[str], list[str]]]:
        out = []
        for i in range(data.n_answers):  # type: ignore[attr-defined]
            n = int(data.length[i])  # type: ignore[attr-defined]
            out.append((data.tasks[data.task[i]],  # type: ignore[attr-defined]
                        [str(data.vocabulary[c]) for c in data.words[i, :n]],  # type: ignore[attr-defined]
                        list(data.forms[i, :n])))  # type: ignore[attr-defined]
        return out

    assert decoded(few) == decoded(lib)
    assert list(few.vocabulary) == list(lib.vocabulary)


def test_task_pairwise_wer_known_answer() -> None:
    df = pd.DataFrame({"task": [1, 1, 1, 2, 2, 3], "worker": [1, 2, 3, 1, 2, 1],
                       "text": ["a b c", "a b", "a x c", "", " ", "alone"]})
    out = task_pairwise_wer(df)
    assert list(out.index) == [1, 2]  # task 3 has no pair
    assert out.loc[1].tolist() == [3, 3, 4.0, 8.0, 0.5]  # answers, pairs, errors, words, wer
    assert out.loc[2].tolist() == [2, 1, 0.0, 0.0, 0.0]  # two empty transcripts agree


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=5),
                         min_size=2, max_size=4), min_size=1, max_size=4))
def test_task_pairwise_wer_against_jiwer(tasks: list[list[list[str]]]) -> None:
    rows = [(t, w, " ".join(words)) for t, answers in enumerate(tasks) for w, words in enumerate(answers)]
    df = pd.DataFrame(rows, columns=["task", "worker", "text"])
    out = task_pairwise_wer(df)
    for t, answers in enumerate(tasks):
        errors = words = 0.0
        for a, b in itertools.combinations(answers, 2):
            o = jiwer.process_words(" ".join(a), " ".join(b))
            errors += o.substitutions + o.deletions + o.insertions
            words += (len(a) + len(b)) / 2
        assert out.loc[t, "errors"] == errors and out.loc[t, "words"] == pytest.approx(words)
    # pooled over tasks it is the crowd's mean pairwise WER
    assert out.errors.sum() / out.words.sum() == pytest.approx(mean_pairwise_wer(df))
