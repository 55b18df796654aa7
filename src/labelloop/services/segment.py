"""Interactive masks: a box and/or scribbles on an item's image in, a mask proposal out.

The annotator who holds the item's lease (or a reviewer and up, on any item of the project) sends a
prompt in the original image's pixels (docs/images.md): a box `[x1, y1, x2, y2]`, foreground points
(on the object) and background points (off it). The project's segmenter (loop setting `segmenter`:
GrabCut built in, a team's over HTTP, or an entry point; services/loop/models.py) answers a mask,
returned as COCO compressed RLE of the original's size, ready to be a `mask` object's `rle`.
Nothing is stored: the proposal becomes part of an answer only when the annotator submits it.

Time: GrabCut's cost grows with the pixel count, so the built-in segmenter works on the image's
web-sized preview (at most 2048 px on the long side; learn/images/grabcut.py downsizes further for its
first pass and refines the edge band on at most `REFINE_PIXELS`), and the mask is scaled up to the
original (bilinear, cut at one half). A 12-megapixel photo costs what its 3-megapixel preview does,
and no 12-megapixel decode is paid on every click.
A team's segmenter gets the original file and answers at its size.

The computation runs outside any database transaction (the prompt and the image are looked up
first), so a slow segmenter holds no connection.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from labelloop.errors import Conflict, Invalid, NotFound, Problem
from labelloop.schema.types.shapes.rle import RleError, decode_mask, encode_mask
from labelloop.services.held_items import holds_item
from labelloop.services.loop.images import ImageFile, StoredFile, image_field, read_file, stored_images
from labelloop.services.loop.models import GrabCutSegmenter, Segmenter, segmenter_for
from labelloop.services.loop.settings import loop_settings
from labelloop.services.policy import Action, Actor, access
from labelloop.services.projects import schema_of
from labelloop.services.targets import blob_hash
from labelloop.store.blobs import BlobStore
from labelloop.store.db import Database
from labelloop.store.models import items, published_in

# GrabCut's full-resolution pass on the preview works on at most this many pixels around the
# object's edge (learn/images/grabcut.py): 0.4 megapixels keep a click's answer near a second on one core
# (a large object's edge band on a 2048-px preview is about a megapixel, three seconds), while the
# edge stays within a few pixels of the original's.
REFINE_PIXELS = 400_000


@dataclass(frozen=True)
class Prompt:
    """A box and/or scribble points, in the original image's pixels."""

    box: Sequence[float] | None = None
    foreground: Sequence[Sequence[float]] = field(default_factory=list)
    background: Sequence[Sequence[float]] = field(default_factory=list)
    field: str | None = None  # the image field (default: a mask question's, else the first)


@dataclass(frozen=True)
class Proposal:
    rle: dict[str, Any]  # {"size": [height, width], "counts": "..."}
    area: int  # pixels in the mask
    segmenter: str
    worked_on: str  # "preview" or "original"


def segment_item(
    db: Database, store: BlobStore, actor: Actor, project_id: int, item_id: int, prompt: Prompt
) -> Proposal:
    """A mask proposal for the prompt on the item's image (module docstring)."""
    with db.read() as conn:
        image, segmenter_name = _image_for(conn, actor, project_id, item_id, prompt)
    box, fg, bg = _checked(prompt, image.original)
    segmenter = _segmenter(segmenter_name)
    built_in = isinstance(segmenter, GrabCutSegmenter)
    file = image.preview if built_in else image.original
    sx, sy = file.width / image.original.width, file.height / image.original.height
    rle = segmenter.segment(
        read_file(store, file.sha256),
        box=None if box is None else [box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy],
        foreground=[[x * sx, y * sy] for x, y in fg], background=[[x * sx, y * sy] for x, y in bg],
    )
    if list(rle.get("size", [])) != [file.height, file.width]:
        raise Invalid("the segmenter answered badly", [Problem(
            f"a mask of size {rle.get('size')}, not the image's [{file.height}, {file.width}]",
            field="rle.size")])
    try:
        mask = decode_mask(rle)
    except RleError as e:
        raise Invalid("the segmenter answered badly", [Problem(str(e), field="rle.counts")]) from e
    if file is not image.original:
        mask = _upscale(mask, image.original.height, image.original.width)
        rle = encode_mask(mask)
    worked_on = "preview" if file is not image.original else "original"
    return Proposal(rle, int(mask.sum()), segmenter.name, worked_on)


def _segmenter(name: str) -> Segmenter:
    """The project's segmenter; the built-in one refines the edge on at most REFINE_PIXELS."""
    found = segmenter_for(name)  # refuses an unknown name, or GrabCut without OpenCV, by name
    return GrabCutSegmenter(max_refine_pixels=REFINE_PIXELS) if isinstance(found, GrabCutSegmenter) else found


def _image_for(
    conn: Connection, actor: Actor, project_id: int, item_id: int, prompt: Prompt
) -> tuple[ImageFile, str]:
    acc = access(conn, actor, project_id, Action.work_tasks)
    if not holds_item(conn, acc, actor, project_id, item_id):
        if _item_data(conn, project_id, item_id) is None:
            raise NotFound(f"item {item_id} not found in project {project_id}")
        raise Conflict(f"item {item_id} was not handed to you; ask for your next task")
    data = _item_data(conn, project_id, item_id)
    if data is None:
        raise NotFound(f"item {item_id} not found in project {project_id}")
    schema = schema_of(acc.project.label_schema)
    wanted = prompt.field or next((q.spec.target for q in schema.questions if q.kind.name == "mask"), None)
    name = image_field(schema, wanted)
    if name is None or (prompt.field is not None and name != prompt.field):
        raise Invalid("no image to segment", [Problem(
            f"{prompt.field!r} is not an image field of the schema" if prompt.field
            else "the schema has no image field", field="field")])
    sha = blob_hash(data.get(name))
    found = None if sha is None else stored_images(conn, project_id, [sha]).get(sha)
    if found is None:
        raise Invalid("no image to segment", [Problem(
            f"the item's {name!r} is not an image the server stores (an image given by URL is never "
            "fetched)", field="field")])
    return found, loop_settings(acc.project.loop_settings).segmenter


def _item_data(conn: Connection, project_id: int, item_id: int) -> dict[str, Any] | None:
    data = conn.execute(select(items.c.data).where(items.c.id == item_id, published_in(project_id))).scalar()
    return data if isinstance(data, dict) else None


def _checked(
    prompt: Prompt, image: StoredFile
) -> tuple[list[float] | None, list[list[float]], list[list[float]]]:
    """The prompt, once every number is finite and inside the image (problems name the place)."""
    w, h = image.width, image.height
    problems: list[Problem] = []
    box = None
    if prompt.box is not None:
        box = [float(v) for v in prompt.box]
        if len(box) != 4 or not all(map(math.isfinite, box)):
            problems.append(Problem("a box is [x1, y1, x2, y2], four finite numbers", field="box"))
        elif not (box[0] < box[2] and box[1] < box[3]):
            problems.append(Problem("a box needs x1 < x2 and y1 < y2", field="box"))
        elif min(box) < 0 or box[2] > w or box[3] > h:
            problems.append(Problem(f"the box {box} is not inside the {w} x {h} image", field="box"))
    points: dict[str, list[list[float]]] = {}
    for name, given in (("foreground", prompt.foreground), ("background", prompt.background)):
        points[name] = []
        for i, p in enumerate(given):
            xy = [float(v) for v in p]
            if len(xy) != 2 or not all(map(math.isfinite, xy)) or not (0 <= xy[0] <= w and 0 <= xy[1] <= h):
                problems.append(Problem(f"{list(p)} is not a point [x, y] of the {w} x {h} image",
                                        field=f"{name}[{i}]"))
            points[name].append(xy)
    if box is None and not points["foreground"]:
        problems.append(Problem("give a box or at least one foreground point", field="box"))
    if problems:
        raise Invalid("the mask prompt is not usable", problems)
    return box, points["foreground"], points["background"]


def _upscale(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """The mask at (height, width): bilinear, cut at one half (as learn/images/grabcut.py scales up)."""
    from labelloop.learn.images.inputs import require_cv2

    cv2 = require_cv2()
    up = cv2.resize(mask.astype(np.uint8) * np.uint8(255), (width, height), interpolation=cv2.INTER_LINEAR)
    return np.asarray(up >= 128, dtype=bool)
