r"""Aggregating several annotators' boxes into one set of boxes per task.

:class:`BoxAggregator` (the default, :func:`default_box_aggregator`) alternates three steps, each in
its own module, and does the whole loop ``n_passes`` times:

1. **match** (:mod:`.matching`): on each task, annotators are taken one after the other and their
   boxes matched one-to-one (greedy by IoU, at least ``match_iou``) to the task's running clusters; on
   the first pass in sorted id order with equal weights, afterwards most precise annotator first, each
   weighted by their learned localisation precision (with ``n_passes=1``, the default, once);
2. **decide** (:mod:`.existence`): which clusters are real objects, from who drew each cluster and who
   answered the task without drawing it, with every annotator's recall (per object difficulty level)
   and false-positive rate learned jointly by EM; a cluster is kept when
   :math:`P(\text{real}) \ge` ``threshold``;
3. **fuse** (:mod:`.fusion`): each cluster's box is the weighted mean of its members, each annotator
   weighted by :math:`1/\sigma_w^2`, their scale-free localisation error against the others' boxes,
   after removing each annotator's habitual offset per edge (loose boxes, cut-off feet) and with
   outlying boxes down-weighted by a Student-t error model (``fusion="robust"``).

Defaults come from principles, not from any one data set. ``match_iou=0.3``: two boxes that would
both count as finding the same object at the usual IoU 0.5 can overlap each other far less (two boxes
shifted a third of a width either way from the truth each keep IoU 0.5 with it, but only 0.2 with
each other; a box at IoU 0.5 from an exact one overlaps it 0.5), so the gate sits inside [0.2, 0.5],
low because the one-to-one constraint already keeps one annotator's neighbouring objects apart and a
split object (two clusters for one person) costs a miss *and* a false box. ``difficulty_levels=2``:
the least structure that lets "real" cover objects most but not all annotators saw. ``threshold=0.5``
is the Bayes decision for "is this object real"; ``shrinkage=2`` pseudo-answers is the light
empirical-Bayes prior of :class:`~labelloop.quality.DawidSkene`; ``fusion="robust"`` is the
inverse-variance (maximum-likelihood) combination under per-annotator offsets and Student-t errors,
``dof=10`` the usual compromise between the Gaussian's efficiency on clean answers and resistance to
a wrong box (``fusion="mean"``: without offsets or t weights; ``"median"``: weighted median).
The existence EM runs to convergence, accelerated by SQUAREM. docs/quality.md ("Shapes") reports how
the result moves with each of them, on real and synthetic crowds.

References: Branson, Van Horn & Perona, "Lean Crowdsourcing: Combining Humans and Machines in an
Online System", CVPR 2017 (per-annotator miss and false-box probabilities, box noise per annotator);
Dawid & Skene, JRSS C 28(1), 1979 (the EM).
"""

from __future__ import annotations

from typing import Self

import numpy as np
import pandas as pd

from labelloop.quality.shapes._input import BoxAnswers, Codes, EncodedBoxes, Floats, encode_boxes
from labelloop.quality.shapes.existence import fit_existence
from labelloop.quality.shapes.fusion import fuse_boxes, localisation_variance, robust_fusion
from labelloop.quality.shapes.matching import cluster_boxes


def check_aggregator_settings(
    *, match_iou: float, difficulty_levels: int, threshold: float, shrinkage: float, n_passes: int,
    n_iter: int, fusion: str, dof: float,
) -> None:
    """The settings the box and track aggregators share; a clear error for the first bad one."""
    if not 0 < match_iou <= 1:
        raise ValueError("match_iou must be in (0, 1]")
    if difficulty_levels < 1:
        raise ValueError("difficulty_levels must be >= 1")
    if not 0 <= threshold <= 1:
        raise ValueError("threshold must be in [0, 1]")
    if shrinkage < 0:
        raise ValueError("shrinkage must be >= 0")
    if n_passes < 1 or n_iter < 1:
        raise ValueError("n_passes and n_iter must be >= 1")
    if fusion not in ("robust", "mean", "median"):
        raise ValueError(f"fusion must be 'robust', 'mean' or 'median', got {fusion!r}")
    if not dof > 0:
        raise ValueError("dof must be > 0 (inf for Gaussian errors)")


def boxes_series(data: EncodedBoxes, boxes: Floats, task: Codes) -> pd.Series:
    """Series indexed by every task of *data*: the list of boxes (``[x1, y1, x2, y2]`` lists) of that task,
    sorted by x1, y1, x2, y2 so that the result does not depend on the order of the input."""
    order = np.lexsort((boxes[:, 3], boxes[:, 2], boxes[:, 1], boxes[:, 0], task))
    task, rows = task[order], boxes[order].tolist()
    bounds = np.searchsorted(task, np.arange(data.n_tasks + 1))
    values = [rows[bounds[t] : bounds[t + 1]] for t in range(data.n_tasks)]
    return pd.Series(values, index=data.tasks.rename("task"), name="boxes", dtype=object)


def cluster_size(boxes: Floats, box_cluster: Codes, n_clusters: int) -> Floats:
    """Each cluster's size: the mean over its boxes of ``log sqrt(width * height)``, sides floored at 1 px."""
    sides = np.maximum(boxes[:, 2:] - boxes[:, :2], 1.0)
    log_size = 0.5 * np.log(sides[:, 0] * sides[:, 1])
    total = np.bincount(box_cluster, log_size, n_clusters)
    return np.asarray(total / np.maximum(np.bincount(box_cluster, minlength=n_clusters), 1), dtype=np.float64)


class BoxAggregator:
    """Boxes from several annotators -> one list of boxes per task (see the module docstring).

    Options (keyword-only): ``match_iou`` the IoU at which a box may join a cluster; ``difficulty_levels``
    how many levels of object difficulty the existence model has (1 is the textbook two-class model);
    ``threshold`` the probability of being real above which a cluster is kept; ``shrinkage``
    pseudo-answers (and pseudo-boxes) pulling each annotator towards the crowd; ``fusion`` ``"robust"``,
    ``"mean"`` or ``"median"`` (weighted either way); ``dof`` the Student-t degrees of freedom of
    ``"robust"`` (``float("inf")``: Gaussian); ``n_passes`` rounds of match-decide-fuse (a second pass
    re-matches with the learned weights, most precise annotator first); ``n_iter`` and ``tol`` (the
    smallest improvement of the log-likelihood per cluster worth another iteration) bound
    each EM; ``size_prior`` (off by default) lets the existence model's class prior depend on each
    cluster's size (:mod:`.existence`: it helps when stray boxes and hard objects differ in size, hurts
    when they do not, and moves Branson's pedestrians by one box).

    Learned: ``boxes_`` (Series task -> list of boxes), ``clusters_`` (one row per cluster: ``task``,
    ``x1..y2``, ``n_boxes``, ``p_real``, ``kept``), per annotator (Series indexed by worker):
    ``recall_`` (P(draws a real object), averaged over difficulty levels), ``false_positive_rate_``,
    ``precision_`` (mean P(real) of the clusters their boxes are in), ``localisation_`` (RMS error as a
    share of the box's width/height), ``weights_`` (fusion weights, mean 1), ``bias_`` (DataFrame:
    the habitual offset of each edge as a share of the box's width/height, e.g. ``x2 = 0.1``: draws
    the right edge a tenth of a width too far right); ``difficulty_prior_``
    (share of clusters per class, spurious first) and ``n_iter_`` (EM iterations of the last pass).
    """

    boxes_: pd.Series
    clusters_: pd.DataFrame
    recall_: pd.Series
    false_positive_rate_: pd.Series
    precision_: pd.Series
    localisation_: pd.Series
    weights_: pd.Series
    bias_: pd.DataFrame
    difficulty_prior_: pd.Series
    n_iter_: int

    def __init__(
        self,
        *,
        match_iou: float = 0.3,
        difficulty_levels: int = 2,
        threshold: float = 0.5,
        shrinkage: float = 2.0,
        fusion: str = "robust",
        dof: float = 10.0,
        n_passes: int = 1,
        n_iter: int = 200,
        tol: float = 1e-5,
        size_prior: bool = False,
    ) -> None:
        check_aggregator_settings(
            match_iou=match_iou, difficulty_levels=difficulty_levels, threshold=threshold,
            shrinkage=shrinkage, n_passes=n_passes, n_iter=n_iter, fusion=fusion, dof=dof,
        )
        if tol < 0:
            raise ValueError("tol must be >= 0")
        self.match_iou = match_iou
        self.difficulty_levels = difficulty_levels
        self.threshold = threshold
        self.shrinkage = shrinkage
        self.fusion = fusion
        self.dof = dof
        self.n_passes = n_passes
        self.n_iter = n_iter
        self.tol = tol
        self.size_prior = size_prior

    def fit(self, answers: BoxAnswers) -> Self:
        """Learn from a long table ``task, worker, boxes`` (see :mod:`._input` for the rules)."""
        data = encode_boxes(answers)
        n_w = data.n_workers
        box_worker = data.box_worker
        priority = np.zeros(n_w)
        weights = np.ones(n_w)
        variance = np.ones(n_w)
        for _ in range(self.n_passes):
            box_cluster, cl_task = cluster_boxes(
                data, priority=priority, weights=weights, match_iou=self.match_iou
            )
            fit = fit_existence(
                cl_task=cl_task,
                box_cluster=box_cluster,
                box_worker=box_worker,
                answer_task=data.task,
                answer_worker=data.worker,
                n_tasks=data.n_tasks,
                n_workers=n_w,
                levels=self.difficulty_levels,
                shrinkage=self.shrinkage,
                n_iter=self.n_iter,
                tol=self.tol,
                size=cluster_size(data.boxes, box_cluster, len(cl_task)) if self.size_prior else None,
            )
            for _ in range(2):  # the weights enter the leave-one-out means: settle them
                variance = localisation_variance(
                    data.boxes, box_cluster, box_worker, weights[box_worker], fit.real, n_w, self.shrinkage
                )
                weights = (1.0 / variance) / np.mean(1.0 / variance)
            priority = variance
        bias = np.zeros((n_w, 4))
        if self.fusion == "robust":
            fused, bias = robust_fusion(
                data.boxes, box_cluster, box_worker, 1.0 / variance, fit.real, n_w,
                shrinkage=self.shrinkage, dof=self.dof,
            )
        else:
            fused = fuse_boxes(data.boxes, box_cluster, weights[box_worker], len(cl_task), self.fusion)
        kept = fit.real >= self.threshold
        self.boxes_ = boxes_series(data, fused[kept], cl_task[kept])
        self._store(data, fused, cl_task, box_cluster, fit.real, kept, fit.rates, fit.prior)
        self.localisation_ = pd.Series(np.sqrt(variance), index=self._workers(data), name="localisation")
        self.weights_ = pd.Series(weights, index=self._workers(data), name="weight")
        self.bias_ = pd.DataFrame(bias, index=self._workers(data), columns=["x1", "y1", "x2", "y2"])
        self.n_iter_ = fit.n_iter
        return self

    def fit_predict(self, answers: BoxAnswers) -> pd.Series:
        """Fit, then return each task's list of boxes (Series indexed by task; ``[]`` for none)."""
        return self.fit(answers).boxes_

    @staticmethod
    def _workers(data: EncodedBoxes) -> pd.Index:
        return data.workers.rename("worker")

    def _store(
        self,
        data: EncodedBoxes,
        fused: Floats,
        cl_task: Codes,
        box_cluster: Codes,
        real: Floats,
        kept: np.ndarray,
        rates: Floats,
        prior: Floats,
    ) -> None:
        workers = self._workers(data)
        self.clusters_ = pd.DataFrame(
            {
                "task": data.tasks.take(cl_task),
                "x1": fused[:, 0],
                "y1": fused[:, 1],
                "x2": fused[:, 2],
                "y2": fused[:, 3],
                "n_boxes": np.bincount(box_cluster, minlength=len(cl_task)),
                "p_real": real,
                "kept": kept,
            }
        )
        real_prior = prior[1:] / prior[1:].sum()
        self.recall_ = pd.Series(rates[:, 1:] @ real_prior, index=workers, name="recall")
        self.false_positive_rate_ = pd.Series(rates[:, 0], index=workers, name="false_positive_rate")
        n_boxes = np.bincount(data.box_worker, minlength=data.n_workers)
        share = np.bincount(data.box_worker, real[box_cluster], data.n_workers)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.precision_ = pd.Series(share / n_boxes, index=workers, name="precision")
        names = ["spurious"] + [f"real_{j}" for j in range(1, len(prior))]
        self.difficulty_prior_ = pd.Series(prior, index=pd.Index(names, name="class"), name="prior")


def default_box_aggregator() -> BoxAggregator:
    """The recommended box aggregator: :class:`BoxAggregator` with its defaults (see its docstring)."""
    return BoxAggregator()
