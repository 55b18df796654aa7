"""What an item's targeted fields hold, so answers are checked against them (`Target`).

A spans question is checked against its text (offsets inside it), a shape question against its
image's size (coordinates inside it), a video question against its video's displayed size and
frame count (docs/video.md), a feedback question against the item's candidate responses
(their ids, and their contents for offsets and diffs), a segments question against its audio's
duration (docs/audio.md). Only fields that some question targets
are looked at, so a schema without targets costs nothing: no read of the item. An image's size
is one lookup of the `blobs` row by its primary key; an image given by URL, or a blob that is
not an image, has no known size, and its shapes are checked for everything but the bounds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from sqlalchemy import Connection, select

from labelloop.schema import AudioInfo, ImageInfo, LabelSchema, Responses, Target, VideoInfo
from labelloop.services.blobs import REFERENCE_PREFIX, audio_info, video_info
from labelloop.store.blobs import is_sha256
from labelloop.store.models import answers, blobs, items

# A blob's hash to its image size, audio duration or video size and frame count, if known.
SizeOf = Callable[[str], "ImageInfo | AudioInfo | VideoInfo | None"]
# The probe each media field kind is checked against.
MEDIA_INFO: dict[str, type[ImageInfo | AudioInfo | VideoInfo]] = {
    "image": ImageInfo, "audio": AudioInfo, "video": VideoInfo}


def blob_hash(reference: Any) -> str | None:
    """The SHA-256 of a `blob:<sha256>` reference, or None for anything else (a URL)."""
    if isinstance(reference, str) and reference.startswith(REFERENCE_PREFIX):
        sha256 = reference[len(REFERENCE_PREFIX):]
        return sha256 if is_sha256(sha256) else None
    return None


def stored_image_info(conn: Connection, sha256: str) -> ImageInfo | AudioInfo | VideoInfo | None:
    """An image's size, or an audio or video file's probe, from its rows (None for anything else)."""
    row = conn.execute(select(blobs.c.media_type, blobs.c.width, blobs.c.height)
                       .where(blobs.c.sha256 == sha256)).first()
    if row is None:
        return None
    if str(row.media_type).startswith("video/"):  # whatever size its row holds, frames come with it
        return video_info(conn, sha256)
    if row.width is not None and row.height is not None:
        return ImageInfo(int(row.width), int(row.height))
    return audio_info(conn, sha256)


def targets_of(schema: LabelSchema, data: Mapping[str, Any], size_of: SizeOf) -> dict[str, Target]:
    """By field name, what each targeted field of an item holds: its text, its image's size, its
    audio's duration, its candidate responses."""
    out: dict[str, Target] = {}
    for f in schema.fields:
        if f.name not in schema.target_fields:
            continue
        value = data.get(f.name)
        if f.type == "text" and isinstance(value, str):
            out[f.name] = value
        elif f.type in MEDIA_INFO and (sha256 := blob_hash(value)) is not None:
            info = size_of(sha256)
            # Only what fits the field's kind: a blob of another kind has no size or duration.
            out[f.name] = info if isinstance(info, MEDIA_INFO[f.type]) else None
        elif f.type == "responses" and (candidates := Responses.of(value)) is not None:
            out[f.name] = candidates
    return out


def item_targets(conn: Connection, schema: LabelSchema, project_id: int, item_id: int) -> dict[str, Target]:
    """The targets of an item of the project (empty when the schema has none or the item is not
    there: the caller's own lookup says so)."""
    if not schema.target_fields:
        return {}
    data = conn.execute(
        select(items.c.data).where(items.c.id == item_id, items.c.project_id == project_id)
    ).scalar()
    if not isinstance(data, dict):
        return {}
    return targets_of(schema, data, partial(stored_image_info, conn))


def answer_targets(
    conn: Connection, schema: LabelSchema, project_id: int, answer_id: int
) -> dict[str, Target]:
    """The targets of the item an answer of the project is about."""
    if not schema.target_fields:
        return {}
    item_id = conn.execute(
        select(answers.c.item_id).where(answers.c.id == answer_id, answers.c.project_id == project_id)
    ).scalar()
    return {} if item_id is None else item_targets(conn, schema, project_id, item_id)
