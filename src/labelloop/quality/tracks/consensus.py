"""The consensus of one video's answers with known annotator weights: what a label type computes per item.

Where :class:`~labelloop.quality.tracks.TrackAggregator` learns each annotator's skill over many
videos, this takes the weights as given (the platform's learned skills, or 1 each) and settles one
video: tracks matched into clusters exactly as the aggregator matches them (:mod:`.matching`: the
Hungarian algorithm on mean per-frame IoU over the frames either shows, at least ``match_iou``,
heaviest annotator first), a cluster kept when its members carry more than ``quorum`` of the weight
of everyone who answered, a frame of a kept cluster shown when the members showing it carry more than
``quorum`` of the cluster's weight (the weighted vote of :mod:`.fusion` with the given weights), its box
the weighted mean of theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from labelloop.quality.shapes.fusion import weighted_mean
from labelloop.quality.tracks._input import Track, encode_tracks
from labelloop.quality.tracks.fusion import frame_groups
from labelloop.quality.tracks.matching import cluster_tracks


@dataclass(frozen=True)
class TrackCluster:
    """One object: its members (answer index, track index in that answer), their share of the weight,
    and the fused boxes by frame (empty for a cluster that is not kept)."""

    members: list[tuple[int, int]]
    support: float
    boxes: dict[int, list[float]]

    @property
    def kept(self) -> bool:
        return bool(self.boxes)


def weighted_track_consensus(
    answers: Sequence[Sequence[Track]], weights: Sequence[float] | None = None, *,
    match_iou: float = 0.3, quorum: float = 0.5,
) -> list[TrackCluster]:
    """Cluster and fuse one video's answers (module docstring); clusters ordered by first member."""
    n = len(answers)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(w) != n:
        raise ValueError("weights and answers differ in length")
    if n == 0 or not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("one finite weight >= 0 per answer is needed")
    if w.sum() <= 0:
        w = np.ones(n)
    data = encode_tracks(pd.DataFrame({"task": [0] * n, "worker": list(range(n)), "tracks": list(answers)}))
    if data.n_tracks == 0:
        return []
    ww = w[np.asarray(data.workers, dtype=np.intp)]  # weight per worker code
    track_cluster, cl_task = cluster_tracks(
        data, priority=-ww, weights=np.maximum(ww, 1e-12), match_iou=match_iou
    )
    n_cl = len(cl_task)
    worker_of = data.track_worker
    support = np.bincount(track_cluster, ww[worker_of], n_cl) / w.sum()
    cl_weight = np.bincount(track_cluster, ww[worker_of], n_cl)
    groups = frame_groups(track_cluster[data.det_track], data.det_frame)
    det_w = ww[worker_of[data.det_track]]
    shown = np.bincount(groups.det_group, det_w, groups.n_groups)
    present = shown > quorum * cl_weight[groups.cluster] + 1e-12
    if not present.any():  # zero weights all round: fall back to counting heads
        shown = np.bincount(groups.det_group, minlength=groups.n_groups).astype(np.float64)
        heads = np.bincount(track_cluster, minlength=n_cl)
        present = shown > quorum * heads[groups.cluster]
    fused = weighted_mean(data.det_box, groups.det_group, np.maximum(det_w, 1e-12), groups.n_groups)
    kept = support > quorum
    starts = np.searchsorted(data.answer, np.arange(data.n_answers))
    position = np.arange(data.n_tracks) - starts[data.answer]
    answer_index = np.asarray(data.workers, dtype=np.intp)[data.worker[data.answer]]
    out = []
    for c in range(n_cl):
        mine = np.flatnonzero(track_cluster == c)
        members = [(int(answer_index[k]), int(position[k])) for k in mine]
        sel = np.flatnonzero((groups.cluster == c) & present) if kept[c] else np.zeros(0, dtype=np.intp)
        boxes = {int(groups.frame[g]): [float(x) for x in fused[g]] for g in sel}
        out.append(TrackCluster(sorted(members), float(support[c]), boxes))
    return out
