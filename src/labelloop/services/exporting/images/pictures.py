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

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import orjson
from sqlalchemy import Connection, select

from labelloop.errors import Invalid, Problem
from labelloop.schema import LabelSchema, Question
from labelloop.services.exporting.chunks import ItemChunk, item_chunks
from labelloop.services.importing.names import IMAGE_SUFFIXES, is_junk, unsafe_name
from labelloop.services.targets import blob_hash
from labelloop.store.models import blobs

# The shape types each format can hold.
TYPES = {
    "coco": ("bbox", "rotated_bbox", "polygon", "polyline", "keypoints", "mask"),
    "yolo": ("bbox", "polygon", "keypoints"),
    "voc": ("bbox",),
}
SOURCES = ("consensus", "gold", "answers")
IMAGES = ("include", "refs")
SUFFIX = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
          "image/bmp": ".bmp", "image/tiff": ".tif"}
MAX_NAME = 255


@dataclass(frozen=True)
class DatasetPlan:
    format: str
    question: Question
    field: str  # the image field the question is about
    source: str
    images: str


@dataclass(frozen=True)
class Picture:
    """One exported image and its objects: (annotator, object), annotator None but for answers."""

    index: int  # 1-based, in item order
    external_id: str
    name: str
    reference: str
    sha256: str
    media_type: str
    width: int
    height: int
    objects: list[tuple[str | None, dict[str, Any]]]


@dataclass(frozen=True)
class Skipped:
    external_id: str
    reason: str


def dataset_plan(
    schema: LabelSchema, fmt: str, question: str | None, source: str, images: str
) -> DatasetPlan:
    """Check the parameters against the schema before the first byte is sent."""
    if source not in SOURCES:
        raise Invalid("unknown source", [Problem(f"{source!r}; known: {', '.join(SOURCES)}", field="source")])
    if images not in IMAGES:
        raise Invalid("unknown images choice",
                      [Problem(f"{images!r}; known: {', '.join(IMAGES)}", field="images")])
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
    if len(fitting) == 1:
        return fitting[0]
    if not fitting:
        have = ", ".join(f"{q.name} ({q.kind.name})" for q in shapes) or "no shape questions"
        raise Invalid("no question the format can hold", [Problem(f"{what}; the schema has {have}",
                                                                  field="question")])
    names = ", ".join(q.name for q in fitting)
    raise Invalid("say which question", [Problem(f"the schema has several ({names}); choose one",
                                                 field="question")])


class _Names:
    """Unique names in the archive, as pictures are met in item order. Remembers an 8-byte digest
    per name (not the name), the one thing kept per image."""

    def __init__(self) -> None:
        self.seen: set[bytes] = set()

    def _key(self, name: str) -> bytes:
        stem = str(PurePosixPath(name).with_suffix("")).casefold()
        return hashlib.blake2b(stem.encode(), digest_size=8).digest()

    def __call__(self, item_id: int, external_id: str, media_type: str) -> str:
        suffix = SUFFIX.get(media_type, ".img")
        plain = len(external_id) <= MAX_NAME - 20 and unsafe_name(external_id) is None \
            and not is_junk(external_id)
        if plain and PurePosixPath(external_id).suffix.lower() in IMAGE_SUFFIXES:
            name = external_id
        elif plain:
            name = external_id + suffix
        else:
            name = f"item-{item_id}{suffix}"
        path = PurePosixPath(name)
        n = 1
        while self._key(name) in self.seen:
            name = str(path.with_name(f"{path.stem}~{item_id}{'' if n == 1 else f'~{n}'}{path.suffix}"))
            n += 1
        self.seen.add(self._key(name))
        return name


def _sizes(conn: Connection, hashes: set[str]) -> dict[str, Any]:
    if not hashes:
        return {}
    rows = conn.execute(select(blobs.c.sha256, blobs.c.width, blobs.c.height, blobs.c.media_type)
                        .where(blobs.c.sha256.in_(sorted(hashes))))
    return {r.sha256: r for r in rows}


def _objects(plan: DatasetPlan, chunk: ItemChunk, row: Any) -> list[tuple[str | None, Any]] | None:
    """The question's objects on one item from the plan's source; None when it has no value."""
    q = plan.question.name
    if plan.source == "gold":
        value = orjson.loads(row.gold).get(q) if row.gold else None
        return None if value is None else [(None, o) for o in value]
    if plan.source == "consensus":
        c = chunk.consensus.get(row.id)
        value = orjson.loads(c.value).get(q) if c is not None else None
        return None if value is None else [(None, o) for o in value]
    given = chunk.answers.get(row.id, [])
    replaced = {a.supersedes_id for a in given}
    latest = [(a.username, orjson.loads(a.value).get(q)) for a in given if a.id not in replaced]
    latest = [(who, v) for who, v in latest if v is not None]
    return None if not latest else [(who, o) for who, v in latest for o in v]


def pictures(conn: Connection, project_id: int, plan: DatasetPlan) -> Iterator[Picture | Skipped]:
    """The export's images in item order (one pass over the project; run again for another)."""
    names = _Names()
    index = 0
    for chunk in item_chunks(conn, project_id, with_answers=plan.source == "answers"):
        found: list[tuple[Any, Any, list[tuple[str | None, Any]]]] = []
        for row in chunk.items:
            objects = _objects(plan, chunk, row)
            if objects is not None:
                found.append((row, orjson.loads(row.data).get(plan.field), objects))
        sizes = _sizes(conn, {h for _, ref, _ in found if (h := blob_hash(ref)) is not None})
        for row, ref, objects in found:
            sha = blob_hash(ref)
            blob = sizes.get(sha) if sha is not None else None
            if blob is None or not blob.width or not blob.height:
                why = "no image" if ref is None else (
                    "the image is given by URL: its size is not known" if sha is None
                    else "the stored file is not an image of known size")
                yield Skipped(row.external_id, why)
                continue
            index += 1
            yield Picture(index, row.external_id, names(row.id, row.external_id, blob.media_type), ref,
                          blob.sha256, blob.media_type, blob.width, blob.height, objects)
