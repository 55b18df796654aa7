"""Quality control for video tracks: matching tracks across annotators, fusing them frame by frame
weighted by annotator skill, and MOTA, IDF1 and HOTA agreement (docs/video.md, "Quality for tracks";
docs/quality.md, "Tracks"). Pure numpy/pandas/scipy."""

from labelloop.quality.tracks.aggregator import TrackAggregator, default_track_aggregator
from labelloop.quality.tracks.agreement import pairwise_track_agreement, track_gold_scores, track_set_scores
from labelloop.quality.tracks.baselines import NaiveTrackConsensus, RandomWorkerTracks
from labelloop.quality.tracks.consensus import TrackCluster, weighted_track_consensus
from labelloop.quality.tracks.metrics import TrackCounts, track_counts, track_scores
from labelloop.quality.tracks.simulate import simulate_track_crowd

__all__ = [
    "NaiveTrackConsensus",
    "RandomWorkerTracks",
    "TrackAggregator",
    "TrackCluster",
    "TrackCounts",
    "default_track_aggregator",
    "pairwise_track_agreement",
    "simulate_track_crowd",
    "track_counts",
    "track_gold_scores",
    "track_scores",
    "track_set_scores",
    "weighted_track_consensus",
]
