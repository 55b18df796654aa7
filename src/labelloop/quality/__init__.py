"""labelloop.quality: crowd-label aggregation, agreement and annotator scoring as plain algorithms.

Pure numpy/pandas/scipy, no server: ``DawidSkene().fit_predict(df)`` on a long table with columns
``task, worker, label``; ``default_box_aggregator().fit_predict(df)`` on one with ``task, worker, boxes``
(see :mod:`labelloop.quality.shapes`). Estimators follow the crowd-kit contract (``fit``, ``fit_predict``,
``fit_predict_proba``; learned attributes end in ``_``); options are keyword-only; inputs are checked
once at the boundary (see :mod:`labelloop.quality._input` for the rules on missing answers and
duplicate (task, worker) rows: the last row wins).
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
from labelloop.quality.classification.ensemble import EnsembleAggregator
from labelloop.quality.classification.glad import GLAD
from labelloop.quality.classification.mace import MACE
from labelloop.quality.classification.majority import MajorityVote, WeightedMajorityVote
from labelloop.quality.numeric import RobustMean, RobustMedian
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

__all__ = [
    "GLAD",
    "MACE",
    "BoxAggregator",
    "CategoricalAggregator",
    "ConfidenceInterval",
    "DawidSkene",
    "EnsembleAggregator",
    "KeypointAggregator",
    "MajorityVote",
    "NaiveBoxConsensus",
    "OneCoinDawidSkene",
    "RandomWorkerBoxes",
    "RobustMean",
    "RobustMedian",
    "WeightedMajorityVote",
    "answer_decisions",
    "bootstrap_ci",
    "box_f1",
    "box_gold_scores",
    "box_iou",
    "category_counts",
    "cohen_kappa",
    "confusion_matrices",
    "consensus_agreement",
    "default_aggregator",
    "default_box_aggregator",
    "detection_scores",
    "fleiss_kappa",
    "gold_accuracy",
    "krippendorff_alpha",
    "mask_vote",
    "needs_more_answers",
    "oks",
    "pairwise_agreement_matrix",
    "pairwise_box_agreement",
    "percent_agreement",
    "posterior_confidence",
    "reliability_to_long",
    "staple",
    "suspicious_workers",
]
