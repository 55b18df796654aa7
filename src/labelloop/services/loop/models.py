"""Models a round can train: the built-in classifier, a team's own model over HTTP, or one
installed as a Python entry point. All three meet one interface, `LoopModel`.

The HTTP protocol (docs/loop.md has examples): the round POSTs JSON to `<url>/train` with
`{"question", "classes", "items": [{"id", "data", "label", "weight"}]}` and expects 200 with
optionally `{"oof_probabilities": [[p per class] per item]}` (honest, out-of-fold predictions of
the training items; without them the round skips auto-labelling and label-error detection),
then POSTs `{"question", "classes", "items": [{"id", "data"}]}` to `<url>/predict` and expects
`{"probabilities": [[p per class] per item]}` in the same order. A Python model is a class
registered under the entry-point group `labelloop.models`, constructed without arguments.

Images (docs/loop.md, "Images") have two more interfaces of the same three kinds: a `Detector`
(labelloop.learn.images.detector; built in: the offline COCO detector) that pre-labels boxes, POSTed to
`<url>/detect`, and a `Segmenter` (below; built in: GrabCut) that turns a box or scribbles into a
mask, POSTed to `<url>/segment`; entry-point groups `labelloop.detectors` and `labelloop.segmenters`.
Audio has one more, a `Transcriber` (labelloop.learn.speech; built in: Whisper and Silero VAD), in
services/loop/transcribers.py.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

import httpx
import numpy as np

from labelloop.errors import Invalid, Problem
from labelloop.learn.images.detector import Detection, Detector
from labelloop.schema.types.shapes.rle import RleError, decode_counts

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
    """A calibrated classifier on the round's embeddings (labelloop.learn.EmbeddingClassifier).

    On text items (`text_fields` given) it reads the items' texts too (`needs_texts`): with
    `ngrams`, n-gram TF-IDF stacked beside the embeddings (labelloop.learn.text.classifier); with
    `finetune`, the encoder fine-tuned on part of the labels (labelloop.learn.text.tuned; a
    `FinetunePlan`), falling back to the frozen embeddings when the plan cannot run. `keep_out`:
    external ids of items never to fine-tune on (the round's validation sample). `text_info` says
    afterwards what was used, for the round's metrics.
    """

    def __init__(self, *, text_fields: Sequence[str] | None = None, ngrams: bool = False,
                 finetune: FinetunePlan | None = None, keep_out: frozenset[Any] = frozenset(),
                 progress: Callable[[str, int, int], None] | None = None) -> None:
        self.class_counts: np.ndarray | None = None
        self.text_fields = list(text_fields) if text_fields is not None else None
        self.ngrams = ngrams
        self.finetune = finetune
        self.keep_out = keep_out
        self.progress = progress
        self.text_info: dict[str, Any] = {}

    @property
    def needs_texts(self) -> bool:
        return self.text_fields is not None and (self.ngrams or self.finetune is not None)

    def _texts(self, items: Sequence[dict[str, Any]], n: int) -> list[str]:
        from labelloop.services.compute.round_tasks import item_text

        if len(items) != n:
            raise ValueError(f"this model reads the items' texts: got {len(items)} items for {n} rows")
        assert self.text_fields is not None
        return [item_text(self.text_fields, item.get("data") or {}) for item in items]

    def fit(self, items: Sequence[dict[str, Any]], x: np.ndarray, y: np.ndarray, weights: np.ndarray,
            classes: list[str], question: str) -> np.ndarray | None:
        from labelloop.learn import EmbeddingClassifier

        codes = list(range(len(classes)))
        if not self.needs_texts:
            self._model: Any = EmbeddingClassifier(seed=0).fit(x, y, sample_weight=weights, classes=codes)
            self.class_counts = self._model.class_counts_
            return np.asarray(self._model.oof_proba_) if self._model.oof_proba_ is not None else None
        texts = self._texts(items, len(x))
        if self.finetune is None:
            from labelloop.learn.text.classifier import TextClassifier

            self._model = TextClassifier(ngrams=self.ngrams, seed=0).fit(
                texts, x, y, sample_weight=weights, classes=codes)
            self.text_info = {"ngrams": self._model.n_ngram_features_, "finetune": None}
        else:
            self._model = self.finetune.fit(texts, x, y, weights, codes, ngrams=self.ngrams,
                                            keep_out=[item.get("id") in self.keep_out for item in items],
                                            progress=self.progress)
            self.text_info = {"ngrams": self.ngrams, "finetune": self.finetune.describe(self._model)}
        self.class_counts = self._model.class_counts_
        return None if self._model.oof_proba_ is None else np.asarray(self._model.oof_proba_)

    def predict_proba(self, items: Sequence[dict[str, Any]], x: np.ndarray, classes: list[str],
                      question: str) -> np.ndarray:
        if not self.needs_texts:
            return np.asarray(self._model.predict_proba(x))
        return np.asarray(self._model.predict_proba(self._texts(items, len(x)), x))


@dataclass(frozen=True)
class FinetunePlan:
    """How a round fine-tunes (the project's `finetune_*` settings); see labelloop.learn.text.tuned."""

    min_labels: int
    seconds: float
    threads: int = 1  # torch threads: the round keeps BLAS to one as well (rounds.py)
    encoder_ok: bool = True  # False: the round's encoder is not the one that can be fine-tuned

    def fit(self, texts: list[str], x: np.ndarray, y: np.ndarray, weights: np.ndarray, codes: list[int],
            *, ngrams: bool, keep_out: list[bool],
            progress: Callable[[str, int, int], None] | None) -> Any:
        from labelloop.learn.text.tuned import TunedTextClassifier

        return TunedTextClassifier(
            min_labels=self.min_labels, seconds=self.seconds, ngrams=ngrams,
            finetune_options={"threads": self.threads}, seed=0,
            unavailable=None if self.encoder_ok else "fine-tuning needs the minilm encoder",
        ).fit(texts, x, y, sample_weight=weights, classes=codes, keep_out=np.array(keep_out, dtype=bool),
              progress=progress)

    @staticmethod
    def describe(model: Any) -> dict[str, Any]:
        """The metrics a round records about its fine-tuning."""
        report = model.report_
        return {"used": bool(model.tuned), "fallback": model.fallback_,
                "tuned_on": int(model.tuned_mask_.sum()),
                **({} if report is None else {"steps": report.steps, "epochs": report.epochs,
                                              "seconds": report.seconds, "stopped": report.stopped,
                                              "first_loss": round(report.first_loss, 4),
                                              "last_loss": round(report.last_loss, 4)})}


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
        return post_json(f"{self.url}/{path}", "loop.model", json=body)

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


def post_json(target: str, field: str, **request: Any) -> Any:
    """POST `request` (httpx's arguments) to a team's model, and its JSON answer; Invalid naming the
    setting `field` when the model cannot be reached, refuses, or answers something else."""
    try:
        r = httpx.post(target, timeout=HTTP_TIMEOUT, **request)
    except httpx.HTTPError as e:
        raise Invalid("the external model could not be reached",
                      [Problem(f"{target}: {e}", field=field)]) from e
    if r.status_code != 200:
        raise Invalid("the external model refused the request",
                      [Problem(f"{target} answered {r.status_code}: {r.text[:300]}", field=field)])
    try:
        return r.json()
    except ValueError as e:
        raise _bad(f"{target} did not answer JSON", field) from e


def _image_json(image: Any) -> dict[str, str]:
    """An image file as the image protocols send it: its blob reference and its bytes in base64."""
    if not isinstance(image, bytes | bytearray | memoryview):
        raise TypeError("an external image model is sent the image file: pass its bytes")
    data = bytes(image)
    return {"ref": f"blob:{hashlib.sha256(data).hexdigest()}",
            "content_base64": base64.b64encode(data).decode("ascii")}


def _bad(message: str, field: str) -> Invalid:
    return Invalid("the external model answered badly", [Problem(message, field=field)])


def _detection(raw: Any, labels: set[str] | None, where: str) -> Detection:
    if not isinstance(raw, dict):
        raise _bad("expected an object {label, box, score}", where)
    label, box, score = raw.get("label"), raw.get("box"), raw.get("score", 1.0)
    if not isinstance(label, str) or (labels is not None and label not in labels):
        raise _bad(f"label {label!r} is not one of the question's labels", f"{where}.label")
    if (not isinstance(box, list) or len(box) != 4
            or not all(isinstance(v, int | float) and math.isfinite(v) for v in box)
            or not (box[0] < box[2] and box[1] < box[3])):
        raise _bad("box must be [x1, y1, x2, y2] with x1 < x2 and y1 < y2", f"{where}.box")
    if not isinstance(score, int | float) or not 0 <= score <= 1:
        raise _bad("score must be a number in [0, 1]", f"{where}.score")
    x1, y1, x2, y2 = (float(v) for v in box)
    return Detection(label, (x1, y1, x2, y2), float(score))


class HttpDetector:
    """A team's own detector behind `<url>/detect` (docs/loop.md, "Images"): meets `Detector`.

    Boxes are checked for shape here; against the image's size by the `bbox` type where they are
    stored. Detections under *threshold* are dropped.
    """

    def __init__(self, url: str, *, labels: Sequence[str] | None = None, question: str | None = None,
                 threshold: float = 0.0) -> None:
        self.url = url.rstrip("/")
        self.name = f"http:{self.url}"
        self.labels = None if labels is None else list(labels)
        self.question = question
        self.threshold = threshold

    def detect(self, images: Sequence[Any], *,
               items: Sequence[dict[str, Any]] | None = None) -> list[list[Detection]]:
        """Detections of each image file (bytes); *items* (`{"id", "data"}`, one per image) go along."""
        if items is not None and len(items) != len(images):
            raise ValueError("items must have one entry per image")
        body = {"question": self.question, "labels": self.labels, "items": [
            {**(items[i] if items is not None else {}), "image": _image_json(image)}
            for i, image in enumerate(images)]}
        answer = post_json(f"{self.url}/detect", "loop.detector", json=body)
        raw = answer.get("detections") if isinstance(answer, dict) else None
        if not isinstance(raw, list) or len(raw) != len(images):
            raise _bad(f"expected {len(images)} lists of detections", "detections")
        known = None if self.labels is None else set(self.labels)
        out: list[list[Detection]] = []
        for i, per_image in enumerate(raw):
            if not isinstance(per_image, list):
                raise _bad("expected a list of detections", f"detections[{i}]")
            found = [_detection(d, known, f"detections[{i}][{j}]") for j, d in enumerate(per_image)]
            out.append(sorted((d for d in found if d.score >= self.threshold), key=lambda d: -d.score))
        return out


@runtime_checkable
class Segmenter(Protocol):
    """Interactive masks: an image file and a prompt in, COCO compressed RLE of the image's size out."""

    name: str

    def segment(self, image: Any, *, box: Sequence[float] | None = None,
                foreground: Sequence[Sequence[float]] = (),
                background: Sequence[Sequence[float]] = ()) -> dict[str, Any]:
        """`{"size": [h, w], "counts": "..."}` for a box `[x1, y1, x2, y2]` and/or `[x, y]` scribbles."""
        ...


class GrabCutSegmenter:
    """The built-in segmenter: labelloop.learn.images.grabcut (OpenCV, the `images-models` extra)."""

    def __init__(self, **options: Any) -> None:
        from labelloop.learn.images.inputs import require_cv2

        require_cv2()
        self.options = options
        self.name = "grabcut"

    def segment(self, image: Any, *, box: Sequence[float] | None = None,
                foreground: Sequence[Sequence[float]] = (),
                background: Sequence[Sequence[float]] = ()) -> dict[str, Any]:
        from labelloop.learn.images.grabcut import grabcut_mask
        from labelloop.schema.types.shapes.rle import encode_mask

        try:
            mask = grabcut_mask(image, box=box, foreground=foreground, background=background, **self.options)
        except ValueError as e:
            raise Invalid("the mask prompt is not usable", [Problem(str(e), field="prompt")]) from e
        return encode_mask(mask)


class HttpSegmenter:
    """A team's own segmenter behind `<url>/segment` (docs/loop.md, "Images"): meets `Segmenter`."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.name = f"http:{self.url}"

    def segment(self, image: Any, *, box: Sequence[float] | None = None,
                foreground: Sequence[Sequence[float]] = (),
                background: Sequence[Sequence[float]] = ()) -> dict[str, Any]:
        body = {"image": _image_json(image), "box": None if box is None else [float(v) for v in box],
                "foreground": [[float(v) for v in p] for p in foreground],
                "background": [[float(v) for v in p] for p in background]}
        answer = post_json(f"{self.url}/segment", "loop.segmenter", json=body)
        rle = answer.get("rle") if isinstance(answer, dict) else None
        size = rle.get("size") if isinstance(rle, dict) else None
        counts = rle.get("counts") if isinstance(rle, dict) else None
        if (not isinstance(size, list) or len(size) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
                or not isinstance(counts, str)):
            raise _bad('expected {"rle": {"size": [height, width], "counts": "<COCO compressed RLE>"}}',
                       "rle")
        try:
            runs = decode_counts(counts)
        except RleError as e:
            raise _bad(str(e), "rle.counts") from e
        if (runs < 0).any() or int(runs.sum()) != size[0] * size[1]:
            raise _bad(f"the runs cover {int(runs.sum())} pixels, not {size[0]} x {size[1]}", "rle.counts")
        return {"size": [int(size[0]), int(size[1])], "counts": counts}


def _entry_point(group: str, wanted: str, field: str) -> Any:
    for ep in entry_points(group=group):
        if ep.name == wanted:
            return ep.load()()
    raise Invalid("unknown model",
                  [Problem(f"no entry point {wanted!r} in the group {group!r}", field=field)])


def detector_for(name: str, *, labels: Sequence[str] | None = None,
                 label_map: Mapping[str, str] | None = None, threshold: float = 0.5) -> Detector:
    """`coco` (the offline COCO detector, COCO names mapped by *label_map*), an http(s) URL, or
    python:<entry point in labelloop.detectors>."""
    if name == "coco":
        from labelloop.learn.images.detector import CocoDetector

        try:
            return CocoDetector(labels=label_map, threshold=threshold)
        except ImportError as e:
            raise Invalid("the built-in detector is not installed",
                          [Problem(str(e), field="loop.detector")]) from e
        except ValueError as e:
            raise Invalid("bad detector settings", [Problem(str(e), field="loop.detector")]) from e
    if name.startswith(("http://", "https://")):
        return HttpDetector(name, labels=labels, threshold=threshold)
    if name.startswith("python:"):
        found: Detector = _entry_point("labelloop.detectors", name.removeprefix("python:"), "loop.detector")
        return found
    raise Invalid("unknown detector",
                  [Problem("coco, an http(s) URL, or python:<name>", field="loop.detector")])


def segmenter_for(name: str) -> Segmenter:
    """`grabcut` (built in, offline), an http(s) URL, or python:<entry point in labelloop.segmenters>."""
    if name == "grabcut":
        try:
            return GrabCutSegmenter()
        except ImportError as e:
            raise Invalid("GrabCut is not installed", [Problem(str(e), field="loop.segmenter")]) from e
    if name.startswith(("http://", "https://")):
        return HttpSegmenter(name)
    if name.startswith("python:"):
        found: Segmenter = _entry_point("labelloop.segmenters", name.removeprefix("python:"),
                                        "loop.segmenter")
        return found
    raise Invalid("unknown segmenter",
                  [Problem("grabcut, an http(s) URL, or python:<name>", field="loop.segmenter")])


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
