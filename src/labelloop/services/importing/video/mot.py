"""MOT Challenge ground truth into tracks: the inverse of `services/exporting/video/mot.py`
(docs/video.md, "Formats").

A sequence is a folder holding `gt/gt.txt` (`clips/a/gt/gt.txt` is the video `clips/a` + a video
suffix, or the item `clips/a`), with optionally `gt/labels.txt` (the class names, one a line;
without it class k is the question's k-th label) and labelloop's `gt/keyframes.txt`.
gt.txt lines: `frame,id,bb_left,bb_top,bb_width,bb_height,conf,class,visibility` (a tenth field,
as MOT15's files have, is ignored; spaces after the commas allowed), frame from 1, the box's left
and top edges and its size in pixels (x2 the float whose x2 - left is the width,
`images/coords.py`); a line with `conf` 0 is one MOT tells evaluations to ignore and is not
read; `occluded` when visibility < 0.5.
With keyframes.txt the keyframes are exactly its lines (corners as written) and every gt.txt line
must be what they export to (their interpolation, written as the export writes it); without it,
the fewest keyframes whose export writes every line again (`keyframes.py`).
Problems name the file, the line and the field.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from labelloop.errors import Problem
from labelloop.schema.types.video.interpolate import spans
from labelloop.services.exporting.images.coords import end_of, parse
from labelloop.services.exporting.video.mot import box_fields
from labelloop.services.importing.readers import Where, shown
from labelloop.services.importing.video.entries import Frame, Track, TrackEntry
from labelloop.services.importing.video.keyframes import FrameRow, fewest_keyframes

FIELDS = ("frame", "id", "bb_left", "bb_top", "bb_width", "bb_height", "conf", "class", "visibility")
KEY_FIELDS = ("frame", "id", "outside", "occluded", "x1", "y1", "x2", "y2")


@dataclass
class Row:
    line: int
    frame: int  # 0-based
    box: list[Any]
    label: str
    occluded: bool
    written: list[Any]  # bb_left, bb_top, bb_width, bb_height as numbers


@dataclass
class KeyRow:
    line: int
    frame: int  # 0-based
    outside: bool
    occluded: bool
    box: list[Any] | None


def read_labels(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def _fields(line: str) -> list[str]:
    return [f.strip() for f in line.split(",")]


def _whole(raw: str, where: Where, field: str, least: int) -> int | Problem:
    try:
        value = int(raw)
    except ValueError:
        return where.problem(f"expected a whole number, got {shown(raw[:40])!r}", field)
    if value < least:
        return where.problem(f"{value} is less than {least}", field)
    return value


def _frame(raw: str, where: Where, video: Frame) -> int | Problem:
    n = _whole(raw, where, "frame", 1)
    if isinstance(n, int) and video.frame_count is not None and n > video.frame_count:
        return where.problem(f"frame {n} is past the end of the video ({video.frame_count} frames: MOT "
                             f"counts them from 1 to {video.frame_count})", "frame")
    return n if isinstance(n, Problem) else n - 1


def _numbers(parts: Sequence[str], names: Sequence[str], where: Where) -> list[Any] | Problem:
    numbers: list[Any] = []
    for raw, name in zip(parts, names, strict=True):
        try:
            numbers.append(parse(raw))
        except ValueError:
            return where.problem(f"expected a number, got {shown(raw[:40])!r}", name)
    return numbers


def _inside(box: list[Any], names: Sequence[str], where: Where, video: Frame) -> list[Any] | Problem:
    """The box [x1, y1, x2, y2] if it is inside the frame; `names` the fields of x1, y1, x2, y2."""
    for value, edge, name in ((box[0], "left", names[0]), (box[1], "top", names[1])):
        if value < 0:
            return where.problem(f"the box's {edge} edge {value} is outside the frame (before 0)", name)
    for value, edge, size, name in ((box[2], "right", video.width, names[2]),
                                    (box[3], "bottom", video.height, names[3])):
        if size is not None and value > size:
            return where.problem(f"the box's {edge} edge {value} is outside the frame ({video.width} x "
                                 f"{video.height} px)", name)
    return box


def _box(parts: Sequence[str], where: Where, video: Frame) -> tuple[list[Any], list[Any]] | Problem:
    """([x1, y1, x2, y2], the numbers written) from bb_left, bb_top, bb_width, bb_height."""
    names = ("bb_left", "bb_top", "bb_width", "bb_height")
    numbers = _numbers(parts, names, where)
    if isinstance(numbers, Problem):
        return numbers
    left, top, w, h = numbers
    if w <= 0 or h <= 0:
        return where.problem(f"a box {w} x {h} px: width and height must be more than 0",
                             "bb_width" if w <= 0 else "bb_height")
    box = _inside([left, top, end_of(left, w), end_of(top, h)], names, where, video)
    return box if isinstance(box, Problem) else (box, numbers)


def _corners(parts: Sequence[str], where: Where, video: Frame) -> list[Any] | Problem:
    names = ("x1", "y1", "x2", "y2")
    box = _numbers(parts, names, where)
    if isinstance(box, Problem):
        return box
    if not (box[0] < box[2] and box[1] < box[3]):
        return where.problem(f"an empty box {box}: x1 < x2 and y1 < y2 are needed", "x2")
    return _inside(box, names, where, video)


def read_gt(
    text: str, file: str, *, labels: Sequence[str], names: Sequence[str] | None, video: Frame
) -> tuple[dict[int, list[Row]], list[Problem]]:
    """{MOT id: its rows in frame order}, and the problems (every line is read)."""
    tracks: dict[int, list[Row]] = {}
    seen: dict[tuple[int, int], int] = {}
    problems: list[Problem] = []
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        where = Where(file=file, line=n)
        parts = _fields(line)
        if len(parts) not in (9, 10):
            problems.append(where.problem(
                f"a gt.txt line has 9 fields ({', '.join(FIELDS)}); got {len(parts)}"))
            continue
        frame = _frame(parts[0], where, video)
        ident = _whole(parts[1], where, "id", 0)
        box = _box(parts[2:6], where, video)
        cls = _whole(parts[7], where, "class", 1)
        try:
            conf, visibility = parse(parts[6]), parse(parts[8])
        except ValueError:
            problems.append(where.problem("conf and visibility are numbers", "conf"))
            continue
        bad = [x for x in (frame, ident, box, cls) if isinstance(x, Problem)]
        if bad:
            problems.append(bad[0])
            continue
        assert isinstance(frame, int) and isinstance(ident, int) and isinstance(cls, int)
        assert isinstance(box, tuple)
        if conf == 0:
            continue
        if names is not None:
            if cls > len(names):
                problems.append(where.problem(
                    f"class {cls} is not in labels.txt ({len(names)} labels)", "class"))
                continue
            label = names[cls - 1]
        elif cls > len(labels):
            problems.append(where.problem(f"class {cls}: the question has {len(labels)} labels (without "
                                          "labels.txt, class k is its k-th label)", "class"))
            continue
        else:
            label = labels[cls - 1]
        if label not in labels:
            problems.append(where.problem(f"class {cls} is {shown(label)!r}, not a label of the question "
                                          f"(labels: {', '.join(labels)})", "class"))
            continue
        if (frame, ident) in seen:
            problems.append(where.problem(f"track {ident} has a box on frame {frame + 1} already (line "
                                          f"{seen[frame, ident]}): one box per track and frame", "id"))
            continue
        seen[frame, ident] = n
        tracks.setdefault(ident, []).append(Row(n, frame, box[0], label, visibility < 0.5, box[1]))
    for rows in tracks.values():
        rows.sort(key=lambda r: r.frame)
        for r in rows[1:]:
            if r.label != rows[0].label:
                problems.append(Where(file=file, line=r.line).problem(
                    f"the track's class changes from {shown(rows[0].label)!r} (line {rows[0].line}): a "
                    "track has one class", "class"))
                break
    return tracks, problems


def read_keyframes(text: str, file: str, video: Frame) -> tuple[dict[int, list[KeyRow]], list[Problem]]:
    """labelloop's sidecar: {MOT id: its keyframes in frame order}, and the problems."""
    out: dict[int, list[KeyRow]] = {}
    problems: list[Problem] = []
    seen: set[tuple[int, int]] = set()
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        where = Where(file=file, line=n)
        parts = _fields(line)
        if len(parts) != 8:
            problems.append(where.problem(f"a keyframes.txt line has 8 fields ({', '.join(KEY_FIELDS)}); "
                                          f"got {len(parts)}"))
            continue
        frame = _frame(parts[0], where, video)
        ident = _whole(parts[1], where, "id", 0)
        flags = [p if p in ("0", "1") else where.problem(f"0 or 1, got {shown(p[:20])!r}", name)
                 for p, name in ((parts[2], "outside"), (parts[3], "occluded"))]
        box: list[Any] | Problem | None = None
        if parts[4:] != ["", "", "", ""]:
            box = _corners(parts[4:], where, video)
        bad = [x for x in (frame, ident, *flags, box) if isinstance(x, Problem)]
        if bad:
            problems.append(bad[0])
            continue
        assert isinstance(frame, int) and isinstance(ident, int) and not isinstance(box, Problem)
        if (frame, ident) in seen:
            problems.append(where.problem(
                f"track {ident} has a keyframe on frame {frame + 1} already", "frame"))
            continue
        seen.add((frame, ident))
        outside = flags[0] == "1"
        if box is None and not outside:
            problems.append(where.problem("a keyframe that is not outside has a box", "x1"))
            continue
        out.setdefault(ident, []).append(KeyRow(n, frame, outside, flags[1] == "1", box))
    for rows in out.values():
        rows.sort(key=lambda r: r.frame)
    return out, problems


def _keyed(ident: int, rows: list[Row], keys: list[KeyRow], gt: str, sidecar: str,
           frame_count: int | None) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The sidecar's keyframes of one track, checked against its gt.txt rows."""
    keyframes = [{"frame": k.frame, "box": k.box, "outside": k.outside, "occluded": k.occluded} for k in keys]
    if keys[0].outside:
        return [], [Where(file=sidecar, line=keys[0].line).problem(
            f"track {ident} starts with an outside keyframe", "outside")]
    last = max([r.frame for r in rows] + [k.frame for k in keys])
    end = frame_count if frame_count is not None else last + 1
    expected = {f: (box, occ) for f, box, occ in spans(keyframes, end)}
    for r in rows:
        want = expected.pop(r.frame, None)
        if want is None:
            return [], [Where(file=gt, line=r.line).problem(
                f"track {ident} has no box on frame {r.frame + 1} by its keyframes in {sidecar}", "frame")]
        if [parse(v) for v in box_fields(want[0])] != r.written or r.occluded != want[1]:
            return [], [Where(file=gt, line=r.line).problem(
                f"track {ident}'s box on frame {r.frame + 1} is not the interpolation of its keyframes in "
                f"{sidecar} ({want[0]}{', occluded' if want[1] else ''}): edit both, or remove "
                "keyframes.txt to find keyframes from gt.txt alone", "bb_left")]
    if expected:
        f = min(expected)
        return [], [Where(file=sidecar, line=keys[0].line).problem(
            f"track {ident}'s keyframes give a box on frame {f + 1}, which {gt} does not have", "frame")]
    return keyframes, []


def mot_tracks(
    rows: dict[int, list[Row]], keys: dict[int, list[KeyRow]] | None, *, gt: str, sidecar: str,
    frame_count: int | None,
) -> tuple[list[Track], list[Problem]]:
    """The tracks, in MOT id order, each with its MOT id as its id."""
    tracks: list[Track] = []
    problems: list[Problem] = []
    if keys is not None:
        for ident in sorted(set(keys) - set(rows)):
            problems.append(Where(file=sidecar, line=keys[ident][0].line).problem(
                f"track {ident} has keyframes but no line in {gt}", "id"))
    for ident in sorted(rows):
        found = rows[ident]
        if keys is None:
            keyframes = fewest_keyframes([FrameRow(r.frame, r.box, r.occluded, r.written) for r in found],
                                         frame_count)
        elif ident not in keys:
            problems.append(Where(file=gt, line=found[0].line).problem(
                f"track {ident} has no keyframe in {sidecar}", "id"))
            continue
        else:
            keyframes, bad = _keyed(ident, found, keys[ident], gt, sidecar, frame_count)
            if bad:
                problems += bad
                continue
        tracks.append({"id": str(ident), "label": found[0].label, "attributes": {}, "keyframes": keyframes})
    return tracks, problems


# -- the archive ---------------------------------------------------------------------------------

GT_PATH = "/gt/gt.txt"


def _text(archive: Any, m: Any) -> str | Problem:
    raw = archive.read(m)
    if isinstance(raw, Problem):
        return raw
    try:
        text: str = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return Where(file=m.name, line=raw[:e.start].count(b"\n") + 1).problem("not valid UTF-8")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def entries(archive: Any, by_name: dict[str, Any]) -> Iterator[TrackEntry | Problem]:
    """One entry per sequence folder (`entries.TrackEntry`), read once its video is known."""
    files = sorted(n for n in by_name if n.endswith(GT_PATH) or n == GT_PATH[1:])
    if not files:
        yield Problem("a MOT archive holds a folder per video with gt/gt.txt in it (clips/a/gt/gt.txt "
                      "for the video clips/a.mp4)")
        return
    for gt in files:
        if gt == GT_PATH[1:]:
            yield Where(file=gt).problem("put the sequence in a folder named like its video "
                                         "(clips/a/gt/gt.txt for clips/a.mp4)")
            continue
        base = gt[:-len(GT_PATH)]
        yield TrackEntry(base, Where(file=gt), partial(_read_sequence, archive, by_name, base))


def _read_sequence(archive: Any, by_name: dict[str, Any], base: str, video: Frame
                   ) -> tuple[list[Track], list[Problem]]:
    gt, labels_file, keys_file = f"{base}/gt/gt.txt", f"{base}/gt/labels.txt", f"{base}/gt/keyframes.txt"
    text = _text(archive, by_name[gt])
    if isinstance(text, Problem):
        return [], [text]
    names = None
    if labels_file in by_name:
        found = _text(archive, by_name[labels_file])
        if isinstance(found, Problem):
            return [], [found]
        names = read_labels(found)
    rows, problems = read_gt(text, gt, labels=archive.labels, names=names, video=video)
    keys = None
    if keys_file in by_name:
        found = _text(archive, by_name[keys_file])
        if isinstance(found, Problem):
            return [], [found]
        keys, more = read_keyframes(found, keys_file, video)
        problems += more
    if problems:
        return [], problems
    return mot_tracks(rows, keys, gt=gt, sidecar=keys_file, frame_count=video.frame_count)
