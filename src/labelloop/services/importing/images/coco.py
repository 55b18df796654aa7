"""COCO datasets: one JSON file of `images`, `categories` and `annotations`, and the images.

The archive holds exactly one `.json` file outside `images/` (`annotations/instances.json` as
labelloop writes it, or COCO's own `annotations/instances_val2017.json`). An image's `file_name`
is found as it is, under `images/`, or as the one file of that name in the archive. Images the
file does not list are not imported; a listed image with no annotations is "nothing here".

What each question type takes from an annotation (the inverse of `services/exporting/images/coco.py`):
box: `bbox` [x, y, w, h] -> [x, y, x + w, y + h] (exactly the x2 whose x2 - x is w, `coords.py`);
rotated box: `rotated_box` [cx, cy, w, h, angle], else `bbox` at angle 0; polygon: `segmentation`
holding one outline (several parts, or RLE, are a problem naming the annotation); polyline:
`polyline` [x1, y1, ...]; keypoints: `keypoints` [x1, y1, v1, ...] in the order of the skeleton,
which the category's `keypoints` names must match when given; mask: `segmentation` as RLE,
compressed or not (polygons are a problem: their pixels depend on the rasteriser). `iscrowd` is
not kept. Every annotation's `category_id` must be a category whose `name` is a label of the
question. The file is read whole (its size counts against `LABELLOOP_MAX_ARCHIVE_BYTES`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from labelloop.errors import Problem
from labelloop.schema import ValueProblem
from labelloop.schema.types.shapes.objects import json_kind
from labelloop.services.exporting.images.coords import end_of
from labelloop.services.importing.archive import Member
from labelloop.services.importing.images.datasets import DatasetArchive, Entry, RawObject
from labelloop.services.importing.names import IMAGE_SUFFIXES, suffix
from labelloop.services.importing.readers import Where, shown


def _numbers(raw: Any, count: int | None, what: str) -> list[Any]:
    """A list of finite JSON numbers (`count` of them, or any even number at least 2 when None)."""
    if not isinstance(raw, list) or (count is not None and len(raw) != count) \
            or (count is None and (len(raw) % 2 or not raw)):
        raise ValueProblem(f"expected {what}, got {json_kind(raw)}"
                           + (f" of {len(raw)}" if isinstance(raw, list) else ""))
    for v in raw:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueProblem(f"expected {what}; it holds {json_kind(v)}")
    return raw


def _pairs(flat: list[Any]) -> list[list[Any]]:
    return [[flat[i], flat[i + 1]] for i in range(0, len(flat), 2)]


def _the_file(archive: DatasetArchive, by_name: dict[str, Member]) -> Member | Problem:
    found = sorted(n for n in by_name if suffix(n) == ".json" and not n.startswith("images/"))
    if len(found) != 1:
        listed = ", ".join(shown(n) for n in found[:5]) or "none"
        return Problem(f"a COCO archive holds one annotation file (.json outside images/); found {listed}")
    return by_name[found[0]]


def _resolver(by_name: dict[str, Member]) -> Any:
    by_base: dict[str, list[str]] = {}
    for n in by_name:
        if suffix(n) in IMAGE_SUFFIXES:
            by_base.setdefault(n.rsplit("/", 1)[-1], []).append(n)

    def resolve(file_name: str) -> str:
        for name in (file_name, f"images/{file_name}"):
            if name in by_name:
                return name
        same = by_base.get(file_name.rsplit("/", 1)[-1], [])
        return same[0] if len(same) == 1 else f"images/{file_name}"

    return resolve


def entries(archive: DatasetArchive, by_name: dict[str, Member]) -> Iterator[Entry | Problem]:
    member = _the_file(archive, by_name)
    if isinstance(member, Problem):
        yield member
        return
    file = member.name
    data = archive.read(member)
    if isinstance(data, Problem):
        yield data
        return
    where = Where(file=file)
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        yield where.problem(f"invalid JSON: {e.msg} (line {e.lineno}, column {e.colno})")
        return
    if not isinstance(doc, dict) or not all(isinstance(doc.get(k), list) for k in ("images", "annotations")):
        yield where.problem('a COCO file is an object with lists "images", "annotations" and "categories"')
        return
    problems: list[Problem] = []
    categories = _categories(archive, doc.get("categories"), where, problems)
    images = _images(doc["images"], where, problems)
    by_image: dict[Any, list[tuple[str, dict[str, Any]]]] = {i: [] for i in images}
    for n, ann in enumerate(doc["annotations"]):
        at = _at("annotations", n, ann)
        if not isinstance(ann, dict):
            problems.append(where.problem(f"expected an object, got {json_kind(ann)}", at))
        elif ann.get("image_id") not in by_image:
            problems.append(where.problem(f"image_id {shown(str(ann.get('image_id')))} is not in images", at))
        else:
            by_image[ann["image_id"]].append((at, ann))
    yield from problems
    if problems:
        return
    resolve = _resolver(by_name)
    reported: set[Any] = set()  # categories whose problem was named once
    for image_id, (at, name, declared) in images.items():
        objects: list[RawObject] = []
        for ann_at, ann in by_image[image_id]:
            made = _object(archive, categories, ann, where, ann_at)
            if isinstance(made, RawObject):
                objects.append(made)
            elif made.field is None or not made.field.endswith(".category_id"):
                yield made
            elif (key := str(ann.get("category_id"))) not in reported:
                reported.add(key)
                yield made
        yield Entry(resolve(name), name, where, at, declared, objects)


def _is_id(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or isinstance(v, str)


def _at(what: str, n: int, obj: Any) -> str:
    """Where an image or annotation is: by its id when it has one, else its position."""
    if isinstance(obj, dict) and _is_id(obj.get("id")):
        return f"{what}[id={shown(str(obj['id']))}]"
    return f"{what}[{n}]"


def _size(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None


Sized = tuple[str, str, tuple[int, int] | None]
_IMAGE = '{"id": ..., "file_name": "...", "width": ..., "height": ...}'


def _categories(
    archive: DatasetArchive, raw: Any, where: Where, problems: list[Problem]
) -> dict[Any, tuple[str, list[str] | None] | Problem]:
    """Category id -> (name, keypoint names), or the problem an annotation of it will name."""
    out: dict[Any, tuple[str, list[str] | None] | Problem] = {}
    if not isinstance(raw, list):
        problems.append(where.problem('expected a list of categories', "categories"))
        return out
    skeleton = getattr(archive.spec, "skeleton", None)
    for n, c in enumerate(raw):
        at = f"categories[{n}]"
        if not isinstance(c, dict) or not _is_id(c.get("id")) or not isinstance(c.get("name"), str):
            problems.append(where.problem('a category is {"id": ..., "name": "..."}', at))
            continue
        if c["id"] in out:
            problems.append(where.problem(f"category id {c['id']} is listed twice", at))
            continue
        label = archive.label(c["name"], where, f"categories[id={c['id']}]", "category")
        if isinstance(label, Problem):
            out[c["id"]] = label  # a problem only if an annotation uses it
            continue
        points = c.get("keypoints")
        if skeleton is not None and points is not None and points != list(skeleton.points):
            out[c["id"]] = where.problem(
                f"category {shown(label)!r} names keypoints {shown(str(points))[:200]}; question "
                f"{archive.question.name!r} has {list(skeleton.points)} (same names, same order)",
                f"categories[id={c['id']}].keypoints")
            continue
        out[c["id"]] = (label, points)
    return out


def _images(raw: list[Any], where: Where, problems: list[Problem]) -> dict[Any, Sized]:
    """Image id -> (where, file_name, declared size), in the file's order."""
    out: dict[Any, Sized] = {}
    names: dict[str, Any] = {}
    for n, im in enumerate(raw):
        at = _at("images", n, im)
        if not isinstance(im, dict) or not _is_id(im.get("id")) or not isinstance(im.get("file_name"), str) \
                or not im["file_name"]:
            problems.append(where.problem(f"an image is {_IMAGE}", at))
            continue
        if im["id"] in out:
            problems.append(where.problem(f"image id {shown(str(im['id']))} is listed twice", at))
            continue
        name = im["file_name"]
        if name in names:
            problems.append(where.problem(
                f"file_name {shown(name)!r} is listed twice (also images[id={shown(str(names[name]))}])", at))
            continue
        names[name] = im["id"]
        w, h = _size(im.get("width")), _size(im.get("height"))
        out[im["id"]] = (at, name, (w, h) if w and h else None)
    return out


def _object(
    archive: DatasetArchive, categories: dict[Any, Any], ann: dict[str, Any], where: Where, at: str
) -> RawObject | Problem:
    category = categories.get(ann.get("category_id"))
    if category is None:
        return where.problem(f"category_id {shown(str(ann.get('category_id')))} is not in categories",
                             f"{at}.category_id")
    if isinstance(category, Problem):
        return Problem(category.message, field=f"{at}.category_id", file=where.file)
    kind = archive.question.kind.name
    skeleton = getattr(archive.spec, "skeleton", None)
    try:
        build = shape_builder(kind, ann, tuple(skeleton.points) if skeleton is not None else ())
    except ValueProblem as e:
        return where.problem(e.message, f"{at}.{e.path}" if e.path else at)
    return RawObject(at, where, category[0], build, archive.kept_attributes(ann.get("attributes")))


def shape_builder(kind: str, ann: dict[str, Any], names: tuple[str, ...]) -> Any:
    """How to make the shape (checked here as far as the file alone tells)."""
    def field(name: str, count: int | None, what: str) -> list[Any]:
        try:
            return _numbers(ann.get(name), count, what)
        except ValueProblem as e:
            raise ValueProblem(e.message, name) from None

    if kind == "bbox":
        x, y, w, h = field("bbox", 4, "[x, y, w, h]")
        return lambda image: [x, y, end_of(x, w), end_of(y, h)]
    if kind == "rotated_bbox":
        if "rotated_box" in ann:
            box = field("rotated_box", 5, "[cx, cy, w, h, angle]")
            return lambda image: box
        x, y, w, h = field("bbox", 4, "[x, y, w, h]")
        return lambda image: [x + w / 2, y + h / 2, w, h, 0]
    if kind == "polyline":
        if "polyline" not in ann:
            raise ValueProblem("no 'polyline' [x1, y1, x2, y2, ...]: COCO has no lines; labelloop "
                               "writes them under this key")
        points = _pairs(field("polyline", None, "[x1, y1, x2, y2, ...]"))
        return lambda image: points
    if kind == "keypoints":
        flat = field("keypoints", 3 * len(names), f"[x1, y1, v1, ...] for {len(names)} points")
        named = {name: flat[3 * i : 3 * i + 3] for i, name in enumerate(names)}
        return lambda image: named
    segmentation = ann.get("segmentation")
    if kind == "polygon":
        if not isinstance(segmentation, list) or not segmentation:
            rle = " (an RLE mask is not a polygon)" if isinstance(segmentation, dict) else ""
            raise ValueProblem(f"expected one outline [[x1, y1, x2, y2, ...]]{rle}", "segmentation")
        if len(segmentation) > 1:
            raise ValueProblem(f"{len(segmentation)} outlines; a polygon is one (import the parts as a "
                               "mask question, or split them)", "segmentation")
        try:
            points = _pairs(_numbers(segmentation[0], None, "[x1, y1, x2, y2, ...]"))
        except ValueProblem as e:
            raise ValueProblem(e.message, "segmentation[0]") from None
        return lambda image: points
    if kind == "mask":
        if not isinstance(segmentation, dict):
            raise ValueProblem('expected RLE {"size": [h, w], "counts": ...}; polygons are not imported '
                               "into a mask (their pixels depend on the rasteriser)", "segmentation")
        return lambda image: segmentation
    raise ValueProblem(f"COCO cannot hold {kind}")


