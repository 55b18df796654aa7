"""YOLO (Ultralytics' layout): `data.yaml`, the images in `images/`, one label file per image in
`labels/` (the image's path with `images/` -> `labels/` and its suffix -> `.txt`).

One line per object, every coordinate divided by the image's width (x) or height (y):
- detect (box): `class cx cy w h`, the box's centre and size;
- segment (polygon): `class x1 y1 x2 y2 ...`;
- pose (keypoints): `class cx cy w h x1 y1 v1 ...`, the box around the labelled points, then
  every skeleton point in order (unlabelled: `0.0 0.0 0`).

`class` is the label's 0-based position in the question's labels, which `data.yaml` lists as
`names` (with `kpt_shape: [points, 3]` for pose). Numbers are written with every digit Python
needs to read back the same float, not rounded to six places as some tools do: importing the
file gives back the pixels exported (`coords.py`). An image with no objects gets an empty file.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import yaml

from labelloop.services.exporting.images.coords import centre_and_size, normalised, text
from labelloop.services.exporting.images.pictures import DatasetPlan, Picture

IMAGES_DIR = "images"
LABELS_DIR = "labels"
DATA = "data.yaml"


def data_yaml(plan: DatasetPlan) -> bytes:
    spec: Any = plan.question.spec
    doc: dict[str, Any] = {
        "path": ".", "train": IMAGES_DIR, "val": IMAGES_DIR, "nc": len(spec.values),
        "names": dict(enumerate(spec.values)),
    }
    if plan.question.kind.name == "keypoints":
        doc["kpt_shape"] = [len(spec.skeleton.points), 3]
    head = f"# {plan.question.kind.name} objects of question {plan.question.name!r}, exported by labelloop\n"
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=None)
    return (head + body).encode()


def label_path(image_name: str) -> str:
    return f"{LABELS_DIR}/{PurePosixPath(image_name).with_suffix('.txt')}"


def _box_numbers(x1: Any, y1: Any, x2: Any, y2: Any, w: int, h: int) -> list[float]:
    cx, bw = centre_and_size(x1, x2, w)
    cy, bh = centre_and_size(y1, y2, h)
    return [cx, cy, bw, bh]


def line(plan: DatasetPlan, obj: dict[str, Any], w: int, h: int) -> str:
    spec: Any = plan.question.spec
    kind = plan.question.kind.name
    parts: list[str] = [str(spec.values.index(obj["label"]))]
    if kind == "bbox":
        x1, y1, x2, y2 = obj["box"]
        parts += [text(v) for v in _box_numbers(x1, y1, x2, y2, w, h)]
    elif kind == "polygon":
        for x, y in obj["points"]:
            parts += [text(normalised(x, w)), text(normalised(y, h))]
    elif kind == "keypoints":
        points = [obj["points"][name] for name in spec.skeleton.points]
        placed = [p for p in points if p[2] > 0]
        # The box from the points' written (normalised) values, not from their pixels: several
        # pixel values write the same fraction, and the one an import brings back must give the
        # same box again, so that export, import and export write the same file.
        xs, ys = [normalised(p[0], w) for p in placed], [normalised(p[1], h) for p in placed]
        box = [(min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, max(xs) - min(xs), max(ys) - min(ys)]
        parts += [text(v) for v in box]
        for x, y, v in points:
            parts += [text(normalised(x, w)), text(normalised(y, h)), str(int(v))]
    else:
        raise ValueError(f"YOLO cannot hold {kind}")
    return " ".join(parts)


def label_file(plan: DatasetPlan, p: Picture) -> bytes:
    return "".join(line(plan, obj, p.width, p.height) + "\n" for _, obj in p.objects).encode()
