"""Stored files (blobs) in projects: who may read one, which file a variant is, and the rows an
import writes.

A blob is readable by the members of every project whose `project_blobs` holds its hash
(annotator and up, `Action.view_blobs`); anyone else gets the same 404 as for a hash that does
not exist, so a hash reveals nothing. Links are written when an import publishes its items
(`link_blobs`), so the items that show a blob and the right to read it appear together.

An import may reference a blob it did not upload (`blob:<sha256>` in a record) only if its
importer could read it already (`visible_blobs`): a hash alone is not a key to someone else's
file, while re-using what one may download anyway gives nothing away.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from labelloop.errors import NotFound
from labelloop.schema import AudioInfo, VideoInfo
from labelloop.services import audit
from labelloop.services.policy import Action, Actor, access
from labelloop.services.privacy import faces
from labelloop.store.blobs import BlobRow, BlobStore
from labelloop.store.models import (
    blob_audio,
    blob_variants,
    blob_video,
    blobs,
    memberships,
    project_blobs,
    utcnow,
)

VARIANTS = ("original", "preview", "thumb")
AUDIO_VARIANTS = ("peaks",)  # an audio file's waveform (docs/audio.md, "Peaks")
VIDEO_VARIANTS = ("frames", "poster", "proxy")  # docs/video.md, "Video items and blobs"
REFERENCE_PREFIX = "blob:"


@dataclass(frozen=True)
class StoredImage:
    """An image as an import stored it: the original and its two variants (blobs too)."""

    original: BlobRow
    preview: BlobRow
    thumb: BlobRow

    @property
    def reference(self) -> str:
        return REFERENCE_PREFIX + self.original.sha256

    def variant(self, name: str) -> BlobRow:
        return {"original": self.original, "preview": self.preview, "thumb": self.thumb}[name]


@dataclass(frozen=True)
class StoredAudio:
    """An audio file as an import stored it: the original, its waveform peaks (a blob too) and
    what its probe found (docs/audio.md)."""

    original: BlobRow
    peaks: BlobRow
    duration: float
    sample_rate: int
    channels: int
    codec: str

    @property
    def reference(self) -> str:
        return REFERENCE_PREFIX + self.original.sha256

    @property
    def info(self) -> AudioInfo:
        return AudioInfo(self.duration, self.channels, self.sample_rate)

    def variant(self, name: str) -> BlobRow:
        """The peaks, or the original for every other variant (it is its own preview)."""
        return self.peaks if name == "peaks" else self.original


@dataclass(frozen=True)
class StoredVideo:
    """A video file as an import stored it: the original, its frame table, poster and (when the
    browser needs one) proxy, all blobs, and what its probe found (docs/video.md)."""

    original: BlobRow
    frames: BlobRow
    poster: BlobRow
    proxy: BlobRow | None
    width: int
    height: int
    rotation: int
    frame_count: int
    fps: float
    vfr: bool
    duration: float
    codec: str

    @property
    def reference(self) -> str:
        return REFERENCE_PREFIX + self.original.sha256

    @property
    def info(self) -> VideoInfo:
        return VideoInfo(self.width, self.height, self.frame_count)

    def variants(self) -> dict[str, BlobRow]:
        """The derived files by name (the poster is the video's preview and thumbnail too)."""
        found = {"frames": self.frames, "poster": self.poster}
        return found | ({"proxy": self.proxy} if self.proxy is not None else {})

    def variant(self, name: str) -> BlobRow:
        if name in ("preview", "thumb"):
            return self.poster
        if name == "original":
            return self.original
        found = self.variants().get(name)
        if found is None:
            raise NotFound(f"blob {self.original.sha256} has no {name} (the browser plays the original)")
        return found

    def as_row(self) -> dict[str, Any]:
        return {"sha256": self.original.sha256, "width": self.width, "height": self.height,
                "rotation": self.rotation, "frame_count": self.frame_count, "fps": self.fps,
                "vfr": self.vfr, "duration": self.duration, "codec": self.codec}


StoredMedia = StoredImage | StoredAudio | StoredVideo


@dataclass(frozen=True)
class BlobInfo:
    """A blob of a project, its variants by name, and for audio what its probe found."""

    files: dict[str, BlobRow]
    audio: StoredAudio | None = None
    video: StoredVideo | None = None


def reference(sha256: str) -> str:
    return REFERENCE_PREFIX + sha256


def _insert_ignoring_duplicates(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(insert(table).on_conflict_do_nothing(), rows)


def record_images(conn: Connection, images: Iterable[StoredMedia]) -> None:
    """Write the rows of stored images and audio files (their files are in the store already);
    rows that exist stay as they are (equal hashes, equal bytes)."""
    files: dict[str, dict[str, Any]] = {}
    links: list[dict[str, Any]] = []
    probes: dict[str, dict[str, Any]] = {}
    videos: dict[str, dict[str, Any]] = {}
    now = utcnow()
    for media in images:
        if isinstance(media, StoredVideo):
            derived = media.variants()
            videos[media.original.sha256] = media.as_row()
        elif isinstance(media, StoredImage):
            derived = {"preview": media.preview, "thumb": media.thumb}
        else:
            derived = {"peaks": media.peaks}
        for row in (media.original, *derived.values()):
            files.setdefault(row.sha256, row.as_row() | {"created_at": now})
        for name, row in derived.items():
            links.append({"sha256": media.original.sha256, "variant": name, "variant_sha256": row.sha256})
        if isinstance(media, StoredAudio):
            probes[media.original.sha256] = {
                "sha256": media.original.sha256, "duration": media.duration,
                "sample_rate": media.sample_rate, "channels": media.channels, "codec": media.codec}
    _insert_ignoring_duplicates(conn, blobs, sorted(files.values(), key=lambda r: r["sha256"]))
    # In one order everywhere, so that two imports of the same files never wait on each other
    # in opposite orders (a deadlock on PostgreSQL).
    _insert_ignoring_duplicates(conn, blob_variants, sorted(links, key=lambda r: (r["sha256"], r["variant"])))
    _insert_ignoring_duplicates(conn, blob_audio, [probes[k] for k in sorted(probes)])
    _insert_ignoring_duplicates(conn, blob_video, [videos[k] for k in sorted(videos)])


def stored_image(conn: Connection, sha256: str) -> StoredImage | None:
    """The image stored under this hash with both variants, or None (not stored, or not fully)."""
    preview, thumb = blobs.alias("preview"), blobs.alias("thumb")
    vp, vt = blob_variants.alias("vp"), blob_variants.alias("vt")
    row = conn.execute(
        select(blobs, *_prefixed(preview, "p_"), *_prefixed(thumb, "t_"))
        .select_from(
            blobs.join(vp, and_(vp.c.sha256 == blobs.c.sha256, vp.c.variant == "preview"))
            .join(preview, preview.c.sha256 == vp.c.variant_sha256)
            .join(vt, and_(vt.c.sha256 == blobs.c.sha256, vt.c.variant == "thumb"))
            .join(thumb, thumb.c.sha256 == vt.c.variant_sha256)
        )
        .where(blobs.c.sha256 == sha256)
    ).first()
    if row is None:
        return None
    m = row._mapping
    return StoredImage(_blob_row(m, ""), _blob_row(m, "p_"), _blob_row(m, "t_"))


def stored_audio(conn: Connection, sha256: str) -> StoredAudio | None:
    """The audio file stored under this hash with its probe and peaks, or None."""
    peaks, vp = blobs.alias("peaks"), blob_variants.alias("vp")
    row = conn.execute(
        select(blobs, *_prefixed(peaks, "k_"), blob_audio.c.duration, blob_audio.c.sample_rate,
               blob_audio.c.channels, blob_audio.c.codec)
        .select_from(
            blobs.join(blob_audio, blob_audio.c.sha256 == blobs.c.sha256)
            .join(vp, and_(vp.c.sha256 == blobs.c.sha256, vp.c.variant == "peaks"))
            .join(peaks, peaks.c.sha256 == vp.c.variant_sha256)
        )
        .where(blobs.c.sha256 == sha256)
    ).first()
    if row is None:
        return None
    m = row._mapping
    return StoredAudio(_blob_row(m, ""), _blob_row(m, "k_"), float(m["duration"]), int(m["sample_rate"]),
                       int(m["channels"]), str(m["codec"]))


def stored_video(conn: Connection, sha256: str) -> StoredVideo | None:
    """The video file stored under this hash with its probe, frame table, poster and proxy, or None."""
    probe = conn.execute(select(blob_video).where(blob_video.c.sha256 == sha256)).first()
    if probe is None:
        return None
    derived = blobs.alias("derived")
    rows = conn.execute(
        select(blob_variants.c.variant, *_prefixed(derived, "d_"))
        .select_from(blob_variants.join(derived, derived.c.sha256 == blob_variants.c.variant_sha256))
        .where(blob_variants.c.sha256 == sha256, blob_variants.c.variant.in_(VIDEO_VARIANTS))
    ).all()
    found = {r.variant: _blob_row(r._mapping, "d_") for r in rows}
    original = conn.execute(select(blobs).where(blobs.c.sha256 == sha256)).first()
    if original is None or "frames" not in found or "poster" not in found:
        return None
    p = probe._mapping
    return StoredVideo(_blob_row(original._mapping, ""), found["frames"], found["poster"], found.get("proxy"),
                       int(p["width"]), int(p["height"]), int(p["rotation"]), int(p["frame_count"]),
                       float(p["fps"]), bool(p["vfr"]), float(p["duration"]), str(p["codec"]))


def video_info(conn: Connection, sha256: str) -> VideoInfo | None:
    """Displayed size and frame count of a stored video, or None (unknown, not a video)."""
    row = conn.execute(
        select(blob_video.c.width, blob_video.c.height, blob_video.c.frame_count)
        .where(blob_video.c.sha256 == sha256)
    ).first()
    return None if row is None else VideoInfo(int(row.width), int(row.height), int(row.frame_count))


def audio_info(conn: Connection, sha256: str) -> AudioInfo | None:
    """Duration, channels and sample rate of a stored audio file, or None (unknown, not audio)."""
    row = conn.execute(
        select(blob_audio.c.duration, blob_audio.c.channels, blob_audio.c.sample_rate)
        .where(blob_audio.c.sha256 == sha256)
    ).first()
    return None if row is None else AudioInfo(float(row.duration), int(row.channels), int(row.sample_rate))


def _prefixed(table: Any, prefix: str) -> list[Any]:
    return [c.label(prefix + c.name) for c in table.c if c.name != "created_at"]


def _blob_row(m: Any, prefix: str) -> BlobRow:
    return BlobRow(m[prefix + "sha256"], m[prefix + "size"], m[prefix + "media_type"],
                   m[prefix + "width"], m[prefix + "height"])


def image_size(conn: Connection, sha256: str) -> tuple[int, int] | None:
    """(width, height) in pixels after EXIF orientation, or None for an unknown or non-image blob."""
    row = conn.execute(select(blobs.c.width, blobs.c.height).where(blobs.c.sha256 == sha256)).first()
    if row is None or row.width is None or row.height is None:
        return None
    return int(row.width), int(row.height)


def visible_blobs(conn: Connection, actor: Actor, hashes: Iterable[str]) -> set[str]:
    """The hashes among `hashes` that `actor` may read (and so may reference in an import)."""
    wanted = sorted(set(hashes))
    if not wanted:
        return set()
    if actor.is_admin:
        stmt = select(blobs.c.sha256).where(blobs.c.sha256.in_(wanted))
    else:
        stmt = (
            select(project_blobs.c.sha256).distinct()
            .join(memberships, and_(memberships.c.project_id == project_blobs.c.project_id,
                                    memberships.c.user_id == actor.user_id))
            .where(project_blobs.c.sha256.in_(wanted))
        )
    return set(conn.execute(stmt).scalars())


def link_blobs(conn: Connection, project_id: int, hashes: Iterable[str]) -> None:
    """Let the project's members read these blobs (links that exist stay)."""
    now = utcnow()
    rows = [{"project_id": project_id, "sha256": h, "created_at": now} for h in sorted(set(hashes))]
    _insert_ignoring_duplicates(conn, project_blobs, rows)


def references_in(data: dict[str, Any], fields: Iterable[str]) -> set[str]:
    """The blob hashes an item's media fields reference."""
    found = set()
    for name in fields:
        value = data.get(name)
        if isinstance(value, str) and value.startswith(REFERENCE_PREFIX):
            found.add(value[len(REFERENCE_PREFIX):])
    return found


def _project_blob(conn: Connection, actor: Actor, project_id: int, sha256: str) -> StoredMedia | BlobRow:
    access(conn, actor, project_id, Action.view_blobs)
    linked = conn.execute(
        select(project_blobs.c.sha256).where(project_blobs.c.project_id == project_id,
                                             project_blobs.c.sha256 == sha256)
    ).first()
    if linked is None:
        raise NotFound(f"blob {sha256} not found")
    media: StoredMedia | None = (stored_image(conn, sha256) or stored_audio(conn, sha256)
                                 or stored_video(conn, sha256))
    if media is not None:
        return media
    row = conn.execute(select(blobs).where(blobs.c.sha256 == sha256)).first()
    if row is None:  # pragma: no cover - a link always names a blob row (foreign key)
        raise NotFound(f"blob {sha256} not found")
    return BlobRow(row.sha256, row.size, row.media_type, row.width, row.height)


def served_blob(conn: Connection, actor: Actor, project_id: int, sha256: str, variant: str,
                store: BlobStore | None = None) -> BlobRow:
    """The file to send for a blob of the project: the original or one of its variants (a blob
    without variants, not an image, is its own preview and thumbnail; only audio has peaks).

    With `store`, an image goes to callers the privacy policy hides faces from with its faces
    blurred (services/privacy/faces.py), whatever variant they ask for."""
    found = _project_blob(conn, actor, project_id, sha256)
    if variant in AUDIO_VARIANTS and not isinstance(found, StoredAudio):
        raise NotFound(f"blob {sha256} has no {variant} (not an audio file)")
    if variant in VIDEO_VARIANTS and not isinstance(found, StoredVideo):
        raise NotFound(f"blob {sha256} has no {variant} (not a video)")
    if isinstance(found, StoredVideo):
        found.variant(variant)  # 404 before the log, for a proxy the video does not need
    blur = (store is not None and isinstance(found, StoredImage)
            and faces.wants_blur(access(conn, actor, project_id, Action.view_blobs), actor))
    audit.record(conn, actor, "blob.serve", project_id=project_id, object_type="blob", object_id=sha256,
                 details={"variant": variant, "faces_blurred": True} if blur else {"variant": variant})
    if blur:
        assert store is not None and isinstance(found, StoredImage)
        served: BlobRow = faces.blurred(conn, store, found, variant)
        return served
    return found.variant(variant) if isinstance(found, StoredImage | StoredAudio | StoredVideo) else found


def blob_info(conn: Connection, actor: Actor, project_id: int, sha256: str) -> BlobInfo:
    """A blob of the project and its variants, each with its size and, for images, pixels; for
    audio, its peaks and what its probe found."""
    found = _project_blob(conn, actor, project_id, sha256)
    if isinstance(found, StoredAudio):
        return BlobInfo({name: found.variant(name) for name in (*VARIANTS, *AUDIO_VARIANTS)}, found)
    if isinstance(found, StoredVideo):
        return BlobInfo({name: found.variant(name) for name in VARIANTS} | found.variants(), video=found)
    if isinstance(found, StoredImage):
        return BlobInfo({name: found.variant(name) for name in VARIANTS})
    return BlobInfo({name: found for name in VARIANTS})
