r"""Fusing a cluster of matched tracks frame by frame: presence by a weighted vote, boxes by a weighted mean.

**Presence.** On each frame of a cluster (a frame at least one member shows), every member track
either shows the object or not. Annotator w is right about presence with probability :math:`s_w` (one
"coin" per annotator, the same for present and absent frames), so the Bayes vote with even prior odds
is the weighted majority with log-odds weights (Nitzan & Paroush, Int. Econ. Rev. 23(2), 1982):

.. math:: \text{present}_f \iff \sum_{w \text{ shows } f} \ell_w \ \ge \sum_{w \text{ does not}} \ell_w,
          \qquad \ell_w = \log\frac{s_w}{1 - s_w},

a tie counting as present (when one of two equally good annotators stops a track a few frames early,
the fused track keeps the longer extent). :math:`s_w` is learned jointly across every video, EM-style:
the share of frames of clusters with two or more members where w agreed with the fused presence,
weighted by the cluster's probability of being real, shrunk towards the crowd's pooled share with
``shrinkage`` pseudo-frames, and the vote recomputed (three rounds from :math:`s_w = 0.8`).

**Boxes.** On a present frame, the box is fused from the members that show it exactly as the box
aggregator fuses a cluster of boxes (:mod:`labelloop.quality.shapes.fusion`): each (cluster, frame)
is a group, each annotator is weighted by their scale-free localisation precision
:math:`1/\sigma_w^2`, learned over all their boxes in all videos, with their habitual offset per edge
removed and outlying boxes down-weighted by a Student-t model (``fusion="robust"``, five reweighting
rounds), or a plain weighted mean or median.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labelloop.quality.shapes._input import Codes, Floats
from labelloop.quality.shapes.fusion import fuse_boxes, localisation_variance, robust_fusion

_S_MIN, _S_MAX = 0.51, 0.999  # presence skill kept in (1/2, 1): a positive, finite vote
# Rounds of the robust fusion's reweighting: a track has hundreds of boxes per annotator, so offsets and
# weights settle in a few (on a simulated crowd of 60 videos, 4 rounds and 20 give HOTA within 2e-4
# of each other; 20 take 2.5 times as long).
ROBUST_ROUNDS = 5


@dataclass(frozen=True, eq=False)
class FrameGroups:
    """Detections grouped by (cluster, frame): detection d is in group ``det_group[d]``."""

    det_group: Codes
    cluster: Codes  # per group
    frame: Codes  # per group

    @property
    def n_groups(self) -> int:
        return len(self.cluster)


def frame_groups(det_cluster: Codes, det_frame: Codes) -> FrameGroups:
    n_frames = int(det_frame.max()) + 1 if len(det_frame) else 1
    keys, inverse = np.unique(det_cluster.astype(np.int64) * n_frames + det_frame, return_inverse=True)
    return FrameGroups(
        inverse.astype(np.intp), (keys // n_frames).astype(np.intp), (keys % n_frames).astype(np.intp)
    )


def presence_vote(
    groups: FrameGroups, det_track: Codes, track_cluster: Codes, track_worker: Codes, real: Floats,
    n_workers: int, *, shrinkage: float, n_rounds: int = 3,
) -> tuple[np.ndarray, Floats]:
    """Per group, whether the fused track shows the object there; per worker, the presence skill s_w."""
    n_cl = len(real)
    det_worker = track_worker[det_track]
    members = np.bincount(track_cluster, minlength=n_cl)
    groups_of = np.bincount(groups.cluster, minlength=n_cl).astype(np.float64)
    skill = np.full(n_workers, 0.8)
    present = np.ones(groups.n_groups, dtype=bool)
    for _ in range(n_rounds):
        logit = np.log(skill) - np.log1p(-skill)
        shown = np.bincount(groups.det_group, logit[det_worker], groups.n_groups)
        everyone = np.bincount(track_cluster, logit[track_worker], n_cl)
        present = 2 * shown - everyone[groups.cluster] >= -1e-9
        # agreement per member track: frames it shows where present + absent frames it does not show
        n_tracks = len(track_cluster)
        shown_present = np.bincount(det_track, present[groups.det_group], n_tracks)
        shown_absent = np.bincount(det_track, ~present[groups.det_group], n_tracks)
        absent_of = np.bincount(groups.cluster, ~present, n_cl)
        agree = shown_present + absent_of[track_cluster] - shown_absent
        weight = np.where(members[track_cluster] >= 2, real[track_cluster], 0.0)
        hits = np.bincount(track_worker, weight * agree, n_workers)
        seen = np.bincount(track_worker, weight * groups_of[track_cluster], n_workers)
        pooled = hits.sum() / seen.sum() if seen.sum() > 0 else 0.8
        skill = np.clip((hits + shrinkage * pooled) / (seen + shrinkage), _S_MIN, _S_MAX)
    return present, skill


def fuse_frames(
    det_box: Floats, det_group: Codes, det_worker: Codes, group_real: Floats, n_workers: int, *,
    fusion: str, shrinkage: float, dof: float,
) -> tuple[Floats, Floats, Floats]:
    """Per group, the fused box; per worker, the localisation sd (scale-free) and the edge offsets."""
    n_groups = len(group_real)
    weights = np.ones(n_workers)
    variance = np.ones(n_workers)
    for _ in range(2):  # the weights enter the leave-one-out means: settle them
        variance = localisation_variance(
            det_box, det_group, det_worker, weights[det_worker], group_real, n_workers, shrinkage
        )
        weights = (1.0 / variance) / np.mean(1.0 / variance)
    bias = np.zeros((n_workers, 4))
    if fusion == "robust":
        fused, bias = robust_fusion(
            det_box, det_group, det_worker, 1.0 / variance, group_real, n_workers,
            shrinkage=shrinkage, dof=dof, n_iter=ROBUST_ROUNDS,
        )
    else:
        fused = fuse_boxes(det_box, det_group, weights[det_worker], n_groups, fusion)
    return fused, np.sqrt(variance), bias
