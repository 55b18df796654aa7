"""Track agreement over many videos: annotators against gold, annotators against each other, and an
aggregate against the truth, pooled as the reference libraries pool sequences (:class:`.TrackCounts`).

- :func:`track_gold_scores`: per annotator, MOTA, IDF1 and HOTA of their tracks against the gold
  tracks of the gold videos they answered;
- :func:`pairwise_track_agreement`: the crowd's agreement with itself, every ordered pair of answers on
  a video (IDF1 and HOTA are symmetric; MOTA is not, so both directions count);
- :func:`track_set_scores`: a Series of predicted track lists against a Series of true ones (the
  aggregate's quality, in the benchmark and the tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from labelloop.quality._input import is_missing
from labelloop.quality.tracks._input import TrackAnswers, to_track_frame
from labelloop.quality.tracks.metrics import TrackCounts, track_counts

COLUMNS = ("mota", "idf1", "idp", "idr", "hota", "deta", "assa", "switches", "mean_iou")


def _rows(answers: TrackAnswers) -> pd.DataFrame:
    frame = to_track_frame(answers)
    frame = frame[[not is_missing(v) for v in frame["tracks"]]]
    return frame.drop_duplicates(["task", "worker"], keep="last")


def track_set_scores(
    predicted: pd.Series | Mapping[Any, Any], truth: pd.Series | Mapping[Any, Any], *,
    iou_threshold: float = 0.5,
) -> dict[str, float]:
    """Pooled scores of the predicted tracks of every task in *truth* (a task missing from *predicted*
    counts as no track)."""
    pred, ref = pd.Series(predicted, dtype=object), pd.Series(truth, dtype=object)
    total = TrackCounts()
    for task, tracks in ref.items():
        mine = pred.get(task)
        total += track_counts(None if is_missing(mine) else mine, tracks, iou_threshold=iou_threshold)
    return total.scores()


def track_gold_scores(
    answers: TrackAnswers, gold: pd.Series | Mapping[Any, Any], *, iou_threshold: float = 0.5
) -> pd.DataFrame:
    """Per annotator with answers on gold videos: ``n_gold`` and their pooled scores (``COLUMNS``)."""
    ref = pd.Series(gold, dtype=object)
    rows = _rows(answers)
    rows = rows[rows["task"].isin(ref.index)]
    out: dict[Any, dict[str, float]] = {}
    for worker, group in rows.groupby("worker", sort=True):
        total = TrackCounts()
        for task, tracks in zip(group["task"], group["tracks"], strict=True):
            total += track_counts(tracks, ref[task], iou_threshold=iou_threshold)
        out[worker] = {"n_gold": float(len(group)), **total.scores()}
    frame = pd.DataFrame.from_dict(out, orient="index", columns=["n_gold", *COLUMNS])
    frame["n_gold"] = frame["n_gold"].astype(np.int64)
    return frame.rename_axis("worker")


def pairwise_track_agreement(answers: TrackAnswers, *, iou_threshold: float = 0.5) -> dict[str, float]:
    """The crowd's agreement: scores pooled over every ordered pair of answers on the same video (NaN
    when no video has two answers)."""
    rows = _rows(answers)
    total, pairs = TrackCounts(), 0
    for _, group in rows.groupby("task", sort=False):
        tracks = list(group["tracks"])
        for i, a in enumerate(tracks):
            for j, b in enumerate(tracks):
                if i != j:
                    total += track_counts(a, b, iou_threshold=iou_threshold)
                    pairs += 1
    if pairs == 0:
        return dict.fromkeys(COLUMNS, float("nan"))
    return total.scores()
