"""Fine-tuning MiniLM on the CPU (the `finetune` extra): a few steps on a toy task beat the frozen encoder."""

from __future__ import annotations

import numpy as np
import pytest

from labelloop.learn import EmbeddingClassifier, embed, get_encoder
from labelloop.learn.text.finetune import finetune_encoder, finetune_unavailable

pytest.importorskip("torch", reason="the finetune extra is not installed")
pytest.importorskip("transformers", reason="the finetune extra is not installed")

FILLER = ["the", "a", "film", "story", "scene", "actor", "plot", "movie", "camera", "screen", "night", "city", "house", "road", "music", "light"]
KEYS = {0: ["zorbly", "quandle"], 1: ["flimp", "trazzle"]}  # made-up words: the frozen model knows none


def toy(n: int, rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    """Ten filler words and one made-up keyword that decides the class: the mean of the tokens is
    mostly filler, so a frozen encoder blurs the keyword away."""
    texts, y = [], []
    for i in range(n):
        words = [str(w) for w in rng.choice(FILLER, 10)]
        words.insert(int(rng.integers(0, 10)), str(rng.choice(KEYS[i % 2])))
        texts.append(" ".join(words))
        y.append(i % 2)
    return texts, np.array(y)


def test_a_few_steps_of_fine_tuning_beat_the_frozen_encoder_on_a_toy_task() -> None:
    assert finetune_unavailable() is None
    rng = np.random.default_rng(0)
    train, y_train = toy(32, rng)
    test, y_test = toy(100, rng)
    frozen = get_encoder("minilm")
    before = EmbeddingClassifier(C=1.0, calibrate=False).fit(embed(frozen, train), y_train)
    frozen_acc = float((before.predict(embed(frozen, test)) == y_test).mean())
    calls: list[tuple[int, int]] = []
    tuned, report = finetune_encoder(train, y_train, n_classes=2, epochs=3, batch_size=8, seconds=300,
                                     threads=1, progress=lambda d, t: calls.append((d, t)))
    assert report.stopped == "epochs" and report.steps == 12 and report.examples == 32
    assert calls == [(i, 12) for i in range(1, 13)]
    assert report.last_loss < report.first_loss
    after = EmbeddingClassifier(C=1.0, calibrate=False).fit(tuned.encode_batch(train), y_train)
    tuned_acc = float((after.predict(tuned.encode_batch(test)) == y_test).mean())
    assert tuned_acc >= frozen_acc + 0.05 and tuned_acc >= 0.95, (frozen_acc, tuned_acc)
    x = tuned.encode_batch(test[:3])
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-5)
    assert tuned.name.startswith("minilm-l6-tuned-") and tuned.name != finetune_encoder(
        train[:4], y_train[:4], n_classes=2, epochs=0.25, batch_size=4)[0].name


def test_the_time_budget_stops_training_and_bad_input_is_named() -> None:
    rng = np.random.default_rng(1)
    texts, y = toy(40, rng)
    _, report = finetune_encoder(texts, y, n_classes=2, epochs=5, batch_size=4, seconds=0.01)
    assert report.stopped == "time" and report.steps == 1
    with pytest.raises(ValueError, match=r"class indices in 0\.\.1"):
        finetune_encoder(texts, y + 1, n_classes=2)
    with pytest.raises(ValueError, match="one class index per text"):
        finetune_encoder(texts, y[:-1], n_classes=2)
