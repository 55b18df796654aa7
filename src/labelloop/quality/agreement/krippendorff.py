r"""Krippendorff's alpha for any number of coders, missing data, and four levels of measurement.

.. math:: \alpha = 1 - \frac{D_o}{D_e}
          = 1 - (n-1)\,\frac{\sum_{c,k} o_{ck}\,\delta^2_{ck}}{\sum_{c,k} n_c\,n_k\,\delta^2_{ck}},

with the coincidence matrix :math:`o_{ck} = \sum_u \frac{1}{m_u - 1}\big(n_{uc}n_{uk} - [c=k]\,n_{uc}\big)`
over the units :math:`u` that have :math:`m_u \ge 2` values (:math:`n_{uc}` = how many coders gave
value :math:`c` to unit :math:`u`), :math:`n_c = \sum_k o_{ck}` and :math:`n = \sum_c n_c`. Distances:

- nominal: :math:`\delta^2_{ck} = [c \ne k]`;
- ordinal: :math:`\delta^2_{ck} = \big(\sum_{g=c}^{k} n_g - \frac{n_c + n_k}{2}\big)^2` over ranks;
- interval: :math:`(c-k)^2`;
- ratio: :math:`\big(\frac{c-k}{c+k}\big)^2`.

Vectorised: value pairs are counted per unit with ``np.bincount`` (a sparse unit x value table), the
coincidence matrix is :math:`N^\top D N - \operatorname{diag}(N^\top d)` with :math:`D` = diag of
:math:`1/(m_u-1)`; for the interval level the sums are taken in closed form without the matrix.

Reference: K. Krippendorff, "Computing Krippendorff's Alpha-Reliability", University of Pennsylvania,
2011 (https://repository.upenn.edu/asc_papers/43); K. Krippendorff, *Content Analysis*, 2004.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike

from labelloop.quality._input import AnswersLike, Codes, Floats, encode, to_frame, wsum

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")
_MAX_VALUES = 20_000  # the coincidence matrix is dense: values x values


def reliability_to_long(matrix: ArrayLike | pd.DataFrame) -> pd.DataFrame:
    """Reliability matrix (rows coders, columns units, NaN = missing) -> long table task, worker, label."""
    frame = pd.DataFrame(matrix)
    long = frame.stack(future_stack=True).reset_index()
    long.columns = pd.Index(["worker", "task", "label"])
    return long.loc[long["label"].notna(), ["task", "worker", "label"]]


def _as_long(data: AnswersLike | ArrayLike) -> AnswersLike:
    if isinstance(data, pd.DataFrame):
        return data if {"task", "worker", "label"} <= set(data.columns) else reliability_to_long(data)
    if isinstance(data, np.ndarray) and data.ndim == 2:
        return reliability_to_long(data)
    if isinstance(data, list) and data and isinstance(data[0], (list, tuple, np.ndarray)):
        return reliability_to_long(np.asarray(data, dtype=object))
    return to_frame(data)


def _values(labels: pd.Index, level: Level, order: Sequence[Any] | None) -> tuple[Codes | None, Floats]:
    """Optional re-ranking of label codes and the numeric value of each label for the metric."""
    if level == "nominal":
        return None, np.arange(len(labels), dtype=np.float64)
    if order is not None:
        if level != "ordinal":
            raise ValueError("order= only applies to the ordinal level")
        ranks = pd.Index(list(order)).get_indexer(labels)
        if (ranks < 0).any():
            raise ValueError(f"labels missing from order=: {list(labels[ranks < 0])}")
        return ranks.astype(np.intp), np.arange(len(order), dtype=np.float64)
    try:
        numeric = pd.to_numeric(pd.Series(labels), errors="raise").to_numpy(dtype=np.float64)
    except (ValueError, TypeError) as exc:
        if level == "ordinal":  # sorted labels are already in rank order
            return None, np.arange(len(labels), dtype=np.float64)
        raise ValueError(f"the {level} level needs numeric labels: {exc}") from exc
    if level == "ratio" and (numeric < 0).any():
        raise ValueError("the ratio level needs non-negative values")
    if level != "ordinal" and not np.all(np.diff(numeric) > 0):
        raise ValueError("numeric labels collide after conversion (e.g. '1' and 1.0)")
    return None, numeric


def _delta2(level: Level, values: Floats, n_c: Floats) -> Floats:
    if level == "nominal":
        return 1.0 - np.eye(len(values))
    if level == "interval":
        return np.subtract.outer(values, values) ** 2
    if level == "ratio":
        total = np.add.outer(values, values)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = (np.subtract.outer(values, values) / total) ** 2
        return np.where(total > 0, out, 0.0)
    # ordinal: distance between ranks measured in numbers of pairable values in between
    cum = np.cumsum(n_c)
    lo, hi = (
        np.minimum.outer(np.arange(len(n_c)), np.arange(len(n_c))),
        np.maximum.outer(np.arange(len(n_c)), np.arange(len(n_c))),
    )
    between = cum[hi] - np.where(lo > 0, cum[np.maximum(lo - 1, 0)], 0.0)
    return (between - (n_c[:, None] + n_c[None, :]) / 2.0) ** 2


def krippendorff_alpha(
    data: AnswersLike | ArrayLike,
    *,
    level: Level = "nominal",
    order: Sequence[Any] | None = None,
) -> float:
    """Krippendorff's alpha of *data*: a long table (task=unit, worker=coder, label=value) or a
    reliability matrix (2-D array or DataFrame, rows coders, columns units, NaN = missing).

    ``level`` is nominal, ordinal, interval or ratio; ``order`` gives the rank order of non-numeric
    ordinal labels. Units with fewer than two values are not pairable and are ignored. Returns NaN when
    fewer than two values are pairable or all pairable values are equal (alpha is undefined without
    variation). Duplicate (unit, coder) rows: the last one counts.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    enc = encode(_as_long(data))
    reranked, values = _values(enc.labels, level, order)
    label = enc.label if reranked is None else reranked[enc.label]
    n_values = len(values)
    m_u = np.bincount(enc.task, minlength=enc.n_tasks)
    keep = m_u[enc.task] >= 2
    if not keep.any():
        return float("nan")
    unit, label = enc.task[keep], label[keep]
    inv = 1.0 / (m_u - 1.0).clip(min=1.0)
    n_c = np.bincount(label, minlength=n_values).astype(np.float64)
    n = float(n_c.sum())
    if level == "interval":
        x = values[label]
        s1 = wsum(unit, x, enc.n_tasks)
        s2 = wsum(unit, x * x, enc.n_tasks)
        observed = float(np.sum(2.0 * (m_u * s2 - s1 * s1) * inv))
        expected = 2.0 * n * float(n_c @ values**2) - 2.0 * float(n_c @ values) ** 2
    else:
        # n_uc: how many coders gave value c to unit u (duplicate coordinates are summed)
        n_uc = sp.csr_matrix((np.ones(unit.shape[0]), (unit, label)), shape=(enc.n_tasks, n_values))
        weighted = sp.diags(inv) @ n_uc
        if level == "nominal":
            agreeing = float(n_uc.multiply(weighted).sum()) - float(weighted.sum())  # sum_c o_cc
            observed = n - agreeing
            expected = n * n - float(n_c @ n_c)
        else:
            if n_values > _MAX_VALUES:
                raise ValueError(f"{n_values} distinct values: too many for the {level} coincidence matrix")
            o = (n_uc.T @ weighted).toarray() - np.diag(np.asarray(weighted.sum(axis=0)).ravel())
            d2 = _delta2(level, values, o.sum(axis=1))
            observed = float((o * d2).sum())
            expected = float(n_c @ d2 @ n_c)
    if expected <= 0:
        return float("nan")
    return 1.0 - (n - 1.0) * observed / expected
