"""Baselines for track aggregation: a naive majority consensus and one random annotator.

- :class:`NaiveTrackConsensus`: the same Hungarian matching into clusters (equal weights, annotators in
  sorted id order), a cluster kept when at least half of the video's annotators tracked it, a frame
  shown when at least half of the cluster's members show it, the box the coordinate-wise median of
  theirs. A fixed quorum and no learning: what the aggregator must beat.
- :class:`RandomWorkerTracks`: one answer per video, drawn at random (``seed``): what one annotator gives.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import pandas as pd

from labelloop.quality._input import is_missing
from labelloop.quality.shapes.baselines import check_quorum_settings, quorum_kept, random_answer_per_task
from labelloop.quality.shapes.fusion import fuse_boxes
from labelloop.quality.tracks._input import TrackAnswers, encode_tracks, to_track_frame
from labelloop.quality.tracks.aggregator import cluster_labels, tracks_series
from labelloop.quality.tracks.fusion import frame_groups
from labelloop.quality.tracks.matching import cluster_tracks


class NaiveTrackConsensus:
    """Quorum consensus of tracks (see the module docstring). Learned: ``tracks_``."""

    tracks_: pd.Series

    def __init__(self, *, match_iou: float = 0.3, quorum: float = 0.5) -> None:
        check_quorum_settings(match_iou, quorum)
        self.match_iou = match_iou
        self.quorum = quorum

    def fit(self, answers: TrackAnswers) -> Self:
        data = encode_tracks(answers)
        n_w = data.n_workers
        track_cluster, cl_task = cluster_tracks(
            data, priority=np.zeros(n_w), weights=np.ones(n_w), match_iou=self.match_iou
        )
        votes = np.bincount(track_cluster, minlength=len(cl_task))
        keep = quorum_kept(track_cluster, cl_task, data.task, data.n_tasks, self.quorum)
        groups = frame_groups(track_cluster[data.det_track], data.det_frame)
        shown = np.bincount(groups.det_group, minlength=groups.n_groups)
        present = shown >= self.quorum * votes[groups.cluster] - 1e-9
        ones = np.ones(len(data.det_box))
        fused = fuse_boxes(data.det_box, groups.det_group, ones, groups.n_groups, "median")
        labels = cluster_labels(data, track_cluster, len(cl_task))
        self.tracks_ = tracks_series(
            data, cl_task, labels, groups.cluster[present], groups.frame[present], fused[present], keep
        )
        return self

    def fit_predict(self, answers: TrackAnswers) -> pd.Series:
        return self.fit(answers).tracks_


class RandomWorkerTracks:
    """Each video's tracks are one of its answers, drawn at random. Learned: ``tracks_``, ``workers_``."""

    tracks_: pd.Series
    workers_: pd.Series

    def __init__(self, *, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, answers: TrackAnswers) -> Self:
        frame = to_track_frame(answers)
        frame = frame[[not is_missing(v) for v in frame["tracks"]]]
        data = encode_tracks(frame)
        first = random_answer_per_task(data.task, data.n_tasks, self.seed)
        index = data.tasks.rename("task")
        workers = data.workers.take(data.worker[first])
        last = frame.drop_duplicates(["task", "worker"], keep="last")
        chosen = last.set_index(["task", "worker"])["tracks"]
        values = [list(chosen[(t, w)]) for t, w in zip(index, workers, strict=True)]
        self.tracks_ = pd.Series(values, index=index, name="tracks", dtype=object)
        self.workers_ = pd.Series(workers, index=index, name="worker")
        return self

    def fit_predict(self, answers: TrackAnswers) -> pd.Series:
        return self.fit(answers).tracks_
