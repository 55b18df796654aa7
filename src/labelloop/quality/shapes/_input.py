"""Input checking and flattening of long box tables, done once at the boundary.

Box aggregators accept a :class:`pandas.DataFrame` (or a mapping of equally long columns) with columns
``task``, ``worker``, ``boxes``: each ``boxes`` value is a list of ``[x1, y1, x2, y2]`` in pixels
(``docs/images.md``), possibly empty ("nothing here" is an answer). The rules follow
:mod:`labelloop.quality._input`:

1. a row whose ``boxes`` is missing (``None``/``NaN``) is no answer and is dropped; an empty list stays;
2. a missing ``task`` or ``worker`` id is an error;
3. duplicate ``(task, worker)`` rows: the last row wins;
4. nothing left is an error;
5. every box must be four finite numbers with ``x1 <= x2`` and ``y1 <= y2``; the first bad box is
   named by its row, task, worker and position (``row 12 (task 'a', worker 'w3'): boxes[1] ...``).
   A zero-area box (a click rather than a drag: real crowds have them) is accepted; it overlaps
   nothing, so it only ever forms a cluster of its own.

Tasks and workers are encoded in order of first appearance; :attr:`EncodedBoxes.worker_rank` also
gives each worker's position in sorted id order, so that results never depend on the order of rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import NDArray

Codes: TypeAlias = NDArray[np.intp]
Floats: TypeAlias = NDArray[np.float64]
BoxAnswers: TypeAlias = "pd.DataFrame | Mapping[str, Any]"

COLUMNS = ("task", "worker", "boxes")


@dataclass(frozen=True, eq=False)
class EncodedBoxes:
    """Answers as codes: answer i is ``(task[i], worker[i])``; box j is in answer ``answer[j]``."""

    task: Codes
    worker: Codes
    answer: Codes
    boxes: Floats
    tasks: pd.Index
    workers: pd.Index
    worker_rank: Codes  # position of each worker code in sorted id order

    @property
    def n_answers(self) -> int:
        return int(self.task.shape[0])

    @property
    def n_boxes(self) -> int:
        return int(self.boxes.shape[0])

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    @property
    def n_workers(self) -> int:
        return len(self.workers)

    @property
    def box_task(self) -> Codes:
        return self.task[self.answer]

    @property
    def box_worker(self) -> Codes:
        return self.worker[self.answer]


def to_box_frame(answers: BoxAnswers) -> pd.DataFrame:
    """Check the shape of *answers* and return it as a DataFrame with the three columns."""
    if isinstance(answers, pd.DataFrame):
        frame = answers
    elif isinstance(answers, Mapping):
        frame = pd.DataFrame({key: list(answers[key]) for key in answers})
    else:
        raise TypeError(
            "box answers must be a DataFrame with columns task, worker, boxes or a mapping with those keys; "
            f"got {type(answers).__name__}"
        )
    missing = [col for col in COLUMNS if col not in frame.columns]
    if missing:
        raise ValueError(f"box answers lack column(s) {missing}; they have {list(frame.columns)}")
    return frame


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and value != value


def _factorize(values: pd.Series) -> tuple[Codes, pd.Index]:
    codes, uniques = pd.factorize(values, sort=False)
    return codes.astype(np.intp, copy=False), pd.Index(uniques)


def _sorted_rank(index: pd.Index) -> Codes:
    """Rank of each id in sorted order (first appearance when ids are not orderable)."""
    rank = np.arange(len(index), dtype=np.intp)
    with contextlib.suppress(TypeError):
        order = np.argsort(index.to_numpy(), kind="stable")
        rank[order] = np.arange(len(index), dtype=np.intp)
    return rank


def _bad_box(frame: pd.DataFrame, rows: NDArray[np.intp], values: list[Any]) -> ValueError:
    """The error naming the first box that is not four finite, ordered numbers."""
    for pos, value in zip(rows, values, strict=True):
        where = (
            f"row {frame.index[pos]!r} (task {frame['task'].iat[pos]!r}, worker {frame['worker'].iat[pos]!r})"
        )
        try:
            items = list(value)
        except TypeError:
            return ValueError(f"{where}: boxes must be a list of [x1, y1, x2, y2], got {value!r}")
        for j, box in enumerate(items):
            try:
                arr = np.asarray(box, dtype=np.float64)
            except (TypeError, ValueError):
                return ValueError(f"{where}: boxes[{j}] must be [x1, y1, x2, y2] numbers, got {box!r}")
            if arr.shape != (4,):
                return ValueError(f"{where}: boxes[{j}] must be [x1, y1, x2, y2], got {box!r}")
            if not np.isfinite(arr).all():
                return ValueError(f"{where}: boxes[{j}] has a non-finite coordinate: {box!r}")
            if not (arr[0] <= arr[2] and arr[1] <= arr[3]):
                return ValueError(f"{where}: boxes[{j}] needs x1 <= x2 and y1 <= y2, got {box!r}")
    return ValueError("boxes must be lists of [x1, y1, x2, y2]")


def encode_boxes(answers: BoxAnswers) -> EncodedBoxes:
    """Validate and encode box answers (see the module docstring for the rules)."""
    frame = to_box_frame(answers)
    values = frame["boxes"].tolist()
    present = np.fromiter((not _is_missing(v) for v in values), dtype=bool, count=len(values))
    rows = np.flatnonzero(present)
    if len(rows) == 0:
        raise ValueError("box answers are empty: no row with a boxes value")
    for name in ("task", "worker"):
        if frame[name].iloc[rows].isna().any():
            raise ValueError(f"column {name!r} has missing ids")
    task, tasks = _factorize(frame["task"].iloc[rows])
    worker, workers = _factorize(frame["worker"].iloc[rows])
    key = pd.Series(task.astype(np.int64) * len(workers) + worker, copy=False)
    last = ~key.duplicated(keep="last").to_numpy()
    if not last.all():
        rows, task, worker = rows[last], task[last], worker[last]
    kept = [values[i] for i in rows]
    try:
        lengths = np.fromiter(map(len, kept), dtype=np.intp, count=len(kept))
        flat = np.array(list(chain.from_iterable(kept)), dtype=np.float64)
    except (TypeError, ValueError):
        raise _bad_box(frame, rows, kept) from None
    if flat.size == 0:
        flat = flat.reshape(0, 4)
    ok = flat.ndim == 2 and flat.shape[1] == 4 and flat.shape[0] == lengths.sum()
    if ok:
        ok = bool(
            np.isfinite(flat).all() and (flat[:, 0] <= flat[:, 2]).all() and (flat[:, 1] <= flat[:, 3]).all()
        )
    if not ok:
        raise _bad_box(frame, rows, kept)
    answer = np.repeat(np.arange(len(kept), dtype=np.intp), lengths)
    return EncodedBoxes(task, worker, answer, flat, tasks, workers, _sorted_rank(workers))
