"""Image datasets with their annotations, COCO, YOLO or Pascal VOC, in a zip (or, from the CLI, a
folder): each image one item, its annotations the gold answer or the pre-label of one shape
question (docs/images.md, "Formats").

The format modules (`coco.py`, `yolo.py`, `voc.py`) read the annotation files into `Entry`s:
an image's path in the archive and its objects, still in the format's terms. Here each image is
stored like any imported image (importing/archive.py: names checked, sizes counted while inflating, Pillow's
checks, preview and thumbnail), its objects are turned into pixels with its size, and each is
checked as a submitted answer is (`LabelType.validate` against the image's size), every problem
naming the annotation file and the annotation (`annotations[id=17]`, a line, `object[2]`). The
records then go through the import's usual path (importing/records.py, importing/writer.py): gold
is checked once more as a whole answer, and nothing is imported unless everything is right.

A coordinate outside the image by at most half a pixel is moved onto its edge (tools that count
pixel centres, or round, leave edges there); one further out is a problem, as is a size the file
states that is not the image's (its coordinates would be for another picture). Attributes the
question declares are kept, others (CVAT writes `occluded` on everything) are left out.

Imported annotations become the items' gold (`as=gold`: a complete answer, so a schema with other
required questions needs them answered there too) or pre-labels (`as=prelabels`: `meta.prelabel`,
which the workbench shows as an editable suggestion; loop.md). Not answers: an answer is a
person's work handed out by the queue, with a lease, an idempotency key, gold scoring and trust,
none of which an imported file has; attributing files to a user would also let a manager put words
in an annotator's mouth and into their accuracy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelloop.errors import Problem
from labelloop.schema import ImageInfo, LabelSchema, Question, ValueProblem
from labelloop.services.exporting.images.pictures import TYPES, shape_question
from labelloop.services.importing.annotated import AnnotatedArchive, DatasetOptions, check_as
from labelloop.services.importing.archive import Member
from labelloop.services.importing.images.files import KnownFn
from labelloop.services.importing.limits import ImportLimits
from labelloop.services.importing.readers import Where, shown
from labelloop.store.blobs import BlobStore

FORMATS = tuple(TYPES)
SLACK = 0.5  # pixels a coordinate may lie outside the image and be moved onto its edge

Build = Callable[[ImageInfo], Any]  # the shape in pixels, or ValueProblem


@dataclass
class RawObject:
    """One object as a format gives it: where it is, its class, and how to make its shape."""

    at: str  # e.g. "annotations[id=17]", "object[2]", or "" on a line of its own
    where: Where
    label: str
    build: Build
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Entry:
    """One image as the annotation files name it."""

    image: str  # its path in the archive
    external_id: str
    where: Where  # where it is named, for a problem about the image itself
    at: str
    declared: tuple[int, int] | None  # (width, height) as the file states them
    objects: list[RawObject]


Reader = Callable[["DatasetArchive", dict[str, Member]], Iterator[Entry | Problem]]


def target_question(schema: LabelSchema, fmt: str, options: DatasetOptions) -> Question:
    check_as(options, "annotations")
    return shape_question(schema, options.question, TYPES[fmt], fmt)


def _clip(v: Any, size: int) -> Any:
    if -SLACK <= v < 0:
        return 0
    if size < v <= size + SLACK:
        return size
    return v


def clipped(kind: str, shape: Any, image: ImageInfo) -> Any:
    """The shape with coordinates within `SLACK` outside the image moved onto its edge."""
    w, h = image.width, image.height

    def point(p: list[Any]) -> list[Any]:
        if not all(isinstance(c, int | float) and not isinstance(c, bool) for c in p[:2]):
            return p  # validation names it
        return [_clip(p[0], w), _clip(p[1], h), *p[2:]]

    if kind == "bbox" and isinstance(shape, list) and len(shape) == 4:
        (x1, y1), (x2, y2) = point(shape[:2]), point(shape[2:])
        return [x1, y1, x2, y2]
    if kind in ("polygon", "polyline") and isinstance(shape, list):
        return [point(p) if isinstance(p, list) and len(p) == 2 else p for p in shape]
    if kind == "keypoints" and isinstance(shape, dict):
        return {k: point(p) if isinstance(p, list) and len(p) == 3 and p[2] else p for k, p in shape.items()}
    return shape


class DatasetArchive(AnnotatedArchive):
    """A record source over a dataset archive; `reader` turns its annotation files into entries."""

    def __init__(
        self, path: Path, store: BlobStore, limits: ImportLimits | None, *, fmt: str, reader: Reader,
        schema: LabelSchema, options: DatasetOptions, known: KnownFn | None = None,
    ) -> None:
        super().__init__(path, store, limits, fmt=fmt, reader=reader,
                         question=target_question(schema, fmt, options), options=options, known=known)

    # -- what the format modules use ------------------------------------------------------------
    def kept_attributes(self, raw: Any) -> dict[str, Any]:
        declared = {a.name for a in self.spec.attributes}
        return {k: v for k, v in raw.items() if k in declared} if isinstance(raw, dict) else {}

    # -- the records --------------------------------------------------------------------------
    def _entry(
        self, e: Entry, by_name: dict[str, Member]
    ) -> Iterator[tuple[Where, dict[str, Any] | Problem]]:
        member = by_name.get(e.image)
        if member is None:
            yield e.where, e.where.problem(f"no image {shown(e.image)!r} in the archive", e.at or None)
            return
        self.bytes_read += member.packed
        stored = self._store(member)
        if isinstance(stored, Problem):
            yield e.where, stored
            return
        image = ImageInfo(stored.original.width or 0, stored.original.height or 0)
        if e.declared is not None and e.declared != (image.width, image.height):
            yield e.where, e.where.problem(
                f"the file gives {shown(e.image)!r} as {e.declared[0]} x {e.declared[1]} pixels; the image "
                f"is {image.width} x {image.height} (after its EXIF orientation)", e.at or None)
            return
        objects, problems = self._objects(e, image)
        if problems:
            for p in problems:
                yield Where(line=p.line, file=p.file), p
            return
        yield e.where, self._record(e.external_id, stored, objects)

    def _objects(self, e: Entry, image: ImageInfo) -> tuple[list[Any], list[Problem]]:
        kind = self.question.kind
        key: str = kind.shape_key  # type: ignore[attr-defined]
        objects: list[Any] = []
        problems: list[Problem] = []
        for raw in e.objects:
            try:
                shape = clipped(kind.name, raw.build(image), image)
                obj: dict[str, Any] = {"label": raw.label, key: shape}
                if raw.attributes:
                    obj["attributes"] = raw.attributes
                objects.extend(kind.validate(self.spec, [obj], image))
            except ValueProblem as e_:
                # The path is in labelloop's terms ("[0].box"): the message names the coordinate.
                inside = e_.path.removeprefix("[0]").lstrip(".")
                detail = f" (at {inside})" if inside not in ("", key, "label") else ""
                problems.append(raw.where.problem(e_.message + detail, raw.at or None))
        if len(objects) > self.spec.max_objects:
            problems.append(e.where.problem(
                f"{len(objects)} objects on one image; question {self.question.name!r} takes at most "
                f"{self.spec.max_objects}", e.at or None))
        return objects, problems
