"""Where the box aggregator's errors at IoU 0.5 come from, and what F1-optimal decision rules change.

Part of ``make bench-images`` (bench/images.py, measurement ``box_errors``); docs/quality.md ("Shapes")
reads the figures. On the real pedestrians (expert boxes on 467 images) every expert box the default
aggregator misses and every box it keeps wrongly is put in one class:

- missed expert boxes: ``no_worker_box`` (no single worker box reaches IoU 0.5 with it: the crowd did not
  draw it, or drew it too loosely), ``dropped`` (a cluster reaching IoU 0.5 exists but was dropped),
  ``fusion`` (some worker box reaches 0.5, no cluster box does, or the one that does went to another
  expert box);
- wrongly kept clusters: ``duplicate`` (IoU >= 0.5 with an expert box another cluster matched: one person
  split in two), ``localisation`` (IoU >= 0.2 with an expert box left unmatched: the right person, the
  box too far off), ``no_object`` (the rest); and by the cluster's number of boxes;
- the fused box's width and height over the expert's, by the expert box's height, on pairs at IoU >= 0.2.

Decision rules, on the same clusters and posteriors (Branson, and simulated crowds of several regimes
and seeds):

- ``threshold``: keep when P(real) >= 0.5 (the default: the Bayes rule for accuracy);
- ``plugin``: the F1-optimal plug-in rule for a corpus (Ye, Chai, Lee & Chieu, "Optimizing F-measures:
  a tale of two approaches", ICML 2012; Lipton, Elkan & Naryanaswamy, ECML PKDD 2014: the optimal
  threshold is F*/2): sort the clusters by P(real) and keep the top k maximising the expected F1
  ``2 sum_{i<=k} p_i / (k + sum_i p_i)``, one k over the whole set;
- ``plugin_loc``: the same with P(true positive) = P(real) * P(an independent box of the object reaches
  IoU 0.5 with the fused box), the latter estimated per cluster from its members: each member against
  the weighted mean of the others, a hit when their IoU is >= 0.5, the hit rate shrunk towards the
  crowd's with 2 pseudo-boxes (the aggregator's ``shrinkage``); a kept real cluster whose box misses the
  expert's costs a false positive *and* leaves the miss, so it pays to keep it only when that is likely
  enough;
- ``plugin_per_image``: the same rule on each image alone (it maximises the mean of per-image F1s, not
  the F1 over the set that the benchmark reports);
- ``oracle``: keep exactly the clusters that match an expert box (an upper bound for any keep/drop rule
  on these clusters).

And one variant of the fusion (:func:`pixel_margin_fusion`, tried under each rule): each annotator's
habitual offset per edge is a share of the box's size *plus a margin in pixels*,
``b = f + s * beta_w + alpha_w`` (an annotator who draws a few pixels outside every person makes small
boxes relatively looser), both learned like the default's offsets (weighted least squares on the
residuals, the shrinkage's pseudo-boxes at no offset for an infinitely large box, so they pull on
``beta`` only, both centred on the precision-weighted annotator).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd

from labelloop.quality.shapes import BoxAggregator, box_f1, box_iou, fusion, match_boxes, paired_box_iou
from labelloop.quality.shapes import boxes as boxes_module
from labelloop.quality.shapes._input import encode_boxes
from labelloop.quality.shapes.matching import cluster_boxes
from labelloop.quality.shapes.simulate import simulate_box_crowd

COORDS = ["x1", "y1", "x2", "y2"]
OVERLAP = 0.2  # "overlaps": IoU at which a wrong box is counted as the right person badly placed
SIM_REGIMES: dict[str, dict[str, Any]] = {
    "default": {},
    "size_skill": {"size_skill": 0.7},
    "loose": {"loose": 0.05},
    "recall_free_of_size": {"visibility": (1.0, 12.0, 120.0)},
    "three_per_image": {"per_task": 3},
    "hard_small_strays": {"visibility": (0.1, 12.0, 120.0), "false_height": 20.0},
}
SIM_SEEDS = (0, 1, 2)
RULES = ("threshold", "plugin", "plugin_loc", "plugin_per_image")


def _boxes(frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(frame[COORDS].to_numpy(dtype=np.float64).reshape(-1, 4))


def error_classes(model: BoxAggregator, answers: pd.DataFrame, gold: pd.Series) -> dict[str, Any]:
    """The classes of the module docstring for a fitted *model*."""
    clusters = model.clusters_
    by_task = dict(tuple(clusters.groupby("task", sort=False)))
    worker_boxes = answers.groupby("task")["boxes"].agg(lambda rows: [b for r in rows for b in r])
    missed = {"no_worker_box": 0, "dropped": 0, "fusion": 0}
    wrong = {"duplicate": 0, "localisation": 0, "no_object": 0}
    wrong_by_size: dict[int, int] = {}
    ratios = []
    n_tp = 0
    for task, expert in gold.items():
        ref = np.asarray(expert, dtype=np.float64).reshape(-1, 4)
        frame = by_task.get(task, clusters.iloc[:0])
        kept, dropped = frame[frame["kept"]], frame[~frame["kept"]]
        pred = _boxes(kept)
        hit_p, hit_r, _ = match_boxes(pred, ref)
        n_tp += len(hit_p)
        iou = box_iou(pred, ref) if len(pred) and len(ref) else np.zeros((len(pred), len(ref)))
        free = np.setdiff1d(np.arange(len(ref)), hit_r)
        crowd = np.asarray(worker_boxes.get(task, []), dtype=np.float64).reshape(-1, 4)
        for j in free:
            if not len(crowd) or box_iou(crowd, ref[j : j + 1]).max() < 0.5:
                missed["no_worker_box"] += 1
            elif len(dropped) and box_iou(_boxes(dropped), ref[j : j + 1]).max() >= 0.5:
                missed["dropped"] += 1
            else:
                missed["fusion"] += 1
        for i in np.setdiff1d(np.arange(len(pred)), hit_p):
            row = iou[i] if len(ref) else np.zeros(0)
            if len(hit_r) and row[hit_r].max() >= 0.5:
                wrong["duplicate"] += 1
            elif len(free) and row[free].max() >= OVERLAP:
                wrong["localisation"] += 1
            else:
                wrong["no_object"] += 1
            size = int(kept["n_boxes"].iloc[i])
            wrong_by_size[size] = wrong_by_size.get(size, 0) + 1
        for i in range(len(pred)):
            j = int(iou[i].argmax()) if len(ref) else -1
            if j >= 0 and iou[i, j] >= OVERLAP:
                h = ref[j, 3] - ref[j, 1]
                ratios.append((h, (pred[i, 2] - pred[i, 0]) / max(ref[j, 2] - ref[j, 0], 1e-9),
                               (pred[i, 3] - pred[i, 1]) / max(h, 1e-9), iou[i, j]))
    pairs = pd.DataFrame(ratios, columns=["height", "width_ratio", "height_ratio", "iou"])
    bins = pd.cut(pairs["height"], [0, 40, 100, np.inf], labels=["<=40 px", "40-100 px", ">100 px"])
    by_height = pairs.groupby(bins, observed=True).agg(
        pairs=("iou", "size"), width_ratio=("width_ratio", "median"), height_ratio=("height_ratio", "median"),
        median_iou=("iou", "median"), below_050=("iou", lambda s: int((s < 0.5).sum())),
    )
    return {
        "expert_boxes": int(sum(len(b) for b in gold)),
        "true_positives": n_tp,
        "missed": missed,
        "wrongly_kept": wrong,
        "wrongly_kept_by_cluster_size": dict(sorted(wrong_by_size.items())),
        "fused_over_expert_by_height": by_height.round(3).to_dict(orient="index"),
    }


def localisation_probability(
    model: BoxAggregator, answers: pd.DataFrame, shrinkage: float = 2.0
) -> np.ndarray:
    """Per cluster of *model* (fitted with one pass), the shrunk rate at which its members reach IoU 0.5
    with the weighted mean of the others (module docstring); the crowd's rate for singletons."""
    if model.n_passes != 1:
        raise ValueError("the clusters are rebuilt as the first pass builds them: n_passes=1 only")
    data = encode_boxes(answers)
    n_w = data.n_workers
    box_cluster, cl_task = cluster_boxes(
        data, priority=np.zeros(n_w), weights=np.ones(n_w), match_iou=model.match_iou
    )
    m = len(cl_task)
    if m != len(model.clusters_):
        raise RuntimeError("rebuilt clusters differ from the model's")
    boxes = data.boxes
    weight = model.weights_.to_numpy()[data.box_worker]
    sums = np.stack([np.bincount(box_cluster, weight * boxes[:, j], m) for j in range(4)], axis=1)
    total = np.bincount(box_cluster, weight, m)
    rest = np.maximum(total[box_cluster] - weight, 1e-12)
    others = (sums[box_cluster] - weight[:, None] * boxes) / rest[:, None]  # the others' weighted mean
    pair = np.bincount(box_cluster, minlength=m)[box_cluster] >= 2
    hit = pair & (paired_box_iou(boxes, others) >= 0.5)
    hits, tries = np.bincount(box_cluster, hit, m), np.bincount(box_cluster, pair, m)
    real = model.clusters_["p_real"].to_numpy()
    pooled = float((real * hits).sum() / max((real * tries).sum(), 1e-12))
    return np.asarray((hits + shrinkage * pooled) / (tries + shrinkage), dtype=np.float64)


def plugin_keep(score: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Keep the top k clusters by *score* (P(true positive)), k maximising
    ``2 sum_top_k score / (k + sum real)``."""
    keep = np.zeros(len(score), dtype=bool)
    if not len(score):
        return keep
    order = np.argsort(-score, kind="stable")
    expected = 2 * np.cumsum(score[order]) / (np.arange(1, len(score) + 1) + real.sum())
    keep[order[: int(expected.argmax()) + 1]] = True
    return keep


def plugin_keep_per_image(score: np.ndarray, real: np.ndarray, task: np.ndarray) -> np.ndarray:
    """:func:`plugin_keep` on each image alone (keeping nothing scores ``prod(1 - real)``: the chance
    that the image is empty, where F1 is 1)."""
    keep = np.zeros(len(score), dtype=bool)
    for rows in pd.Series(np.arange(len(task))).groupby(task).indices.values():
        order = rows[np.argsort(-score[rows], kind="stable")]
        expected = 2 * np.cumsum(score[order]) / (np.arange(1, len(order) + 1) + real[rows].sum())
        if expected.max() > np.prod(1 - real[rows]):
            keep[order[: int(expected.argmax()) + 1]] = True
    return keep


def rule_f1(
    model: BoxAggregator, answers: pd.DataFrame, truth: pd.Series, thresholds: tuple[float, ...] = (0.5, 0.75)
) -> dict[str, tuple[float, ...]]:
    """F1 at each IoU threshold of each decision rule on *model*'s clusters (fitted on *answers*)."""
    clusters = model.clusters_
    real = clusters["p_real"].to_numpy()
    keeps = {
        "threshold": real >= model.threshold,
        "plugin": plugin_keep(real, real),
        "plugin_loc": plugin_keep(real * localisation_probability(model, answers), real),
        "plugin_per_image": plugin_keep_per_image(real, real, clusters["task"].to_numpy()),
    }
    out = {}
    for name, keep in keeps.items():
        chosen = clusters[keep]
        pred = pd.Series({t: _boxes(g).tolist() for t, g in chosen.groupby("task", sort=False)}, dtype=object)
        out[name] = tuple(box_f1(pred, truth, iou_threshold=t) for t in thresholds)
    return out


def oracle_f1(model: BoxAggregator, gold: pd.Series) -> float:
    """F1 at IoU 0.5 when exactly the clusters that match an expert box are kept."""
    clusters = model.clusters_
    chosen = {}
    for task, expert in gold.items():
        frame = clusters[clusters["task"] == task]
        boxes = _boxes(frame)
        hit, _, _ = match_boxes(boxes, expert)
        chosen[task] = boxes[hit].tolist()
    return box_f1(pd.Series(chosen, dtype=object), gold)


def simulated_rules(n_tasks: int = 1500) -> dict[str, dict[str, float]]:
    """Per simulated regime, the mean over ``SIM_SEEDS`` of each rule's F1 at IoU 0.5, and with the
    pixel-margin fusion (``margin_*``) at IoU 0.5 and 0.75 beside the default's at 0.75."""
    out = {}
    for regime, settings in SIM_REGIMES.items():
        scores: dict[str, list[float]] = {}
        for seed in SIM_SEEDS:
            answers, truth = simulate_box_crowd(n_tasks=n_tasks, n_workers=40, seed=seed, **settings)
            plain = rule_f1(BoxAggregator().fit(answers), answers, truth)
            with pixel_margins():
                model = BoxAggregator().fit(answers)
            margin = rule_f1(model, answers, truth)
            for rule in RULES:
                scores.setdefault(rule, []).append(plain[rule][0])
            scores.setdefault("threshold_075", []).append(plain["threshold"][1])
            for rule in ("threshold", "plugin_loc"):
                scores.setdefault(f"margin_{rule}", []).append(margin[rule][0])
                scores.setdefault(f"margin_{rule}_075", []).append(margin[rule][1])
        out[regime] = {rule: float(np.mean(v)) for rule, v in scores.items()}
    return out

def pixel_margin_fusion(
    boxes: np.ndarray, cluster: np.ndarray, worker: np.ndarray, precision: np.ndarray, real: np.ndarray,
    n_workers: int, *, shrinkage: float, dof: float, n_iter: int = 20, tol: float = 1e-3,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`labelloop.quality.shapes.fusion.robust_fusion` with an offset per edge of
    ``beta_w * size + alpha_w`` pixels instead of ``beta_w * size`` (module docstring); returns the
    fused boxes and ``beta``."""
    n_clusters = len(real)
    box_precision = precision[worker]
    fused = fusion.weighted_mean(boxes, cluster, box_precision, n_clusters)
    beta = np.zeros((n_workers, 4))
    in_pair = np.bincount(cluster, minlength=n_clusters)[cluster] >= 2
    if not in_pair.any():
        return fused, beta
    informative = in_pair * real[cluster]
    u = np.ones(len(boxes))
    anchor = precision / max(float(precision.sum()), 1e-12)
    noise = 1.0 / box_precision
    for _ in range(n_iter):
        around = fused[cluster]
        scale = fusion._scale(around)
        residual, inverse = (boxes - around) / scale, 1.0 / scale
        weight = informative * u
        offset = np.zeros_like(boxes)
        for j in range(4):  # per worker, residual = beta + alpha / size: a 2x2 weighted least squares
            x, y = inverse[:, j], residual[:, j]
            s1 = np.bincount(worker, weight, n_workers) + shrinkage
            sx, sy = np.bincount(worker, weight * x, n_workers), np.bincount(worker, weight * y, n_workers)
            sxx = np.bincount(worker, weight * x * x, n_workers)
            sxy = np.bincount(worker, weight * x * y, n_workers)
            det = np.maximum(s1 * sxx - sx * sx, 1e-12)
            b = (sxx * sy - sx * sxy) / det
            a = (s1 * sxy - sx * sy) / det
            b, a = b - anchor @ b, a - anchor @ a
            beta[:, j] = b
            offset[:, j] = (b[worker] + a[worker] * x) * scale[:, j]
        corrected = boxes - offset
        err = (((corrected - around) / scale) ** 2).sum(axis=1)
        if np.isfinite(dof):
            c = float((weight * err).sum()) / max(float((weight * noise).sum()) * 4, 1e-12)
            u = (dof + 4) / (dof + err / np.maximum(c * noise, 1e-12))
        previous, fused = fused, fusion.weighted_mean(corrected, cluster, box_precision * u, n_clusters)
        if np.nanmax(np.abs(fused - previous) / fusion._scale(previous), initial=0.0) < tol:
            break
    return fused, beta


@contextmanager
def pixel_margins() -> Iterator[None]:
    """Within the block, :class:`BoxAggregator` fuses with :func:`pixel_margin_fusion`."""
    with mock.patch.object(boxes_module, "robust_fusion", pixel_margin_fusion):
        yield


def margin_rules(answers: pd.DataFrame, truth: pd.Series) -> dict[str, tuple[float, ...]]:
    """:func:`rule_f1` with the pixel-margin fusion."""
    with pixel_margins():
        model = BoxAggregator().fit(answers)
    return rule_f1(model, answers, truth)
