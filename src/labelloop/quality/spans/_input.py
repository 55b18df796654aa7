"""Input checking and flattening of long span tables, done once at the boundary.

Span aggregators accept a :class:`pandas.DataFrame` (or a mapping of equally long columns) with columns
``task``, ``worker``, ``spans``, ``text``: each ``spans`` value is a list of ``[start, end, label]``
(character offsets into ``text``, Python string indices, ``end`` exclusive; ``{"start", "end",
"label"}`` mappings, the platform's form, are read too), possibly empty ("no entity here" is an
answer), and ``text`` is the task's text. The rules follow :mod:`labelloop.quality._input`:

1. a row whose ``spans`` is missing (``None``/``NaN``) is no answer and is dropped; an empty list stays;
2. a missing ``task`` or ``worker`` id is an error;
3. duplicate ``(task, worker)`` rows: the last row wins;
4. nothing left is an error;
5. every row of a task must carry the same ``text`` (a string);
6. every span needs integer offsets with ``0 <= start < end <= len(text)`` and a non-empty string
   label. The first bad value is named by its task, worker and position
   (``task 'd1', worker 'w3': spans[1] = [5, 3, 'PER'] needs start < end``);
7. a span given twice in one answer counts once. Overlapping spans are accepted (the schema's
   ``allow_overlap``); how they become tags is in :mod:`.tags`.

Metrics read span lists without a text (``text=False``): then only rule 6's ``start < end`` applies.
Tasks and workers are encoded in order of first appearance, labels in sorted order.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import NDArray

Codes: TypeAlias = NDArray[np.intp]
Floats: TypeAlias = NDArray[np.float64]
SpanAnswers: TypeAlias = "pd.DataFrame | Mapping[str, Any]"
SpanSets: TypeAlias = "pd.Series | Mapping[Hashable, Any]"

COLUMNS = ("task", "worker", "spans", "text")


@dataclass(frozen=True, eq=False)
class FlatSpans:
    """Spans as parallel arrays; span j belongs to answer (or task) ``owner[j]``."""

    owner: Codes
    start: Codes
    end: Codes
    label: Codes
    labels: pd.Index  # sorted label names; ``label[j]`` indexes it

    @property
    def n_spans(self) -> int:
        return int(self.owner.shape[0])


@dataclass(frozen=True, eq=False)
class EncodedAnswers:
    """Answer i is ``(task[i], worker[i])``; its spans are those of ``spans`` with ``owner == i``."""

    task: Codes
    worker: Codes
    spans: FlatSpans
    tasks: pd.Index
    workers: pd.Index
    texts: list[str] | None  # one per task, when the table has a text column

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
    def labels(self) -> pd.Index:
        return self.spans.labels


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and value != value


def _is_offset(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _span_items(span: Any) -> tuple[Any, Any, Any] | None:
    """``(start, end, label)`` of one span, or None when it has not that shape."""
    if isinstance(span, Mapping):
        if not {"start", "end", "label"} <= span.keys():
            return None
        return span["start"], span["end"], span["label"]
    if isinstance(span, str | bytes):
        return None
    try:
        items = tuple(span)
    except TypeError:
        return None
    return (items[0], items[1], items[2]) if len(items) == 3 else None


def _span_problem(span: Any, text_len: int | None) -> str | None:
    items = _span_items(span)
    if items is None:
        return "must be [start, end, label]"
    start, end, label = items
    if not (_is_offset(start) and _is_offset(end)):
        return "needs integer offsets"
    if not isinstance(label, str) or not label:
        return "needs a non-empty string label"
    if start < 0:
        return "starts before the text"
    if start >= end:
        return "needs start < end"
    if text_len is not None and end > text_len:
        return f"ends after the text (length {text_len})"
    return None


def _flatten_plain(values: Sequence[Any], text_lens: Sequence[int] | None) -> tuple[Codes, ...] | None:
    """The common case at C speed: lists of ``[int, int, str]`` lists, all valid. None when anything
    is unusual or wrong; the checked path then reads it or names the problem."""
    if any(type(v) is not list for v in values):
        return None
    flat = list(chain.from_iterable(values))
    if any((type(span) is not list and type(span) is not tuple) or len(span) != 3 for span in flat):
        return None
    starts, ends, names = [s[0] for s in flat], [s[1] for s in flat], [s[2] for s in flat]
    if any(type(x) is not int for x in starts) or any(type(x) is not int for x in ends):
        return None
    if any(type(x) is not str for x in names) or "" in set(names):
        return None
    owner = np.repeat(np.arange(len(values), dtype=np.intp), [len(v) for v in values])
    start, end = np.array(starts, dtype=np.intp), np.array(ends, dtype=np.intp)
    ok = (start >= 0) & (start < end)
    if text_lens is not None:
        ok &= end <= np.asarray(text_lens, dtype=np.intp)[owner]
    if not ok.all():
        return None
    codes, labels = pd.factorize(pd.Series(names, dtype=object), sort=True)
    return owner, start, end, codes.astype(np.intp), np.asarray(labels, dtype=object)


def _flatten_checked(
    values: Sequence[Any], where: Callable[[int], str], text_lens: Sequence[int] | None
) -> tuple[Codes, ...]:
    """Span by span, raising on the first bad one with its task, worker and position."""
    owner: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    names: list[str] = []
    for i, value in enumerate(values):
        if isinstance(value, str | bytes | Mapping) or not hasattr(value, "__iter__"):
            raise ValueError(f"{where(i)}: spans must be a list of [start, end, label], got {value!r}")
        limit = None if text_lens is None else text_lens[i]
        for j, span in enumerate(value):
            problem = _span_problem(span, limit)
            if problem is not None:
                shown = list(span) if isinstance(span, tuple | list) else span
                raise ValueError(f"{where(i)}: spans[{j}] = {shown!r} {problem}")
            start, end, label = _span_items(span)  # type: ignore[misc]
            owner.append(i)
            starts.append(int(start))
            ends.append(int(end))
            names.append(str(label))
    codes, labels = pd.factorize(pd.Series(names, dtype=object), sort=True)
    arrays = (np.array(owner, dtype=np.intp), np.array(starts, dtype=np.intp), np.array(ends, dtype=np.intp))
    return (*arrays, codes.astype(np.intp), np.asarray(labels, dtype=object))


def flatten_spans(
    values: Sequence[Any], where: Callable[[int], str], text_lens: Sequence[int] | None
) -> FlatSpans:
    """Check and flatten a list of span lists; ``where(i)`` names list i in an error message."""
    parts = _flatten_plain(values, text_lens)
    if parts is None:
        parts = _flatten_checked(values, where, text_lens)
    owner, start, end, label, labels = parts
    flat = pd.DataFrame({"o": owner, "s": start, "e": end, "l": label}, dtype=np.intp)
    flat = flat.drop_duplicates()  # one span given twice in an answer counts once
    return FlatSpans(
        owner=flat["o"].to_numpy(np.intp),
        start=flat["s"].to_numpy(np.intp),
        end=flat["e"].to_numpy(np.intp),
        label=flat["l"].to_numpy(np.intp),
        labels=pd.Index(labels, dtype=object).rename("label"),
    )


def to_span_frame(answers: SpanAnswers, *, text: bool) -> pd.DataFrame:
    """Check the shape of *answers* and return it as a DataFrame with the needed columns."""
    if isinstance(answers, pd.DataFrame):
        frame = answers
    elif isinstance(answers, Mapping):
        frame = pd.DataFrame({key: list(answers[key]) for key in answers})
    else:
        raise TypeError(
            "span answers must be a DataFrame with columns task, worker, spans, text or a mapping with "
            f"those keys; got {type(answers).__name__}"
        )
    needed = COLUMNS if text else COLUMNS[:3]
    missing = [col for col in needed if col not in frame.columns]
    if missing:
        raise ValueError(f"span answers lack column(s) {missing}; they have {list(frame.columns)}")
    return frame


def _factorize(values: pd.Series) -> tuple[Codes, pd.Index]:
    codes, uniques = pd.factorize(values, sort=False)
    return codes.astype(np.intp, copy=False), pd.Index(uniques)


def _task_texts(frame: pd.DataFrame, rows: Codes, task: Codes, n_tasks: int) -> list[str]:
    """The text of each task, checked to be one string shared by all the task's rows."""
    texts = frame["text"].to_numpy(dtype=object)[rows]
    bad = np.flatnonzero([not isinstance(t, str) for t in texts])
    if bad.size:
        i = rows[bad[0]]
        raise ValueError(
            f"task {frame['task'].iat[i]!r}, worker {frame['worker'].iat[i]!r}: "
            f"text must be a string, got {texts[bad[0]]!r}"
        )
    first = np.full(n_tasks, len(task), dtype=np.intp)
    np.minimum.at(first, task, np.arange(len(task)))
    differs = np.flatnonzero(texts != texts[first[task]])
    if differs.size:
        k = differs[0]
        a, b = texts[first[task[k]]], texts[k]
        at = next((n for n, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        i, j = rows[first[task[k]]], rows[k]
        raise ValueError(
            f"task {frame['task'].iat[j]!r}: worker {frame['worker'].iat[j]!r} gave a different text than "
            f"worker {frame['worker'].iat[i]!r} (first difference at character {at})"
        )
    return [str(t) for t in texts[first]]


def encode_answers(answers: SpanAnswers, *, text: bool = True) -> EncodedAnswers:
    """Validate and encode span answers (see the module docstring for the rules)."""
    frame = to_span_frame(answers, text=text)
    values = frame["spans"].tolist()
    present = np.fromiter((not _is_missing(v) for v in values), dtype=bool, count=len(values))
    rows = np.flatnonzero(present).astype(np.intp)
    if len(rows) == 0:
        raise ValueError("span answers are empty: no row with a spans value")
    for name in ("task", "worker"):
        if frame[name].iloc[rows].isna().any():
            raise ValueError(f"column {name!r} has missing ids")
    task, tasks = _factorize(frame["task"].iloc[rows])
    worker, workers = _factorize(frame["worker"].iloc[rows])
    key = pd.Series(task.astype(np.int64) * len(workers) + worker, copy=False)
    last = ~key.duplicated(keep="last").to_numpy()
    if not last.all():
        rows, task, worker = rows[last], task[last], worker[last]
    texts = _task_texts(frame, rows, task, len(tasks)) if text else None

    def where(i: int) -> str:
        return f"task {frame['task'].iat[rows[i]]!r}, worker {frame['worker'].iat[rows[i]]!r}"

    lens = None if texts is None else [len(texts[t]) for t in task]
    flat = flatten_spans([values[i] for i in rows], where, lens)
    return EncodedAnswers(task, worker, flat, tasks.rename("task"), workers.rename("worker"), texts)


def as_span_series(spans: SpanSets, name: str) -> pd.Series:
    """A Series task -> span list from a Series or a mapping (missing values become empty lists)."""
    if isinstance(spans, pd.Series):
        series = spans
    elif isinstance(spans, Mapping):
        series = pd.Series(dict(spans), dtype=object)
    else:
        raise TypeError(
            f"{name} must be a pandas Series or a mapping task -> spans, got {type(spans).__name__}"
        )
    return series.map(lambda v: [] if _is_missing(v) else v)


def flatten_series(series: pd.Series, name: str) -> FlatSpans:
    """Flatten a Series task -> span list; ``owner`` is the position in the Series."""
    return flatten_spans(series.tolist(), lambda i: f"{name} task {series.index[i]!r}", None)
