"""A video-dataset export streamed as a zip (docs/video.md, "Formats"); the video counterpart of
images/dataset.py and audio/dataset.py, in passes over one snapshot, memory flat in the number and
length of the videos (one video's tracks at a time; a frame at a time for YOLO).

Layouts, for a video exported as `clips/a.mp4`:
- mot: `clips/a.mp4` and the sequence folder `clips/a/` (`gt/gt.txt`, `gt/labels.txt`,
  `gt/keyframes.txt`, `seqinfo.ini`; mot.py);
- cvat: `clips/a.mp4` and `clips/a.xml` beside it (cvat.py);
- vis: `annotations/instances.json`, the videos under `videos/` (vis.py);
- yolo-frames: `data.yaml`, `images/clips/a/000012.jpg`, `labels/clips/a/000012.txt` (frames.py);
  the videos themselves are not in it (its images are their frames).
With `images=refs` the video files are left out and `references.csv` names each one's
`blob:<sha256>` reference (yolo-frames writes labels only); items that could not be exported are
listed in `skipped.csv` with the reason.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

from labelloop.services.exporting.images.dataset import _csv
from labelloop.services.exporting.media import Skipped
from labelloop.services.exporting.video import cvat, frames, mot, vis
from labelloop.services.exporting.video.plan import FactsFn, Footage, VideoPlan, footage, video_facts
from labelloop.services.exporting.video.tracks import Track, answer_tracks
from labelloop.services.exporting.zipstream import ZipStream
from labelloop.store.blobs import BlobStore


def _tracks(v: Footage) -> list[tuple[str | None, Track]]:
    return [(who, t) for who, value in v.values for t in answer_tracks(value, v.frame_count)]


def _labels(plan: VideoPlan) -> list[str]:
    spec: Any = plan.question.spec
    return list(spec.values)


def _video_path(plan: VideoPlan, v: Footage) -> str:
    return f"{vis.VIDEOS_DIR}/{v.name}" if plan.format == "vis" else v.name


def _annotations(zs: ZipStream, plan: VideoPlan, v: Footage, store: BlobStore) -> Iterator[bytes]:
    labels = _labels(plan)
    tracks = _tracks(v)
    if plan.format == "mot":
        only = [t for _, t in tracks]
        base = mot.folder(v.name)
        yield from zs.text(f"{base}/{mot.GT}", mot.gt_lines(only, labels, v.frame_count))
        yield from zs.text(f"{base}/{mot.KEYFRAMES}", iter([mot.keyframe_lines(only)]))
        yield from zs.text(f"{base}/{mot.LABELS}", iter([mot.labels_file(labels)]))
        yield from zs.text(f"{base}/{mot.SEQINFO}",
                           iter([mot.seqinfo(base, v.fps, v.frame_count, v.width, v.height)]))
    elif plan.format == "cvat":
        head = cvat.head(plan.question.spec, v.external_id, v.name, v.frame_count, v.width, v.height)
        xml = iter([head, *cvat.tracks_xml(tracks, v.frame_count), cvat.TAIL])
        yield from zs.text(f"{mot.folder(v.name)}.xml", xml)
    elif plan.format == "yolo-frames":
        lines = frames.frame_lines(v.values, labels, v.frame_count, v.width, v.height)
        for f in sorted(lines):
            text = "".join(line + "\n" for line in lines[f]).encode()
            yield from zs.text(f"{frames.LABELS_DIR}/{frames.frame_name(v.name, f, '.txt')}", iter([text]))
        if plan.files == "include":
            with store.open(v.sha256) as source:
                for f, jpeg in frames.jpeg_frames(source, set(lines), v.rotation):
                    name = f"{frames.IMAGES_DIR}/{frames.frame_name(v.name, f, '.jpg')}"
                    yield from zs.file(name, io.BytesIO(jpeg))


def stream_video_dataset(
    conn: Connection, project_id: int, plan: VideoPlan, store: BlobStore, facts: FactsFn = video_facts
) -> Iterator[bytes]:
    """The archive's bytes (`conn` is a snapshot held open while they are read)."""
    zs = ZipStream()

    def passes() -> Iterator[Footage | Skipped]:
        return footage(conn, project_id, plan, facts)

    if plan.format == "vis":
        yield from zs.text(vis.MEMBER, vis.instances(plan, passes))
    elif plan.format == "yolo-frames":
        yield from zs.text(frames.DATA, iter([frames.data_yaml(plan.question.name, _labels(plan))]))
    skipped = 0
    for v in passes():
        if isinstance(v, Skipped):
            skipped += 1
            continue
        yield from _annotations(zs, plan, v, store)
        if plan.files == "include" and plan.format != "yolo-frames":
            with store.open(v.sha256) as f:
                yield from zs.file(_video_path(plan, v), f)
    if plan.files == "refs" or plan.format == "yolo-frames":
        rows = ([_video_path(plan, v), v.reference] for v in passes() if isinstance(v, Footage))
        yield from zs.text("references.csv", _csv(rows, ["file", "reference"]))
    if skipped:
        left = ([v.external_id, v.reason] for v in passes() if isinstance(v, Skipped))
        yield from zs.text("skipped.csv", _csv(left, ["id", "reason"]))
    yield zs.close()
