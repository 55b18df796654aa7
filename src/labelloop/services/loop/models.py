"""Models a round can train: the built-in classifier, a team's own model over HTTP, or one
installed as a Python entry point. All three meet one interface, `LoopModel`.

The HTTP protocol (docs/loop.md has examples): the round POSTs JSON to `<url>/train` with
`{"question", "classes", "items": [{"id", "data", "label", "weight"}]}` and expects 200 with
optionally `{"oof_probabilities": [[p per class] per item]}` (honest, out-of-fold predictions of
the training items; without them the round skips auto-labelling and label-error detection),
then POSTs `{"question", "classes", "items": [{"id", "data"}]}` to `<url>/predict` and expects
`{"probabilities": [[p per class] per item]}` in the same order. A Python model is a class
registered under the entry-point group `labelloop.models`, constructed without arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any, Protocol

import httpx
import numpy as np

from labelloop.errors import Invalid, Problem

ENTRY_POINT_GROUP = "labelloop.models"
HTTP_TIMEOUT = 600.0


class LoopModel(Protocol):
    """What a round needs from a model."""

    def fit(
        self, items: Sequence[dict[str, Any]], x: np.ndarray, y: np.ndarray, weights: np.ndarray,
        classes: list[str], question: str,
    ) -> np.ndarray | None:
        """Train on labelled items (`y`: class indices); out-of-fold probabilities, or None."""
        ...

    def predict_proba(
        self, items: Sequence[dict[str, Any]], x: np.ndarray, classes: list[str], question: str
    ) -> np.ndarray:
        """`(len(items), len(classes))` probabilities."""
        ...


class BuiltinModel:
    """A calibrated classifier on the round's embeddings (labelloop.learn.EmbeddingClassifier)."""

    def __init__(self) -> None:
        self.class_counts: np.ndarray | None = None

    def fit(self, items: Sequence[dict[str, Any]], x: np.ndarray, y: np.ndarray, weights: np.ndarray,
            classes: list[str], question: str) -> np.ndarray | None:
        from labelloop.learn import EmbeddingClassifier

        self._model = EmbeddingClassifier(seed=0).fit(x, y, sample_weight=weights,
                                                      classes=list(range(len(classes))))
        self.class_counts = self._model.class_counts_
        return self._model.oof_proba_

    def predict_proba(self, items: Sequence[dict[str, Any]], x: np.ndarray, classes: list[str],
                      question: str) -> np.ndarray:
        return np.asarray(self._model.predict_proba(x))


def _probabilities(raw: Any, n: int, k: int, where: str) -> np.ndarray:
    p = np.asarray(raw, dtype=np.float64)
    if p.shape != (n, k) or not np.isfinite(p).all() or (p < 0).any():
        raise Invalid("the external model answered badly", [
            Problem(f"expected {n} rows of {k} non-negative probabilities, got shape {p.shape}", field=where)
        ])
    sums = p.sum(axis=1, keepdims=True)
    return np.asarray(p / np.where(sums > 0, sums, 1.0))


class HttpModel:
    """A team's own model behind two HTTP endpoints (the protocol in this module's docstring)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.class_counts: np.ndarray | None = None

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        try:
            r = httpx.post(f"{self.url}/{path}", json=body, timeout=HTTP_TIMEOUT)
        except httpx.HTTPError as e:
            raise Invalid("the external model could not be reached",
                          [Problem(f"{self.url}/{path}: {e}", field="loop.model")]) from e
        if r.status_code != 200:
            raise Invalid("the external model refused the request",
                          [Problem(f"{self.url}/{path} answered {r.status_code}: {r.text[:300]}",
                                   field="loop.model")])
        return r.json()

    def fit(self, items: Sequence[dict[str, Any]], x: np.ndarray, y: np.ndarray, weights: np.ndarray,
            classes: list[str], question: str) -> np.ndarray | None:
        self.class_counts = np.bincount(y, minlength=len(classes))
        body = {"question": question, "classes": classes, "items": [
            {**item, "label": classes[int(label)], "weight": float(w)}
            for item, label, w in zip(items, y, weights, strict=True)]}
        answer = self._post("train", body) or {}
        oof = answer.get("oof_probabilities") if isinstance(answer, dict) else None
        return None if oof is None else _probabilities(oof, len(items), len(classes), "oof_probabilities")

    def predict_proba(self, items: Sequence[dict[str, Any]], x: np.ndarray, classes: list[str],
                      question: str) -> np.ndarray:
        answer = self._post("predict", {"question": question, "classes": classes, "items": list(items)})
        raw = answer.get("probabilities") if isinstance(answer, dict) else None
        return _probabilities(raw, len(items), len(classes), "probabilities")


def model_for(name: str) -> Any:
    """The model a project's `loop.model` setting names: builtin, an http(s) URL, or python:<entry point>."""
    if name == "builtin":
        return BuiltinModel()
    if name.startswith(("http://", "https://")):
        return HttpModel(name)
    if name.startswith("python:"):
        wanted = name.removeprefix("python:")
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name == wanted:
                return ep.load()()
        raise Invalid("unknown model", [Problem(
            f"no entry point {wanted!r} in the group {ENTRY_POINT_GROUP!r}", field="loop.model")])
    raise Invalid("unknown model", [Problem("builtin, an http(s) URL, or python:<name>", field="loop.model")])
