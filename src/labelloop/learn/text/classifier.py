"""A text classifier: sentence embeddings with n-gram TF-IDF stacked beside them, calibrated.

:class:`TextClassifier` is :class:`~labelloop.learn.models.EmbeddingClassifier` (logistic
regression, ``C`` chosen on the folds, temperature scaling, out-of-fold probabilities) over
``stack_features(embeddings, NgramFeatures().transform(texts))``
(:mod:`labelloop.learn.text.ngrams`). The n-gram vocabulary and idf are learned from texts alone
(``corpus``, by default the training texts), so the out-of-fold probabilities stay honest: no
item's label reaches the features.

``ngrams=False`` makes it the plain embedding classifier (the same fitted attributes), so a
caller can switch the n-grams off without another code path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelloop.learn._checks import Floats
from labelloop.learn.models import EmbeddingClassifier, Features, unit_rows
from labelloop.learn.text.ngrams import SPARSE_SHARE, NgramFeatures, stack_features


class TextClassifier:
    """Calibrated logistic regression on embeddings + n-grams of texts (see the module docstring).

    Options: ``ngrams`` (stack the n-grams; off: embeddings alone), ``sparse_share`` (the n-grams'
    share of each row's squared norm), and ``C``, ``n_splits``, ``calibrate``, ``seed`` as in
    :class:`EmbeddingClassifier`. After ``fit``: ``classes_``, ``class_counts_``, ``C_``,
    ``temperature_``, ``oof_proba_``, and ``n_ngram_features_`` (0 without n-grams).
    """

    def __init__(
        self,
        *,
        ngrams: bool = True,
        sparse_share: float = SPARSE_SHARE,
        C: float | Literal["auto"] = "auto",
        n_splits: int = 5,
        calibrate: bool = True,
        seed: int = 0,
    ) -> None:
        if not 0.0 <= sparse_share < 1.0:
            raise ValueError(f"sparse_share must lie in [0, 1), got {sparse_share}")
        self.ngrams = ngrams
        self.sparse_share = sparse_share
        self._model = EmbeddingClassifier(C=C, n_splits=n_splits, calibrate=calibrate, seed=seed)
        self._grams: NgramFeatures | None = None

    def features(self, texts: Sequence[str], embeddings: ArrayLike) -> Features:
        """The rows the classifier sees for *texts* and their *embeddings* (after ``fit``)."""
        x = np.asarray(embeddings)
        if x.ndim != 2 or x.shape[0] != len(texts):
            raise ValueError(f"embeddings must have one row per text ({len(texts)}), got shape {x.shape}")
        if self._grams is None:
            return unit_rows(x)
        return stack_features(x, self._grams.transform(texts), sparse_share=self.sparse_share)

    def fit(
        self,
        texts: Sequence[str],
        embeddings: ArrayLike,
        y: ArrayLike,
        *,
        sample_weight: ArrayLike | None = None,
        classes: Sequence[object] | ArrayLike | None = None,
        corpus: Sequence[str] | None = None,
    ) -> Self:
        """Train on *texts* with their *embeddings* and labels *y*; *corpus* (texts only, e.g. every
        item of a project) is what the n-gram vocabulary and idf are learned from."""
        self._grams = None
        if self.ngrams:
            vocabulary = list(corpus) if corpus is not None else list(texts)
            self._grams = NgramFeatures().fit(vocabulary or list(texts))
            if self._grams.n_features == 0:
                self._grams = None
        self._model.fit(self.features(texts, embeddings), y, sample_weight=sample_weight, classes=classes)
        return self

    @property
    def n_ngram_features_(self) -> int:
        return 0 if self._grams is None else self._grams.n_features

    @property
    def classes_(self) -> NDArray[np.generic]:
        return self._model.classes_

    @property
    def class_counts_(self) -> NDArray[np.int64]:
        return self._model.class_counts_

    @property
    def C_(self) -> float:  # scikit-learn's name for the fitted value
        return self._model.C_

    @property
    def temperature_(self) -> float:
        return self._model.temperature_

    @property
    def oof_proba_(self) -> Floats | None:
        return self._model.oof_proba_

    def predict_proba(self, texts: Sequence[str], embeddings: ArrayLike) -> Floats:
        """``(n, K)`` calibrated probabilities, columns in the order of ``classes_``."""
        return self._model.predict_proba(self.features(texts, embeddings))
