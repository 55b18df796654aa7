"""The estimator contract shared by the span aggregators.

``fit(answers)`` learns from a long table ``task, worker, spans, text`` (:mod:`._input`);
``spans_`` (Series task -> sorted list of ``[start, end, label]``) holds the result and
``fit_predict`` returns it. Every aggregator works on token BIO tags (:mod:`.tags`): it gives each
token of each task a distribution over tags, picks one tag per token, and the tags are read back as
spans by the CoNLL rule. ``token_tags_`` keeps the per-token result (``task``, ``start``, ``end``,
``tag``, ``confidence``: the probability the model gives the chosen tag).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self

import numpy as np
import pandas as pd

from labelloop.quality.spans._input import Codes, Floats, SpanAnswers, encode_answers
from labelloop.quality.spans.tags import EncodedTags, encode_tags, spans_series


def vote_counts(enc: EncodedTags, weights: Floats | None = None) -> Floats:
    """``(n_tokens, n_tags)`` (weighted) number of answers giving each tag to each token."""
    k = enc.n_tags
    flat = enc.cell_token * k + enc.cell_tag
    counts = np.bincount(flat, weights=weights, minlength=enc.n_tokens * k)
    return np.asarray(counts, dtype=np.float64).reshape(enc.n_tokens, k)


def shares(counts: Floats) -> Floats:
    """Rows divided by their sums (all-zero rows: all mass on ``O``)."""
    sums = counts.sum(axis=1, keepdims=True)
    out = np.divide(counts, sums, out=np.zeros_like(counts), where=sums > 0)
    out[sums[:, 0] == 0, 0] = 1.0
    return np.asarray(out, dtype=np.float64)


class SpanAggregator(ABC):
    """Base class: spans from several annotators -> one list of spans per task."""

    spans_: pd.Series
    token_tags_: pd.DataFrame

    def fit(self, answers: SpanAnswers) -> Self:
        """Learn from a long table ``task, worker, spans, text`` (see :mod:`._input` for the rules)."""
        enc = encode_tags(encode_answers(answers))
        probas, tags = self._fit_tags(enc)
        self.spans_ = spans_series(enc, tags)
        names = np.asarray(enc.tag_names, dtype=object)
        self.token_tags_ = pd.DataFrame(
            {
                "task": enc.answers.tasks.take(enc.tok_task),
                "start": enc.tok_start,
                "end": enc.tok_end,
                "tag": names[tags],
                "confidence": probas[np.arange(enc.n_tokens), tags],
            }
        )
        return self

    def fit_predict(self, answers: SpanAnswers) -> pd.Series:
        """Fit, then return each task's spans (Series indexed by task; ``[]`` for none)."""
        return self.fit(answers).spans_

    @abstractmethod
    def _fit_tags(self, enc: EncodedTags) -> tuple[Floats, Codes]:
        """``(n_tokens, n_tags)`` token posteriors and the chosen tag of each token."""
