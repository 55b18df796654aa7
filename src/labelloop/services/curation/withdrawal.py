"""Releases withdrawn by an erasure: the right to erasure reaches the datasets already handed over.

A release never changes (its files are named by their SHA-256 and a training run may cite them),
so a release that holds erased content is not edited: it is withdrawn whole. Its row stays, marked
with when and why (the erasure's audit entry), its files are deleted from the blob store (those no
other release still uses), and reading it from then on is a 409 that says so; the team makes a new
release from what the project holds now.

Which releases hold erased content: for erased items, those whose manifest (`items.parquet`) lists
one of their external ids; for an erased annotator, those naming the annotator's pseudonym (as an
annotator in the card or as a reviewer in the manifest). A release whose manifest cannot be read
back intact is withdrawn too: it cannot be shown not to hold the content.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import Connection, select, update

from labelloop.errors import Conflict, DomainError
from labelloop.services.audit import chain as audit
from labelloop.services.curation import release_files as files
from labelloop.services.curation.manifest import pseudonym
from labelloop.services.policy import Actor
from labelloop.store.blobs import BlobStore
from labelloop.store.models import dataset_releases, release_keys, utcnow

ITEMS = "items.parquet"
# A release file that is missing, changed (Tampered, NotFound) or not what it should be (pyarrow's
# and orjson's errors are ValueErrors).
UNREADABLE = (DomainError, OSError, ValueError, KeyError)


class Withdrawn(Conflict):
    """The release was withdrawn by an erasure: its files are gone."""


def check_not_withdrawn(row: Any) -> None:
    if row.withdrawn_at is not None:
        raise Withdrawn(f"release {row.name!r} was withdrawn on {row.withdrawn_at:%Y-%m-%d %H:%M} UTC "
                        f"({row.withdrawn_reason}): its files are deleted; make a new release")


def holding(conn: Connection, store: BlobStore, project_id: int, external_ids: Sequence[str],
            annotator_id: int | None) -> list[Any]:
    """The project's releases (not withdrawn) that hold any of the items or name the annotator."""
    rows = conn.execute(select(dataset_releases).where(
        dataset_releases.c.project_id == project_id, dataset_releases.c.withdrawn_at.is_(None))
        .order_by(dataset_releases.c.id)).all()
    erased = set(external_ids)
    alias = None
    if annotator_id is not None:
        key = conn.execute(select(release_keys.c.key).where(release_keys.c.project_id == project_id)).scalar()
        alias = pseudonym(bytes.fromhex(key), annotator_id) if key else None
    if not rows or (not erased and alias is None):
        return []
    return [row for row in rows if _holds(store, row, erased, alias)]


def _holds(store: BlobStore, row: Any, erased: set[str], alias: str | None) -> bool:
    if alias is not None and alias in (row.card.get("annotators") or {}).get("answers", {}):
        return True
    try:
        manifest = files.read_manifest(store, row.name, row.manifest_sha256)
        entry = files.entry_of(manifest, row.name, ITEMS)
        table = pq.read_table(io.BytesIO(files.read_verified(store, row.name, entry)),
                              columns=["external_id", "reviewer"])
    except UNREADABLE:  # then it cannot be shown not to hold the content
        return True
    if erased and not erased.isdisjoint(table.column("external_id").to_pylist()):
        return True
    return alias is not None and alias in set(table.column("reviewer").to_pylist())


def withdraw(conn: Connection, actor: Actor, rows: Sequence[Any], reason: str) -> None:
    """Mark the releases withdrawn, each with an audit entry (the files go after the commit)."""
    at = utcnow()
    for row in rows:
        conn.execute(update(dataset_releases).where(
            dataset_releases.c.id == row.id, dataset_releases.c.withdrawn_at.is_(None))
            .values(withdrawn_at=at, withdrawn_reason=reason[:200]))
        audit.record(conn, actor, "release.withdraw", project_id=row.project_id, object_type="release",
                     object_id=row.name, details={"reason": reason[:200], "items": row.item_count})


def files_to_delete(conn: Connection, store: BlobStore, rows: Sequence[Any]) -> list[str]:
    """The blobs of the withdrawn releases (files and manifests) that no release still standing
    uses (content addressing: two releases may share a file)."""
    mine: set[str] = set()
    for row in rows:
        mine.add(row.manifest_sha256)
        try:
            mine |= {e["sha256"] for e in files.read_manifest(store, row.name, row.manifest_sha256)["files"]}
        except UNREADABLE:  # a manifest already gone or changed: its own blob still goes
            continue
    standing = conn.execute(select(dataset_releases.c.name, dataset_releases.c.manifest_sha256)
                            .where(dataset_releases.c.withdrawn_at.is_(None))).all()
    for name, sha in standing:
        if sha in mine:
            mine.discard(sha)
        try:
            mine -= {e["sha256"] for e in files.read_manifest(store, name, sha)["files"]}
        except UNREADABLE:  # a broken release elsewhere keeps nothing of these alive
            continue
    return sorted(mine)
