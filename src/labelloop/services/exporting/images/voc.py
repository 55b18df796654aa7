"""Pascal VOC: one XML file per image in `Annotations/` (the image's path with `.xml`), the images
in `JPEGImages/` (kept in their own format, whatever the folder's name says).

Boxes only. VOC numbers pixels from 1 and gives a box by its first and last pixel, both
included; labelloop's coordinates are edges, from 0. A box over pixels 0 to 9 of a row is
x1 = 0, x2 = 10 here and xmin = 1, xmax = 10 in VOC, so

    xmin = x1 + 1, ymin = y1 + 1, xmax = x2, ymax = y2

and back, x1 = xmin - 1 (as Detectron2's and torchvision's VOC readers subtract 1 from xmin and
ymin only). Integers stay integers; a fraction (from a zoomed-in drawing) is written in full.

Each object has VOC's `name`, `pose`, `truncated`, `difficult` and `bndbox`. An attribute the
question declares under one of the names `pose`, `truncated` or `difficult` fills that element
(otherwise "Unspecified", 0 and 0); the others go in `<attributes>` as CVAT writes them
(`<attribute><name>...</name><value>...</value></attribute>`), and with answers exported the
annotator's username in `<annotator>`.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any
from xml.sax.saxutils import escape

from labelloop.services.exporting.images.coords import one_based, text
from labelloop.services.exporting.images.pictures import DatasetPlan, Picture

IMAGES_DIR = "JPEGImages"
ANNOTATIONS_DIR = "Annotations"
NATIVE = {"pose": "Unspecified", "truncated": "0", "difficult": "0"}


def annotation_path(image_name: str) -> str:
    return f"{ANNOTATIONS_DIR}/{PurePosixPath(image_name).with_suffix('.xml')}"


# XML 1.0 cannot hold control characters but tab, newline and carriage return, even escaped.
_NOT_XML = dict.fromkeys([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)], "\ufffd")


def _element(name: str, value: Any, indent: str) -> str:
    return f"{indent}<{name}>{escape(str(value).translate(_NOT_XML))}</{name}>\n"


def object_xml(obj: dict[str, Any], annotator: str | None) -> str:
    x1, y1, x2, y2 = obj["box"]
    attributes = dict(obj.get("attributes") or {})
    out = "  <object>\n" + _element("name", obj["label"], "    ")
    for name, default in NATIVE.items():
        out += _element(name, attributes.pop(name, default), "    ")
    out += "    <bndbox>\n"
    for name, v in (("xmin", one_based(x1)), ("ymin", one_based(y1)), ("xmax", x2), ("ymax", y2)):
        out += _element(name, text(v), "      ")
    out += "    </bndbox>\n"
    if attributes:
        out += "    <attributes>\n"
        for name, value in attributes.items():
            out += ("      <attribute>\n" + _element("name", name, "        ")
                    + _element("value", value, "        ") + "      </attribute>\n")
        out += "    </attributes>\n"
    if annotator is not None:
        out += _element("annotator", annotator, "    ")
    return out + "  </object>\n"


def annotation_file(plan: DatasetPlan, p: Picture) -> bytes:
    head = (
        "<annotation>\n" + _element("folder", IMAGES_DIR, "  ") + _element("filename", p.name, "  ")
        + "  <size>\n" + _element("width", p.width, "    ") + _element("height", p.height, "    ")
        + _element("depth", 3, "    ") + "  </size>\n" + _element("segmented", 0, "  ")
    )
    return (head + "".join(object_xml(obj, who) for who, obj in p.objects) + "</annotation>\n").encode()
