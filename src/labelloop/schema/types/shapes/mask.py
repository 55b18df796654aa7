"""Masks (brush, segmentation): `{"label": "road", "rle": {"size": [height, width], "counts": "..."}}`
in COCO's compressed run-length encoding (column-major; `rle.py`), `size` equal to the image's.

Counts may also come as COCO's uncompressed list of run lengths; either way they are stored
compressed and canonical (as cocoapi's `encode` writes them), must cover exactly height x width
pixels and must mark at least one. Similarity is the IoU of the masks; consensus is a per-pixel
weighted vote of the matched masks (a pixel is kept when the annotators who painted it carry
more than half of the group's weight), done on the runs without expanding pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from labelloop.schema.label_type import ImageInfo, ValueProblem, register
from labelloop.schema.types.shapes import rle, shape_match
from labelloop.schema.types.shapes.geometry import Floats
from labelloop.schema.types.shapes.objects import ShapeQuestion, ShapeType, json_kind

# Largest mask without a known image: Pillow's decompression-bomb error threshold is below it.
MAX_PIXELS = 1 << 31
_SHAPE = '{"size": [height, width], "counts": "..."}'


class MaskQuestion(ShapeQuestion):
    type: Literal["mask"] = "mask"


def _size(raw: Any, image: ImageInfo | None) -> tuple[int, int]:
    if (
        not isinstance(raw, list) or len(raw) != 2
        or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in raw)
    ):
        raise ValueProblem(f"expected [height, width], two positive integers, got {raw!r:.80}", ".size")
    h, w = raw
    if image is not None and (h, w) != (image.height, image.width):
        raise ValueProblem(
            f"size [{h}, {w}] is not the image's [{image.height}, {image.width}] (height, width)", ".size"
        )
    if h * w > MAX_PIXELS:
        raise ValueProblem(f"a {h} x {w} mask is larger than {MAX_PIXELS} pixels", ".size")
    return h, w


def _counts(raw: Any) -> rle.Ints:
    if isinstance(raw, str):
        try:
            counts = rle.decode_counts(raw)
        except rle.RleError as e:
            raise ValueProblem(f"not COCO compressed RLE: {e}", ".counts") from None
    elif isinstance(raw, list):
        if any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < MAX_PIXELS for v in raw):
            raise ValueProblem("a list of counts holds run lengths: integers from 0", ".counts")
        counts = np.asarray(raw, dtype=np.int64)
    else:
        raise ValueProblem(f"expected a compressed RLE string, got {json_kind(raw)}", ".counts")
    if len(counts) and counts.min() < 0:
        raise ValueProblem("not COCO compressed RLE: a run length comes out negative", ".counts")
    return counts


class Mask(ShapeType[MaskQuestion]):
    name = "mask"
    question_model = MaskQuestion
    shape_key = "rle"

    def check_shape(self, question: MaskQuestion, raw: Any, image: ImageInfo | None) -> Any:
        if not isinstance(raw, dict) or set(raw) != {"size", "counts"}:
            raise ValueProblem(f"an RLE is {_SHAPE}")
        h, w = _size(raw["size"], image)
        counts = _counts(raw["counts"])
        covered = int(counts.sum())
        if covered != h * w:
            raise ValueProblem(
                f"the runs cover {covered} pixels; a {h} x {w} mask has {h * w}", ".counts"
            )
        counts = rle.canonical(counts, h * w)
        if rle.area(counts) == 0:
            raise ValueProblem("the mask is empty", ".counts")
        return {"size": [h, w], "counts": rle.encode_counts(counts)}

    def similarity(self, question: MaskQuestion, a: Sequence[Any], b: Sequence[Any]) -> Floats:
        ra = [rle.decode_counts(x["counts"]) for x in a]
        rb = [rle.decode_counts(x["counts"]) for x in b]
        ba = np.array([rle.bounds(c, x["size"][0]) for c, x in zip(ra, a, strict=True)], dtype=np.float64)
        bb = np.array([rle.bounds(c, x["size"][0]) for c, x in zip(rb, b, strict=True)], dtype=np.float64)

        def score(i: int, j: int) -> float:
            return rle.iou(ra[i], rb[j]) if a[i]["size"] == b[j]["size"] else 0.0

        # Bounds are pixel edges: masks that only touch share no pixel, hence the negative margin.
        return shape_match.pairwise(a, b, ba.reshape(-1, 4), bb.reshape(-1, 4), score, -0.5)

    def fuse(
        self, question: MaskQuestion, shapes: Sequence[Any], weights: Sequence[float], similarity: Floats
    ) -> Any:
        h, w = shapes[0]["size"]
        same = [(s, wi) for s, wi in zip(shapes, weights, strict=True) if s["size"] == [h, w]]
        counts = rle.vote([rle.decode_counts(s["counts"]) for s, _ in same], [wi for _, wi in same], h * w)
        if rle.area(counts) == 0:
            return None
        return {"size": [h, w], "counts": rle.encode_counts(counts)}


register(Mask())
