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

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labelloop.quality._input import AnswerCounts, answer_rows, sorted_rank, to_list_frame
from labelloop.quality._input import Codes as Codes
from labelloop.quality._input import Floats as Floats

BoxAnswers: TypeAlias = "pd.DataFrame | Mapping[str, Any]"

COLUMNS = ("task", "worker", "boxes")


@dataclass(frozen=True, eq=False)
class EncodedBoxes(AnswerCounts):
    """Answers as codes: answer i is ``(task[i], worker[i])``; box j is in answer ``answer[j]``."""

    task: Codes
    worker: Codes
    answer: Codes
    boxes: Floats
    tasks: pd.Index
    workers: pd.Index
    worker_rank: Codes  # position of each worker code in sorted id order

    @property
    def n_boxes(self) -> int:
        return int(self.boxes.shape[0])

    @property
    def box_task(self) -> Codes:
        return self.task[self.answer]

    @property
    def box_worker(self) -> Codes:
        return self.worker[self.answer]


def to_box_frame(answers: BoxAnswers) -> pd.DataFrame:
    """Check the shape of *answers* and return it as a DataFrame with the three columns."""
    return to_list_frame(answers, COLUMNS, "box answers")


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
    rows, task, worker, tasks, workers = answer_rows(
        frame, values, "box answers are empty: no row with a boxes value"
    )
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
    return EncodedBoxes(task, worker, answer, flat, tasks, workers, sorted_rank(workers))
