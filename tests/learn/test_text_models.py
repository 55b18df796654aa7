"""The text model: n-grams stacked beside embeddings, the multilingual encoder, and the honest
cross-fitting of a fine-tuned encoder (with a stand-in encoder here; test_finetune.py tunes MiniLM)."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from labelloop.learn import EmbeddingClassifier, available_encoders, embed, get_encoder
from labelloop.learn.models import fit_temperature, softmax_temperature
from labelloop.learn.text import tuned as tuned_module
from labelloop.learn.text.classifier import TextClassifier
from labelloop.learn.text.finetune import FinetuneReport
from labelloop.learn.text.ngrams import NgramFeatures, stack_features
from labelloop.learn.text.tfidf import HashedTfidfEncoder
from labelloop.learn.text.tuned import TunedTextClassifier

FILLER = ["the", "a", "film", "story", "scene", "actor", "plot", "movie", "camera", "screen", "night", "city", "house", "road", "music"]


def keyword_texts(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Texts of filler words with one keyword that decides the class (0: good/great, 1: bad/awful)."""
    rng = np.random.default_rng(seed)
    keys = {0: ["good", "great"], 1: ["bad", "awful"]}
    texts, y = [], []
    for i in range(n):
        c = i % 2
        words = [str(w) for w in rng.choice(FILLER, 8)]
        words.insert(int(rng.integers(0, 8)), str(rng.choice(keys[c])))
        texts.append(" ".join(words))
        y.append(c)
    return texts, np.array(y)


def test_ngram_blocks_are_unit_length_and_learned_from_texts_alone() -> None:
    texts = ["a good film", "a bad film", "good good", "bad"]
    grams = NgramFeatures(min_df=1).fit(texts)
    m = grams.transform(texts)
    assert m.shape == (4, grams.n_features) and m.dtype == np.float32
    # word and character blocks each of norm 1/sqrt(2): every row has squared norm 1
    np.testing.assert_allclose(np.asarray(m.multiply(m).sum(axis=1)).ravel(), 1.0, rtol=1e-5)
    # a text with no known term is a zero row, not an error
    assert grams.transform(["zzz qqq", ""]).nnz == 0
    with pytest.raises(ValueError, match="at least one text"):
        NgramFeatures().fit([])
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str"):
        grams.transform(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="word_ngrams"):
        NgramFeatures(word_ngrams=(2, 1))


def test_stacked_rows_give_the_ngrams_their_share_of_the_norm() -> None:
    texts = ["a good film", "a bad film", "good good film"]
    grams = NgramFeatures(min_df=1).fit(texts).transform(texts)
    emb = np.array([[3.0, 4.0], [1.0, 0.0], [0.0, 2.0]])
    z = stack_features(emb, grams, sparse_share=0.7)
    assert isinstance(z, sp.csr_matrix) and z.shape == (3, 2 + grams.shape[1])
    dense_part = z[:, :2].toarray()
    np.testing.assert_allclose(dense_part[0], np.sqrt(0.3) * np.array([0.6, 0.8]), rtol=1e-6)
    np.testing.assert_allclose((dense_part**2).sum(axis=1), 0.3, rtol=1e-5)
    sparse_part = z[:, 2:]
    np.testing.assert_allclose(np.asarray(sparse_part.multiply(sparse_part).sum(axis=1)).ravel(), 0.7,
                               rtol=1e-5)
    with pytest.raises(ValueError, match="sparse_share"):
        stack_features(emb, grams, sparse_share=1.0)
    with pytest.raises(ValueError, match="3 rows and ngrams 2"):
        stack_features(emb, grams[:2])


def test_the_classifier_takes_sparse_rows_as_it_takes_the_same_dense_ones() -> None:
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(60, 5)) * (rng.random((60, 5)) < 0.5)
    y = (dense[:, 0] > 0).astype(int)
    a = EmbeddingClassifier(seed=1).fit(dense, y)
    b = EmbeddingClassifier(seed=1).fit(sp.csr_matrix(dense), y)
    assert a.C_ == b.C_
    assert a.oof_proba_ is not None and b.oof_proba_ is not None
    np.testing.assert_allclose(a.oof_proba_, b.oof_proba_, atol=1e-4)
    np.testing.assert_allclose(a.predict_proba(dense), b.predict_proba(sp.csr_matrix(dense)), atol=1e-4)


def test_ngrams_recover_the_words_an_embedding_lost() -> None:
    """Embeddings that carry nothing (noise): alone, chance; with the n-grams beside them, the
    keyword decides, in out-of-fold probabilities and on new texts."""
    texts, y = keyword_texts(80, seed=0)
    noise = np.random.default_rng(1).normal(size=(80, 16))
    alone = TextClassifier(ngrams=False).fit(texts, noise, y)
    stacked = TextClassifier().fit(texts, noise, y)
    assert alone.n_ngram_features_ == 0 and stacked.n_ngram_features_ > 0
    assert alone.oof_proba_ is not None and stacked.oof_proba_ is not None
    assert (alone.oof_proba_.argmax(axis=1) == y).mean() < 0.7
    assert (stacked.oof_proba_.argmax(axis=1) == y).mean() == 1.0
    new, y_new = keyword_texts(40, seed=2)
    proba = stacked.predict_proba(new, np.random.default_rng(3).normal(size=(40, 16)))
    assert (proba.argmax(axis=1) == y_new).mean() == 1.0
    with pytest.raises(ValueError, match=r"one row per text \(40\)"):
        stacked.predict_proba(new, np.zeros((39, 16)))


def test_the_multilingual_encoder_embeds_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the encoder tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert "multilingual-e5" in available_encoders()
    enc = get_encoder("multilingual-e5")
    texts = ["the cat sleeps on the sofa", "le chat dort sur le canapé", "die Börse ist heute gefallen",
             "the cat sleeps on the sofa"]
    x = embed(enc, texts)
    assert x.shape == (4, 384) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(x[0], x[3])
    sims = x @ x.T
    assert sims[0, 1] > sims[0, 2] + 0.1  # the French translation is nearer than German finance news
    assert enc.name == "multilingual-e5-small-q4-query"


class StandInEncoder(HashedTfidfEncoder):
    """A 'tuned' encoder for the cross-fitting logic: hashed word counts (no torch)."""


def stand_in_finetune(seen: list[list[str]]) -> Any:
    def finetune(texts: Sequence[str], labels: Any, **options: Any) -> tuple[Any, FinetuneReport]:
        seen.append(list(texts))
        if options["progress"] is not None:
            options["progress"](3, 3)
        return StandInEncoder(dim=384), FinetuneReport(len(texts), 3, 1.0, 0.1, 0.7, 0.2, "epochs")

    return finetune


def test_cross_fitting_never_tunes_on_kept_out_items_and_keeps_oof_honest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(tuned_module, "finetune_encoder", stand_in_finetune(seen))
    monkeypatch.setattr(tuned_module, "finetune_unavailable", lambda: None)
    texts, y = keyword_texts(120, seed=5)
    emb = np.random.default_rng(6).normal(size=(120, 8))
    keep_out = np.zeros(120, dtype=bool)
    keep_out[:30] = True  # the validation sample
    told: list[tuple[str, int, int]] = []
    model = TunedTextClassifier(min_labels=50, tune_share=0.5, seed=0).fit(
        texts, emb, y, keep_out=keep_out, progress=lambda *a: told.append(a))
    assert model.tuned and model.fallback_ is None
    tune = model.tuned_mask_
    assert not (tune & keep_out).any()
    assert tune.sum() == 60 and np.bincount(y[tune]).tolist() == [30, 30]
    assert seen == [[texts[i] for i in np.flatnonzero(tune)]]
    assert told[0] == ("fine-tuning the encoder", 3, 3)
    assert told[-1] == ("embedding with the tuned encoder", 60, 60)  # the rest, which it classifies
    # tuned items: the frozen classifier's out-of-fold probabilities; the rest: the tuned pipeline's
    frozen = TextClassifier(seed=0).fit(texts, emb, y)
    rest = ~tune
    rest_texts = [texts[i] for i in np.flatnonzero(rest)]
    tuned_alone = TextClassifier(seed=0).fit(rest_texts, embed(StandInEncoder(dim=384), rest_texts),
                                             y[rest], classes=[0, 1])
    assert model.oof_proba_ is not None and frozen.oof_proba_ is not None
    assert tuned_alone.oof_proba_ is not None
    np.testing.assert_allclose(model.oof_proba_[tune], frozen.oof_proba_[tune])
    # the rest: both pipelines' out-of-fold probabilities multiplied, one temperature fitted on them
    product = np.log(frozen.oof_proba_[rest]) + np.log(tuned_alone.oof_proba_)
    assert model.temperature_ == pytest.approx(fit_temperature(product, y[rest], np.ones(int(rest.sum()))))
    np.testing.assert_allclose(model.oof_proba_[rest], softmax_temperature(product, model.temperature_))
    assert model.class_counts_.tolist() == [30, 30]  # the classifier that predicts learned from the rest
    # new items: the same product of the two pipelines' predictions
    new_texts, _ = keyword_texts(10, seed=9)
    new_emb = np.random.default_rng(10).normal(size=(10, 8))
    both = (np.log(frozen.predict_proba(new_texts, new_emb))
            + np.log(tuned_alone.predict_proba(new_texts, embed(StandInEncoder(dim=384), new_texts))))
    np.testing.assert_allclose(model.predict_proba(new_texts, new_emb),
                               softmax_temperature(both, model.temperature_))


def test_too_few_labels_or_no_extra_falls_back_to_the_frozen_classifier(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(tuned_module, "finetune_encoder", stand_in_finetune(seen))
    monkeypatch.setattr(tuned_module, "finetune_unavailable", lambda: None)
    texts, y = keyword_texts(40, seed=7)
    emb = np.random.default_rng(8).normal(size=(40, 8))
    frozen = TextClassifier(seed=0).fit(texts, emb, y)
    few = TunedTextClassifier(min_labels=41).fit(texts, emb, y)
    assert not few.tuned and few.fallback_ == "40 labelled items, fine-tuning needs 41" and seen == []
    assert few.oof_proba_ is not None and frozen.oof_proba_ is not None
    np.testing.assert_allclose(few.oof_proba_, frozen.oof_proba_)
    np.testing.assert_allclose(few.predict_proba(texts, emb), frozen.predict_proba(texts, emb))
    held = TunedTextClassifier(min_labels=4).fit(texts, emb, y, keep_out=np.ones(40, dtype=bool))
    assert held.fallback_ == "no labelled item to tune on outside keep_out (the validation sample)"
    assert seen == []
    monkeypatch.setattr(tuned_module, "finetune_unavailable", lambda: "torch is not installed: pip ...")
    missing = TunedTextClassifier(min_labels=4).fit(texts, emb, y)
    assert missing.fallback_ == "torch is not installed: pip ..." and seen == []
    told = TunedTextClassifier(min_labels=4, unavailable="fine-tuning needs the minilm encoder").fit(
        texts, emb, y)
    assert told.fallback_ == "fine-tuning needs the minilm encoder" and not told.tuned
