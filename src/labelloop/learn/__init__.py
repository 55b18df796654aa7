"""labelloop.learn: the model side of the loop, as plain algorithms (no database, no server).

- encoders (:func:`get_encoder`, :func:`embed`, :class:`EmbeddingCache`): texts and small images to
  vectors, batched, with progress and an on-disk cache keyed by content hash;
- :class:`EmbeddingClassifier`: calibrated logistic regression trained on weighted consensus labels,
  with out-of-fold probabilities for every labelled item; :class:`TextClassifier` the same over
  embeddings with n-gram TF-IDF stacked beside them, and :class:`TunedTextClassifier` with MiniLM
  fine-tuned on part of the labels (the ``finetune`` extra: torch is imported only then);
- selection strategies (:func:`rank_items`): random, least confidence, margin, entropy, diversity,
  hybrid and cold start, all with one signature;
- :func:`choose_threshold` and :func:`autolabel`: auto-labelling with a confidence bound on accuracy;
- :func:`find_label_issues` (confident learning, or a mixture of self-confidences) and
  :func:`consensus_disagreements`;
- images: :class:`Detector` / :class:`CocoDetector` (boxes), the ``efficientnet-lite3`` encoder
  (:func:`default_image_encoder`), near-duplicate search (:func:`near_duplicate_pairs`,
  :func:`top_k_similar`, :func:`duplicate_groups`) and :func:`grabcut_mask` (interactive masks);
  OpenCV and LiteRT are imported only when a model is built (the ``images-models`` extra).

Arrays in, arrays out; options are keyword-only; inputs are checked once at the boundary
(:mod:`labelloop.learn._checks`). Nothing here imports the platform or :mod:`labelloop.quality`.
"""

from labelloop.learn.autolabel import AutoLabelPolicy, AutoLabels, apply_policy, autolabel, choose_threshold
from labelloop.learn.cache import EmbeddingCache
from labelloop.learn.encoders import Encoder, available_encoders, default_image_encoder, embed, get_encoder
from labelloop.learn.images.detector import COCO_CLASSES, CocoDetector, Detection, Detector
from labelloop.learn.images.grabcut import grabcut_mask
from labelloop.learn.label_errors import (
    confident_joint,
    confident_thresholds,
    consensus_disagreements,
    estimated_noise_rate,
    find_label_issues,
    label_quality_scores,
)
from labelloop.learn.models import EmbeddingClassifier, out_of_fold_proba
from labelloop.learn.near_duplicates import (
    NearDuplicates,
    duplicate_groups,
    near_duplicate_pairs,
    top_k_similar,
)
from labelloop.learn.strategies import STRATEGIES, rank_items
from labelloop.learn.text.classifier import TextClassifier
from labelloop.learn.text.tuned import TunedTextClassifier

__all__ = [
    "COCO_CLASSES",
    "STRATEGIES",
    "AutoLabelPolicy",
    "AutoLabels",
    "CocoDetector",
    "Detection",
    "Detector",
    "EmbeddingCache",
    "EmbeddingClassifier",
    "Encoder",
    "NearDuplicates",
    "TextClassifier",
    "TunedTextClassifier",
    "apply_policy",
    "autolabel",
    "available_encoders",
    "choose_threshold",
    "confident_joint",
    "confident_thresholds",
    "consensus_disagreements",
    "default_image_encoder",
    "duplicate_groups",
    "embed",
    "estimated_noise_rate",
    "find_label_issues",
    "get_encoder",
    "grabcut_mask",
    "label_quality_scores",
    "near_duplicate_pairs",
    "out_of_fold_proba",
    "rank_items",
    "top_k_similar",
]
