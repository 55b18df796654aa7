r"""Aggregating several annotators' keypoints of one object: weighted median per point, OKS agreement.

Input: a long table ``task, worker, points`` where ``points`` maps each keypoint name to
``[x, y, v]`` (``docs/images.md``; v: 0 not labelled, 1 labelled but hidden, 2 visible), one object per
task (for several objects on an image, match them first, e.g. by their boxes, and make each object a
task).

Per task and point name, over the annotators who labelled it (v > 0): the point is kept when the
weighted share of annotators who labelled it is at least one half; its position is the weighted
median of x and of y (robust to one annotator who clicked the wrong joint); its visibility is 2 when
the weighted majority of those who labelled it said visible, else 1. Weights are each annotator's mean
object keypoint similarity (OKS, :func:`labelloop.quality.shapes.geometry.oks`) with the consensus
over their tasks, learned by alternating the two steps (``n_iter`` times, starting from equal weights),
with ``shrinkage`` pseudo-tasks at the crowd's mean OKS. The OKS scale :math:`s^2` is the area of the
consensus points' bounding box; sigmas are COCO's for COCO's names, ``default_sigma`` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import numpy as np
import pandas as pd

from labelloop.quality.shapes.fusion import weighted_median
from labelloop.quality.shapes.geometry import DEFAULT_SIGMA, keypoint_sigmas, oks


def _encode(answers: pd.DataFrame | Mapping[str, Any]) -> tuple[pd.DataFrame, list[str]]:
    frame = (
        answers
        if isinstance(answers, pd.DataFrame)
        else pd.DataFrame({k: list(v) for k, v in answers.items()})
    )
    missing = [c for c in ("task", "worker", "points") if c not in frame.columns]
    if missing:
        raise ValueError(f"keypoint answers lack column(s) {missing}; they have {list(frame.columns)}")
    frame = frame[frame["points"].notna()].drop_duplicates(["task", "worker"], keep="last")
    if frame.empty:
        raise ValueError("keypoint answers are empty: no row with points")
    rows = []
    for pos, (task, worker, points) in enumerate(
        zip(frame["task"], frame["worker"], frame["points"], strict=True)
    ):
        if not isinstance(points, Mapping):
            raise ValueError(
                f"row {frame.index[pos]!r} (task {task!r}, worker {worker!r}): "
                "points must map names to [x, y, v]"
            )
        for name, value in points.items():
            arr = np.asarray(value, dtype=np.float64)
            if arr.shape != (3,) or not np.isfinite(arr).all() or arr[2] not in (0, 1, 2):
                raise ValueError(
                    f"row {frame.index[pos]!r} (task {task!r}, worker {worker!r}): points[{name!r}] must be "
                    f"[x, y, v] with v in 0, 1, 2; got {value!r}"
                )
            rows.append((task, worker, str(name), arr[0], arr[1], arr[2]))
    long = pd.DataFrame(rows, columns=["task", "worker", "name", "x", "y", "v"])
    names = sorted(long["name"].unique())
    return frame.loc[:, ["task", "worker"]].merge(long, how="left", on=["task", "worker"]), names


class KeypointAggregator:
    """Keypoints from several annotators -> one set per task (see the module docstring).

    Learned: ``points_`` (Series task -> {name: [x, y, v]}), ``weights_`` and ``oks_`` (Series per
    worker: fusion weight, mean OKS with the consensus).
    """

    points_: pd.Series
    weights_: pd.Series
    oks_: pd.Series

    def __init__(
        self, *, n_iter: int = 3, shrinkage: float = 2.0, default_sigma: float = DEFAULT_SIGMA
    ) -> None:
        if n_iter < 1 or shrinkage < 0 or default_sigma <= 0:
            raise ValueError("n_iter must be >= 1, shrinkage >= 0 and default_sigma > 0")
        self.n_iter = n_iter
        self.shrinkage = shrinkage
        self.default_sigma = default_sigma

    def fit(self, answers: pd.DataFrame | Mapping[str, Any]) -> Self:
        frame, names = _encode(answers)
        answered = frame.drop_duplicates(["task", "worker"])
        tasks = pd.Index(answered["task"].unique(), name="task")
        workers = pd.Index(answered["worker"].unique(), name="worker")
        pts = frame.dropna(subset=["name"])
        t_code, w_code = tasks.get_indexer(pts["task"]), workers.get_indexer(pts["worker"])
        n_code = pd.Index(names).get_indexer(pts["name"])
        x, y, v = (pts[c].to_numpy(dtype=np.float64) for c in ("x", "y", "v"))
        group = t_code * len(names) + n_code
        n_groups = len(tasks) * len(names)
        a_task, a_worker = tasks.get_indexer(answered["task"]), workers.get_indexer(answered["worker"])
        weights = np.ones(len(workers))
        sigmas = keypoint_sigmas(names, self.default_sigma)
        for _ in range(self.n_iter):
            consensus = self._consensus(
                group, n_groups, x, y, v, w_code, weights, a_task, a_worker, len(names)
            )
            score = self._scores(
                consensus, t_code, w_code, n_code, x, y, v, a_task, a_worker, sigmas, len(workers)
            )
            weights = np.maximum(score, 1e-3)
        self.oks_ = pd.Series(score, index=workers, name="oks")
        self.weights_ = pd.Series(weights / weights.mean(), index=workers, name="weight")
        values = []
        for t in range(len(tasks)):
            block = consensus[t]
            values.append({names[j]: block[j].tolist() for j in range(len(names)) if block[j, 2] > 0})
        self.points_ = pd.Series(values, index=tasks, name="points", dtype=object)
        return self

    def fit_predict(self, answers: pd.DataFrame | Mapping[str, Any]) -> pd.Series:
        return self.fit(answers).points_

    @staticmethod
    def _consensus(
        group: np.ndarray,
        n_groups: int,
        x: np.ndarray,
        y: np.ndarray,
        v: np.ndarray,
        w_code: np.ndarray,
        weights: np.ndarray,
        a_task: np.ndarray,
        a_worker: np.ndarray,
        k: int,
    ) -> np.ndarray:
        """``(n_tasks, k, 3)``: per task and point, [x, y, v] (v = 0: not kept)."""
        n_tasks = n_groups // k if k else 0
        labelled = v > 0
        w = weights[w_code]
        pos = weighted_median(np.stack([x, y], axis=1)[labelled], group[labelled], w[labelled], n_groups)
        share_in = np.bincount(group[labelled], w[labelled], n_groups)
        task_weight = np.bincount(a_task, weights[a_worker], n_tasks)
        visible = np.bincount(group[v == 2], w[v == 2], n_groups)
        kept = share_in >= 0.5 * np.repeat(task_weight, k) - 1e-12
        out = np.zeros((n_groups, 3))
        out[kept, :2] = pos[kept]
        out[kept, 2] = np.where(visible[kept] * 2 >= share_in[kept], 2.0, 1.0)
        return out.reshape(n_tasks, k, 3)

    def _scores(
        self,
        consensus: np.ndarray,
        t_code: np.ndarray,
        w_code: np.ndarray,
        n_code: np.ndarray,
        x: np.ndarray,
        y: np.ndarray,
        v: np.ndarray,
        a_task: np.ndarray,
        a_worker: np.ndarray,
        sigmas: np.ndarray,
        n_workers: int,
    ) -> np.ndarray:
        """Per worker, the mean OKS of their answers against the consensus, shrunk to the crowd's mean."""
        k = consensus.shape[1]
        mine = np.full((len(a_task), k, 3), np.nan)
        mine[..., 2] = 0
        answer_of = pd.MultiIndex.from_arrays([a_task, a_worker]).get_indexer(
            pd.MultiIndex.from_arrays([t_code, w_code])
        )
        mine[answer_of, n_code] = np.stack([x, y, v], axis=1)
        mine[mine[..., 2] == 0, :2] = np.nan
        total = np.zeros(n_workers)
        count = np.zeros(n_workers)
        for i in range(len(a_task)):
            ref = consensus[a_task[i]]
            if not (ref[:, 2] > 0).any():
                continue
            total[a_worker[i]] += oks(mine[i], ref, sigmas=sigmas)
            count[a_worker[i]] += 1
        pooled = total.sum() / count.sum() if count.sum() else 1.0
        return np.asarray((total + self.shrinkage * pooled) / (count + self.shrinkage), dtype=np.float64)
