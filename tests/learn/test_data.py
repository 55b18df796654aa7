"""The offline datasets: what they hold, and that the subjectivity task is balanced and reproducible."""

from __future__ import annotations

from collections import Counter

from labelloop.learn.data import rotten_tomatoes, rotten_tomatoes_subjectivity


def test_rotten_tomatoes_has_three_classes_and_no_repeated_text() -> None:
    texts, labels = rotten_tomatoes()
    assert len(texts) == len(labels) > 13_000
    assert len(set(texts)) == len(texts)
    assert set(labels.tolist()) == {"fresh", "rotten", "plot"}


def test_subjectivity_is_every_plot_summary_and_as_many_reviews() -> None:
    texts, labels = rotten_tomatoes_subjectivity()
    all_texts, all_labels = rotten_tomatoes()
    plots = {t for t, c in zip(all_texts, all_labels, strict=True) if c == "plot"}
    counts = Counter(labels.tolist())
    assert counts["plot"] == counts["review"] == len(plots)
    assert {t for t, c in zip(texts, labels, strict=True) if c == "plot"} == plots
    reviews = [t for t, c in zip(texts, labels, strict=True) if c == "review"]
    assert not plots.intersection(reviews)
    again, _ = rotten_tomatoes_subjectivity()
    other, _ = rotten_tomatoes_subjectivity(seed=1)
    assert again == texts and other != texts
