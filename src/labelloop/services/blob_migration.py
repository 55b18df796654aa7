"""Copy blobs between stores (`labelloop blobs migrate`: the local folder to S3 and back).

Which files: every row of `blobs`, or with a project only the files its `project_blobs` holds and
their variants (previews, thumbnails, peaks, frame tables, posters, proxies, blurred copies). Each
file is streamed from the source into the target's `stage` (which hashes what it writes) and
committed only when that hash is its name; then the target's copy is read back whole and hashed
again. A file the target already holds is read back and hashed the same way and skipped when it
is right, so a migration cut off anywhere is resumed by running it again: nothing is half there
(both stores put a file in place whole), and nothing is copied twice. A copy that reads back wrong
is removed and copied again once, then reported. Files are copied side by side (8 threads by
default: an object store's latency, not bandwidth, bounds one file at a time).

The source is left as it was: switching `LABELLOOP_BLOB_STORE` afterwards is the operator's step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Connection, select

from labelloop.errors import Invalid, NotFound, Problem
from labelloop.store.blobs import PIECE, BlobStore
from labelloop.store.models import blob_variants, blobs, project_blobs, projects

Progress = Callable[[int, int], None]  # (done, total)
T = TypeVar("T")


@dataclass
class Migrated:
    total: int = 0
    copied: int = 0
    present: int = 0  # already in the target, verified
    bytes_copied: int = 0
    failed: list[str] = field(default_factory=list)


@dataclass
class Verified:
    total: int = 0
    missing: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.wrong


def hashes_to_move(conn: Connection, project_id: int | None) -> list[str]:
    """The files of the project (with their variants), or every file the database names."""
    if project_id is None:
        return list(conn.execute(select(blobs.c.sha256).order_by(blobs.c.sha256)).scalars())
    if conn.execute(select(projects.c.id).where(projects.c.id == project_id)).first() is None:
        raise NotFound(f"project {project_id} not found")
    held = select(project_blobs.c.sha256).where(project_blobs.c.project_id == project_id)
    variants = select(blob_variants.c.variant_sha256).where(blob_variants.c.sha256.in_(held))
    return sorted(set(conn.execute(held).scalars()) | set(conn.execute(variants).scalars()))


def digest_of(store: BlobStore, sha256: str) -> str | None:
    """SHA-256 of the plaintext the store gives back for `sha256`, or None when it has no file."""
    digest = hashlib.sha256()
    try:
        with store.open(sha256) as f:
            while piece := f.read(PIECE):
                digest.update(piece)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


def _copy(source: BlobStore, target: BlobStore, sha256: str) -> int:
    with source.open(sha256) as f, target.stage(f, limit=2**62) as staged:
        if staged.sha256 != sha256:
            raise Invalid(f"blob {sha256}: the source holds other bytes ({staged.sha256})",
                          [Problem(f"blob {sha256} does not match its name in the source store")])
        staged.commit()
        return staged.size


def _each(fn: Callable[[str], T], todo: list[str], workers: int, progress: Progress | None
          ) -> Iterator[tuple[str, T]]:
    """`fn` over `todo` on `workers` threads (object stores answer each request in milliseconds:
    files are copied side by side), at most a few per worker in flight, in completion order. An
    error stops the rest: nothing queued starts, and what runs finishes its file."""
    if progress is not None:
        progress(0, len(todo))
    pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="blobs-migrate")
    pending: dict[Future[T], str] = {}
    queue = iter(todo)
    finished = 0
    try:
        while True:
            while len(pending) < 4 * max(1, workers) and (sha256 := next(queue, None)) is not None:
                pending[pool.submit(fn, sha256)] = sha256
            if not pending:
                break
            ready, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in ready:
                yield pending.pop(future), future.result()
                finished += 1
                if progress is not None:
                    progress(finished, len(todo))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def migrate(source: BlobStore, target: BlobStore, hashes: Iterable[str], *, workers: int = 8,
            progress: Progress | None = None) -> Migrated:
    """Copy `hashes` from `source` to `target`, skipping what the target holds right."""

    def one(sha256: str) -> tuple[str, int]:
        got = digest_of(target, sha256)
        if got == sha256:
            return "present", 0
        for _ in range(2):
            if got is not None:
                target.delete(sha256)  # a wrong copy (changed outside labelloop) is replaced
            try:
                size = _copy(source, target, sha256)
            except FileNotFoundError:
                return "failed", 0  # named by the database, missing from the source
            got = digest_of(target, sha256)
            if got == sha256:
                return "copied", size
        return "failed", 0

    todo = list(hashes)
    done = Migrated(total=len(todo))
    for sha256, (what, size) in _each(one, todo, workers, progress):
        if what == "present":
            done.present += 1
        elif what == "copied":
            done.copied += 1
            done.bytes_copied += size
        else:
            done.failed.append(sha256)
    done.failed.sort()
    return done


def verify(target: BlobStore, hashes: Iterable[str], *, workers: int = 8,
           progress: Progress | None = None) -> Verified:
    """Read every file back from `target` and hash it: which are missing, which hold other bytes."""
    todo = list(hashes)
    found = Verified(total=len(todo))
    for sha256, got in _each(lambda h: digest_of(target, h), todo, workers, progress):
        if got is None:
            found.missing.append(sha256)
        elif got != sha256:
            found.wrong.append(sha256)
    found.missing.sort()
    found.wrong.sort()
    return found
