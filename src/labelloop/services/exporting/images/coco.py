"""COCO: one JSON file, `annotations/instances.json`, beside the images in `images/`.

As cocoapi reads it (cocodataset.org/#format-data): `images` (`id`, `file_name` relative to
`images/`, `width`, `height`), `categories` (the question's labels in their order, ids from 1;
a keypoints question's categories carry its skeleton: `keypoints`, the point names, and
`skeleton`, its edges as 1-based indices into them) and `annotations`, each with `id`,
`image_id`, `category_id`, `bbox` [x, y, w, h], `area`, `iscrowd` and `segmentation`:

- box: bbox [x1, y1, x2 - x1, y2 - y1], area w * h, segmentation [];
- polygon: segmentation [[x1, y1, x2, y2, ...]] (one outline), bbox its bounds, area its exact
  area (shoelace; cocoapi's own `area` of a polygon counts the pixels it rasterises, a little
  different);
- mask: segmentation the compressed RLE as stored, bbox the bounds of its pixels, area their
  number (what cocoapi's `maskUtils.area` gives). `iscrowd` is 0: COCO uses RLE for crowds, but
  its evaluation ignores a crowd region, which a drawn object must not be, and cocoapi reads RLE
  with iscrowd 0 as well;
- keypoints: `keypoints` [x1, y1, v1, ...] in the skeleton's order (unlabelled [0, 0, 0]),
  `num_keypoints` the labelled ones, bbox the bounds of the labelled points, area its w * h;
- rotated box (not in COCO): bbox the bounds of its corners, segmentation its four corners, area
  w * h, and the exact box in an extra key `rotated_box` [cx, cy, w, h, angle];
- polyline (not in COCO): bbox its bounds, area 0, segmentation [], the points in an extra key
  `polyline` [x1, y1, x2, y2, ...].

Per-object attributes go in `attributes` (as CVAT writes them), and with answers exported, the
annotator's username in `annotator`. Ids count from 1 in item order and in object order, so the
same objects give the same file. Numbers are written as stored (an integer stays one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import orjson

from labelloop.schema.types.shapes import rle
from labelloop.schema.types.shapes.geometry import shoelace_area
from labelloop.schema.types.shapes.rotated_bbox import corners
from labelloop.services.exporting.images.coords import whole, width_of
from labelloop.services.exporting.images.pictures import DatasetPlan, Picture
from labelloop.services.exporting.media import Skipped

MEMBER = "annotations/instances.json"
IMAGES_DIR = "images"
INFO = {"description": "exported by labelloop", "version": "1.0"}

Passes = Callable[[], Iterator[Picture | Skipped]]


def categories(plan: DatasetPlan) -> list[dict[str, Any]]:
    spec: Any = plan.question.spec
    out: list[dict[str, Any]] = []
    for i, label in enumerate(spec.values, 1):
        category: dict[str, Any] = {"id": i, "name": label, "supercategory": ""}
        if plan.question.kind.name == "keypoints":
            points = spec.skeleton.points
            category["keypoints"] = list(points)
            category["skeleton"] = [[points.index(a) + 1, points.index(b) + 1]
                                    for a, b in spec.skeleton.edges]
        out.append(category)
    return out


def _box(x1: Any, y1: Any, x2: Any, y2: Any) -> list[Any]:
    return [x1, y1, width_of(x1, x2), width_of(y1, y2)]


def _flat(points: Any) -> list[Any]:
    return [c for p in points for c in p]


def shape_fields(kind: str, shape: Any) -> dict[str, Any]:
    """bbox, area, segmentation and the type's own keys of one shape."""
    if kind == "bbox":
        box = _box(*shape)
        return {"bbox": box, "area": box[2] * box[3], "segmentation": []}
    if kind == "polygon":
        xs, ys = [p[0] for p in shape], [p[1] for p in shape]
        area = abs(shoelace_area(np.asarray(shape, dtype=np.float64)))
        return {"bbox": _box(min(xs), min(ys), max(xs), max(ys)), "area": area,
                "segmentation": [_flat(shape)]}
    if kind == "mask":
        counts = rle.decode_counts(shape["counts"])
        x1, y1, x2, y2 = rle.bounds(counts, shape["size"][0])
        return {"bbox": _box(x1, y1, x2, y2), "area": rle.area(counts), "segmentation": shape}
    if kind == "keypoints":
        placed = [p for p in shape.values() if p[2] > 0]
        box = _box(min(p[0] for p in placed), min(p[1] for p in placed),
                   max(p[0] for p in placed), max(p[1] for p in placed))
        return {"bbox": box, "area": box[2] * box[3], "segmentation": [],
                "keypoints": _flat(shape.values()), "num_keypoints": len(placed)}
    if kind == "rotated_bbox":
        c = corners(shape)
        lo = [whole(float(v)) for v in c.min(axis=0)]
        hi = [whole(float(v)) for v in c.max(axis=0)]
        return {"bbox": _box(lo[0], lo[1], hi[0], hi[1]), "area": shape[2] * shape[3],
                "segmentation": [[whole(float(v)) for v in c.ravel()]], "rotated_box": shape}
    if kind == "polyline":
        xs, ys = [p[0] for p in shape], [p[1] for p in shape]
        return {"bbox": _box(min(xs), min(ys), max(xs), max(ys)), "area": 0, "segmentation": [],
                "polyline": _flat(shape)}
    raise ValueError(f"COCO cannot hold {kind}")


def annotation(
    plan: DatasetPlan, obj: dict[str, Any], annotator: str | None, *, ann_id: int, image_id: int
) -> dict[str, Any]:
    kind = plan.question.kind
    spec: Any = plan.question.spec
    fields = shape_fields(kind.name, obj[kind.shape_key])  # type: ignore[attr-defined]
    out: dict[str, Any] = {
        "id": ann_id, "image_id": image_id, "category_id": spec.values.index(obj["label"]) + 1,
        "bbox": fields.pop("bbox"), "area": fields.pop("area"), "iscrowd": 0,
        "segmentation": fields.pop("segmentation"), **fields,
    }
    if obj.get("attributes"):
        out["attributes"] = obj["attributes"]
    if annotator is not None:
        out["annotator"] = annotator
    return out


def _dump(obj: Any) -> bytes:
    return orjson.dumps(obj)


def instances(plan: DatasetPlan, passes: Passes) -> Iterator[bytes]:
    """The JSON file in pieces: two passes over the pictures (images, then annotations)."""
    yield b'{"info": ' + _dump(INFO) + b', "licenses": [], "categories": ' + _dump(categories(plan))
    yield b',\n"images": ['
    sep = b"\n"
    for p in passes():
        if isinstance(p, Picture):
            yield sep + _dump({"id": p.index, "file_name": p.name, "width": p.width, "height": p.height})
            sep = b",\n"
    yield b'],\n"annotations": ['
    sep, ann_id = b"\n", 0
    for p in passes():
        if isinstance(p, Picture):
            for annotator, obj in p.objects:
                ann_id += 1
                yield sep + _dump(annotation(plan, obj, annotator, ann_id=ann_id, image_id=p.index))
                sep = b",\n"
    yield b"]}\n"
