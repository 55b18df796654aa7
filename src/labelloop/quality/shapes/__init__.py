"""Quality control for shapes: box aggregation (EM over annotators' recall and false boxes), mask and
keypoint aggregation, and detection metrics and annotator scores. Pure numpy/pandas/scipy."""

from labelloop.quality.shapes.baselines import NaiveBoxConsensus, RandomWorkerBoxes
from labelloop.quality.shapes.boxes import BoxAggregator, default_box_aggregator
from labelloop.quality.shapes.geometry import (
    COCO_SIGMAS,
    box_iou,
    keypoint_sigmas,
    mask_iou,
    oks,
    paired_box_iou,
    polygon_iou,
    polygon_mask,
)
from labelloop.quality.shapes.keypoints import KeypointAggregator
from labelloop.quality.shapes.masks import StapleResult, mask_vote, staple
from labelloop.quality.shapes.metrics import (
    box_f1,
    box_gold_scores,
    detection_counts,
    detection_scores,
    match_boxes,
    pairwise_box_agreement,
)

__all__ = [
    "COCO_SIGMAS",
    "BoxAggregator",
    "KeypointAggregator",
    "NaiveBoxConsensus",
    "RandomWorkerBoxes",
    "StapleResult",
    "box_f1",
    "box_gold_scores",
    "box_iou",
    "default_box_aggregator",
    "detection_counts",
    "detection_scores",
    "keypoint_sigmas",
    "mask_iou",
    "mask_vote",
    "match_boxes",
    "oks",
    "paired_box_iou",
    "pairwise_box_agreement",
    "polygon_iou",
    "polygon_mask",
    "staple",
]
