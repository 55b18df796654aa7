r"""Detection metrics and annotator scores for boxes: F1 at an IoU threshold, mean IoU, gold scores.

Matching. On each task, predicted and reference boxes are matched one-to-one by the Hungarian algorithm
(``scipy.optimize.linear_sum_assignment``) so as to make **as many pairs as possible with IoU at or
above the threshold**, and among those the largest total IoU (pair weight
:math:`1 + \mathrm{IoU}/(n+1)` when above the threshold, 0 otherwise, :math:`n` the smaller count: any
extra pair outweighs all the IoU tie-breaks). A matched pair is a true positive; unmatched predictions
are false positives, unmatched reference boxes false negatives.

F1 is **micro-averaged over tasks**: :math:`F_1 = 2\,TP / (2\,TP + FP + FN)` with the counts summed over
the reference's tasks (so an image with eight people weighs more than one with one; a task the
predictions lack counts as an empty prediction; predictions on tasks without a reference are
ignored). Mean IoU is over the matched pairs.

Annotator scores on gold: per annotator, precision :math:`TP/(TP+FP)` and recall :math:`TP/(TP+FN)`
over their answers on gold tasks, each with the Beta posterior's mean and equal-tailed credible interval
(prior Beta(1, 1)), as :func:`labelloop.quality.gold_accuracy` does for choices.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import linear_sum_assignment

from labelloop.quality.shapes._input import BoxAnswers, encode_boxes
from labelloop.quality.shapes.geometry import Floats, as_boxes, box_iou

BoxSets: TypeAlias = "pd.Series | Mapping[Hashable, Any]"


def match_boxes(pred: Any, ref: Any, *, iou_threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray, Floats]:
    """One-to-one matches of *pred* to *ref* boxes at the threshold: (pred indices, ref indices, IoUs)."""
    p, r = as_boxes(pred, "pred"), as_boxes(ref, "ref")
    empty = np.zeros(0, dtype=np.intp)
    if len(p) == 0 or len(r) == 0:
        return empty, empty, np.zeros(0)
    iou = box_iou(p, r)
    ok = iou >= iou_threshold
    if not ok.any():
        return empty, empty, np.zeros(0)
    n = min(iou.shape)
    weight = np.where(ok, 1.0 + iou / (n + 1), 0.0)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    hit = ok[rows, cols]
    return rows[hit], cols[hit], iou[rows[hit], cols[hit]]


def _as_series(boxes: BoxSets, name: str) -> pd.Series:
    if isinstance(boxes, pd.Series):
        return boxes
    if isinstance(boxes, Mapping):
        return pd.Series(dict(boxes), dtype=object)
    raise TypeError(f"{name} must be a Series or a mapping task -> boxes, got {type(boxes).__name__}")


def detection_counts(predictions: BoxSets, reference: BoxSets, *, iou_threshold: float = 0.5) -> pd.DataFrame:
    """Per reference task: ``tp``, ``fp``, ``fn`` and ``iou_sum`` (of the matched pairs)."""
    if not 0 < iou_threshold <= 1:
        raise ValueError("iou_threshold must be in (0, 1]")
    pred, ref = _as_series(predictions, "predictions"), _as_series(reference, "reference")
    rows = []
    for task, ref_boxes in ref.items():
        got = pred.get(task, [])
        got = [] if got is None or (isinstance(got, float) and got != got) else got
        p, r = as_boxes(got, f"predictions[{task!r}]"), as_boxes(ref_boxes, f"reference[{task!r}]")
        _, _, ious = match_boxes(p, r, iou_threshold=iou_threshold)
        tp = len(ious)
        rows.append((tp, len(p) - tp, len(r) - tp, float(ious.sum())))
    frame = pd.DataFrame(rows, columns=["tp", "fp", "fn", "iou_sum"], index=ref.index.rename("task"))
    return frame.astype({"tp": np.int64, "fp": np.int64, "fn": np.int64})


def _f1(tp: float, fp: float, fn: float) -> float:
    den = 2 * tp + fp + fn
    return float(2 * tp / den) if den else 1.0


def box_f1(predictions: BoxSets, reference: BoxSets, *, iou_threshold: float = 0.5) -> float:
    """Micro-averaged F1 of *predictions* against *reference* at the IoU threshold (1.0 if both are empty)."""
    c = detection_counts(predictions, reference, iou_threshold=iou_threshold).sum()
    return _f1(c["tp"], c["fp"], c["fn"])


def detection_scores(
    predictions: BoxSets, reference: BoxSets, *, thresholds: Iterable[float] = (0.5, 0.75)
) -> pd.DataFrame:
    """Per IoU threshold: ``precision``, ``recall``, ``f1`` (micro), ``mean_iou`` of the matches, counts."""
    rows = {}
    for thr in thresholds:
        c = detection_counts(predictions, reference, iou_threshold=thr).sum()
        tp, fp, fn = int(c["tp"]), int(c["fp"]), int(c["fn"])
        rows[thr] = {
            "precision": tp / (tp + fp) if tp + fp else np.nan,
            "recall": tp / (tp + fn) if tp + fn else np.nan,
            "f1": _f1(tp, fp, fn),
            "mean_iou": c["iou_sum"] / tp if tp else np.nan,
            "tp": tp,
            "fp": fp,
            "fn": fn,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("iou_threshold")


def _beta_columns(
    prefix: str, hits: Floats, n: Floats, prior: tuple[float, float], credibility: float
) -> dict[str, Floats]:
    a, b = prior[0] + hits, prior[1] + n - hits
    tail = (1 - credibility) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(n > 0, hits / np.where(n > 0, n, 1), np.nan)
    return {
        prefix: raw,
        f"{prefix}_mean": a / (a + b),
        f"{prefix}_low": stats.beta.ppf(tail, a, b),
        f"{prefix}_high": stats.beta.ppf(1 - tail, a, b),
    }


def box_gold_scores(
    answers: BoxAnswers,
    gold: BoxSets,
    *,
    iou_threshold: float = 0.5,
    prior: tuple[float, float] = (1.0, 1.0),
    credibility: float = 0.95,
) -> pd.DataFrame:
    """Per annotator with answers on gold tasks: precision and recall against the gold boxes.

    Columns: ``n_gold`` (gold tasks answered), ``tp``, ``fp``, ``fn``, ``precision`` (raw),
    ``precision_mean``/``_low``/``_high`` (Beta posterior), the same four for ``recall``, ``f1`` and
    ``mean_iou`` of their matched boxes.
    """
    if prior[0] <= 0 or prior[1] <= 0:
        raise ValueError("prior parameters must be > 0")
    if not 0 < credibility < 1:
        raise ValueError("credibility must be in (0, 1)")
    data = encode_boxes(answers)
    ref = _as_series(gold, "gold")
    on_gold = np.flatnonzero(data.tasks.isin(ref.index)[data.task])
    counts = np.zeros((data.n_workers, 4))
    n_gold = np.zeros(data.n_workers)
    box_rows = pd.Series(np.arange(data.n_boxes)).groupby(data.answer).indices
    empty = np.zeros(0, dtype=np.intp)
    for i in on_gold:
        task, worker = data.tasks[data.task[i]], data.worker[i]
        mine = data.boxes[box_rows.get(i, empty)]
        _, _, ious = match_boxes(mine, ref[task], iou_threshold=iou_threshold)
        n_ref = len(as_boxes(ref[task]))
        counts[worker] += (len(ious), len(mine) - len(ious), n_ref - len(ious), ious.sum())
        n_gold[worker] += 1
    seen = n_gold > 0
    tp, fp, fn, iou_sum = (counts[seen, j] for j in range(4))
    columns: dict[str, Any] = {
        "n_gold": n_gold[seen].astype(np.int64),
        "tp": tp.astype(np.int64),
        "fp": fp.astype(np.int64),
        "fn": fn.astype(np.int64),
    }
    columns.update(_beta_columns("precision", tp, tp + fp, prior, credibility))
    columns.update(_beta_columns("recall", tp, tp + fn, prior, credibility))
    with np.errstate(invalid="ignore", divide="ignore"):
        columns["f1"] = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 1.0)
        columns["mean_iou"] = np.where(tp > 0, iou_sum / np.where(tp > 0, tp, 1), np.nan)
    return pd.DataFrame(columns, index=data.workers[seen].rename("worker"))


def pairwise_box_agreement(answers: BoxAnswers, *, iou_threshold: float = 0.5) -> float:
    """Agreement of annotators with each other: micro F1 over every pair of answers on the same task
    (one answer as the reference, the other as the prediction; F1 is symmetric). NaN with no pairs."""
    data = encode_boxes(answers)
    tp = fp_fn = 0.0
    by_task = pd.Series(np.arange(data.n_answers)).groupby(data.task).indices
    box_rows = pd.Series(np.arange(data.n_boxes)).groupby(data.answer).indices
    empty = np.zeros(0, dtype=np.intp)
    for rows in by_task.values():
        for x in range(len(rows)):
            bx = data.boxes[box_rows.get(rows[x], empty)]
            for y in range(x + 1, len(rows)):
                by = data.boxes[box_rows.get(rows[y], empty)]
                _, _, ious = match_boxes(bx, by, iou_threshold=iou_threshold)
                tp += len(ious)
                fp_fn += len(bx) + len(by) - 2 * len(ious)
    if tp + fp_fn == 0:
        pairs = sum(len(r) * (len(r) - 1) // 2 for r in by_task.values())
        return 1.0 if pairs else float("nan")
    return float(2 * tp / (2 * tp + fp_fn))
