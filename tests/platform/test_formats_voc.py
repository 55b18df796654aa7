"""Pascal VOC in and out: an annotation written as the VOC2007 devkit's files are (1-based pixel
numbers, first and last pixel of a box both included), read as edges from 0; ours written the
same way; problems named by file and object; no XML entities."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.platform.formats import (
    answer_all,
    export,
    imported,
    jsonl,
    members,
    nothing_kept,
    problems,
    schema,
)
from tests.platform.pictures import jpeg, png, zipped
from tests.platform.world import World

W, H = 353, 500  # VOC2007's 000001.jpg

# As in VOCdevkit/VOC2007/Annotations/000001.xml, two objects.
DEVKIT = b"""<annotation>
\t<folder>VOC2007</folder>
\t<filename>000001.jpg</filename>
\t<source>
\t\t<database>The VOC2007 Database</database>
\t\t<annotation>PASCAL VOC2007</annotation>
\t\t<image>flickr</image>
\t\t<flickrid>341012865</flickrid>
\t</source>
\t<owner><flickrid>Fried Camels</flickrid><name>Jinky the Fruit Bat</name></owner>
\t<size>
\t\t<width>353</width>
\t\t<height>500</height>
\t\t<depth>3</depth>
\t</size>
\t<segmented>0</segmented>
\t<object>
\t\t<name>car</name>
\t\t<pose>Left</pose>
\t\t<truncated>1</truncated>
\t\t<difficult>0</difficult>
\t\t<bndbox>
\t\t\t<xmin>48</xmin>
\t\t\t<ymin>240</ymin>
\t\t\t<xmax>195</xmax>
\t\t\t<ymax>371</ymax>
\t\t</bndbox>
\t</object>
\t<object>
\t\t<name>person</name>
\t\t<pose>Left</pose>
\t\t<truncated>1</truncated>
\t\t<difficult>1</difficult>
\t\t<bndbox>
\t\t\t<xmin>8</xmin>
\t\t\t<ymin>12</ymin>
\t\t\t<xmax>353</xmax>
\t\t\t<ymax>500</ymax>
\t\t</bndbox>
\t</object>
</annotation>
"""

DIFFICULT = [{"name": "difficult", "type": "choice", "options": ["0", "1"], "required": False}]


def test_a_devkit_annotation_reads_as_edges_from_zero(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox", attributes=DIFFICULT))
    files = {"Annotations/000001.xml": DEVKIT, "JPEGImages/000001.jpg": jpeg(W, H), "JPEGImages/extra.jpg": jpeg(8, 8)}
    r = imported(world, owner, pid, zipped(files), "voc")
    assert r.status_code == 201, r.text
    rows = jsonl(world, owner, pid)
    assert list(rows) == ["000001.jpg"]  # an image no annotation names is not imported
    assert rows["000001.jpg"]["gold"] == {"objects": [
        {"label": "car", "box": [47, 239, 195, 371], "attributes": {"difficult": "0"}},
        {"label": "person", "box": [7, 11, 353, 500], "attributes": {"difficult": "1"}}]}


def test_our_export_is_one_based_with_the_attribute_in_its_element(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox", attributes=[
        *DIFFICULT, {"name": "colour", "type": "text", "required": False}]))
    world.upload(owner, pid, zipped({"a.png": png(W, H)}), "p.zip")
    drawn = {"objects": [{"label": "car", "box": [0, 0, 10, 20.5], "attributes": {"difficult": "1", "colour": "red"}},
                         {"label": "person", "box": [0.25, 1, W, H]}]}
    answer_all(world, owner, pid, lambda name: drawn)
    files = members(export(world, owner, pid, "voc").content)
    assert sorted(files) == ["Annotations/a.xml", "JPEGImages/a.png"]
    root = ET.fromstring(files["Annotations/a.xml"])
    assert (root.findtext("filename"), root.findtext("size/width"), root.findtext("size/height")) == ("a.png", "353", "500")
    boxes = [[o.findtext(f"bndbox/{k}") for k in ("xmin", "ymin", "xmax", "ymax")] for o in root.iter("object")]
    assert boxes == [["1.0", "1.0", "10.0", "20.5"], ["1.25", "2.0", "353.0", "500.0"]]
    car = root.find("object")
    assert car is not None and car.findtext("difficult") == "1" and car.findtext("truncated") == "0"
    assert car.findtext("attributes/attribute/name") == "colour" and car.findtext("attributes/attribute/value") == "red"


def _annotation(filename: str, objects: str, size: tuple[int, int] = (W, H)) -> bytes:
    return (f"<annotation><filename>{filename}</filename><size><width>{size[0]}</width><height>{size[1]}</height>"
            f"</size>{objects}</annotation>").encode()


def _box(name: str, xmin: str, ymin: str, xmax: str, ymax: str) -> str:
    return (f"<object><name>{name}</name><bndbox><xmin>{xmin}</xmin><ymin>{ymin}</ymin><xmax>{xmax}</xmax>"
            f"<ymax>{ymax}</ymax></bndbox></object>")


def test_every_problem_of_a_bad_voc_dataset_is_named_and_nothing_is_imported(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    bomb = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "aaaa">]><annotation>&a;</annotation>'
    files = {
        "Annotations/a.xml": _annotation("a.png", _box("car", "1", "1", "10", "10") + _box("dog", "1", "1", "2", "2")
                                         + _box("car", "1", "1", "x", "2") + _box("car", "1", "1", "354", "10")),
        "Annotations/b.xml": _annotation("missing.png", ""),
        "Annotations/c.xml": _annotation("c.png", "", size=(10, 10)),
        "Annotations/d.xml": bomb,
        "Annotations/e.xml": b"<annotation><filename>a.png</filename>",
        "JPEGImages/a.png": png(W, H),
        "JPEGImages/c.png": png(W, H),
    }
    found = [(p["file"], p.get("field"), p["message"]) for p in problems(imported(world, owner, pid, zipped(files), "voc"))]
    assert found == [
        ("Annotations/a.xml", "object[2].name", "class 'dog' is not a label of question 'objects' (labels: car, person)"),
        ("Annotations/a.xml", "object[3].bndbox.xmax", "expected a number, got 'x'"),
        ("Annotations/a.xml", "object[4]", "x2 = 354 is outside the image (0 to 353)"),
        ("Annotations/b.xml", "filename", "no image 'JPEGImages/missing.png' in the archive"),
        ("Annotations/c.xml", "filename",
         "the file gives 'JPEGImages/c.png' as 10 x 10 pixels; the image is 353 x 500 (after its EXIF orientation)"),
        ("Annotations/d.xml", None, "the file declares a document type or entities; VOC needs neither"),
        ("Annotations/e.xml", None, "not well-formed XML: no element found: line 1, column 38"),
    ]
    nothing_kept(world, pid)


def test_a_voc_export_reimports_to_the_same_boxes(world: World) -> None:
    owner = world.user()
    pid = world.project(owner, schema=schema("bbox"))
    world.upload(owner, pid, zipped({"a.png": png(W, H), "b/c.jpg": jpeg(40, 30)}), "p.zip")
    drawn = {"objects": [{"label": "car", "box": [0.1, 0.2, 0.3, 0.4]}, {"label": "person", "box": [3, 4, 5, 6]}]}
    answer_all(world, owner, pid, lambda name: drawn)
    first = export(world, owner, pid, "voc").content
    again = world.project(owner, schema=schema("bbox"))
    assert imported(world, owner, again, first, "voc").status_code == 201
    assert {k: v["gold"] for k, v in jsonl(world, owner, again).items()} == {"a.png": drawn, "b/c.jpg": drawn}
    assert export(world, owner, again, "voc", source="gold").content == first
