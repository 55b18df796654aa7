"""MOT Challenge ground truth (Milan et al., "MOT16: A Benchmark for Multi-Object Tracking",
arXiv:1603.00831, and motchallenge.net's format page), one sequence folder per video.

For a video exported as `clips/a.mp4` the folder `clips/a/` holds:
- `gt/gt.txt`: one line per track and frame where the track has a box, after interpolation, sorted
  by track then frame, nine comma-separated fields

      <frame>,<id>,<bb_left>,<bb_top>,<bb_width>,<bb_height>,<conf>,<class>,<visibility>

  `frame` counts from 1 (frame 0 of the video is 1), `id` the track's number from 1 (its place in
  the answer), the box in the video's displayed pixels with `bb_left = x1`, `bb_top = y1`,
  `bb_width = x2 - x1`, `bb_height = y2 - y1` (as CVAT and Datumaro write MOT: edges, not MATLAB's
  1-based pixels; motmetrics' `loadtxt` subtracts 1 from left and top, which no IoU notices),
  `conf` 1 (MOT's "consider this box" flag), `class` the label's place in `labels.txt` from 1,
  `visibility` 0 where the track is `occluded`, else 1;
- `gt/labels.txt`: the question's labels, one a line (as Datumaro writes it);
- `gt/keyframes.txt`: labelloop's sidecar, one line per keyframe,
  `<frame>,<id>,<outside>,<occluded>,<x1>,<y1>,<x2>,<y2>` (frame from 1, flags 0 or 1, the
  keyframe's own box by its corners, empty for an `outside` keyframe without one). gt.txt alone
  says where each box is, not which were drawn: with the sidecar an import gives back exactly the
  keyframes (and checks that gt.txt is what they export to); without it the importer keeps the
  fewest keyframes whose interpolation writes every line of gt.txt again;
- `seqinfo.ini`: `[Sequence]` with `name`, `imDir`, `frameRate`, `seqLength` (the frame count),
  `imWidth`, `imHeight`, `imExt` as MOT's devkit and TrackEval read it (`imDir` names the folder
  MOT's frames would be in; the frames are in the video).

Numbers are written so that they read back as the same float (`images/coords.py`): an integral
value without a point, any other with every digit Python needs. `x2` is read back as the float
whose `x2 - bb_left` is `bb_width` (the shortest in decimal): that is x2 itself for whole numbers,
canvas fractions and short decimals, but two floats of 16 or 17 digits can round to the same
width, which is why the sidecar holds the corners themselves.
Per-frame shapes go out as one-frame tracks (`tracks.py`); attributes have no place in MOT.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath
from typing import Any

from labelloop.services.exporting.images.coords import text, whole, width_of
from labelloop.services.exporting.video.tracks import Track, frame_boxes

GT = "gt/gt.txt"
LABELS = "gt/labels.txt"
KEYFRAMES = "gt/keyframes.txt"
SEQINFO = "seqinfo.ini"


def folder(video_name: str) -> str:
    """The sequence folder of a video: its name without the suffix."""
    return str(PurePosixPath(video_name).with_suffix(""))


def _n(x: Any) -> str:
    return text(whole(x))


def box_fields(box: Sequence[Any]) -> list[str]:
    """bb_left, bb_top, bb_width, bb_height of [x1, y1, x2, y2]."""
    x1, y1, x2, y2 = box
    return [_n(x1), _n(y1), _n(width_of(x1, x2)), _n(width_of(y1, y2))]


def gt_lines(tracks: Sequence[Track], labels: Sequence[str], frame_count: int) -> Iterator[bytes]:
    """gt.txt in pieces, one track at a time."""
    for number, track in enumerate(tracks, 1):
        cls = labels.index(track["label"]) + 1
        out = [",".join([str(fb.frame + 1), str(number), *box_fields(fb.box), "1", str(cls),
                         "0" if fb.occluded else "1"]) + "\n"
               for fb in frame_boxes(track, frame_count)]
        yield "".join(out).encode()


def keyframe_lines(tracks: Sequence[Track]) -> bytes:
    out = []
    for number, track in enumerate(tracks, 1):
        for k in track["keyframes"]:
            box = [_n(v) for v in k["box"]] if k.get("box") is not None else ["", "", "", ""]
            out.append(",".join([str(k["frame"] + 1), str(number), str(int(bool(k["outside"]))),
                                 str(int(bool(k["occluded"]))), *box]) + "\n")
    return "".join(out).encode()


def labels_file(labels: Sequence[str]) -> bytes:
    return "".join(f"{label}\n" for label in labels).encode()


def seqinfo(name: str, fps: float, frame_count: int, width: int, height: int) -> bytes:
    rate = _n(round(fps, 3))
    return (f"[Sequence]\nname={PurePosixPath(name).name}\nimDir=img1\nframeRate={rate}\n"
            f"seqLength={frame_count}\nimWidth={width}\nimHeight={height}\nimExt=.jpg\n").encode()
