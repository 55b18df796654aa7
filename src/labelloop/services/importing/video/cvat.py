"""CVAT for video 1.1 XML into tracks: the inverse of `services/exporting/video/cvat.py`, and what
CVAT itself exports from a video task (docs/video.md, "Formats").

One XML file per video, beside it with the same name (`clips/a.xml` for `clips/a.mp4`) or, for
items already in the project, named like the item (`clips/a.xml` for the item `clips/a.mp4` or
`clips/a`). Read: `<track id label>` elements of `<box frame keyframe outside occluded xtl ytl xbr
ybr>`; a track's keyframes are its boxes with `keyframe="1"` (`outside` and `occluded` from them,
the box `[xtl, ytl, xbr, ybr]` exactly as written), the others are CVAT's interpolation, checked
for frame and place but not kept (CVAT rounds them to two decimals; ours are recomputed). The
attributes of a track are its first keyframe's `<attribute name>` children that the question
declares. `<meta>` is not needed; an `original_size` in it must be the video's.
Refused, naming the file, the line and the attribute: a document type declaration (entities are
how XML bombs get in), CVAT for images (`<image>`), shapes other than boxes, a label that is not
the question's, a frame past the video's end, a box outside the frame or empty, two boxes of one
track on one frame, a track whose first keyframe is outside or without keyframes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import PurePosixPath
from typing import Any
from xml.parsers import expat

from labelloop.errors import Problem
from labelloop.services.exporting.images.coords import parse
from labelloop.services.importing.names import suffix
from labelloop.services.importing.readers import Where, shown
from labelloop.services.importing.video.entries import Frame, Track, TrackEntry

SHAPES = ("polygon", "polyline", "points", "ellipse", "cuboid", "mask", "skeleton", "tag")


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    line: int
    children: list[Node] = field(default_factory=list)
    text: str = ""

    def find(self, tag: str) -> Node | None:
        return next((c for c in self.children if c.tag == tag), None)


def parse_xml(raw: bytes) -> Node | str:
    """The document as nodes with their line numbers, or why it cannot be read."""
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        return "the file declares a document type or entities; CVAT's XML needs neither"
    parser = expat.ParserCreate()
    stack: list[Node] = []
    root: list[Node] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        node = Node(tag, attrs, parser.CurrentLineNumber)
        (stack[-1].children if stack else root).append(node)
        stack.append(node)

    def end(tag: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        if stack:
            stack[-1].text += data

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as e:
        return f"not well-formed XML: {e}"
    return root[0]


def _flag(node: Node, name: str, where: Where) -> bool | Problem:
    raw = node.attrs.get(name, "0")
    if raw not in ("0", "1"):
        return where.problem(f"{name} is 0 or 1, got {shown(raw[:20])!r}", name)
    return raw == "1"


def _box(node: Node, where: Where, video: Frame) -> list[Any] | Problem:
    coords: list[Any] = []
    for name in ("xtl", "ytl", "xbr", "ybr"):
        raw = node.attrs.get(name)
        try:
            coords.append(parse(raw or ""))
        except ValueError:
            return where.problem(f"expected a number, got {shown(str(raw)[:40])!r}", name)
    x1, y1, x2, y2 = coords
    if not (x1 < x2 and y1 < y2):
        return where.problem(f"an empty box: xtl < xbr and ytl < ybr are needed, got {coords}", "xbr")
    if x1 < 0 or y1 < 0:
        return where.problem(f"the box {coords} is outside the frame (before 0)", "xtl" if x1 < 0 else "ytl")
    if (video.width is not None and x2 > video.width) or (video.height is not None and y2 > video.height):
        return where.problem(f"the box {coords} is outside the frame ({video.width} x {video.height} px)",
                             "xbr" if video.width is not None and x2 > video.width else "ybr")
    return coords


def _frame(node: Node, where: Where, video: Frame) -> int | Problem:
    raw = node.attrs.get("frame", "")
    try:
        frame = int(raw)
    except ValueError:
        return where.problem(f"expected a whole number, got {shown(raw[:40])!r}", "frame")
    if frame < 0:
        return where.problem(f"frame {frame} is before the first frame (0)", "frame")
    if video.frame_count is not None and frame >= video.frame_count:
        return where.problem(f"frame {frame} is past the end of the video ({video.frame_count} frames: 0 "
                             f"to {video.frame_count - 1})", "frame")
    return frame


def _track(node: Node, file: str, labels: Sequence[str], declared: Sequence[str],
           video: Frame) -> Track | list[Problem]:
    where = Where(file=file, line=node.line)
    label = node.attrs.get("label", "")
    if label not in labels:
        return [where.problem(f"label {shown(label)!r} is not a label of the question (labels: "
                              f"{', '.join(labels)})", "label")]
    ident = node.attrs.get("id", "")
    problems: list[Problem] = []
    keyframes: list[dict[str, Any]] = []
    attributes: dict[str, Any] | None = None
    frames: dict[int, int] = {}
    for child in node.children:
        at = Where(file=file, line=child.line)
        if child.tag in SHAPES:
            problems.append(at.problem(f"a <{child.tag}>: only boxes are read into video_tracks", "track"))
            continue
        if child.tag != "box":
            continue
        frame, box = _frame(child, at, video), _box(child, at, video)
        flags = [_flag(child, name, at) for name in ("keyframe", "outside", "occluded")]
        bad = [x for x in (frame, box, *flags) if isinstance(x, Problem)]
        if bad:
            problems.append(bad[0])
            continue
        assert isinstance(frame, int) and isinstance(box, list)
        if frame in frames:
            problems.append(at.problem(f"track {shown(ident)} has a box on frame {frame} already (line "
                                       f"{frames[frame]}): one box per track and frame", "frame"))
            continue
        frames[frame] = child.line
        keyframe, outside, occluded = flags
        if "keyframe" not in child.attrs:
            keyframe = True  # CVAT before 1.1 wrote no keyframe flag: every box was drawn
        if keyframe:
            keyframes.append({"frame": frame, "box": box, "outside": outside, "occluded": occluded})
            if attributes is None and not outside:
                attributes = {a.attrs.get("name", ""): a.text for a in child.children
                              if a.tag == "attribute" and a.attrs.get("name", "") in declared}
    if problems:
        return problems
    keyframes.sort(key=lambda k: k["frame"])
    if not keyframes or keyframes[0]["outside"]:
        return [where.problem(f"track {shown(ident)} has no keyframe, or its first is outside", "track")]
    return {"id": ident, "label": label, "attributes": attributes or {}, "keyframes": keyframes}


def cvat_tracks(
    raw: bytes, file: str, *, labels: Sequence[str], attributes: Sequence[str], video: Frame
) -> tuple[list[Track], list[Problem]]:
    """The tracks of one file in document order, and the problems."""
    root = parse_xml(raw)
    if isinstance(root, str):
        return [], [Where(file=file).problem(root)]
    where = Where(file=file, line=root.line)
    if root.tag != "annotations":
        return [], [where.problem(f"the root element is <{shown(root.tag)}>, not <annotations>")]
    image = root.find("image")
    if image is not None:
        return [], [Where(file=file, line=image.line).problem(
            "an <image>: this is CVAT for images; export the video task as CVAT for video 1.1", "image")]
    problems: list[Problem] = []
    meta = root.find("meta")
    task = None if meta is None else (meta.find("task") or meta.find("job"))
    size = None if task is None else task.find("original_size")
    if size is not None and video.width is not None:
        w, h = size.find("width"), size.find("height")
        stated = ((w.text.strip() if w else ""), (h.text.strip() if h else ""))
        if stated != (str(video.width), str(video.height)):
            problems.append(Where(file=file, line=size.line).problem(
                f"original_size {stated[0]} x {stated[1]} is not the video's {video.width} x {video.height}",
                "original_size"))
    tracks: list[Track] = []
    seen: dict[str, int] = {}
    for node in root.children:
        if node.tag in ("box", *SHAPES):
            problems.append(Where(file=file, line=node.line).problem(
                f"a <{node.tag}> outside any track: this is CVAT for images", node.tag))
        if node.tag != "track":
            continue
        ident = node.attrs.get("id", "")
        if ident in seen:
            problems.append(Where(file=file, line=node.line).problem(
                f"track id {shown(ident)!r} is used already (line {seen[ident]})", "id"))
            continue
        seen[ident] = node.line
        made = _track(node, file, labels, attributes, video)
        if isinstance(made, list):
            problems += made
        else:
            tracks.append(made)
    return tracks, problems


# -- the archive ---------------------------------------------------------------------------------

def entries(archive: Any, by_name: dict[str, Any]) -> Iterator[TrackEntry | Problem]:
    """One entry per XML file (`entries.TrackEntry`), read once its video is known."""
    files = sorted(n for n in by_name if suffix(n) == ".xml")
    if not files:
        yield Problem("a CVAT for video archive holds an .xml file beside each video (clips/a.xml for "
                      "clips/a.mp4)")
        return
    for file in files:
        yield TrackEntry(str(PurePosixPath(file).with_suffix("")), Where(file=file),
                         partial(_read_file, archive, by_name[file]))


def _read_file(archive: Any, member: Any, video: Frame) -> tuple[list[Track], list[Problem]]:
    raw = archive.read(member)
    if isinstance(raw, Problem):
        return [], [raw]
    return cvat_tracks(raw, member.name, labels=archive.labels, attributes=archive.attribute_names,
                       video=video)
