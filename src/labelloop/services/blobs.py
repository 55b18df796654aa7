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
from labelloop.services.policy import Action, Actor, access
from labelloop.store.models import blob_variants, blobs, memberships, project_blobs, utcnow

VARIANTS = ("original", "preview", "thumb")
REFERENCE_PREFIX = "blob:"


@dataclass(frozen=True)
class BlobRow:
    """A row of `blobs`: a file's hash, size, media type and, for images, pixel size."""

    sha256: str
    size: int
    media_type: str
    width: int | None = None
    height: int | None = None

    def as_row(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "size": self.size, "media_type": self.media_type,
                "width": self.width, "height": self.height}


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


def reference(sha256: str) -> str:
    return REFERENCE_PREFIX + sha256


def _insert_ignoring_duplicates(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(insert(table).on_conflict_do_nothing(), rows)


def record_images(conn: Connection, images: Iterable[StoredImage]) -> None:
    """Write the rows of stored images (their files are in the store already); rows that exist
    stay as they are (equal hashes, equal bytes)."""
    files: dict[str, dict[str, Any]] = {}
    links: list[dict[str, Any]] = []
    now = utcnow()
    for image in images:
        for row in (image.original, image.preview, image.thumb):
            files.setdefault(row.sha256, row.as_row() | {"created_at": now})
        for name in ("preview", "thumb"):
            links.append({"sha256": image.original.sha256, "variant": name,
                          "variant_sha256": image.variant(name).sha256})
    _insert_ignoring_duplicates(conn, blobs, sorted(files.values(), key=lambda r: r["sha256"]))
    # In one order everywhere, so that two imports of the same files never wait on each other
    # in opposite orders (a deadlock on PostgreSQL).
    _insert_ignoring_duplicates(conn, blob_variants, sorted(links, key=lambda r: (r["sha256"], r["variant"])))


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


def _project_blob(conn: Connection, actor: Actor, project_id: int, sha256: str) -> StoredImage | BlobRow:
    access(conn, actor, project_id, Action.view_blobs)
    linked = conn.execute(
        select(project_blobs.c.sha256).where(project_blobs.c.project_id == project_id,
                                             project_blobs.c.sha256 == sha256)
    ).first()
    if linked is None:
        raise NotFound(f"blob {sha256} not found")
    image = stored_image(conn, sha256)
    if image is not None:
        return image
    row = conn.execute(select(blobs).where(blobs.c.sha256 == sha256)).first()
    if row is None:  # pragma: no cover - a link always names a blob row (foreign key)
        raise NotFound(f"blob {sha256} not found")
    return BlobRow(row.sha256, row.size, row.media_type, row.width, row.height)


def served_blob(conn: Connection, actor: Actor, project_id: int, sha256: str, variant: str) -> BlobRow:
    """The file to send for a blob of the project: the original or one of its variants (a blob
    without variants, not an image, is its own preview and thumbnail)."""
    found = _project_blob(conn, actor, project_id, sha256)
    return found.variant(variant) if isinstance(found, StoredImage) else found


def blob_info(conn: Connection, actor: Actor, project_id: int, sha256: str) -> dict[str, BlobRow]:
    """A blob of the project and its variants, each with its size and, for images, pixels."""
    found = _project_blob(conn, actor, project_id, sha256)
    if isinstance(found, StoredImage):
        return {name: found.variant(name) for name in VARIANTS}
    return {name: found for name in VARIANTS}
