"""Erasure (GDPR article 17, the right to erasure) within a project: of items, of a source file,
of everything an annotator wrote, or of every item a data subject appears in.

What goes, for erased items: the rows (content, metadata, gold, answers and revisions, reviews,
assignments, consensus, predictions, personal-data findings), the files they reference that no
other item or project needs (with previews, thumbnails, waveforms), and the embedding cache
(emptied whole: services/protection/content.py says why) and the project's vectors kept for search
by meaning (its pgvector tables, this process's in-memory indexes). For an annotator: their answers,
revisions and review decisions, their leases and quality record; the items stay and their
consensus is computed again from the answers left. Job records whose texts quote an erased
identifier are scrubbed.

Afterwards the database keeps no copy: on SQLite deletes run with `secure_delete` (freed space is
zeroed) and the WAL is checkpointed and truncated; PostgreSQL keeps dead rows in its own files
until autovacuum reuses the space (docs/data-protection.md). The audit log keeps a tombstone,
`erasure`: who, what kind of request, and counts, never the erased content or identifiers.
Dataset releases that hold erased content (its items, or the annotator's pseudonym) are withdrawn
whole and their files deleted (services/curation/withdrawal.py): a release is never edited.

A dry run returns the same plan and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select, update

from labelloop.errors import Invalid, NotFound, Problem
from labelloop.services import audit
from labelloop.services.curation import pg_vectors, search, withdrawal
from labelloop.services.policy import Action, Actor, access
from labelloop.services.protection.content import (
    clear_embedding_cache,
    delete_files,
    flush,
    references,
    secure_deletes,
    unlink_files,
)
from labelloop.store.blobs import BlobStore
from labelloop.store.db import Database
from labelloop.store.models import (
    annotator_quality,
    answers,
    assignments,
    consensus,
    item_pii,
    items,
    jobs,
    open_when,
    predictions,
)

ERASED = "[erased]"
MIN_IDENTIFIER = 3
BATCH = 500


@dataclass(frozen=True)
class ErasureRequest:
    """Exactly one of: `item_ids`, a source file (`import_job_id` or `source_file`, the name the
    import was given), `annotator_id`, or `subject` (identifiers: e-mail address, name, ...)."""

    item_ids: tuple[int, ...] = ()
    import_job_id: int | None = None
    source_file: str | None = None
    annotator_id: int | None = None
    subject: tuple[str, ...] = ()
    dry_run: bool = False

    @property
    def kind(self) -> str:
        given = [name for name, on in (
            ("items", bool(self.item_ids)),
            ("source", self.import_job_id is not None or self.source_file is not None),
            ("annotator", self.annotator_id is not None), ("subject", bool(self.subject))) if on]
        if len(given) != 1:
            raise Invalid("say what to erase", [Problem(
                "exactly one of items, import_job_id or source_file, annotator_id, subject", field="body")])
        return given[0]


@dataclass
class ErasureResult:
    kind: str
    dry_run: bool
    item_ids: list[int] = field(default_factory=list)
    external_ids: list[str] = field(default_factory=list)
    answers: int = 0
    files: list[str] = field(default_factory=list)
    jobs_scrubbed: int = 0
    embeddings: int = 0
    consensus_recomputed: int = 0
    # SQLite's WAL after the erasure: "done" (checkpointed and truncated), "busy" (a long reader
    # held it: older page images may stay there until the next checkpoint), or "postgresql".
    checkpoint: str = ""
    audit_seq: int | None = None  # the tombstone's entry in the audit log (None for a dry run)
    # Dataset releases holding erased content, withdrawn whole (services/curation/withdrawal.py),
    # and their files deleted from the blob store.
    releases_withdrawn: list[str] = field(default_factory=list)
    release_files: list[str] = field(default_factory=list)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _mentions(needles: list[str], *values: Any) -> bool:
    text = "\n".join(s for v in values for s in _strings(v)).casefold()
    return any(n in text for n in needles)


def _needles(subject: tuple[str, ...]) -> list[str]:
    needles = [" ".join(s.split()).casefold() for s in subject]
    short = [i for i, n in enumerate(needles) if len(n) < MIN_IDENTIFIER]
    if short:
        raise Invalid("identifiers too short to search for", [Problem(
            f"at least {MIN_IDENTIFIER} characters", field=f"subject[{i}]") for i in short])
    return needles


def _subject_items(conn: Connection, project_id: int, needles: list[str]) -> set[int]:
    """Items whose content, metadata, external id or answers mention an identifier; and those
    the personal-data scan (`item_pii`) found one in, by value hash."""
    from labelloop.services.privacy.findings import value_hash

    found: set[int] = set()
    kinds = list(conn.execute(select(item_pii.c.kind).where(item_pii.c.project_id == project_id)
                              .distinct()).scalars())
    hashes = [value_hash(k, n) for k in kinds for n in needles]
    if hashes:
        found |= set(conn.execute(select(item_pii.c.item_id).where(
            item_pii.c.project_id == project_id, item_pii.c.value_hash.in_(hashes))).scalars())
    for r in conn.execute(select(items.c.id, items.c.external_id, items.c.data, items.c.meta, items.c.gold)
                          .where(items.c.project_id == project_id)):
        if _mentions(needles, r.external_id, r.data, r.meta, r.gold):
            found.add(r.id)
    for a in conn.execute(select(answers.c.item_id, answers.c.value)
                          .where(answers.c.project_id == project_id)):
        if a.item_id not in found and _mentions(needles, a.value):
            found.add(a.item_id)
    return found


def _source_items(conn: Connection, project_id: int, req: ErasureRequest) -> tuple[set[int], list[int]]:
    where = [jobs.c.project_id == project_id, jobs.c.kind == "import"]
    if req.import_job_id is not None:
        where.append(jobs.c.id == req.import_job_id)
    found = [r for r in conn.execute(select(jobs.c.id, jobs.c.params).where(*where))
             if req.source_file is None or (r.params or {}).get("file") == req.source_file]
    if not found:
        what = f"import job {req.import_job_id}" if req.import_job_id is not None else \
            f"an import of a file named {req.source_file!r}"
        raise NotFound(f"project {project_id} has no {what}")
    ids = [r.id for r in found]
    return set(conn.execute(select(items.c.id).where(items.c.project_id == project_id,
                                                     items.c.import_job_id.in_(ids))).scalars()), ids


def _plan_items(
    conn: Connection, project_id: int, req: ErasureRequest, kind: str
) -> tuple[set[int], dict[str, Any]]:
    if kind == "items":
        wanted = set(req.item_ids)
        there = set(conn.execute(select(items.c.id).where(
            items.c.project_id == project_id, items.c.id.in_(sorted(wanted)))).scalars())
        missing = sorted(wanted - there)
        if missing:
            raise NotFound(f"project {project_id} has no item {', '.join(map(str, missing[:20]))}")
        return there, {}
    if kind == "source":
        found, job_ids = _source_items(conn, project_id, req)
        return found, {"import_jobs": job_ids}
    if kind == "subject":
        return _subject_items(conn, project_id, _needles(req.subject)), {"identifiers": len(req.subject)}
    return set(), {}


def _delete_items(conn: Connection, ids: list[int]) -> list[str]:
    """Delete the items and everything about them; returns the hashes of files they showed."""
    shown: set[str] = set()
    for start in range(0, len(ids), BATCH):
        part = ids[start:start + BATCH]
        for data in conn.execute(select(items.c.data).where(items.c.id.in_(part))).scalars():
            shown |= references(data)
        conn.execute(update(answers).where(answers.c.item_id.in_(part)).values(supersedes_id=None))
        for table in (answers, assignments, consensus, predictions, item_pii):
            conn.execute(delete(table).where(table.c.item_id.in_(part)))
        conn.execute(delete(items).where(items.c.id.in_(part)))
    return sorted(shown)


def _erase_annotator(conn: Connection, project_id: int, user_id: int) -> tuple[int, list[int]]:
    """Delete what one annotator wrote in the project; returns (answers, affected item ids)."""
    mine = answers.c.project_id == project_id, answers.c.user_id == user_id
    leases = assignments.c.project_id == project_id, assignments.c.user_id == user_id
    affected = sorted(set(conn.execute(select(answers.c.item_id).where(*mine)).scalars())
                      | set(conn.execute(select(assignments.c.item_id).where(*leases)).scalars()))
    n = int(conn.execute(select(func.count()).select_from(answers).where(*mine)).scalar_one())
    reviewed = sorted(set(conn.execute(select(answers.c.item_id)
                                       .where(*mine, answers.c.source == "review")).scalars()))
    theirs = select(answers.c.id).where(*mine).scalar_subquery()
    conn.execute(update(answers).where(answers.c.supersedes_id.in_(theirs)).values(supersedes_id=None))
    conn.execute(delete(answers).where(*mine))
    for item_id in affected:
        held = {r.state: r.n for r in conn.execute(
            select(assignments.c.state, func.count().label("n")).where(
                assignments.c.item_id == item_id, assignments.c.user_id == user_id)
            .group_by(assignments.c.state))}
        live, submitted = held.get("leased", 0) + held.get("submitted", 0), held.get("submitted", 0)
        if live or submitted:
            reserved = items.c.reserved - live
            conn.execute(update(items).where(items.c.id == item_id).values(
                reserved=reserved, answer_count=items.c.answer_count - submitted,
                is_open=open_when(reserved)))
    conn.execute(delete(assignments).where(*leases))
    conn.execute(delete(annotator_quality).where(annotator_quality.c.project_id == project_id,
                                                 annotator_quality.c.user_id == user_id))
    if affected:  # settled again below from the answers left; a decision of theirs is undone
        conn.execute(delete(consensus).where(consensus.c.item_id.in_(affected), or_(
            consensus.c.final.is_(False), consensus.c.item_id.in_(reviewed))))
        if reviewed:
            conn.execute(update(items).where(items.c.id.in_(reviewed)).values(review_state="pending"))
    return n, affected


def _scrub_jobs(conn: Connection, project_id: int, needles: list[str]) -> int:
    """Job records (messages, parameters, results, errors) that quote an identifier: scrubbed."""
    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return ERASED if any(n in value.casefold() for n in needles) else value
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    n = 0
    for r in conn.execute(select(jobs.c.id, jobs.c.message, jobs.c.params, jobs.c.result, jobs.c.error)
                          .where(jobs.c.project_id == project_id)).all():
        if _mentions(needles, r.message, r.params, r.result, r.error):
            conn.execute(update(jobs).where(jobs.c.id == r.id).values(
                message=clean(r.message), params=clean(r.params), result=clean(r.result),
                error=clean(r.error)))
            n += 1
    return n


def _erase(conn: Connection, store: BlobStore, actor: Actor, project_id: int, req: ErasureRequest
           ) -> ErasureResult:
    access(conn, actor, project_id, Action.erase)
    kind = req.kind
    ids, about = _plan_items(conn, project_id, req, kind)
    out = ErasureResult(kind, req.dry_run, sorted(ids))
    if ids:
        out.external_ids = [r for r, in conn.execute(select(items.c.external_id).where(
            items.c.id.in_(out.item_ids)).order_by(items.c.id))]
        out.answers = int(conn.execute(select(func.count()).select_from(answers)
                                       .where(answers.c.item_id.in_(out.item_ids))).scalar_one())
    if kind == "annotator":
        assert req.annotator_id is not None
        about = {"annotator_id": req.annotator_id}
        out.answers = int(conn.execute(select(func.count()).select_from(answers).where(
            answers.c.project_id == project_id, answers.c.user_id == req.annotator_id)).scalar_one())
    held = withdrawal.holding(conn, store, project_id, out.external_ids,
                              req.annotator_id if kind == "annotator" else None)
    out.releases_withdrawn = [r.name for r in held]
    if req.dry_run:
        return out
    secure_deletes(conn)
    if ids:
        shown = _delete_items(conn, out.item_ids)
        out.files = unlink_files(conn, project_id, set(shown))
        pg_vectors.forget_project(conn, project_id)  # rebuilt from what is left at the next search
    if kind == "annotator":
        assert req.annotator_id is not None
        _, affected = _erase_annotator(conn, project_id, req.annotator_id)
        out.consensus_recomputed = len(affected)
    if kind == "subject":
        out.jobs_scrubbed = _scrub_jobs(conn, project_id, _needles(req.subject))
    tombstone = audit.record(
        conn, actor, "erasure", project_id=project_id, object_type="project", object_id=project_id,
        details={"kind": kind, **about, "items": len(out.item_ids), "answers": out.answers,
                 "files": len(out.files), "jobs_scrubbed": out.jobs_scrubbed,
                 "releases_withdrawn": len(held)})
    out.audit_seq = tombstone.seq if tombstone is not None else None
    if held:
        withdrawal.withdraw(conn, actor, held, "erasure" + (
            f", audit entry {out.audit_seq}" if out.audit_seq is not None else ""))
        out.release_files = withdrawal.files_to_delete(conn, store, held)
    return out


def erase(db: Database, store: BlobStore, actor: Actor, project_id: int, req: ErasureRequest,
          *, data_dir: Path | None = None) -> ErasureResult:
    """Plan and (unless a dry run) carry out one erasure; see the module's docstring."""
    out = db.run(lambda conn: _erase(conn, store, actor, project_id, req))
    if req.dry_run:
        return out
    delete_files(store, out.files)
    delete_files(store, out.release_files)
    if out.consensus_recomputed:
        from labelloop.services.quality.consensus import recompute_project

        recompute_project(db, actor, project_id)
    if out.item_ids:  # the indexes hold the erased items' vectors: this process's, and the saved ones
        search.drop_saved_indexes(data_dir, project_id) if data_dir is not None else search.forget_indexes()
    if data_dir is not None and (out.item_ids or out.kind == "annotator"):
        out.embeddings = clear_embedding_cache(data_dir)
    out.checkpoint = str(flush(db)["checkpoint"])
    return out
