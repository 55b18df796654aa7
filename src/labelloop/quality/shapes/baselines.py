"""Baselines for box aggregation: naive consensus and one random annotator.

- :class:`NaiveBoxConsensus`: greedy IoU clusters (the matching of :mod:`.matching` with equal weights,
  annotators in sorted id order, ``match_iou=0.5``), kept when at least half of the task's annotators
  drew them (``quorum=0.5``: a share of those who answered), fused by the coordinate-wise median. A
  fixed quorum, no learning: what the aggregator must beat.
- :class:`RandomWorkerBoxes`: one answer per task, drawn at random (``seed``): what one annotator gives.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labelloop.quality.shapes._input import BoxAnswers, Codes, encode_boxes
from labelloop.quality.shapes.boxes import boxes_series
from labelloop.quality.shapes.fusion import fuse_boxes
from labelloop.quality.shapes.matching import cluster_boxes


def check_quorum_settings(match_iou: float, quorum: float) -> None:
    """The settings of a quorum baseline (boxes or tracks): both shares in (0, 1]."""
    if not 0 < match_iou <= 1:
        raise ValueError("match_iou must be in (0, 1]")
    if not 0 < quorum <= 1:
        raise ValueError("quorum must be in (0, 1]")


def quorum_kept(
    cluster: Codes, cl_task: Codes, answer_task: Codes, n_tasks: int, quorum: float
) -> NDArray[np.bool_]:
    """Per cluster: drawn by at least *quorum* of the annotators who answered its task (``cluster[j]``
    is the cluster of shape j, ``cl_task[c]`` the task of cluster c, ``answer_task[i]`` the task of
    answer i); the 1e-9 keeps an exact half a majority despite rounding."""
    votes = np.bincount(cluster, minlength=len(cl_task))
    voters = np.bincount(answer_task, minlength=n_tasks)[cl_task]
    return np.asarray(votes >= quorum * voters - 1e-9, dtype=np.bool_)


def random_answer_per_task(answer_task: Codes, n_tasks: int, seed: int) -> Codes:
    """One answer per task drawn at random: for each task code, the position of its chosen answer
    (a random key per answer; the smallest on each task wins)."""
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(answer_task)), answer_task))
    return np.asarray(order[np.searchsorted(answer_task[order], np.arange(n_tasks))], dtype=np.intp)


class NaiveBoxConsensus:
    """Quorum consensus of boxes (see the module docstring). Learned: ``boxes_``."""

    boxes_: pd.Series

    def __init__(self, *, match_iou: float = 0.5, quorum: float = 0.5) -> None:
        check_quorum_settings(match_iou, quorum)
        self.match_iou = match_iou
        self.quorum = quorum

    def fit(self, answers: BoxAnswers) -> Self:
        data = encode_boxes(answers)
        ones = np.ones(data.n_workers)
        box_cluster, cl_task = cluster_boxes(
            data, priority=np.zeros(data.n_workers), weights=ones, match_iou=self.match_iou
        )
        keep = quorum_kept(box_cluster, cl_task, data.task, data.n_tasks, self.quorum)
        fused = fuse_boxes(data.boxes, box_cluster, np.ones(data.n_boxes), len(cl_task), "median")
        self.boxes_ = boxes_series(data, fused[keep], cl_task[keep])
        return self

    def fit_predict(self, answers: BoxAnswers) -> pd.Series:
        return self.fit(answers).boxes_


class RandomWorkerBoxes:
    """Each task's boxes are one of its answers, drawn at random. Learned: ``boxes_``, ``workers_``."""

    boxes_: pd.Series
    workers_: pd.Series

    def __init__(self, *, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, answers: BoxAnswers) -> Self:
        data = encode_boxes(answers)
        first = random_answer_per_task(data.task, data.n_tasks, self.seed)
        chosen = np.zeros(data.n_answers, dtype=bool)
        chosen[first] = True
        keep = chosen[data.answer]
        self.boxes_ = boxes_series(data, data.boxes[keep], data.box_task[keep])
        index = data.tasks.rename("task")
        self.workers_ = pd.Series(data.workers.take(data.worker[first]), index=index, name="worker")
        return self

    def fit_predict(self, answers: BoxAnswers) -> pd.Series:
        return self.fit(answers).boxes_
