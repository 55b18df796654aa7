"""Quality control for text spans (named entities, flagged phrases): aggregating several annotators'
spans over token BIO tags (token majority vote, token Dawid-Skene, HMM-Crowd), entity-level F1 and
agreement between annotators, and a simulated crowd. Pure numpy/pandas/scipy."""

from labelloop.quality.spans.base import SpanAggregator
from labelloop.quality.spans.hmm import HMMCrowd
from labelloop.quality.spans.metrics import (
    annotator_span_scores,
    pairwise_span_agreement,
    pairwise_span_f1,
    span_f1,
    span_scores,
)
from labelloop.quality.spans.simulate import simulate_span_crowd
from labelloop.quality.spans.tags import bio_to_spans, tokenize
from labelloop.quality.spans.vote import TokenDawidSkene, TokenMajorityVote


def default_span_aggregator() -> SpanAggregator:
    """The span aggregator the platform uses: :class:`HMMCrowd` with its default settings
    (docs/quality.md, "Spans", says why and how it compares)."""
    return HMMCrowd()


__all__ = [
    "HMMCrowd",
    "SpanAggregator",
    "TokenDawidSkene",
    "TokenMajorityVote",
    "annotator_span_scores",
    "bio_to_spans",
    "default_span_aggregator",
    "pairwise_span_agreement",
    "pairwise_span_f1",
    "simulate_span_crowd",
    "span_f1",
    "span_scores",
    "tokenize",
]
