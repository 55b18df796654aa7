"""Input checking and integer encoding of long answer tables, done once at the boundary.

Every public entry point of :mod:`labelloop.quality` accepts *answers* as

- a :class:`pandas.DataFrame` with columns ``task``, ``worker``, ``label`` (other columns are
  ignored unless a function asks for them, e.g. ``duration``);
- a mapping with those three keys and equally long array-likes as values;
- a tuple ``(task, worker, label)`` of three equally long array-likes.

Rules applied to every input, in this order:

1. rows whose ``label`` is missing (``None``/``NaN``/``NA``) are dropped: a missing answer is no answer;
2. a missing ``task`` or ``worker`` id is an error;
3. duplicate ``(task, worker)`` rows: **the last row wins** (a resubmitted answer replaces the earlier one);
4. nothing left is an error.

Tasks and workers are encoded in order of first appearance; labels are encoded in **sorted** order
(pandas' sort: mixed numbers and strings put numbers first; first appearance if even that fails),
so "the smallest label" always means the first in that order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

Codes: TypeAlias = NDArray[np.intp]
Floats: TypeAlias = NDArray[np.float64]
AnswersLike: TypeAlias = "pd.DataFrame | Mapping[str, Any] | tuple[Any, Any, Any]"

COLUMNS = ("task", "worker", "label")


@dataclass(frozen=True, eq=False)
class Encoded:
    """Answers as integer codes: ``task[i]``, ``worker[i]``, ``label[i]`` index the three vocabularies."""

    task: Codes
    worker: Codes
    label: Codes
    tasks: pd.Index
    workers: pd.Index
    labels: pd.Index
    extra: pd.DataFrame  # other columns of the input, aligned with the codes

    @property
    def n_answers(self) -> int:
        return int(self.task.shape[0])

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    @property
    def n_workers(self) -> int:
        return len(self.workers)

    @property
    def n_labels(self) -> int:
        return len(self.labels)

    def task_label_counts(self) -> Floats:
        """Dense ``(n_tasks, n_labels)`` matrix of vote counts."""
        flat = self.task * self.n_labels + self.label
        counts = np.bincount(flat, minlength=self.n_tasks * self.n_labels)
        return counts.reshape(self.n_tasks, self.n_labels).astype(np.float64)

    def answers_per_task(self) -> NDArray[np.int64]:
        return np.bincount(self.task, minlength=self.n_tasks)

    def worker_label_matrix(self) -> sp.csr_matrix:
        """Sparse ``(n_tasks, n_workers * n_labels)`` indicator; column ``w * K + l``: worker w answered l."""
        k = self.n_labels
        cols = self.worker * k + self.label
        data = np.ones(self.n_answers, dtype=np.float64)
        return sp.csr_matrix((data, (self.task, cols)), shape=(self.n_tasks, self.n_workers * k))


@dataclass(frozen=True, eq=False)
class EncodedNumeric:
    """Numeric answers: ``value[i]`` given by ``worker[i]`` on ``task[i]``."""

    task: Codes
    worker: Codes
    value: Floats
    tasks: pd.Index
    workers: pd.Index

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    @property
    def n_workers(self) -> int:
        return len(self.workers)


class AnswerCounts:
    """``n_answers``, ``n_tasks``, ``n_workers`` of an encoded table where answer i is
    ``(task[i], worker[i])`` and ``tasks``/``workers`` are the two vocabularies (a mixin: the
    dataclasses of the box, track, span and text inputs declare the fields)."""

    task: Codes
    tasks: pd.Index
    workers: pd.Index

    @property
    def n_answers(self) -> int:
        return int(self.task.shape[0])

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    @property
    def n_workers(self) -> int:
        return len(self.workers)


def is_missing(value: object) -> bool:
    """True for ``None``, ``pd.NA`` and a float NaN: a cell that holds no answer."""
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and value != value


def sorted_rank(index: pd.Index) -> Codes:
    """Rank of each id in sorted order (first appearance when ids are not orderable), so that
    results never depend on the order of rows."""
    rank = np.arange(len(index), dtype=np.intp)
    with contextlib.suppress(TypeError):
        order = np.argsort(index.to_numpy(), kind="stable")
        rank[order] = np.arange(len(index), dtype=np.intp)
    return rank


def to_list_frame(answers: Any, columns: Sequence[str], noun: str) -> pd.DataFrame:
    """Check that *answers* (a DataFrame or a mapping of equally long columns) has *columns*; return
    it as a DataFrame. *noun* names the answers in errors ("box answers", "track answers")."""
    if isinstance(answers, pd.DataFrame):
        frame = answers
    elif isinstance(answers, Mapping):
        frame = pd.DataFrame({key: list(answers[key]) for key in answers})
    else:
        raise TypeError(
            f"{noun} must be a DataFrame with columns {', '.join(columns)} or a mapping with those keys; "
            f"got {type(answers).__name__}"
        )
    missing = [col for col in columns if col not in frame.columns]
    if missing:
        raise ValueError(f"{noun} lack column(s) {missing}; they have {list(frame.columns)}")
    return frame


def answer_rows(
    frame: pd.DataFrame, values: Sequence[Any], empty: str
) -> tuple[NDArray[np.intp], Codes, Codes, pd.Index, pd.Index]:
    """Rules 1-4 of the module docstring for a table whose answer column holds lists (*values*):
    the positions of the rows kept (missing answers dropped, the last of duplicate (task, worker)
    rows kept) with their task and worker codes and the two vocabularies. *empty* is the error
    when no row has an answer."""
    present = np.fromiter((not is_missing(v) for v in values), dtype=bool, count=len(values))
    rows = np.flatnonzero(present)
    if len(rows) == 0:
        raise ValueError(empty)
    for name in ("task", "worker"):
        if frame[name].iloc[rows].isna().any():
            raise ValueError(f"column {name!r} has missing ids")
    task, tasks = _factorize(frame["task"].iloc[rows], sort=False)
    worker, workers = _factorize(frame["worker"].iloc[rows], sort=False)
    last = _keep_last(task, worker, len(workers))
    if last is not None:
        rows, task, worker = rows[last], task[last], worker[last]
    return rows, task, worker, tasks, workers


def to_frame(answers: AnswersLike, *, extra: Sequence[str] = ()) -> pd.DataFrame:
    """Check the shape of *answers* and return a DataFrame with the required columns (no copy if possible)."""
    if isinstance(answers, pd.DataFrame):
        frame = answers
    elif isinstance(answers, Mapping):
        frame = pd.DataFrame({key: answers[key] for key in answers})
    elif isinstance(answers, tuple) and len(answers) == len(COLUMNS):
        lengths = {len(col) for col in answers}
        if len(lengths) != 1:
            raise ValueError(
                f"task, worker and label arrays must have the same length, got {sorted(lengths)}"
            )
        frame = pd.DataFrame(dict(zip(COLUMNS, answers, strict=True)))
    else:
        raise TypeError(
            "answers must be a DataFrame with columns task, worker, label, a mapping with those keys, "
            f"or a (task, worker, label) tuple of arrays; got {type(answers).__name__}"
        )
    missing = [col for col in (*COLUMNS, *extra) if col not in frame.columns]
    if missing:
        raise ValueError(f"answers lack column(s) {missing}; they have {list(frame.columns)}")
    return frame


def _factorize(values: pd.Series, *, sort: bool) -> tuple[Codes, pd.Index]:
    if sort:
        try:
            codes, uniques = pd.factorize(values, sort=True)
        except TypeError:  # mixed, unorderable labels: keep order of first appearance
            codes, uniques = pd.factorize(values, sort=False)
    else:
        codes, uniques = pd.factorize(values, sort=False)
    return codes.astype(np.intp, copy=False), pd.Index(uniques)


def _keep_last(task: Codes, worker: Codes, n_workers: int) -> NDArray[np.bool_] | None:
    """Mask that keeps the last row of each (task, worker) pair, or None when there are no duplicates."""
    key = task.astype(np.int64) * n_workers + worker
    dup = pd.Series(key, copy=False).duplicated(keep="last").to_numpy()
    return ~dup if dup.any() else None


def _ids(frame: pd.DataFrame, name: str, keep: NDArray[np.bool_] | None) -> pd.Series:
    col = frame[name] if keep is None else frame[name][keep]
    if col.isna().any():
        raise ValueError(f"column {name!r} has missing ids")
    return col


def wsum(index: Codes, weights: Floats, size: int) -> Floats:
    """``np.bincount`` with weights, typed: the sum of *weights* per *index* value."""
    return np.asarray(np.bincount(index, weights, size), dtype=np.float64)


def encode(
    answers: AnswersLike,
    *,
    extra_labels: Sequence[Hashable] | pd.Index | None = None,
    extra_columns: Sequence[str] = (),
) -> Encoded:
    """Validate and encode categorical answers (see the module docstring for the rules)."""
    frame = to_frame(answers, extra=extra_columns)
    labels_col = frame["label"]
    present = labels_col.notna().to_numpy()
    keep: NDArray[np.bool_] | None = None if present.all() else present
    task, tasks = _factorize(_ids(frame, "task", keep), sort=False)
    worker, workers = _factorize(_ids(frame, "worker", keep), sort=False)
    label_values = labels_col if keep is None else labels_col[keep]
    if len(label_values) == 0:
        raise ValueError("answers are empty: no row with a label")
    label, labels = _factorize(label_values, sort=True)
    last = _keep_last(task, worker, len(workers))
    extra = frame.loc[:, list(extra_columns)]
    if keep is not None:
        extra = extra[keep]
    if last is not None:
        task, worker, label = task[last], worker[last], label[last]
        extra = extra[last]
        # a task or worker may have lost all its rows? no: the last row of every pair survives.
    if extra_labels is not None:
        label, labels = _extend_labels(label, labels, pd.Index(extra_labels))
    return Encoded(task, worker, label, tasks, workers, labels, extra.reset_index(drop=True))


def _extend_labels(label: Codes, labels: pd.Index, more: pd.Index) -> tuple[Codes, pd.Index]:
    new = more.difference(labels) if len(more) else more
    if len(new) == 0:
        return label, labels
    union = labels.append(new).unique()
    with contextlib.suppress(TypeError):
        union = union.sort_values()
    remap = union.get_indexer(labels).astype(np.intp)
    return remap[label], union


def encode_numeric(answers: AnswersLike) -> EncodedNumeric:
    """Validate and encode numeric answers (labels must convert to float; same rules as :func:`encode`)."""
    frame = to_frame(answers)
    try:
        values = pd.to_numeric(frame["label"], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"numeric aggregation needs numeric labels: {exc}") from exc
    present = np.isfinite(values)
    keep: NDArray[np.bool_] | None = None if present.all() else present
    if not present.any():
        raise ValueError("answers are empty: no row with a finite numeric label")
    task, tasks = _factorize(_ids(frame, "task", keep), sort=False)
    worker, workers = _factorize(_ids(frame, "worker", keep), sort=False)
    value = values if keep is None else values[keep]
    last = _keep_last(task, worker, len(workers))
    if last is not None:
        task, worker, value = task[last], worker[last], value[last]
    return EncodedNumeric(task, worker, value, tasks, workers)


def gold_codes(gold: pd.Series | Mapping[Hashable, Hashable] | None, data: Encoded) -> Codes:
    """Array over tasks: the label code of the task's gold label, or -1 when it has none."""
    out = np.full(data.n_tasks, -1, dtype=np.intp)
    if gold is None:
        return out
    series = _as_series(gold, "gold").dropna()
    rows = data.tasks.get_indexer(series.index)
    codes = data.labels.get_indexer(pd.Index(series.to_numpy()))
    known = rows >= 0
    if (codes[known] < 0).any():
        raise ValueError("gold has labels outside the answer vocabulary; encode with extra_labels first")
    out[rows[known]] = codes[known]
    return out


def _as_series(values: pd.Series | Mapping[Hashable, Any], name: str) -> pd.Series:
    if isinstance(values, pd.Series):
        return values
    if isinstance(values, Mapping):
        return pd.Series(dict(values), dtype=object)
    raise TypeError(f"{name} must be a pandas Series or a mapping, got {type(values).__name__}")


def gold_series(gold: pd.Series | Mapping[Hashable, Hashable] | None) -> pd.Series | None:
    """Gold labels as a Series task -> label (missing values dropped), or None."""
    if gold is None:
        return None
    return _as_series(gold, "gold").dropna()
