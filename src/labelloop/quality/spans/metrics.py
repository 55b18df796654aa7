"""Span metrics: entity F1 against a reference, and agreement between annotators.

Two spans **match exactly** when they have the same start, end and label (the CoNLL-2003 scorer's
rule: a span with one word too many or the wrong type is both a false positive and a false
negative); they **match by overlap** when they have the same label and share at least one character.
Precision is the share of predicted spans that match a reference span of the same task, recall the
share of reference spans matched by a predicted one, F1 their harmonic mean, all **micro**-averaged
(counts pooled over tasks). Exact matching pairs spans one to one by construction (a list holds a
span once); overlap matching does not pair them (one long span may cover two short ones), so its
precision and recall are counted on each side separately. With nothing on either side F1 is 1: two
annotators who both say "no entity here" agree.

Reference: E. F. Tjong Kim Sang & F. De Meulder, "Introduction to the CoNLL-2003 Shared Task", CoNLL 2003.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from labelloop.quality.spans._input import (
    FlatSpans,
    SpanAnswers,
    SpanSets,
    as_span_series,
    encode_answers,
    flatten_series,
)

Match = Literal["exact", "overlap"]


def _check_match(match: str) -> None:
    if match not in ("exact", "overlap"):
        raise ValueError(f"match must be 'exact' or 'overlap', got {match!r}")


def _frame(flat: FlatSpans, task: np.ndarray) -> pd.DataFrame:
    """One row per span: its owner, the task it is on (any id) and its offsets and label name."""
    return pd.DataFrame(
        {
            "owner": flat.owner,
            "task": task[flat.owner] if flat.n_spans else np.zeros(0, dtype=np.intp),
            "start": flat.start,
            "end": flat.end,
            "label": np.asarray(flat.labels.take(flat.label), dtype=object),
        }
    )


def _hits(left: pd.DataFrame, right: pd.DataFrame, match: str) -> pd.DataFrame:
    """Pairs (left span row, right owner) where the left span matches some span of that right owner on
    the same task; columns ``row``, ``owner_left``, ``owner_right``. Same-owner pairs are left in."""
    keys = ["task", "start", "end", "label"] if match == "exact" else ["task", "label"]
    lhs = left.assign(row=np.arange(len(left)))
    pairs = lhs.merge(right, on=keys, suffixes=("_left", "_right"))
    if match == "overlap":
        pairs = pairs[(pairs["start_left"] < pairs["end_right"]) & (pairs["start_right"] < pairs["end_left"])]
    return pairs[["row", "owner_left", "owner_right"]].drop_duplicates(["row", "owner_right"])


def _f1(tp_pred: np.ndarray, n_pred: np.ndarray, tp_ref: np.ndarray, n_ref: np.ndarray) -> np.ndarray:
    """Element-wise F1 from matched and total counts on each side (1 where both sides are empty)."""
    tp_pred, n_pred, tp_ref, n_ref = (
        np.asarray(a, dtype=np.float64) for a in (tp_pred, n_pred, tp_ref, n_ref)
    )
    precision = np.divide(tp_pred, n_pred, out=np.zeros_like(tp_pred), where=n_pred > 0)
    recall = np.divide(tp_ref, n_ref, out=np.zeros_like(tp_ref), where=n_ref > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(total), where=total > 0)
    return np.where((n_pred + n_ref) == 0, 1.0, f1)


def span_scores(predictions: SpanSets, reference: SpanSets, *, match: Match = "exact") -> pd.Series:
    """Micro ``precision``, ``recall``, ``f1`` and the counts ``n_pred``, ``n_ref``, ``tp_pred``, ``tp_ref``
    of *predictions* against *reference* (both task -> list of ``[start, end, label]``), over the
    reference's tasks (a task missing from the predictions predicts nothing)."""
    _check_match(match)
    ref = as_span_series(reference, "reference")
    pred = as_span_series(as_span_series(predictions, "predictions").reindex(ref.index), "predictions")
    tasks = np.arange(len(ref))
    ref_frame = _frame(flatten_series(ref, "reference"), tasks)
    pred_frame = _frame(flatten_series(pred, "predictions"), tasks)
    tp_pred = len(_hits(pred_frame, ref_frame, match))
    tp_ref = len(_hits(ref_frame, pred_frame, match))
    n_pred, n_ref = len(pred_frame), len(ref_frame)
    precision = tp_pred / n_pred if n_pred else float(n_ref == 0)
    recall = tp_ref / n_ref if n_ref else float(n_pred == 0)
    f1 = float(_f1(np.array([tp_pred]), np.array([n_pred]), np.array([tp_ref]), np.array([n_ref]))[0])
    values = {"precision": precision, "recall": recall, "f1": f1}
    values |= {"n_pred": n_pred, "n_ref": n_ref, "tp_pred": tp_pred, "tp_ref": tp_ref}
    return pd.Series(values, dtype=np.float64, name=match)


def span_f1(predictions: SpanSets, reference: SpanSets, *, match: Match = "exact") -> float:
    """Entity-level micro F1 of *predictions* against *reference* (exact span and label by default)."""
    return float(span_scores(predictions, reference, match=match)["f1"])


def annotator_span_scores(
    answers: SpanAnswers, reference: SpanSets, *, match: Match = "exact"
) -> pd.DataFrame:
    """Per annotator, their spans against *reference* (gold, or the aggregate ``spans_``) on the tasks it
    covers: ``n_tasks``, ``n_spans``, ``n_ref``, ``precision``, ``recall``, ``f1`` (micro over their tasks).

    *answers* is a table ``task, worker, spans`` (``text`` not needed). Annotators without a task in
    the reference are left out."""
    _check_match(match)
    data = encode_answers(answers, text=False)
    ref = as_span_series(reference, "reference")
    ref_pos = ref.index.get_indexer(data.tasks)  # task code -> position in the reference, -1 if absent
    on_ref = ref_pos[data.task] >= 0
    ref_frame = _frame(flatten_series(ref, "reference"), np.arange(len(ref)))
    ans_frame = _frame(data.spans, ref_pos[data.task])
    ans_frame = ans_frame[on_ref[ans_frame["owner"].to_numpy()]]
    n_ref_task = np.bincount(ref_frame["owner"], minlength=len(ref))
    n_w = data.n_workers
    answer_worker = data.worker
    n_spans = np.bincount(answer_worker[ans_frame["owner"]], minlength=n_w)
    n_ref = np.bincount(answer_worker[on_ref], n_ref_task[ref_pos[data.task[on_ref]]], n_w)
    hits = _hits(ans_frame, ref_frame, match)
    tp_pred = np.bincount(answer_worker[hits["owner_left"].to_numpy(np.intp)], minlength=n_w)
    back = _hits(ref_frame, ans_frame, match)  # reference spans matched, once per answer that matched them
    tp_ref = np.bincount(answer_worker[back["owner_right"].to_numpy(np.intp)], minlength=n_w)
    n_tasks = np.bincount(answer_worker[on_ref], minlength=n_w)
    precision = np.divide(tp_pred, n_spans, out=np.full(n_w, np.nan), where=n_spans > 0)
    recall = np.divide(tp_ref, n_ref, out=np.full(n_w, np.nan), where=n_ref > 0)
    table = pd.DataFrame(
        {
            "n_tasks": n_tasks,
            "n_spans": n_spans,
            "n_ref": n_ref.astype(np.int64),
            "precision": precision,
            "recall": recall,
            "f1": _f1(tp_pred, n_spans, tp_ref, n_ref),
        },
        index=data.workers,
    )
    return table[table["n_tasks"] > 0]


def pairwise_span_f1(answers: SpanAnswers, *, match: Match = "exact") -> pd.DataFrame:
    """Per pair of annotators who answered a task in common: ``worker_a``, ``worker_b``, ``n_tasks``
    (shared) and ``f1``, the micro F1 of one's spans against the other's on those tasks (symmetric)."""
    _check_match(match)
    data = encode_answers(answers, text=False)
    spans = _frame(data.spans, data.task)
    answers_frame = pd.DataFrame(
        {"answer": np.arange(data.n_answers), "task": data.task, "worker": data.worker}
    )
    pairs = answers_frame.merge(answers_frame, on="task", suffixes=("_a", "_b"))
    pairs = pairs[pairs["worker_a"] < pairs["worker_b"]]
    hits = _hits(spans, spans, match)
    hits = hits[hits["owner_left"] != hits["owner_right"]]
    counted = hits.groupby(["owner_left", "owner_right"]).size()
    n = np.bincount(data.spans.owner, minlength=data.n_answers)
    a, b = pairs["answer_a"].to_numpy(np.intp), pairs["answer_b"].to_numpy(np.intp)
    index_ab = pd.MultiIndex.from_arrays([a, b])
    index_ba = pd.MultiIndex.from_arrays([b, a])
    counts = pd.DataFrame(
        {
            "worker_a": pairs["worker_a"].to_numpy(),
            "worker_b": pairs["worker_b"].to_numpy(),
            "tp_a": counted.reindex(index_ab, fill_value=0).to_numpy(),
            "n_a": n[a],
            "tp_b": counted.reindex(index_ba, fill_value=0).to_numpy(),
            "n_b": n[b],
            "n_tasks": 1,
        }
    )
    per_pair = counts.groupby(["worker_a", "worker_b"], as_index=False).sum()
    f1 = _f1(per_pair["tp_a"], per_pair["n_a"], per_pair["tp_b"], per_pair["n_b"])
    return pd.DataFrame(
        {
            "worker_a": data.workers.take(per_pair["worker_a"]),
            "worker_b": data.workers.take(per_pair["worker_b"]),
            "n_tasks": per_pair["n_tasks"].to_numpy(np.int64),
            "f1": f1,
        }
    )


def pairwise_span_agreement(answers: SpanAnswers, *, match: Match = "exact") -> float:
    """Agreement of annotators with each other: the mean over annotator pairs of their F1
    (:func:`pairwise_span_f1`), each pair weighted by the tasks they share. NaN with no pairs."""
    table = pairwise_span_f1(answers, match=match)
    if table.empty:
        return float("nan")
    return float(np.average(table["f1"], weights=table["n_tasks"]))
