r"""Which boxes are the same object: one-to-one matching of annotators' boxes into clusters, per task.

Sequential matching against running clusters. On each task the annotators are taken one after the
other (in a given priority order, e.g. most precise first); the first one's boxes open one cluster
each; each next annotator's boxes are matched one-to-one to the task's clusters by IoU with the
cluster's current box (the weighted mean of its members), a pair counting only when its IoU is at least
``match_iou``; a matched box joins its cluster (which moves its mean), an unmatched one opens a new
cluster. So a cluster never holds two boxes of one annotator, and a sloppy first box is corrected as
better boxes join it. This is the matching step of the box aggregators of e.g. Branson, Van Horn &
Perona, "Lean Crowdsourcing", CVPR 2017, with IoU instead of a likelihood as the matching score.

The one-to-one assignment within a step is the greedy one (highest IoU first), computed for all tasks
at once as rounds of *mutual best* pairs: a pair is taken when each member is the other's best
remaining candidate; the globally best remaining pair always is, so every round makes progress, and
the result equals the greedy assignment. Greedy and Hungarian (maximum total IoU) assignments differ
only when a box overlaps two clusters above the threshold and the other candidates conflict, which
boxes of one annotator (disjoint objects) seldom do; greedy is what vectorises across a million boxes.
"""

from __future__ import annotations

import numpy as np

from labelloop.quality.shapes._input import Codes, EncodedBoxes, Floats
from labelloop.quality.shapes.geometry import paired_box_iou


def answer_rounds(data: EncodedBoxes, priority: Floats) -> Codes:
    """Each answer's position on its task when the task's answers are ordered by *priority* (per worker,
    smaller first), ties broken by sorted worker id: the round in which its boxes are matched."""
    order = np.lexsort((data.worker_rank[data.worker], priority[data.worker], data.task))
    first = np.searchsorted(data.task[order], np.arange(data.n_tasks))
    position = np.empty(data.n_answers, dtype=np.intp)
    position[order] = np.arange(data.n_answers, dtype=np.intp)
    return np.asarray(position - first[data.task], dtype=np.intp)


def greedy_pairs(left: Codes, right: Codes, score: Floats) -> tuple[Codes, Codes]:
    """Greedy one-to-one assignment over candidate pairs ``(left[i], right[i])``: highest score first.

    Ties are broken by the smaller left, then right id, so the result does not depend on pair order.
    Returns the indices (into the pair arrays) of the chosen pairs' left and right ids.
    """
    order = np.lexsort((right, left, -score))
    left, right = left[order], right[order]
    chosen_left: list[Codes] = []
    chosen_right: list[Codes] = []
    alive = np.ones(len(left), dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)  # still sorted best first
        _, best_l = np.unique(left[idx], return_index=True)
        _, best_r = np.unique(right[idx], return_index=True)
        mutual = np.intersect1d(idx[best_l], idx[best_r], assume_unique=True)
        chosen_left.append(left[mutual])
        chosen_right.append(right[mutual])
        taken_l = np.zeros(left.max() + 1, dtype=bool)
        taken_r = np.zeros(right.max() + 1, dtype=bool)
        taken_l[left[mutual]] = True
        taken_r[right[mutual]] = True
        alive &= ~(taken_l[left] | taken_r[right])
    if not chosen_left:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    return np.concatenate(chosen_left), np.concatenate(chosen_right)


def cluster_boxes(
    data: EncodedBoxes, *, priority: Floats, weights: Floats, match_iou: float
) -> tuple[Codes, Codes]:
    """Cluster the boxes of every task (see the module docstring).

    *priority*: per worker, the order in which annotators are taken (smaller first); *weights*: per
    worker, their weight in a cluster's running mean. Returns each box's cluster id and each cluster's
    task code; clusters are numbered by task, then by their first member's position in the input.
    """
    n = data.n_boxes
    box_cluster = np.full(n, -1, dtype=np.intp)
    if n == 0:
        return box_cluster, np.zeros(0, dtype=np.intp)
    box_task = data.box_task
    box_weight = weights[data.box_worker]
    box_round = answer_rounds(data, priority)[data.answer]
    sums = np.zeros((n, 4))
    total = np.zeros(n)
    cl_task = np.zeros(n, dtype=np.intp)
    n_cl = 0
    by_round = np.argsort(box_round, kind="stable")
    bounds = np.searchsorted(box_round[by_round], np.arange(box_round.max() + 2))
    for r in range(len(bounds) - 1):
        sel = by_round[bounds[r] : bounds[r + 1]]
        if len(sel) == 0:
            continue
        matched = np.zeros(len(sel), dtype=bool)
        if n_cl:
            pair_box, pair_cl = _candidates(box_task[sel], cl_task[:n_cl], data.n_tasks)
            if len(pair_box):
                mean = sums[pair_cl] / total[pair_cl, None]
                iou = paired_box_iou(data.boxes[sel[pair_box]], mean)
                ok = iou >= match_iou
                got_box, got_cl = greedy_pairs(pair_box[ok], pair_cl[ok], iou[ok])
                boxes = sel[got_box]
                box_cluster[boxes] = got_cl
                sums[got_cl] += box_weight[boxes, None] * data.boxes[boxes]
                total[got_cl] += box_weight[boxes]
                matched[got_box] = True
        new = sel[~matched]
        ids = np.arange(n_cl, n_cl + len(new))
        box_cluster[new] = ids
        sums[ids] = box_weight[new, None] * data.boxes[new]
        total[ids] = box_weight[new]
        cl_task[ids] = box_task[new]
        n_cl += len(new)
    return renumber_clusters(box_cluster, cl_task[:n_cl])


def _candidates(box_task: Codes, cl_task: Codes, n_tasks: int) -> tuple[Codes, Codes]:
    """All (box, cluster) pairs on the same task: box indices into *box_task*, cluster ids."""
    by_task = np.argsort(cl_task, kind="stable")
    per_task = np.bincount(cl_task, minlength=n_tasks)
    start = np.concatenate([[0], np.cumsum(per_task)[:-1]])
    count = per_task[box_task]
    n_pairs = int(count.sum())
    pair_box = np.repeat(np.arange(len(box_task), dtype=np.intp), count)
    offset = np.arange(n_pairs) - np.repeat(np.cumsum(count) - count, count)
    pair_cl = by_task[np.repeat(start[box_task], count) + offset]
    return pair_box, pair_cl.astype(np.intp)


def renumber_clusters(box_cluster: Codes, cl_task: Codes) -> tuple[Codes, Codes]:
    """Number clusters by (task, first member's index), so ids don't depend on the round order
    (``box_cluster[j]``: the cluster of box or track j; ``cl_task[c]``: the task of cluster c)."""
    first = np.full(len(cl_task), len(box_cluster), dtype=np.intp)
    np.minimum.at(first, box_cluster, np.arange(len(box_cluster), dtype=np.intp))
    order = np.lexsort((first, cl_task))
    new_id = np.empty(len(cl_task), dtype=np.intp)
    new_id[order] = np.arange(len(cl_task), dtype=np.intp)
    return new_id[box_cluster], cl_task[order]
