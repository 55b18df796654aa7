r"""Aggregating several annotators' tracks of one video into one set of tracks.

:class:`TrackAggregator` (the default, :func:`default_track_aggregator`) is the box aggregator's
match-decide-fuse loop (:class:`labelloop.quality.BoxAggregator`) with tracks as the objects:

1. **match** (:mod:`.matching`): on each video, annotators' tracks are matched one-to-one into
   clusters by the Hungarian algorithm on their mean per-frame IoU over the frames either shows (at
   least ``match_iou``, classes equal), annotator after annotator against the running clusters;
2. **decide** (:mod:`labelloop.quality.shapes.existence`, reused as it is): which clusters are real
   objects, from who tracked each cluster and who answered the video without tracking it, with every
   annotator's recall (per difficulty level) and false-track rate learned jointly across all videos by
   EM (Dawid & Skene 1979; Branson, Van Horn & Perona, CVPR 2017); a cluster is kept when
   :math:`P(\text{real}) \ge` ``threshold``;
3. **fuse** (:mod:`.fusion`): frame by frame, presence by a vote weighted by each annotator's learned
   presence skill, and the box as the precision-weighted mean of the members showing that frame (with
   per-annotator edge offsets and Student-t outlier weights by default).

Defaults: ``match_iou=0.3`` as for boxes: two tracks of the same object at per-frame IoU 0.5 that also
disagree on a third of the frames (one starts late, one ends early) score about 0.3, and one
annotator's tracks of different objects seldom overlap that much on average. ``difficulty_levels=1``,
the textbook two-class model, where boxes use two: an object on screen for many frames is seldom missed
by most of a crowd the way a small box in one image is, and with a few dozen videos a second, "hard"
real class takes in the stray tracks one annotator draws (on a simulated crowd of 25 videos: 94 fused
tracks for 73 objects with two levels, 73 with one; IDF1 0.928 against 0.953; with 100 videos the two
are within 0.005 of each other: docs/quality.md, "Tracks"). ``threshold=0.5`` and ``shrinkage=2`` are
the box aggregator's, for the same reasons.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import pandas as pd

from labelloop.quality.shapes.boxes import check_aggregator_settings
from labelloop.quality.shapes.existence import fit_existence
from labelloop.quality.tracks._input import EncodedTracks, TrackAnswers, encode_tracks
from labelloop.quality.tracks.fusion import frame_groups, fuse_frames, presence_vote
from labelloop.quality.tracks.matching import cluster_tracks


def tracks_series(
    data: EncodedTracks, cl_task: np.ndarray, cl_label: list[Any], groups_cluster: np.ndarray,
    groups_frame: np.ndarray, boxes: np.ndarray, keep_cluster: np.ndarray,
) -> pd.Series:
    """Series indexed by every task: its fused tracks (``{"id", "boxes": {frame: box}}`` and ``"label"``
    when the tracks have classes), ordered by first frame, then x1, y1; ids ``t1, t2, ...`` per task."""
    per_task: list[list[dict[str, Any]]] = [[] for _ in range(data.n_tasks)]
    order = np.lexsort((groups_frame, groups_cluster))
    cl_sorted = groups_cluster[order]
    starts = np.searchsorted(cl_sorted, np.arange(len(cl_task) + 1))
    rows = boxes[order].tolist()
    frames = groups_frame[order].tolist()
    for c in np.flatnonzero(keep_cluster):
        lo, hi = starts[c], starts[c + 1]
        if lo == hi:
            continue
        track: dict[str, Any] = {"boxes": dict(zip(frames[lo:hi], rows[lo:hi], strict=True))}
        if cl_label[c] is not None:
            track["label"] = cl_label[c]
        per_task[cl_task[c]].append(track)
    for tracks in per_task:
        tracks.sort(key=lambda t: (min(t["boxes"]), *t["boxes"][min(t["boxes"])][:2]))
        for k, t in enumerate(tracks, start=1):
            t["id"] = f"t{k}"
    values = [[{"id": t["id"], **{k: v for k, v in t.items() if k != "id"}} for t in ts] for ts in per_task]
    return pd.Series(values, index=data.tasks.rename("task"), name="tracks", dtype=object)


def cluster_labels(data: EncodedTracks, track_cluster: np.ndarray, n_clusters: int) -> list[Any]:
    """Each cluster's class: the most common among its members (the first in sorted order on a tie)."""
    out: list[Any] = [None] * n_clusters
    if not data.labels:
        return out
    has = data.label >= 0
    counts = np.zeros((n_clusters, len(data.labels)))
    np.add.at(counts, (track_cluster[has], data.label[has]), 1.0)
    names = np.asarray(data.labels, dtype=object)
    rank = np.argsort(np.argsort(names.astype(str)))
    for c in np.flatnonzero(counts.sum(axis=1) > 0):
        top = np.flatnonzero(counts[c] == counts[c].max())
        out[c] = names[top[np.argmin(rank[top])]]
    return out


class TrackAggregator:
    """Tracks from several annotators -> one list of tracks per video (see the module docstring).

    Options (keyword-only): ``match_iou`` (mean per-frame IoU at which a track may join a cluster),
    ``difficulty_levels``, ``threshold``, ``shrinkage``, ``n_iter``, ``tol`` (the existence EM, as in
    :class:`~labelloop.quality.BoxAggregator`), ``fusion`` (``"robust"``, ``"mean"`` or ``"median"``) and
    ``dof`` for the boxes, ``n_passes`` rounds of match-decide-fuse (later passes take the most precise
    annotators first and weight the running means by precision).

    Learned: ``tracks_`` (Series task -> fused tracks), ``clusters_`` (one row per cluster: ``task``,
    ``n_tracks``, ``n_frames`` shown by the fused track, ``p_real``, ``kept``), per annotator (Series
    indexed by worker): ``recall_``, ``false_track_rate_``, ``presence_skill_`` (P(right about whether the
    object shows on a frame)), ``localisation_`` (RMS box error as a share of the box's size),
    ``weights_`` (box fusion weights, mean 1); ``confidence_`` (Series task -> the smallest P(real) of
    the kept tracks, 1 when no cluster is kept: how sure the aggregate is of every track it has).
    """

    tracks_: pd.Series
    clusters_: pd.DataFrame
    recall_: pd.Series
    false_track_rate_: pd.Series
    presence_skill_: pd.Series
    localisation_: pd.Series
    weights_: pd.Series
    confidence_: pd.Series

    def __init__(
        self, *, match_iou: float = 0.3, difficulty_levels: int = 1, threshold: float = 0.5,
        shrinkage: float = 2.0, fusion: str = "robust", dof: float = 10.0, n_passes: int = 1,
        n_iter: int = 200, tol: float = 1e-5,
    ) -> None:
        check_aggregator_settings(
            match_iou=match_iou, difficulty_levels=difficulty_levels, threshold=threshold,
            shrinkage=shrinkage, n_passes=n_passes, n_iter=n_iter, fusion=fusion, dof=dof,
        )
        self.match_iou = match_iou
        self.difficulty_levels = difficulty_levels
        self.threshold = threshold
        self.shrinkage = shrinkage
        self.fusion = fusion
        self.dof = dof
        self.n_passes = n_passes
        self.n_iter = n_iter
        self.tol = tol

    def fit(self, answers: TrackAnswers) -> Self:
        """Learn from a long table ``task, worker, tracks`` (see :mod:`._input`)."""
        data = encode_tracks(answers)
        n_w = data.n_workers
        priority, weights = np.zeros(n_w), np.ones(n_w)
        for _ in range(self.n_passes):
            track_cluster, cl_task = cluster_tracks(
                data, priority=priority, weights=weights, match_iou=self.match_iou
            )
            fit = fit_existence(
                cl_task=cl_task, box_cluster=track_cluster, box_worker=data.track_worker,
                answer_task=data.task, answer_worker=data.worker, n_tasks=data.n_tasks, n_workers=n_w,
                levels=self.difficulty_levels, shrinkage=self.shrinkage, n_iter=self.n_iter, tol=self.tol,
            )
            groups = frame_groups(track_cluster[data.det_track], data.det_frame)
            present, skill = presence_vote(
                groups, data.det_track, track_cluster, data.track_worker, fit.real, n_w,
                shrinkage=self.shrinkage,
            )
            det_worker = data.track_worker[data.det_track]
            group_real = fit.real[groups.cluster] * present
            fused, sd, _ = fuse_frames(
                data.det_box, groups.det_group, det_worker, group_real, n_w,
                fusion=self.fusion, shrinkage=self.shrinkage, dof=self.dof,
            )
            weights = (1.0 / sd**2) / np.mean(1.0 / sd**2)
            priority = sd
        kept = fit.real >= self.threshold
        labels = cluster_labels(data, track_cluster, len(cl_task))
        shown = present  # frames of each group the fused tracks show
        self.tracks_ = tracks_series(
            data, cl_task, labels, groups.cluster[shown], groups.frame[shown], fused[shown], kept
        )
        self._store(data, track_cluster, cl_task, fit.real, kept, fit.rates, fit.prior, groups.cluster[shown])
        workers = data.workers.rename("worker")
        self.presence_skill_ = pd.Series(skill, index=workers, name="presence_skill")
        self.localisation_ = pd.Series(sd, index=workers, name="localisation")
        self.weights_ = pd.Series(weights, index=workers, name="weight")
        return self

    def fit_predict(self, answers: TrackAnswers) -> pd.Series:
        """Fit, then return each task's fused tracks (Series indexed by task; ``[]`` for none)."""
        return self.fit(answers).tracks_

    def _store(
        self, data: EncodedTracks, track_cluster: np.ndarray, cl_task: np.ndarray, real: np.ndarray,
        kept: np.ndarray, rates: np.ndarray, prior: np.ndarray, shown_cluster: np.ndarray,
    ) -> None:
        workers = data.workers.rename("worker")
        self.clusters_ = pd.DataFrame({
            "task": data.tasks.take(cl_task),
            "n_tracks": np.bincount(track_cluster, minlength=len(cl_task)),
            "n_frames": np.bincount(shown_cluster, minlength=len(cl_task)),
            "p_real": real,
            "kept": kept,
        })
        real_prior = prior[1:] / prior[1:].sum()
        self.recall_ = pd.Series(rates[:, 1:] @ real_prior, index=workers, name="recall")
        self.false_track_rate_ = pd.Series(rates[:, 0], index=workers, name="false_track_rate")
        lowest = np.ones(data.n_tasks)
        np.minimum.at(lowest, cl_task[kept], real[kept])
        self.confidence_ = pd.Series(lowest, index=data.tasks.rename("task"), name="confidence")


def default_track_aggregator() -> TrackAggregator:
    """The recommended track aggregator: :class:`TrackAggregator` with its defaults."""
    return TrackAggregator()
