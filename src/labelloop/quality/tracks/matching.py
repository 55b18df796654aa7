r"""Which tracks are the same object: one-to-one matching of annotators' tracks into clusters, per video.

Two tracks a and b are compared by their mean per-frame IoU over the frames either shows,

.. math:: s(a, b) = \frac{1}{|F_a \cup F_b|} \sum_{f \in F_a \cap F_b} \mathrm{IoU}(a_f, b_f),

a frame shown by only one of them counting 0: a track that follows the object for half the video and
then stops scores at most one half against one that follows it throughout. Clusters are built as the
box aggregator builds them (:mod:`labelloop.quality.shapes.matching`): on each video the annotators
are taken one after the other (a given priority order, e.g. the most precise first); the first one's
tracks open one cluster each; each next annotator's tracks are matched one-to-one to the video's
clusters by the **Hungarian algorithm** on :math:`s` (maximum total :math:`s`, a pair allowed only
when :math:`s \ge` ``match_iou`` and the two classes agree), against each cluster's current track: per
frame, the weighted mean box of its members that show that frame. A matched track joins its cluster,
an unmatched one opens a new cluster. So a cluster never holds two tracks of one annotator. Unlike
boxes, the Hungarian assignment (rather than greedy) is cheap here: a video has tens of tracks, not
thousands of boxes, and two tracks of one annotator often overlap one cluster for part of the video
(one object split into two tracks), where greedy and optimal differ.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from labelloop.quality.shapes._input import Codes, Floats
from labelloop.quality.shapes.geometry import paired_box_iou
from labelloop.quality.shapes.matching import renumber_clusters
from labelloop.quality.tracks._input import EncodedTracks
from labelloop.quality.tracks.metrics import same_frame_pairs


def answer_rounds(data: EncodedTracks, priority: Floats) -> Codes:
    """Each answer's position on its task when the task's answers are ordered by *priority* (per worker,
    smaller first), ties broken by sorted worker id."""
    order = np.lexsort((data.worker_rank[data.worker], priority[data.worker], data.task))
    first = np.searchsorted(data.task[order], np.arange(data.n_tasks))
    position = np.empty(data.n_answers, dtype=np.intp)
    position[order] = np.arange(data.n_answers, dtype=np.intp)
    return np.asarray(position - first[data.task], dtype=np.intp)


def track_similarity(
    a_track: Codes, a_key: Codes, a_box: Floats, a_len: Floats,
    b_track: Codes, b_key: Codes, b_box: Floats, b_len: Floats,
) -> tuple[Codes, Codes, Floats]:
    """Mean per-frame IoU over the union of frames (module docstring) of every pair of tracks of A and B
    that share a frame key (``task * n_frames + frame``). Returns the pairs' A and B track ids and their
    similarity; pairs sharing no frame are left out (their similarity is 0)."""
    ia, ib = same_frame_pairs(a_key, b_key)
    if len(ia) == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, np.zeros(0)
    iou = paired_box_iou(a_box[ia], b_box[ib])
    n_b = int(b_track.max()) + 1
    pair = a_track[ia].astype(np.int64) * n_b + b_track[ib]
    keys, inverse = np.unique(pair, return_inverse=True)
    total = np.bincount(inverse, iou)
    common = np.bincount(inverse).astype(np.float64)
    ta, tb = (keys // n_b).astype(np.intp), (keys % n_b).astype(np.intp)
    return ta, tb, total / (a_len[ta] + b_len[tb] - common)


class _Clusters:
    """The running clusters: per (cluster, frame) the weighted sum of member boxes and of weights."""

    def __init__(self, n_frames: int) -> None:
        self.n_frames = n_frames
        self.cluster = np.zeros(0, dtype=np.intp)
        self.frame = np.zeros(0, dtype=np.intp)
        self.sums = np.zeros((0, 4))
        self.weight = np.zeros(0)
        self.task = np.zeros(0, dtype=np.intp)
        self.label = np.zeros(0, dtype=np.intp)

    @property
    def count(self) -> int:
        return len(self.task)

    def add(self, cluster: Codes, frame: Codes, boxes: Floats, weight: Floats) -> None:
        cl = np.concatenate([self.cluster, cluster])
        fr = np.concatenate([self.frame, frame])
        key = cl.astype(np.int64) * self.n_frames + fr
        keys, inverse = np.unique(key, return_inverse=True)
        stacked = np.concatenate([self.sums, boxes * weight[:, None]])
        self.sums = np.stack([np.bincount(inverse, stacked[:, j], len(keys)) for j in range(4)], axis=1)
        self.weight = np.asarray(
            np.bincount(inverse, np.concatenate([self.weight, weight]), len(keys)), dtype=np.float64
        )
        self.cluster = (keys // self.n_frames).astype(np.intp)
        self.frame = (keys % self.n_frames).astype(np.intp)


def cluster_tracks(
    data: EncodedTracks, *, priority: Floats, weights: Floats, match_iou: float
) -> tuple[Codes, Codes]:
    """Cluster the tracks of every task (module docstring). *priority*: per worker, the order in which
    annotators are taken (smaller first); *weights*: per worker, their weight in a cluster's mean box.
    Returns each track's cluster id and each cluster's task code; clusters are numbered by task, then by
    their first member's position in the input."""
    n = data.n_tracks
    track_cluster = np.full(n, -1, dtype=np.intp)
    if n == 0:
        return track_cluster, np.zeros(0, dtype=np.intp)
    n_frames = int(data.det_frame.max()) + 1 if len(data.det_frame) else 1
    det_task = data.track_task[data.det_track]
    det_key = det_task.astype(np.int64) * n_frames + data.det_frame
    track_len = np.bincount(data.det_track, minlength=n).astype(np.float64)
    track_task, track_worker = data.track_task, data.track_worker
    track_round = answer_rounds(data, priority)[data.answer]
    det_round = track_round[data.det_track]
    clusters = _Clusters(n_frames)
    for r in range(int(track_round.max()) + 1):
        sel = np.flatnonzero(track_round == r)
        if len(sel) == 0:
            continue
        dets = np.flatnonzero(det_round == r)
        matched_track, matched_cl = _match_round(
            data, sel, dets, det_key, track_len, clusters, match_iou
        )
        track_cluster[matched_track] = matched_cl
        new = np.setdiff1d(sel, matched_track)
        ids = np.arange(clusters.count, clusters.count + len(new), dtype=np.intp)
        track_cluster[new] = ids
        clusters.task = np.concatenate([clusters.task, track_task[new]])
        clusters.label = np.concatenate([clusters.label, data.label[new]])
        d_cl = track_cluster[data.det_track[dets]]
        d_weight = weights[track_worker[data.det_track[dets]]]
        clusters.add(d_cl, data.det_frame[dets], data.det_box[dets], d_weight)
    return renumber_clusters(track_cluster, clusters.task)


def _match_round(
    data: EncodedTracks, sel: Codes, dets: Codes, det_key: Codes, track_len: Floats,
    clusters: _Clusters, match_iou: float,
) -> tuple[Codes, Codes]:
    """The Hungarian matching of this round's tracks (*sel*) to the running clusters, task by task."""
    empty = np.zeros(0, dtype=np.intp)
    if clusters.count == 0 or len(dets) == 0:
        return empty, empty
    cl_len = np.bincount(clusters.cluster, minlength=clusters.count).astype(np.float64)
    cl_key = clusters.task[clusters.cluster].astype(np.int64) * clusters.n_frames + clusters.frame
    cl_box = clusters.sums / clusters.weight[:, None]
    ta, tb, sim = track_similarity(
        data.det_track[dets], det_key[dets], data.det_box[dets], track_len,
        clusters.cluster, cl_key, cl_box, cl_len,
    )
    la, lb = data.label[ta], clusters.label[tb]
    ok = (sim >= match_iou) & ((la == lb) | (la < 0) | (lb < 0))
    ta, tb, sim = ta[ok], tb[ok], sim[ok]
    if len(ta) == 0:
        return empty, empty
    task = data.track_task[ta]
    order = np.argsort(task, kind="stable")
    ta, tb, sim, task = ta[order], tb[order], sim[order], task[order]
    bounds = np.flatnonzero(np.diff(task)) + 1
    got_t: list[Codes] = []
    got_c: list[Codes] = []
    for part in np.split(np.arange(len(ta)), bounds):
        rows, row_of = np.unique(ta[part], return_inverse=True)
        cols, col_of = np.unique(tb[part], return_inverse=True)
        score = np.zeros((len(rows), len(cols)))
        score[row_of, col_of] = sim[part]
        r, c = linear_sum_assignment(-score)
        keep = score[r, c] > 0
        got_t.append(rows[r[keep]])
        got_c.append(cols[c[keep]])
    return np.concatenate(got_t).astype(np.intp), np.concatenate(got_c).astype(np.intp)

