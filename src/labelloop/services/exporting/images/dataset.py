"""An image-dataset export streamed as a zip: the format's annotation files, then the images.

Everything is read inside one snapshot, in passes over the project's items in id order (COCO's
one JSON file needs its images before its annotations, and a zip member must be whole before the
next), so memory stays flat in the number of images: what is held is one chunk of items and one
piece of a file at a time. With `images=include` each image is the original from the blob store;
with `images=refs` the archive holds none, and `references.csv` lists each image's file name
with its reference (`blob:<sha256>`, served at `GET /api/projects/{id}/blobs/{sha256}`).
Items that could not be exported are listed in `skipped.csv` with the reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import Connection

from labelloop.services.exporting.images import coco, voc, yolo
from labelloop.services.exporting.images.pictures import DatasetPlan, Picture, pictures
from labelloop.services.exporting.media import Skipped
from labelloop.services.exporting.zipstream import ZipStream
from labelloop.store.blobs import BlobStore

MEDIA_TYPE = "application/zip"
_FORMULA_START = frozenset("=+-@\t\r")


def _csv(rows: Iterator[list[str]], header: list[str]) -> Iterator[bytes]:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for n, row in enumerate(rows, 1):
        # Spreadsheets run a cell that starts like a formula (exports.neutralised).
        w.writerow(["'" + c if c[:1] in _FORMULA_START else c for c in row])
        if n % 1000 == 0:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode()


def stream_dataset(conn: Connection, project_id: int, plan: DatasetPlan, store: BlobStore) -> Iterator[bytes]:
    """The archive's bytes (`conn` is a snapshot held open while they are read)."""
    zs = ZipStream()

    def passes() -> Iterator[Picture | Skipped]:
        return pictures(conn, project_id, plan)

    images_dir = voc.IMAGES_DIR if plan.format == "voc" else coco.IMAGES_DIR
    if plan.format == "coco":
        yield from zs.text(coco.MEMBER, coco.instances(plan, passes))
    elif plan.format == "yolo":
        yield from zs.text(yolo.DATA, iter([yolo.data_yaml(plan)]))

    skipped = 0
    for p in passes():
        if isinstance(p, Skipped):
            skipped += 1
            continue
        if plan.format == "yolo":
            yield from zs.text(yolo.label_path(p.name), iter([yolo.label_file(plan, p)]))
        elif plan.format == "voc":
            yield from zs.text(voc.annotation_path(p.name), iter([voc.annotation_file(plan, p)]))
        if plan.images == "include":
            with store.open(p.sha256) as f:
                yield from zs.file(f"{images_dir}/{p.name}", f)
    if plan.images == "refs":
        rows = ([p.name, p.reference] for p in passes() if isinstance(p, Picture))
        yield from zs.text("references.csv", _csv(rows, ["file", "reference"]))
    if skipped:
        left = ([p.external_id, p.reason] for p in passes() if isinstance(p, Skipped))
        yield from zs.text("skipped.csv", _csv(left, ["id", "reason"]))
    yield zs.close()
