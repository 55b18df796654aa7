"""The tracker service: from a box on one frame of an item's video, proposed boxes on the next frames.

The workbench sends the box the annotator drew (docs/video.md, "Tracks"); the server decodes the
original video from that frame on (PyAV), at its displayed size (turned by the container's
rotation: the pixels every box is in), and hands the frames to the project's tracker (loop setting
`tracker`; services/video/trackers.py), which follows the object until it loses it. Nothing is
stored: the annotator accepts, corrects or stops the proposals, and only submitted keyframes
become an answer. Who may ask: the annotator holding the item (or who may still revise their
answer on it), reviewers and up on any item of the project, as for interactive masks.

Frame i is the i-th frame in presentation order, as the frame table counts them
(services/video/frames.py): a demux pass (no decoding) lists every frame's presentation time, the
decoder seeks to the keyframe at or before the start frame, and frames are known by their time.
The decoding and tracking run outside any database transaction.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
from sqlalchemy import Connection, select

from labelloop.errors import Conflict, Invalid, NotFound, Problem
from labelloop.services.blobs import video_info
from labelloop.services.held_items import holds_item
from labelloop.services.loop.settings import loop_settings
from labelloop.services.policy import Action, Actor, access
from labelloop.services.projects import schema_of
from labelloop.services.targets import blob_hash
from labelloop.services.video.trackers import Box, Frame, Tracker, tracker_for
from labelloop.store.blobs import BlobStore
from labelloop.store.db import Database
from labelloop.store.models import items, published_in

MAX_FRAMES = 300  # one request: 12 s at 25 fps; the workbench asks again from the last accepted box


@dataclass(frozen=True)
class Run:
    """What a tracker proposed: a box per frame after the start, and why it stopped."""

    boxes: list[tuple[int, Box]]
    stopped: str  # "lost", "end" (of the video) or "limit" (the frames asked for)
    tracker: str = ""


@dataclass(frozen=True)
class TrackRequest:
    frame: int
    box: Sequence[float]
    frames: int
    field: str | None = None  # the video field (default: a video_tracks question's, else the first)


def _turn(image: Frame, rotation: int) -> Frame:
    """The frame as displayed: `rotation` degrees clockwise."""
    return image if rotation == 0 else np.ascontiguousarray(np.rot90(image, k=-(rotation // 90)))


def presentation_times(container: Any, stream: Any) -> list[int]:
    """Every frame's presentation time (in the stream's time base), in display order: a demux pass,
    nothing decoded."""
    pts = sorted({p.pts for p in container.demux(stream) if p.pts is not None and p.size})
    container.seek(0, stream=stream, backward=True, any_frame=False)
    return pts


def frames_from(source: str | IO[bytes], start: int, count: int) -> Iterator[Frame]:
    """Frames start, start + 1, ... (at most `count`) of a video, RGB, as displayed."""
    import av

    with av.open(source, mode="r") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        times = presentation_times(container, stream)
        if start >= len(times):
            return
        index = {t: i for i, t in enumerate(times)}
        rotation: int | None = None
        if start > 0:
            container.seek(times[start], stream=stream, backward=True, any_frame=False)
        sequential = 0 if start == 0 else None
        for frame in container.decode(stream):
            if rotation is None:
                rotation = (-round(float(getattr(frame, "rotation", 0) or 0) / 90.0) * 90) % 360
            i = (None if frame.pts is None else index.get(frame.pts)) if sequential is None else sequential
            if sequential is not None:
                sequential += 1
            if i is None or i < start:
                continue
            if i >= start + count:
                return
            yield _turn(np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8), rotation)


def run_tracker(tracker: Tracker, source: str | IO[bytes], start: int, box: Sequence[float], n: int) -> Run:
    """The tracker's boxes on frames start + 1 ... start + n of the video (module docstring)."""
    out: list[tuple[int, Box]] = []
    for k, found in enumerate(tracker.track(frames_from(source, start, n + 1), box), start=1):
        if found is None:
            return Run(out, "lost")
        out.append((start + k, found))
        if k >= n:
            return Run(out, "limit")
    return Run(out, "end" if len(out) < n else "limit")


def track_item(
    db: Database, store: BlobStore, actor: Actor, project_id: int, item_id: int, request: TrackRequest
) -> Run:
    """The project's tracker run from `request.box` on `request.frame` of the item's video."""
    with db.read() as conn:
        sha256, tracker_name = _video_for(conn, actor, project_id, item_id, request)
    tracker = tracker_for(tracker_name)
    with store.local_copy(sha256) as path:  # a file PyAV can seek (a temporary copy from S3)
        run = run_tracker(tracker, str(path), request.frame, request.box, request.frames)
    return Run(run.boxes, run.stopped, tracker.name)


def _video_for(
    conn: Connection, actor: Actor, project_id: int, item_id: int, request: TrackRequest
) -> tuple[str, str]:
    """The stored video's hash and the project's tracker, once the actor may work on the item and
    the request fits the video (problems name the field)."""
    acc = access(conn, actor, project_id, Action.work_tasks)
    data = conn.execute(select(items.c.data).where(items.c.id == item_id, published_in(project_id))).scalar()
    if not isinstance(data, dict):
        raise NotFound(f"item {item_id} not found in project {project_id}")
    if not holds_item(conn, acc, actor, project_id, item_id):
        raise Conflict(f"item {item_id} was not handed to you; ask for your next task")
    schema = schema_of(acc.project.label_schema)
    videos = [f.name for f in schema.fields if f.type == "video"]
    wanted = request.field or next((q.spec.target for q in schema.questions
                                    if q.kind.name == "video_tracks"), None) or next(iter(videos), None)
    if wanted not in videos:
        raise Invalid("no video to track on", [Problem(
            f"{request.field!r} is not a video field of the schema" if request.field
            else "the schema has no video field", field="field")])
    sha256 = blob_hash(data.get(wanted))
    info = None if sha256 is None else video_info(conn, sha256)
    if sha256 is None or info is None:
        raise Invalid("no video to track on", [Problem(
            f"the item's {wanted!r} is not a video the server stores (a video given by URL is never "
            "fetched)", field="field")])
    problems = []
    if not 0 <= request.frame < info.frame_count:
        problems.append(Problem(f"frame {request.frame} is not a frame of the video (0 to "
                                f"{info.frame_count - 1})", field="frame"))
    if not 1 <= request.frames <= MAX_FRAMES:
        problems.append(Problem(f"frames is 1 to {MAX_FRAMES}", field="frames"))
    box = list(request.box)
    if len(box) != 4 or not all(isinstance(v, int | float) and math.isfinite(v) for v in box):
        problems.append(Problem("a box is [x1, y1, x2, y2], four finite numbers", field="box"))
    elif not (box[0] < box[2] and box[1] < box[3]):
        problems.append(Problem("a box needs x1 < x2 and y1 < y2", field="box"))
    elif min(box) < 0 or box[2] > info.width or box[3] > info.height:
        problems.append(Problem(f"the box {box} is not inside the {info.width} x {info.height} frame",
                                field="box"))
    if problems:
        raise Invalid("the tracking request is not usable", problems)
    return sha256, loop_settings(acc.project.loop_settings).tracker
