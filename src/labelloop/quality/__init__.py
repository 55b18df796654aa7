"""labelloop.quality: crowd-label aggregation, agreement and annotator scoring as plain algorithms.

Pure numpy/pandas/scipy, no server: ``DawidSkene().fit_predict(df)`` on a long table with columns
``task, worker, label``; ``default_box_aggregator().fit_predict(df)`` on one with ``task, worker, boxes``
(see :mod:`labelloop.quality.shapes`); ``default_pairwise_aggregator().fit_predict(df)`` on one with
``worker, left, right, label`` (:mod:`labelloop.quality.pairwise`) and ``default_ranking_aggregator()``
on ``task, worker, ranking`` (:mod:`labelloop.quality.rankings`); ``default_text_aggregator()`` on
``task, worker, text`` (transcripts, :mod:`labelloop.quality.texts`); ``default_track_aggregator()`` on
``task, worker, tracks`` (video tracks, :mod:`labelloop.quality.tracks`). Estimators follow the crowd-kit
contract (``fit``, ``fit_predict``, ``fit_predict_proba``; learned attributes end in ``_``); options are
keyword-only; inputs are checked once at the boundary (see :mod:`labelloop.quality._input` for the rules
on missing answers and duplicate (task, worker) rows: the last row wins).
"""

from labelloop.quality.agreement.kappa import (
    category_counts,
    cohen_kappa,
    fleiss_kappa,
    pairwise_agreement_matrix,
    percent_agreement,
)
from labelloop.quality.agreement.krippendorff import krippendorff_alpha, reliability_to_long
from labelloop.quality.bootstrap import ConfidenceInterval, bootstrap_ci
from labelloop.quality.classification.base import CategoricalAggregator
from labelloop.quality.classification.dawid_skene import DawidSkene, OneCoinDawidSkene
from labelloop.quality.classification.decision import (
    answer_decisions,
    needs_more_answers,
    posterior_confidence,
)
from labelloop.quality.classification.defaults import default_aggregator
from labelloop.quality.classification.ebcc import EBCC, BayesianDawidSkene
from labelloop.quality.classification.ensemble import EnsembleAggregator
from labelloop.quality.classification.glad import GLAD
from labelloop.quality.classification.mace import MACE
from labelloop.quality.classification.majority import MajorityVote, WeightedMajorityVote
from labelloop.quality.classification.selection import GoldSelectedAggregator
from labelloop.quality.numeric import RobustMean, RobustMedian
from labelloop.quality.pairwise import (
    BradleyTerry,
    CrowdBT,
    WinRate,
    best_in_task,
    default_pairwise_aggregator,
    model_leaderboard,
    preference_annotator_agreement,
    preference_fleiss_kappa,
    preference_kappa_matrix,
    task_winners,
)
from labelloop.quality.rankings import (
    PlackettLuce,
    WeightedBorda,
    default_ranking_aggregator,
    kendall_tau_pairs,
    mean_kendall_tau,
    ranking_annotator_agreement,
)
from labelloop.quality.scoring import (
    confusion_matrices,
    consensus_agreement,
    gold_accuracy,
    suspicious_workers,
)
from labelloop.quality.shapes import (
    BoxAggregator,
    KeypointAggregator,
    NaiveBoxConsensus,
    RandomWorkerBoxes,
    box_f1,
    box_gold_scores,
    box_iou,
    default_box_aggregator,
    detection_scores,
    mask_vote,
    oks,
    pairwise_box_agreement,
    staple,
)
from labelloop.quality.spans import (
    HMMCrowd,
    SpanAggregator,
    TokenDawidSkene,
    TokenMajorityVote,
    annotator_span_scores,
    bio_to_spans,
    default_span_aggregator,
    pairwise_span_agreement,
    pairwise_span_f1,
    simulate_span_crowd,
    span_f1,
    span_scores,
)
from labelloop.quality.texts import (
    ROVER,
    RandomWorker,
    TextAggregator,
    annotator_wer,
    corpus_wer,
    default_text_aggregator,
    mean_pairwise_wer,
    pairwise_wer,
    simulate_text_crowd,
    transcript_gold_scores,
    wer,
)
from labelloop.quality.tracks import (
    NaiveTrackConsensus,
    RandomWorkerTracks,
    TrackAggregator,
    default_track_aggregator,
    pairwise_track_agreement,
    simulate_track_crowd,
    track_gold_scores,
    track_scores,
)

__all__ = [
    "EBCC",
    "GLAD",
    "MACE",
    "ROVER",
    "BayesianDawidSkene",
    "BoxAggregator",
    "BradleyTerry",
    "CategoricalAggregator",
    "ConfidenceInterval",
    "CrowdBT",
    "DawidSkene",
    "EnsembleAggregator",
    "GoldSelectedAggregator",
    "HMMCrowd",
    "KeypointAggregator",
    "MajorityVote",
    "NaiveBoxConsensus",
    "NaiveTrackConsensus",
    "OneCoinDawidSkene",
    "PlackettLuce",
    "RandomWorker",
    "RandomWorkerBoxes",
    "RandomWorkerTracks",
    "RobustMean",
    "RobustMedian",
    "SpanAggregator",
    "TextAggregator",
    "TokenDawidSkene",
    "TokenMajorityVote",
    "TrackAggregator",
    "WeightedBorda",
    "WeightedMajorityVote",
    "WinRate",
    "annotator_span_scores",
    "annotator_wer",
    "answer_decisions",
    "best_in_task",
    "bio_to_spans",
    "bootstrap_ci",
    "box_f1",
    "box_gold_scores",
    "box_iou",
    "category_counts",
    "cohen_kappa",
    "confusion_matrices",
    "consensus_agreement",
    "corpus_wer",
    "default_aggregator",
    "default_box_aggregator",
    "default_pairwise_aggregator",
    "default_ranking_aggregator",
    "default_span_aggregator",
    "default_text_aggregator",
    "default_track_aggregator",
    "detection_scores",
    "fleiss_kappa",
    "gold_accuracy",
    "kendall_tau_pairs",
    "krippendorff_alpha",
    "mask_vote",
    "mean_kendall_tau",
    "mean_pairwise_wer",
    "model_leaderboard",
    "needs_more_answers",
    "oks",
    "pairwise_agreement_matrix",
    "pairwise_box_agreement",
    "pairwise_span_agreement",
    "pairwise_span_f1",
    "pairwise_track_agreement",
    "pairwise_wer",
    "percent_agreement",
    "posterior_confidence",
    "preference_annotator_agreement",
    "preference_fleiss_kappa",
    "preference_kappa_matrix",
    "ranking_annotator_agreement",
    "reliability_to_long",
    "simulate_span_crowd",
    "simulate_text_crowd",
    "simulate_track_crowd",
    "span_f1",
    "span_scores",
    "staple",
    "suspicious_workers",
    "task_winners",
    "track_gold_scores",
    "track_scores",
    "transcript_gold_scores",
    "wer",
]
