r"""Annotator scoring: accuracy on gold with a Bayesian interval, confusion matrices, agreement with the
consensus, and flags for suspicious answering patterns.

Gold accuracy. With :math:`c_w` correct out of :math:`n_w` gold answers and a
:math:`\mathrm{Beta}(a, b)` prior, the posterior is :math:`\mathrm{Beta}(a + c_w,\ b + n_w - c_w)`; we
report its mean and the equal-tailed credible interval (a worker with 3/3 is *not* shown as 100%
accurate with certainty). Agreement with consensus is chance-corrected per worker like Cohen's kappa:
:math:`\kappa_w = (p_o - p_e)/(1 - p_e)` with :math:`p_e = \sum_k \pi_w(k)\,\gamma_w(k)`, where
:math:`\pi_w` is the worker's label distribution and :math:`\gamma_w` the consensus label
distribution on the worker's tasks.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeAlias

import numpy as np
import pandas as pd
from scipy import stats

from labelloop.quality._input import AnswersLike, Encoded, Floats, encode, gold_codes, gold_series, wsum

Reference: TypeAlias = "pd.Series | Mapping[Hashable, Hashable]"


def _encode_with(
    answers: AnswersLike, reference: Reference, *, extra: tuple[str, ...] = ()
) -> tuple[Encoded, np.ndarray]:
    ref = gold_series(reference)
    assert ref is not None
    data = encode(answers, extra_labels=pd.Index(ref.unique()), extra_columns=extra)
    return data, gold_codes(ref, data)


def gold_accuracy(
    answers: AnswersLike,
    gold: Reference,
    *,
    prior: tuple[float, float] = (1.0, 1.0),
    credibility: float = 0.95,
) -> pd.DataFrame:
    """Per-worker accuracy on gold tasks with a Beta-posterior credible interval.

    Columns: ``n_gold``, ``n_correct``, ``accuracy`` (raw share), ``posterior_mean``, ``ci_low``,
    ``ci_high``. Only workers with at least one gold answer appear.
    """
    a, b = prior
    if a <= 0 or b <= 0:
        raise ValueError("prior parameters must be > 0")
    if not 0 < credibility < 1:
        raise ValueError("credibility must be in (0, 1)")
    data, ref = _encode_with(answers, gold)
    on_gold = ref[data.task] >= 0
    worker = data.worker[on_gold]
    hits = (ref[data.task] == data.label)[on_gold].astype(np.float64)
    n = np.bincount(worker, minlength=data.n_workers).astype(np.float64)
    correct = wsum(worker, hits, data.n_workers)
    seen = n > 0
    n, correct = n[seen], correct[seen]
    tail = (1 - credibility) / 2
    post_a, post_b = a + correct, b + n - correct
    return pd.DataFrame(
        {
            "n_gold": n.astype(np.int64),
            "n_correct": correct.astype(np.int64),
            "accuracy": correct / n,
            "posterior_mean": post_a / (post_a + post_b),
            "ci_low": stats.beta.ppf(tail, post_a, post_b),
            "ci_high": stats.beta.ppf(1 - tail, post_a, post_b),
        },
        index=data.workers[seen].rename("worker"),
    )


def confusion_matrices(
    answers: AnswersLike, reference: Reference, *, normalize: bool = True, by_worker: bool = True
) -> pd.DataFrame:
    """Confusion of answers against a reference labelling (gold, or a consensus such as ``labels_``).

    ``by_worker=True``: rows indexed by (worker, reference label), columns the answered label;
    otherwise one matrix over all workers. ``normalize=True`` turns each row into shares (rows with no
    answers stay 0). Tasks without a reference label are skipped.
    """
    data, ref = _encode_with(answers, reference)
    k = data.n_labels
    keep = ref[data.task] >= 0
    truth, label, worker = ref[data.task][keep], data.label[keep], data.worker[keep]
    labels = data.labels.rename("label")
    if by_worker:
        flat = (worker * k + truth) * k + label
        counts = np.bincount(flat, minlength=data.n_workers * k * k).reshape(data.n_workers * k, k)
        index = pd.MultiIndex.from_product([data.workers, data.labels], names=["worker", "reference"])
    else:
        counts = np.bincount(truth * k + label, minlength=k * k).reshape(k, k)
        index = data.labels.rename("reference")
    values: Floats = counts.astype(np.float64)
    if normalize:
        sums = values.sum(axis=1, keepdims=True)
        values = np.divide(values, sums, out=np.zeros_like(values), where=sums > 0)
    return pd.DataFrame(values, index=index, columns=labels)


def _agreement_parts(data: Encoded, consensus: np.ndarray | None) -> tuple[Floats, Floats, Floats]:
    """Per answer: agreement credit, validity weight, and the consensus distribution (n x K).

    Without a consensus, each answer is compared with the majority vote of the *other* answers on its
    task (leave-one-out, ties share the credit), so one's own vote never counts as agreement.
    """
    k = data.n_labels
    if consensus is None:
        others = data.task_label_counts()[data.task]
        others[np.arange(data.n_answers), data.label] -= 1.0
        top = others.max(axis=1)
        dist = (others == top[:, None]) & (top[:, None] > 0)
        n_top = np.maximum(dist.sum(axis=1), 1)
        cons = dist / n_top[:, None]
        valid = (top > 0).astype(np.float64)
    else:
        target = consensus[data.task]
        valid = (target >= 0).astype(np.float64)
        cons = np.zeros((data.n_answers, k))
        rows = np.flatnonzero(target >= 0)
        cons[rows, target[rows]] = 1.0
    credit = cons[np.arange(data.n_answers), data.label]
    return credit, valid, cons


def consensus_agreement(answers: AnswersLike, *, consensus: Reference | None = None) -> pd.DataFrame:
    """Per-worker agreement with the consensus, raw and chance-corrected.

    ``consensus``: Series task -> label (e.g. an aggregator's ``labels_``); default: leave-one-out
    majority vote. Columns: ``n`` (answers compared), ``agreement``, ``chance``, ``kappa``.
    """
    if consensus is None:
        data = encode(answers)
        ref = None
    else:
        data, ref = _encode_with(answers, consensus)
    return _per_worker_agreement(data, ref)


def _per_worker_agreement(data: Encoded, ref: np.ndarray | None) -> pd.DataFrame:
    k, n_w = data.n_labels, data.n_workers
    credit, valid, cons = _agreement_parts(data, ref)
    n = wsum(data.worker, valid, n_w)
    agree = wsum(data.worker, credit * valid, n_w)
    own = wsum(data.worker * k + data.label, valid, n_w * k).reshape(n_w, k)
    flat_w = np.repeat(data.worker * k, k) + np.tile(np.arange(k), data.n_answers)
    gamma = wsum(flat_w, (cons * valid[:, None]).ravel(), n_w * k).reshape(n_w, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_o = agree / n
        p_e = (own * gamma).sum(axis=1) / (n * n)
        kappa = np.where(p_e < 1, (p_o - p_e) / (1 - p_e), np.nan)
    return pd.DataFrame(
        {"n": n.astype(np.int64), "agreement": p_o, "chance": p_e, "kappa": kappa},
        index=data.workers.rename("worker"),
    )


def suspicious_workers(
    answers: AnswersLike,
    *,
    consensus: Reference | None = None,
    duration_column: str | None = "duration",
    min_answers: int = 10,
    same_label_share: float = 0.95,
    speed_ratio: float = 0.3,
    chance_kappa: float = 0.1,
) -> pd.DataFrame:
    """Flag workers with suspicious answering patterns (only workers with ``min_answers`` or more).

    - ``same_label``: at least ``same_label_share`` of their answers are one label, while the other
      workers on the same tasks give that label less often than ``same_label_share``;
    - ``too_fast``: the median of (answer duration / the median duration of that task's answers) is
      below ``speed_ratio``; needs the ``duration_column`` (skipped, all False, when absent);
    - ``chance_level``: chance-corrected agreement with the consensus ``kappa <= chance_kappa``.

    Returns the per-worker measurements and the boolean flags, plus ``suspicious`` = any flag.
    """
    frame_cols = answers.columns if isinstance(answers, pd.DataFrame) else ()
    extra = (duration_column,) if duration_column is not None and duration_column in frame_cols else ()
    if consensus is None:
        data, ref = encode(answers, extra_columns=extra), None
    else:
        data, ref = _encode_with(answers, consensus, extra=extra)
    k, n_w = data.n_labels, data.n_workers
    table = _per_worker_agreement(data, ref)
    n = np.bincount(data.worker, minlength=n_w)
    own = np.bincount(data.worker * k + data.label, minlength=n_w * k).reshape(n_w, k)
    top = own.argmax(axis=1)
    top_share = own.max(axis=1) / np.maximum(n, 1)
    others = data.task_label_counts()[data.task]
    others[np.arange(data.n_answers), data.label] -= 1.0
    peer_top = wsum(data.worker, others[np.arange(data.n_answers), top[data.worker]], n_w)
    peer_all = wsum(data.worker, others.sum(axis=1), n_w)
    with np.errstate(invalid="ignore", divide="ignore"):
        peer_share = peer_top / peer_all
    enough = n >= min_answers
    table["n_answers"] = n
    table["top_label"] = data.labels.take(top)
    table["top_share"] = top_share
    table["peer_share"] = peer_share
    table["same_label"] = enough & (top_share >= same_label_share) & ~(peer_share >= same_label_share)
    if extra:
        duration = pd.to_numeric(data.extra[extra[0]], errors="coerce").to_numpy(dtype=np.float64)
        task_median = pd.Series(duration).groupby(data.task).transform("median").to_numpy()
        ratio = duration / np.where(task_median > 0, task_median, np.nan)
        speed = pd.Series(ratio).groupby(data.worker).median().reindex(range(n_w)).to_numpy()
        table["relative_duration"] = speed
        table["too_fast"] = enough & (speed < speed_ratio)
    else:
        table["relative_duration"] = np.nan
        table["too_fast"] = False
    table["chance_level"] = enough & (table["kappa"].to_numpy() <= chance_kappa)
    table["suspicious"] = table["same_label"] | table["too_fast"] | table["chance_level"]
    return table
