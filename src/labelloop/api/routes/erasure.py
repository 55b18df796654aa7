"""Erasure (GDPR article 17) and retention of a project's raw content (docs/data-protection.md)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from labelloop.api.deps import Ctx, CtxDep
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.params import BodyId, Id
from labelloop.services.protection import retention
from labelloop.services.protection.erasure import ErasureRequest, erase
from labelloop.services.protection.sources import sources

router = APIRouter(
    prefix="/api/projects/{project_id:id}", tags=["data protection"], route_class=JSONRoute,
    responses=documented(401, 403, 404, 422),
)


class ErasureIn(BaseModel):
    """Exactly one of `items`, `import_job_id`/`source_file`, `annotator_id`, `subject`."""

    model_config = ConfigDict(extra="forbid")

    items: list[BodyId] = Field([], max_length=100_000, description="Item ids to erase.")
    import_job_id: BodyId | None = Field(None, description="Erase the items one import (job) wrote.")
    source_file: str | None = Field(None, max_length=500,
                                    description="Erase the items imported from the file of this name.")
    annotator_id: BodyId | None = Field(None, description="Erase every answer, revision and review "
                                     "this user wrote in the project; consensus is computed again.")
    subject: list[str] = Field([], max_length=100, description="Identifiers of a data subject "
                               "(e-mail address, name, ...): erase every item that mentions one.")
    dry_run: bool = Field(False, description="Only say what would be erased.")


class ErasureOut(BaseModel):
    kind: str
    dry_run: bool
    item_ids: list[int]
    external_ids: list[str]
    answers: int
    files: int
    jobs_scrubbed: int
    checkpoint: str = Field(description="SQLite's WAL afterwards: done (checkpointed and truncated), "
                            "busy (a reader held it; old pages may stay until the next checkpoint), "
                            "postgresql; empty for a dry run.")
    audit_seq: int | None = Field(None, description="The tombstone's entry (seq) in the audit log; "
                                  "null for a dry run.")
    releases_withdrawn: list[str] = Field([], description="Dataset releases holding erased content: "
                                          "withdrawn whole, their files deleted (would be, for a dry run).")


class SourceOut(BaseModel):
    import_job_id: int
    file: str = Field(description="The imported file's name, as the import was given it.")
    items: int = Field(description="Its items still in the project.")
    created_at: datetime


class RetentionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int | None = Field(description="Delete items' raw content this many days after import; "
                             "null: keep it.")


class RetentionOut(BaseModel):
    days: int | None


class RetentionViewOut(BaseModel):
    days: int | None = Field(description="Items' raw content is deleted this many days after import; "
                             "null: kept.")
    items: int = Field(description="Items in the project.")
    deleted: int = Field(description="Items whose content retention has deleted.")
    due: int = Field(description="Items whose content a run now would delete.")


class RetentionRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dry_run: bool = Field(False, description="Only count the items whose content would go.")


class RetentionRunOut(BaseModel):
    dry_run: bool
    items: int = Field(description="Items whose content was deleted (would be, for a dry run).")
    files: int = Field(description="Files deleted from the store (0 for a dry run).")
    audit_seq: int | None = Field(description="The `retention.run` entry (seq) in the audit log; null "
                                  "for a dry run or when nothing was due.")


@router.post("/erasure", response_model=ErasureOut)
def erasure(project_id: Id, body: ErasureIn, ctx: Ctx = CtxDep) -> ErasureOut:
    """Erase items, a source file's items, an annotator's work or a data subject's items, with a
    tombstone in the audit log (managers and up). `dry_run` lists what would go."""
    rt = ctx.runtime
    with rt.db.read() as conn:
        actor = ctx.actor(conn)
    req = ErasureRequest(tuple(body.items), body.import_job_id, body.source_file, body.annotator_id,
                         tuple(body.subject), body.dry_run)
    done = erase(rt.db, rt.blobs, actor, project_id, req, data_dir=rt.settings.data_dir)
    return ErasureOut(kind=done.kind, dry_run=done.dry_run, item_ids=done.item_ids,
                      external_ids=done.external_ids, answers=done.answers, files=len(done.files),
                      jobs_scrubbed=done.jobs_scrubbed, checkpoint=done.checkpoint,
                      audit_seq=done.audit_seq, releases_withdrawn=done.releases_withdrawn)


@router.get("/erasure/sources", response_model=list[SourceOut])
def erasure_sources(project_id: Id, ctx: Ctx = CtxDep) -> list[SourceOut]:
    """The imports whose items are still in the project, newest first: what `import_job_id` may
    name (managers and up)."""
    return [SourceOut(**vars(s)) for s in ctx.read(sources, project_id)]


@router.put("/retention", response_model=RetentionOut)
def set_retention(project_id: Id, body: RetentionIn, ctx: Ctx = CtxDep) -> RetentionOut:
    """Set how long items' raw content is kept (managers and up); `labelloop retention run`
    (daily, from cron) deletes what is older."""
    return RetentionOut(days=ctx.write(retention.set_retention, project_id, body.days))


@router.get("/retention", response_model=RetentionViewOut)
def get_retention(project_id: Id, ctx: Ctx = CtxDep) -> RetentionViewOut:
    """The project's retention, and how many items' content it deleted and would delete now
    (managers and up)."""
    v = ctx.read(retention.view, project_id)
    return RetentionViewOut(days=v.days, items=v.items, deleted=v.deleted, due=v.due)


@router.post("/retention/run", response_model=RetentionRunOut)
def run_retention(project_id: Id, body: RetentionRunIn, ctx: Ctx = CtxDep) -> RetentionRunOut:
    """Apply the project's retention now, as the daily `labelloop retention run` would (managers
    and up); `dry_run` counts what would go."""
    rt = ctx.runtime
    with rt.db.read() as conn:
        actor = ctx.actor(conn)
    done = retention.run_project(rt.db, rt.blobs, actor, project_id, dry_run=body.dry_run,
                                 data_dir=rt.settings.data_dir)
    return RetentionRunOut(dry_run=done.dry_run, items=done.items, files=done.files, audit_seq=done.audit_seq)
