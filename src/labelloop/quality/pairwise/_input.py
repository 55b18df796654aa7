"""Input checking and integer encoding of pairwise comparisons, done once at the boundary.

Pairwise aggregators accept a :class:`pandas.DataFrame` (or a mapping of equally long columns) with
columns ``worker``, ``left``, ``right``, ``label``, and optionally ``task`` (the prompt the two items
answer). ``label`` is the id of the preferred item, equal to ``left`` or ``right``, or ``"tie"``.
Rules:

1. a missing value in any of those columns is an error (a comparison without a verdict is not an
   answer the platform stores: it is a bug upstream), as are a ``left`` equal to ``right``, a ``label``
   that is neither, and an item named ``"tie"`` (its label would be ambiguous). The error names the
   first bad row by its index label and says how many rows are bad;
2. every row is one comparison: the same annotator may compare the same pair again (arena-style data
   does), so duplicates are *kept*, unlike the categorical rule "the last answer wins";
3. nothing is an error.

Items (the union of ``left`` and ``right``), workers and tasks are encoded in order of first
appearance. Outcomes are coded ``LEFT`` (0), ``RIGHT`` (1) and ``TIE`` (2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import NDArray

Codes: TypeAlias = NDArray[np.intp]
Floats: TypeAlias = NDArray[np.float64]
ComparisonsLike: TypeAlias = "pd.DataFrame | Mapping[str, Any]"

COLUMNS = ("worker", "left", "right", "label")
TIE_LABEL = "tie"
LEFT, RIGHT, TIE = 0, 1, 2


@dataclass(frozen=True, eq=False)
class Comparisons:
    """Comparisons as codes: ``left[c]`` and ``right[c]`` index ``items``, ``worker[c]`` ``workers``."""

    left: Codes
    right: Codes
    worker: Codes
    outcome: Codes  # LEFT, RIGHT or TIE
    items: pd.Index
    workers: pd.Index
    task: Codes | None = None
    tasks: pd.Index | None = None

    @property
    def n(self) -> int:
        return int(self.left.shape[0])

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_workers(self) -> int:
        return len(self.workers)

    def subset(self, rows: NDArray[np.intp]) -> Comparisons:
        """The comparisons at *rows* (with repeats), keeping every vocabulary as it is."""
        return Comparisons(
            self.left[rows],
            self.right[rows],
            self.worker[rows],
            self.outcome[rows],
            self.items,
            self.workers,
            None if self.task is None else self.task[rows],
            self.tasks,
        )


def comparisons_frame(comparisons: ComparisonsLike, *, need_task: bool = False) -> pd.DataFrame:
    """Check the shape of *comparisons* and return it as a DataFrame (no copy if possible)."""
    if isinstance(comparisons, pd.DataFrame):
        frame = comparisons
    elif isinstance(comparisons, Mapping):
        frame = pd.DataFrame({key: comparisons[key] for key in comparisons})
    else:
        raise TypeError(
            "comparisons must be a DataFrame with columns worker, left, right, label (and optionally "
            f"task) or a mapping with those keys; got {type(comparisons).__name__}"
        )
    wanted = (*COLUMNS, "task") if need_task else COLUMNS
    missing = [col for col in wanted if col not in frame.columns]
    if missing:
        raise ValueError(f"comparisons lack column(s) {missing}; they have {list(frame.columns)}")
    if len(frame) == 0:
        raise ValueError("comparisons are empty")
    return frame


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds, for readable error messages."""
    return value.item() if isinstance(value, np.generic) else value


def _first_bad(frame: pd.DataFrame, bad: NDArray[np.bool_], what: str) -> ValueError:
    pos = int(np.flatnonzero(bad)[0])
    row = frame.iloc[pos]
    shown = ", ".join(f"{col}={_plain(row[col])!r}" for col in COLUMNS)
    more = int(bad.sum()) - 1
    tail = f" ({more} more row(s) like it)" if more else ""
    return ValueError(f"row {frame.index[pos]!r} ({shown}): {what}{tail}")


def _codes(values: pd.Series) -> tuple[Codes, pd.Index]:
    codes, uniques = pd.factorize(values, sort=False)
    return codes.astype(np.intp, copy=False), pd.Index(uniques)


def encode_comparisons(comparisons: ComparisonsLike, *, need_task: bool = False) -> Comparisons:
    """Validate and encode *comparisons* (see the module docstring for the rules).

    With ``need_task=True`` the ``task`` column is required; otherwise it is encoded when present.
    """
    frame = comparisons_frame(comparisons, need_task=need_task)
    with_task = "task" in frame.columns
    for col in (*COLUMNS, "task") if with_task else COLUMNS:
        missing = frame[col].isna().to_numpy()
        if missing.any():
            raise _first_bad(frame, missing, f"missing {col}")
    left = frame["left"].to_numpy(dtype=object)
    right = frame["right"].to_numpy(dtype=object)
    label = frame["label"].to_numpy(dtype=object)
    same = np.asarray(left == right, dtype=bool)
    if same.any():
        raise _first_bad(frame, same, "an item is compared with itself")
    named_tie = np.asarray((left == TIE_LABEL) | (right == TIE_LABEL), dtype=bool)
    if named_tie.any():
        raise _first_bad(
            frame, named_tie, f"an item may not be called {TIE_LABEL!r}: its label would be ambiguous"
        )
    won_left = np.asarray(label == left, dtype=bool)
    won_right = np.asarray(label == right, dtype=bool)
    tie = np.asarray(label == TIE_LABEL, dtype=bool)
    bad = ~(won_left | won_right | tie)
    if bad.any():
        raise _first_bad(frame, bad, f"label is neither left, right nor {TIE_LABEL!r}")
    outcome = np.where(won_left, LEFT, np.where(won_right, RIGHT, TIE)).astype(np.intp)
    both, items = _codes(pd.Series(np.concatenate([left, right]), dtype=object))
    n = len(frame)
    worker, workers = _codes(frame["worker"])
    task: Codes | None = None
    tasks: pd.Index | None = None
    if with_task:
        task, tasks = _codes(frame["task"])
    return Comparisons(both[:n], both[n:], worker, outcome, items, workers, task, tasks)
