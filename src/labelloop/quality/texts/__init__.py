"""Quality control for transcripts: several transcripts of one clip into one (ROVER weighted by each
annotator's learned word error rate), word error rates, agreement between annotators, annotator scores,
and a simulated crowd. Pure numpy/pandas/scipy."""

from labelloop.quality.texts._input import normalize
from labelloop.quality.texts.baselines import RandomWorker
from labelloop.quality.texts.metrics import (
    annotator_wer,
    best_single_wer,
    corpus_wer,
    mean_pairwise_wer,
    pairwise_wer,
    transcript_gold_scores,
    wer,
)
from labelloop.quality.texts.rover import ROVER, TextAggregator, default_text_aggregator
from labelloop.quality.texts.simulate import simulate_text_crowd

__all__ = [
    "ROVER",
    "RandomWorker",
    "TextAggregator",
    "annotator_wer",
    "best_single_wer",
    "corpus_wer",
    "default_text_aggregator",
    "mean_pairwise_wer",
    "normalize",
    "pairwise_wer",
    "simulate_text_crowd",
    "transcript_gold_scores",
    "wer",
]
