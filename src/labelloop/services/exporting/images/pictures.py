"""What an image-dataset export holds: one shape question, whose objects, which images, named how.

Per item, the objects of the chosen question from one source: the consensus (the default), the
gold answer, or every annotator's latest answer (revisions replace what they correct). Items
without a value from that source are not exported; items whose image has no known size (given
by URL, or a stored file that is not an image) cannot be (every format needs the size) and are
listed in `skipped.csv`.

An image's name in the archive is its item's id when that is a plain relative path with an image
suffix (`cats/07.jpg`), the id with the suffix of its type added when it has none (`p1` ->
`p1.jpg`), else `item-<id>` with the suffix. YOLO and VOC name label files after the image
without its suffix, and a folder unzipped on Windows or macOS ignores case, so two names equal
in those ways get `~<item id>` before the suffix of the later one. Importing the archive makes
these names the new items' ids, so exporting those again names every file the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, select

from labelloop.errors import Invalid, Problem
from labelloop.schema import LabelSchema, Question
from labelloop.services.exporting import media
from labelloop.services.importing.names import IMAGE_SUFFIXES
from labelloop.services.items import ItemFilter
from labelloop.store.models import blobs

# The shape types each format can hold.
TYPES = {
    "coco": ("bbox", "rotated_bbox", "polygon", "polyline", "keypoints", "mask"),
    "yolo": ("bbox", "polygon", "keypoints"),
    "voc": ("bbox",),
}
SUFFIX = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
          "image/bmp": ".bmp", "image/tiff": ".tif"}


@dataclass(frozen=True)
class DatasetPlan:
    format: str
    question: Question
    field: str  # the image field the question is about
    source: str
    images: str
    where: ItemFilter | None = None  # only the items of a saved slice (services/curation/slices.py)


@dataclass(frozen=True)
class Picture(media.ArchivedFile):
    """One exported image and its objects: (annotator, object), annotator None but for answers."""

    width: int
    height: int
    objects: list[tuple[str | None, dict[str, Any]]]


def dataset_plan(
    schema: LabelSchema, fmt: str, question: str | None, source: str, images: str
) -> DatasetPlan:
    """Check the parameters against the schema before the first byte is sent."""
    media.check_choices(source, images, "unknown images choice")
    if source == "answers" and fmt == "yolo":
        raise Invalid("YOLO cannot say who drew what", [Problem(
            "YOLO has one label file per image and no place for the annotator: export answers as "
            "coco or voc, or the consensus or gold as yolo", field="source")])
    q = shape_question(schema, question, TYPES[fmt], fmt)
    assert q.spec.target is not None  # a shape question always has one
    return DatasetPlan(fmt, q, q.spec.target, source, images)


def shape_question(schema: LabelSchema, name: str | None, types: tuple[str, ...], fmt: str) -> Question:
    """The question named, or the schema's only shape question; Invalid naming the choices."""
    shapes = [q for q in schema.questions if q.kind.name in TYPES["coco"]]
    fitting = [q for q in shapes if q.kind.name in types]
    what = f"{fmt.upper() if fmt != 'coco' else 'COCO'} holds {', '.join(types)}"
    if name is not None:
        found = [q for q in schema.questions if q.name == name]
        if not found:
            known = ", ".join(q.name for q in shapes) or "none"
            raise Invalid("no such question",
                          [Problem(f"{name!r}; shape questions: {known}", field="question")])
        if found[0].kind.name not in types:
            raise Invalid("the format cannot hold this question's shapes",
                          [Problem(f"{name!r} is a {found[0].kind.name} question; {what}", field="question")])
        return found[0]
    have = ", ".join(f"{q.name} ({q.kind.name})" for q in shapes) or "no shape questions"
    return media.only_question(fitting, f"{what}; the schema has {have}")


def _sizes(hashes: list[str]) -> Select[Any]:
    return select(blobs.c.sha256, blobs.c.width, blobs.c.height, blobs.c.media_type).where(
        blobs.c.sha256.in_(hashes))


def pictures(conn: Connection, project_id: int, plan: DatasetPlan) -> Iterator[Picture | media.Skipped]:
    """The export's images in item order (one pass over the project; run again for another)."""
    names = media.ArchiveNames(SUFFIX, ".img", IMAGE_SUFFIXES)
    index = 0
    for item in media.media_items(conn, project_id, source=plan.source, question=plan.question.name,
                            field=plan.field, lookup=_sizes, where=plan.where):
        row, ref, sha, blob = item.row, item.reference, item.sha256, item.blob
        if blob is None or not blob.width or not blob.height:
            why = "no image" if ref is None else (
                "the image is given by URL: its size is not known" if sha is None
                else "the stored file is not an image of known size")
            yield media.Skipped(row.external_id, why)
            continue
        index += 1
        yield Picture(index, row.external_id, names(row.id, row.external_id, blob.media_type), ref,
                      blob.sha256, blob.media_type, blob.width, blob.height, item.values)
