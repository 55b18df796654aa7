"""What a video-dataset export holds: one `video_tracks` question, whose tracks, which videos, named
how (docs/video.md, "Formats"); the video counterpart of images/pictures.py and audio/plan.py.

Per item, the question's answer from one source: the consensus (the default), the gold answer, or
every annotator's latest answer (revisions replace what they correct; only CVAT XML and the
YouTube-VIS-like JSON have a place for who drew a track). Items without a value from that source
are not exported; items whose video is not a stored, probed video (given by URL: its frame count
is unknown) are listed in `skipped.csv`. File names follow media.ArchiveNames (the item's id when
it is a plain path with a video suffix, `clips/a.mp4`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from labelloop.errors import Invalid, Problem
from labelloop.schema import LabelSchema, Question
from labelloop.services.exporting import media
from labelloop.services.items import ItemFilter
from labelloop.store.models import blob_video, blobs

FORMATS = ("mot", "cvat", "vis", "yolo-frames")
NAMES = {"mot": "MOT Challenge", "cvat": "CVAT for video", "vis": "YouTube-VIS JSON",
         "yolo-frames": "YOLO per frame"}
SUFFIX = {"video/mp4": ".mp4", "video/webm": ".webm", "video/quicktime": ".mov",
          "video/x-matroska": ".mkv"}
KEPT = frozenset({".mp4", ".m4v", ".webm", ".mov", ".mkv"})


@dataclass(frozen=True)
class VideoFacts:
    """What the formats need to know of a stored video (its probe, docs/video.md)."""

    media_type: str
    width: int
    height: int
    frame_count: int
    fps: float
    rotation: int = 0


# The stored videos among some hashes, probed: {sha256: facts}.
FactsFn = Callable[[Connection, list[str]], dict[str, VideoFacts]]


def video_facts(conn: Connection, hashes: list[str]) -> dict[str, VideoFacts]:
    """The probed videos among these hashes (the store's `blob_video`)."""
    rows = conn.execute(
        select(blobs.c.sha256, blobs.c.media_type, blob_video.c.width, blob_video.c.height,
               blob_video.c.frame_count, blob_video.c.fps, blob_video.c.rotation)
        .join(blob_video, blob_video.c.sha256 == blobs.c.sha256).where(blobs.c.sha256.in_(hashes)))
    return {r.sha256: VideoFacts(r.media_type, int(r.width), int(r.height), int(r.frame_count), float(r.fps),
                                 int(r.rotation)) for r in rows}


@dataclass(frozen=True)
class VideoPlan:
    format: str
    question: Question
    field: str  # the video field the question is about
    source: str
    files: str  # include (the videos go in) or refs (references.csv instead)
    where: ItemFilter | None = None  # only the items of a saved slice (services/curation/slices.py)


@dataclass(frozen=True)
class Footage(media.ArchivedFile):
    """One exported video and its answers: (annotator, answer), annotator None but for answers."""

    width: int
    height: int
    frame_count: int
    fps: float
    rotation: int
    values: list[tuple[str | None, dict[str, Any]]]


def video_plan(schema: LabelSchema, fmt: str, question: str | None, source: str, files: str) -> VideoPlan:
    """Check the parameters against the schema before the first byte is sent."""
    media.check_choices(source, files, "unknown choice for the video files")
    if source == "answers" and fmt in ("mot", "yolo-frames"):
        raise Invalid(f"{NAMES[fmt]} cannot say who drew what", [Problem(
            f"{NAMES[fmt]} has no place for the annotator: export answers as cvat or vis, or the "
            f"consensus or gold as {fmt}", field="source")])
    q = tracks_question(schema, question, fmt)
    if fmt in ("mot", "yolo-frames"):
        bad = [v for v in q.spec.values if not v or "\n" in v or "\r" in v]  # type: ignore[attr-defined]
        if bad:
            raise Invalid(f"{NAMES[fmt]} cannot hold these labels", [Problem(
                f"its label list has one label a line, so a label is not empty and holds no line "
                f"break: {bad[0]!r}", field="question")])
    assert q.spec.target is not None  # a video_tracks question always has one
    return VideoPlan(fmt, q, q.spec.target, source, files)


def tracks_question(schema: LabelSchema, name: str | None, fmt: str) -> Question:
    """The question named, or the schema's only `video_tracks` question; Invalid naming the choices."""
    return media.kind_question(
        schema, name, "video_tracks", NAMES[fmt], "the tracks of a video_tracks question")


def footage(
    conn: Connection, project_id: int, plan: VideoPlan, facts: FactsFn = video_facts
) -> Iterator[Footage | media.Skipped]:
    """The export's videos in item order (one pass over the project; run again for another)."""
    names = media.ArchiveNames(SUFFIX, ".mp4", KEPT)
    index = 0
    for item in media.found_items(conn, project_id, source=plan.source, question=plan.question.name,
                                  field=plan.field, find=facts, whole_answers=True, where=plan.where):
        row, ref, sha, v, values = item.row, item.reference, item.sha256, item.blob, item.values
        if v is None:
            why = "no video" if ref is None else (
                "the video is given by URL: its frames are not known" if sha is None
                else "the stored file is not a probed video")
            yield media.Skipped(row.external_id, why)
            continue
        index += 1
        assert sha is not None
        yield Footage(index, row.external_id, names(row.id, row.external_id, v.media_type), ref, sha,
                      v.media_type, v.width, v.height, v.frame_count, v.fps, v.rotation, values)
