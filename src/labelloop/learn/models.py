r"""A calibrated classifier on embeddings, and honest (out-of-fold) probabilities for labelled items.

Model: multinomial logistic regression (scikit-learn, L2 penalty ``1/C``) on the embeddings scaled to
unit length (cosine geometry, as sentence embeddings are meant to be compared; every built-in encoder
already returns unit vectors), or on sparse rows (embeddings stacked beside n-gram TF-IDF,
:mod:`labelloop.learn.text.ngrams`; scaled to unit length the same way, kept sparse), trained
on consensus labels with per-item weights (the consensus confidence, so an item the crowd agreed on
counts more than a coin flip).

Calibration: temperature scaling (Guo, Pleiss, Sun & Weinberger, "On Calibration of Modern Neural
Networks", ICML 2017). One scalar :math:`T > 0` rescales the log-probabilities,
:math:`\hat p_k \propto \exp(\log p_k / T)`, chosen to minimise the weighted negative log-likelihood of
the **out-of-fold** predictions; it never changes the predicted class, only how confident it is. With
one parameter it stays stable on a few dozen labels, where isotonic or Platt calibration per class
would overfit.

Regularisation: with ``C="auto"`` (the default) the L2 strength is chosen from ``C_GRID`` by the
weighted negative log-likelihood of the temperature-scaled out-of-fold predictions, the same folds that
calibrate. Labels with noise in them (crowd consensus always has some) want a stronger penalty than
clean ones, and the right amount differs between an 8x8 digit and a sentence; a fixed ``C`` that suits
one hurts the other (on 20% planted noise, confident learning's F1 moves by 0.1 across this grid).

Out-of-fold probabilities: stratified K-fold cross-validation; each labelled item is predicted by the
model fitted on the other folds (Stone 1974), so every labelled item gets a prediction made without
its own label: what the label-error search and the auto-label threshold need. A class with fewer items
than folds is absent from some training folds; there its probability is 0 (an honest "never seen").
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal, Self, TypeAlias

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize_scalar
from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped, unused-ignore]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped, unused-ignore]
from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped, unused-ignore]

from labelloop.learn._checks import Floats, Indices, as_embeddings, as_labels

# Rows the classifier trains on: dense embeddings, or sparse ones (embeddings stacked with n-grams,
# labelloop.learn.text.ngrams.stack_features).
Features: TypeAlias = NDArray[np.float32] | sp.csr_matrix
Rows: TypeAlias = ArrayLike | sp.spmatrix | sp.sparray  # what fit / predict accept as X

LOG_FLOOR = -700.0  # log-probability of a class a fold never saw (exp underflows to 0)
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)  # C="auto" candidates, searched with warm starts, smallest first
DEFAULT_C = 10.0  # C="auto" without folds to choose on (calibrate=False, or one item per class)
assert DEFAULT_C in C_GRID  # also the fallback when no out-of-fold prediction can be scored


def softmax_temperature(log_proba: Floats, temperature: float) -> Floats:
    """:math:`\\mathrm{softmax}(\\log p / T)` row-wise; a class at the floor (never seen) stays at 0."""
    z = log_proba / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.where(log_proba <= LOG_FLOOR, 0.0, np.exp(z))
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)


def weighted_nll(log_proba: Floats, labels: Indices, weights: Floats, temperature: float = 1.0) -> float:
    """Weighted mean negative log-likelihood of *labels* under ``softmax(log_proba / T)``."""
    z = log_proba / temperature
    top = z.max(axis=1)
    lse = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
    return float(np.sum(weights * (lse - z[np.arange(labels.shape[0]), labels])) / weights.sum())


def fit_temperature(log_proba: Floats, labels: Indices, weights: Floats) -> float:
    """The temperature minimising the weighted NLL of *labels* under ``softmax(log_proba / T)``."""
    res = minimize_scalar(lambda log_t: weighted_nll(log_proba, labels, weights, float(np.exp(log_t))),
                          bounds=(-4.0, 4.0), method="bounded", options={"xatol": 1e-4})
    return float(np.exp(res.x))


class EmbeddingClassifier:
    """Calibrated multinomial logistic regression on embeddings (see the module docstring).

    Options: ``C`` inverse L2 strength, or ``"auto"`` to choose it on the folds; ``n_splits`` folds
    for out-of-fold probabilities, calibration and the choice of ``C`` (fewer when a class is small;
    none below two items per class, then ``T = 1`` and ``C = DEFAULT_C``); ``calibrate=False`` skips
    all three (faster; for ranking items, where only the order matters);
    ``max_iter`` of the solver; ``seed`` for the fold split.

    ``fit(X, y, sample_weight=, classes=)``: *y* holds class labels (any sortable values) or, with
    *classes*, values of that list; *classes* fixes the columns of every probability array (a class
    nobody has labelled yet gets probability 0). Learned: ``classes_`` (array), ``class_counts_``
    (labelled items per class), ``C_`` (the L2 strength used), ``temperature_``, ``oof_proba_``
    (``(n, K)`` out-of-fold probabilities of the training items, or ``None`` without calibration).
    """

    classes_: NDArray[np.generic]
    class_counts_: NDArray[np.int64]
    C_: float
    temperature_: float
    oof_proba_: Floats | None

    def __init__(
        self,
        *,
        C: float | Literal["auto"] = "auto",
        n_splits: int = 5,
        calibrate: bool = True,
        max_iter: int = 1000,
        seed: int = 0,
    ) -> None:
        if C != "auto" and not (isinstance(C, int | float) and C > 0):
            raise ValueError('C must be > 0 or "auto"')
        if n_splits < 2:
            raise ValueError("n_splits must be >= 2")
        if max_iter < 1:
            raise ValueError("max_iter must be >= 1")
        self.C = C
        self.n_splits = n_splits
        self.calibrate = calibrate
        self.max_iter = max_iter
        self.seed = seed

    def fit(
        self,
        X: Rows,
        y: ArrayLike,
        *,
        sample_weight: ArrayLike | None = None,
        classes: Sequence[object] | ArrayLike | None = None,
    ) -> Self:
        x = unit_rows(X)
        codes, self.classes_ = encode_labels(y, classes, x.shape[0])
        k = len(self.classes_)
        weights = check_weights(sample_weight, x.shape[0])
        self.class_counts_ = np.bincount(codes, minlength=k).astype(np.int64)
        if np.count_nonzero(self.class_counts_) < 2:
            raise ValueError("need labelled items of at least two classes to train")
        self.C_ = DEFAULT_C if self.C == "auto" else float(self.C)
        self.temperature_ = 1.0
        self.oof_proba_ = None
        if self.calibrate:
            grid = C_GRID if self.C == "auto" else (self.C_,)
            oof_logs = _oof_log_proba(x, codes, weights, k, self.n_splits, grid, self.max_iter, self.seed)
            if oof_logs is not None:
                self.C_, self.temperature_, oof_log = _pick_c(grid, oof_logs, codes, weights, self.C_)
                self.oof_proba_ = softmax_temperature(oof_log, self.temperature_)
        self._model, self._seen = _fit_one(x, codes, weights, self.C_, self.max_iter)
        return self

    def predict_log_proba_uncalibrated(self, X: Rows) -> Floats:
        """Log-probabilities before temperature scaling."""
        x = unit_rows(X)
        return _log_proba(self._model, self._seen, x, len(self.classes_))

    def predict_proba(self, X: Rows) -> Floats:
        """``(n, K)`` calibrated probabilities, columns in the order of ``classes_``."""
        return softmax_temperature(self.predict_log_proba_uncalibrated(X), self.temperature_)

    def predict(self, X: Rows) -> NDArray[np.generic]:
        """The most probable class of each item (a value of ``classes_``)."""
        return np.asarray(self.classes_[self.predict_proba(X).argmax(axis=1)])


def out_of_fold_proba(
    X: Rows,
    y: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    classes: Sequence[object] | ArrayLike | None = None,
    C: float | Literal["auto"] = "auto",
    n_splits: int = 5,
    seed: int = 0,
) -> Floats:
    """Calibrated out-of-fold probabilities ``(n, K)`` of labelled items (columns as in ``fit``)."""
    model = EmbeddingClassifier(C=C, n_splits=n_splits, seed=seed).fit(
        X, y, sample_weight=sample_weight, classes=classes
    )
    if model.oof_proba_ is None:
        raise ValueError("out-of-fold probabilities need at least two labelled items in some class")
    return model.oof_proba_


def _pick_c(
    grid: Sequence[float], oof_logs: list[Floats], codes: Indices, weights: Floats, fallback: float
) -> tuple[float, float, Floats]:
    """The C of *grid* whose temperature-scaled out-of-fold NLL is lowest (ties: the stronger penalty),
    its temperature and its out-of-fold log-probabilities; *fallback* (T = 1) when nothing can score."""
    # An item whose class its fold model never saw says nothing about calibration.
    seen = oof_logs[0][np.arange(codes.size), codes] > LOG_FLOOR
    if not seen.any():
        return fallback, 1.0, oof_logs[list(grid).index(fallback)]
    scored = []
    for c, log in zip(grid, oof_logs, strict=True):
        t = fit_temperature(log[seen], codes[seen], weights[seen])
        scored.append((weighted_nll(log[seen], codes[seen], weights[seen], t), c, t, log))
    _, c, t, log = min(scored, key=lambda row: row[0])
    return c, t, log


def encode_labels(
    y: ArrayLike, classes: Sequence[object] | ArrayLike | None, n: int
) -> tuple[Indices, NDArray[np.generic]]:
    """Integer codes of *y* and the class vocabulary (sorted unique values, or *classes* as given)."""
    values = np.asarray(y)
    if values.ndim != 1 or values.shape[0] != n:
        raise ValueError(f"y must hold one label per row of X ({n}), got shape {values.shape}")
    if classes is None:
        vocab, codes = np.unique(values, return_inverse=True)
        return codes.astype(np.intp), vocab
    vocab = np.asarray(classes)
    if vocab.ndim != 1 or len(np.unique(vocab)) != len(vocab) or len(vocab) < 2:
        raise ValueError("classes must be at least two distinct values")
    lookup = {v: i for i, v in enumerate(vocab.tolist())}
    try:
        codes = np.fromiter((lookup[v] for v in values.tolist()), dtype=np.intp, count=n)
    except KeyError as exc:
        raise ValueError(f"label {exc.args[0]!r} is not one of classes") from None
    return as_labels(codes, n, len(vocab), name="y"), vocab


def unit_rows(X: Rows) -> Features:
    """Checked float32 rows scaled to unit L2 norm (all-zero rows stay zero); a sparse *X* stays
    sparse (CSR)."""
    if sp.issparse(X):
        m = sp.csr_matrix(X, dtype=np.float32)
        if not np.isfinite(m.data).all():
            raise ValueError("X must be finite")
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1), dtype=np.float64)).ravel()
        scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0).astype(np.float32)
        return sp.csr_matrix(sp.diags(scale) @ m, dtype=np.float32)
    x = as_embeddings(X, name="X").astype(np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.asarray(np.divide(x, norms, out=np.zeros_like(x), where=norms > 0), dtype=np.float32)


def check_weights(sample_weight: ArrayLike | None, n: int) -> Floats:
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"sample_weight must be {n} finite, non-negative weights with a positive sum")
    return w


def _fit(
    model: LogisticRegression, x: Features, codes: Indices, weights: Floats
) -> tuple[LogisticRegression, Indices]:
    """*model* fitted (a solver stopped at max_iter is still a usable model), and the classes it saw."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, codes, sample_weight=weights)
    return model, np.asarray(model.classes_, dtype=np.intp)


def _fit_one(
    x: Features, codes: Indices, weights: Floats, C: float, max_iter: int
) -> tuple[LogisticRegression, Indices]:
    return _fit(LogisticRegression(C=C, max_iter=max_iter), x, codes, weights)


def _log_proba(model: LogisticRegression, seen: Indices, x: Features, k: int) -> Floats:
    out = np.full((x.shape[0], k), LOG_FLOOR)
    if x.shape[0]:
        out[:, seen] = np.maximum(model.predict_log_proba(x), LOG_FLOOR)
    return out


def _oof_log_proba(
    x: Features,
    codes: Indices,
    weights: Floats,
    k: int,
    n_splits: int,
    grid: Sequence[float],
    max_iter: int,
    seed: int,
) -> list[Floats] | None:
    """Out-of-fold log-probabilities for each C of *grid* (in order), on the same folds."""
    counts = np.bincount(codes, minlength=k)
    folds = min(n_splits, int(counts.max()))
    if folds < 2:
        return None
    out = [np.empty((x.shape[0], k)) for _ in grid]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "the least populated class has only n members"
        splits = list(splitter.split(x, codes))
    for train, test in splits:
        if np.unique(codes[train]).size < 2:
            for o in out:
                o[test] = np.log(np.bincount(codes[train], minlength=k) / train.size + 1e-300)
            continue
        # One model per fold, refitted along the grid from the previous solution (warm start): the
        # weaker penalties converge in a few iterations from the stronger one's weights.
        model = LogisticRegression(max_iter=max_iter, warm_start=True)
        for c, o in zip(grid, out, strict=True):
            fitted, seen = _fit(model.set_params(C=c), x[train], codes[train], weights[train])
            o[test] = _log_proba(fitted, seen, x[test], k)
    return out
