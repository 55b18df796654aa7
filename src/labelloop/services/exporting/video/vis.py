"""A YouTube-VIS-like JSON (Yang et al., "Video Instance Segmentation", ICCV 2019: the COCO layout
for videos, as `ytvos.py` of youtubevos/cocoapi reads it), `annotations/instances.json`, with the
videos in `videos/`.

- `videos`: `id` (from 1, in item order), `file_name` (relative to `videos/`), `width`, `height`,
  `length` (the frame count), `fps`;
- `categories`: the question's labels in order, ids from 1;
- `annotations`: one per track (per-frame shapes as one-frame tracks, `tracks.py`): `id`,
  `video_id`, `category_id`, `iscrowd` 0, and per frame of the video (`length` entries) `bboxes`
  `[x, y, w, h]` (x1, y1, x2 - x1, y2 - y1) or null where the track has no box and `areas` (w h or
  null); boxes as interpolation gives them. Not in YouTube-VIS, from CVAT's meaning: `keyframes`
  (the frames of the keyframes, 0-based), `occluded` (the frames marked occluded), `attributes`,
  and with answers exported `annotator`. There are no masks, so no `segmentations`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson

from labelloop.services.exporting.images.coords import whole, width_of
from labelloop.services.exporting.video.plan import Footage, VideoPlan
from labelloop.services.exporting.video.tracks import Track, answer_tracks, frame_boxes

MEMBER = "annotations/instances.json"
VIDEOS_DIR = "videos"
INFO = {"description": "exported by labelloop", "version": "1.0"}

Passes = Callable[[], Iterator[Any]]


def annotation(
    track: Track, annotator: str | None, *, ann_id: int, video_id: int, category_id: int, frame_count: int
) -> dict[str, Any]:
    bboxes: list[list[Any] | None] = [None] * frame_count
    areas: list[Any] = [None] * frame_count
    occluded: list[int] = []
    for fb in frame_boxes(track, frame_count):
        x1, y1, x2, y2 = (whole(v) for v in fb.box)
        w, h = width_of(x1, x2), width_of(y1, y2)
        bboxes[fb.frame] = [x1, y1, w, h]
        areas[fb.frame] = whole(w * h)
        if fb.occluded:
            occluded.append(fb.frame)
    out: dict[str, Any] = {
        "id": ann_id, "video_id": video_id, "category_id": category_id, "iscrowd": 0,
        "bboxes": bboxes, "areas": areas,
        "keyframes": [k["frame"] for k in track["keyframes"] if not k["outside"]],
        "occluded": occluded,
    }
    if track.get("attributes"):
        out["attributes"] = track["attributes"]
    if annotator is not None:
        out["annotator"] = annotator
    return out


def instances(plan: VideoPlan, passes: Passes) -> Iterator[bytes]:
    """The JSON file in pieces: two passes over the videos (videos, then annotations)."""
    spec: Any = plan.question.spec
    labels = list(spec.values)
    categories = [{"id": i, "name": v, "supercategory": ""} for i, v in enumerate(labels, 1)]
    yield b'{"info": ' + orjson.dumps(INFO) + b', "licenses": [], "categories": ' + orjson.dumps(categories)
    yield b',\n"videos": ['
    sep = b"\n"
    for v in passes():
        if isinstance(v, Footage):
            yield sep + orjson.dumps({"id": v.index, "file_name": v.name, "width": v.width,
                                      "height": v.height, "length": v.frame_count, "fps": v.fps})
            sep = b",\n"
    yield b'],\n"annotations": ['
    sep, ann_id = b"\n", 0
    for v in passes():
        if not isinstance(v, Footage):
            continue
        for who, value in v.values:
            for track in answer_tracks(value, v.frame_count):
                ann_id += 1
                yield sep + orjson.dumps(annotation(
                    track, who, ann_id=ann_id, video_id=v.index,
                    category_id=labels.index(track["label"]) + 1, frame_count=v.frame_count))
                sep = b",\n"
    yield b"]}\n"
