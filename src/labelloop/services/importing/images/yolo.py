"""YOLO datasets (Ultralytics' layout): a `.yaml` file at the top with the class `names`, the images
under `images/`, and for each a label file under `labels/` at the same path with `.txt`
(`images/train/a.jpg` -> `labels/train/a.txt`).

Every image under `images/` becomes an item, its id the path below `images/`; one without a label
file, or with an empty one, is "nothing here". A label file with no image is a problem. Lines (the
inverse of `services/exporting/images/yolo.py`), every coordinate a fraction of the image's width or
height, made pixels again exactly (`coords.py`):
- box question (detect): `class cx cy w h`;
- polygon question (segment): `class x1 y1 x2 y2 ...`, at least 3 points;
- keypoints question (pose): `class cx cy w h` then per skeleton point `x y v` (or `x y` when
  `kpt_shape` says 2 values a point: v is then 2 for a point placed, 0 for `0 0`); the box is
  not kept (it is the bounds of the points when exported), and `kpt_shape` must count the
  skeleton's points.
`class` indexes `names` (a list, or a mapping from 0, 1, ...), whose names must be the question's
labels. Each problem names the label file, its line, and the value.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

import yaml

from labelloop.errors import Problem
from labelloop.schema import ImageInfo, ValueProblem
from labelloop.services.exporting.images.coords import from_centre_and_size, from_normalised, parse
from labelloop.services.importing.archive import Member
from labelloop.services.importing.images.datasets import DatasetArchive, Entry, RawObject
from labelloop.services.importing.names import IMAGE_SUFFIXES, suffix
from labelloop.services.importing.readers import Where, shown

IMAGES, LABELS = "images/", "labels/"


def _data(archive: DatasetArchive, by_name: dict[str, Member]) -> tuple[dict[int, str], int] | Problem:
    """Class index -> name, and values per keypoint (3, or 2 from `kpt_shape`)."""
    found = sorted(n for n in by_name if "/" not in n and suffix(n) in (".yaml", ".yml"))
    if len(found) != 1:
        listed = ", ".join(shown(n) for n in found[:5]) or "none"
        return Problem(f"a YOLO archive holds one .yaml file at its top with the class names; found {listed}")
    raw = archive.read(by_name[found[0]])
    if isinstance(raw, Problem):
        return raw
    where = Where(file=found[0])
    try:
        doc = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        return where.problem(f"not readable YAML: {str(e).splitlines()[0]}")
    names = doc.get("names") if isinstance(doc, dict) else None
    if isinstance(names, list):
        names = dict(enumerate(names))
    if not isinstance(names, dict) \
            or not all(isinstance(k, int) and isinstance(v, str) for k, v in names.items()):
        return where.problem("expected names: a list of class names, or a mapping from 0, 1, ... to them",
                             "names")
    per_point = 3
    skeleton = getattr(archive.spec, "skeleton", None)
    if skeleton is not None:
        shape = doc.get("kpt_shape")
        if not (isinstance(shape, list) and len(shape) == 2 and shape[0] == len(skeleton.points)
                and shape[1] in (2, 3)):
            return where.problem(f"expected kpt_shape: [{len(skeleton.points)}, 3] (or 2), the points "
                                 f"of question {archive.question.name!r}'s skeleton", "kpt_shape")
        per_point = shape[1]
    return names, per_point


def entries(archive: DatasetArchive, by_name: dict[str, Member]) -> Iterator[Entry | Problem]:
    data = _data(archive, by_name)
    if isinstance(data, Problem):
        yield data
        return
    names, per_point = data
    images: dict[str, list[str]] = {}  # label file -> images it would belong to
    for n in sorted(by_name):
        if n.startswith(IMAGES) and suffix(n) in IMAGE_SUFFIXES:
            images.setdefault(LABELS + str(PurePosixPath(n[len(IMAGES):]).with_suffix(".txt")), []).append(n)
    if not images:
        yield Problem("a YOLO archive holds its images under images/ (and their labels under labels/)")
        return
    for label in sorted(n for n in by_name if n.startswith(LABELS) and suffix(n) == ".txt"):
        if label not in images:
            yield Where(file=label).problem("no image for this label file under images/ (same path, an "
                                            "image suffix)")
    for label, found in images.items():
        if len(found) > 1:
            both = ", ".join(shown(n) for n in found)
            yield Where(file=label).problem(f"this label file would be for {both}: rename one")
            continue
        image = found[0]
        objects: list[RawObject] = []
        problems: list[Problem] = []
        if label in by_name:
            raw = archive.read(by_name[label])
            if isinstance(raw, Problem):
                yield raw
                continue
            objects, problems = _objects(archive, label, raw, names, per_point)
        yield from problems  # and the image's other objects are still checked against its size
        yield Entry(image, image[len(IMAGES):], Where(file=image), "", None, objects)
        if archive.stopped:
            return


def _objects(
    archive: DatasetArchive, label: str, raw: bytes, names: dict[int, str], per_point: int
) -> tuple[list[RawObject], list[Problem]]:
    objects: list[RawObject] = []
    problems: list[Problem] = []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return [], [Where(file=label).problem(f"not valid UTF-8 (byte {e.start + 1})")]
    kind = archive.question.kind.name
    skeleton = getattr(archive.spec, "skeleton", None)
    for n, line in enumerate(text.splitlines(), 1):
        where = Where(file=label, line=n)
        parts = line.split()
        if not parts:
            continue
        try:
            index = int(parts[0])
            values = [float(parse(v)) for v in parts[1:]]
        except ValueError:
            problems.append(where.problem(f"expected a class number then numbers, got {shown(line[:80])!r}"))
            continue
        name = names.get(index)
        if name is None:
            problems.append(where.problem(f"class {index} is not in names (0 to {len(names) - 1})", "class"))
            continue
        checked = archive.label(name, where, "class", "class")
        if isinstance(checked, Problem):
            problems.append(checked)
            continue
        try:
            build = shape_builder(kind, values, per_point, skeleton.points if skeleton is not None else ())
        except ValueProblem as e:
            problems.append(where.problem(e.message))
            continue
        objects.append(RawObject("", where, checked, build))
    return objects, problems


def _fractions(values: list[float], what: str) -> None:
    for i, v in enumerate(values, 2):
        if not -1 <= v <= 2:  # far outside [0, 1]: not a normalised file (half a pixel is let through)
            raise ValueProblem(f"value {i} is {v}: {what} are fractions of the image's size, 0 to 1")


def shape_builder(kind: str, values: list[float], per_point: int, points: Any) -> Any:
    if kind == "bbox":
        if len(values) != 4:
            raise ValueProblem(f"expected class cx cy w h: 5 values, got {len(values) + 1}")
        _fractions(values, "coordinates")
        cx, cy, w, h = values

        def box(image: ImageInfo) -> Any:
            x1, x2 = from_centre_and_size(cx, w, image.width)
            y1, y2 = from_centre_and_size(cy, h, image.height)
            return [x1, y1, x2, y2]

        return box
    if kind == "polygon":
        if len(values) < 6 or len(values) % 2:
            raise ValueProblem(
                f"expected class x1 y1 x2 y2 ... with at least 3 points, got {len(values) + 1} values")
        _fractions(values, "coordinates")
        return lambda image: [
            [from_normalised(values[i], image.width), from_normalised(values[i + 1], image.height)]
            for i in range(0, len(values), 2)
        ]
    if kind == "keypoints":
        want = 4 + per_point * len(points)
        if len(values) != want:
            raise ValueProblem(f"expected class cx cy w h and {per_point} values for each of "
                               f"{len(points)} points: {want + 1} values, got {len(values) + 1}")
        _fractions(values[:4], "coordinates")
        flat = values[4:]

        def keypoints(image: ImageInfo) -> Any:
            out: dict[str, Any] = {}
            for i, name in enumerate(points):
                x, y = flat[per_point * i], flat[per_point * i + 1]
                v = flat[per_point * i + 2] if per_point == 3 else (2 if x or y else 0)
                if v not in (0, 1, 2):
                    raise ValueProblem(f"v must be 0, 1 or 2, got {v}", f".{name}[2]")
                out[name] = [from_normalised(x, image.width), from_normalised(y, image.height), int(v)]
            return out

        return keypoints
    raise ValueProblem(f"YOLO cannot hold {kind}")
