"""Pascal VOC datasets: one XML file per image under `Annotations/`, the images under `JPEGImages/`.

Each annotation file names its image in `<filename>` (a path below `JPEGImages/`), which becomes
the item's id, and gives `<size>` (checked against the image) and its `<object>`s: `<name>` (a
label of the question, a box question) and `<bndbox>`, made edges from 0 again (the inverse of
`services/exporting/images/voc.py`: x1 = xmin - 1, y1 = ymin - 1, x2 = xmax, y2 = ymax). `pose`,
`truncated` and `difficult` fill attributes of those names when the question declares them, as do
CVAT's `<attributes>`. Images no annotation file names are not imported.

The XML is parsed by the standard library after a file with a document type declaration is
refused: VOC needs none, and entities are how XML bombs and external references get in.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

from labelloop.errors import Problem
from labelloop.schema import ImageInfo
from labelloop.services.exporting.images.coords import from_one_based, parse
from labelloop.services.exporting.images.voc import NATIVE
from labelloop.services.importing.archive import Member
from labelloop.services.importing.images.datasets import DatasetArchive, Entry, RawObject
from labelloop.services.importing.names import suffix
from labelloop.services.importing.readers import Where, shown

ANNOTATIONS, IMAGES = "Annotations/", "JPEGImages/"


def entries(archive: DatasetArchive, by_name: dict[str, Member]) -> Iterator[Entry | Problem]:
    files = sorted(n for n in by_name if n.startswith(ANNOTATIONS) and suffix(n) == ".xml")
    if not files:
        yield Problem("a VOC archive holds XML files under Annotations/ (and the images under JPEGImages/)")
        return
    for file in files:
        raw = archive.read(by_name[file])
        if isinstance(raw, Problem):
            yield raw
        else:
            yield from _entry(archive, file, raw)
        if archive.stopped:
            return


def _text(node: ET.Element, path: str) -> str | None:
    found = node.find(path)
    return None if found is None or found.text is None else found.text.strip()


def _entry(archive: DatasetArchive, file: str, raw: bytes) -> Iterator[Entry | Problem]:
    where = Where(file=file)
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        yield where.problem("the file declares a document type or entities; VOC needs neither")
        return
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as e:
        yield where.problem(f"not well-formed XML: {e}")
        return
    if root.tag != "annotation":
        yield where.problem(f"the root element is <{shown(root.tag)}>, not <annotation>")
        return
    name = _text(root, "filename")
    if not name:
        yield where.problem("no <filename> naming the image", "filename")
        return
    declared: tuple[int, int] | None = None
    w, h = _text(root, "size/width"), _text(root, "size/height")
    if w is not None or h is not None:
        try:
            declared = (int(w or ""), int(h or ""))
        except ValueError:
            yield where.problem(f"<size> must hold whole numbers, got {shown(str(w))!r} x {shown(str(h))!r}",
                                "size")
            return
    objects: list[RawObject] = []
    problems: list[Problem] = []
    for n, node in enumerate(root.findall("object"), 1):
        made = _object(archive, where, f"object[{n}]", node)
        if isinstance(made, Problem):
            problems.append(made)
        else:
            objects.append(made)
    yield from problems  # and the image's other objects are still checked against its size
    yield Entry(IMAGES + name, name, where, "filename", declared, objects)


def _object(archive: DatasetArchive, where: Where, at: str, node: ET.Element) -> RawObject | Problem:
    label = archive.label(_text(node, "name"), where, f"{at}.name", "class")
    if isinstance(label, Problem):
        return label
    coords: list[Any] = []
    for corner in ("xmin", "ymin", "xmax", "ymax"):
        value = _text(node, f"bndbox/{corner}")
        try:
            coords.append(parse(value or ""))
        except ValueError:
            return where.problem(f"expected a number, got {shown(str(value))!r}", f"{at}.bndbox.{corner}")
    xmin, ymin, xmax, ymax = coords
    raw: dict[str, Any] = {k: v for k in NATIVE if (v := _text(node, k)) is not None}
    for attribute in node.findall("attributes/attribute"):
        key, value = _text(attribute, "name"), _text(attribute, "value")
        if key is not None and value is not None:
            raw[key] = value

    def box(image: ImageInfo) -> Any:
        return [from_one_based(xmin), from_one_based(ymin), xmax, ymax]

    return RawObject(at, where, label, box, archive.kept_attributes(raw))

