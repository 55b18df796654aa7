"""Erasure (GDPR article 17) and retention of a project's raw content (docs/data-protection.md)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from labelloop.api.deps import Ctx, CtxDep
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.params import Id
from labelloop.services.protection import retention
from labelloop.services.protection.erasure import ErasureRequest, erase

router = APIRouter(
    prefix="/api/projects/{project_id:id}", tags=["data protection"], route_class=JSONRoute,
    responses=documented(401, 403, 404, 422),
)


class ErasureIn(BaseModel):
    """Exactly one of `items`, `import_job_id`/`source_file`, `annotator_id`, `subject`."""

    model_config = ConfigDict(extra="forbid")

    items: list[int] = Field([], max_length=100_000, description="Item ids to erase.")
    import_job_id: int | None = Field(None, description="Erase the items one import (job) wrote.")
    source_file: str | None = Field(None, max_length=500,
                                    description="Erase the items imported from the file of this name.")
    annotator_id: int | None = Field(None, description="Erase every answer, revision and review "
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


class RetentionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int | None = Field(description="Delete items' raw content this many days after import; "
                             "null: keep it.")


class RetentionOut(BaseModel):
    days: int | None


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
                      jobs_scrubbed=done.jobs_scrubbed, checkpoint=done.checkpoint)


@router.put("/retention", response_model=RetentionOut)
def set_retention(project_id: Id, body: RetentionIn, ctx: Ctx = CtxDep) -> RetentionOut:
    """Set how long items' raw content is kept (managers and up); `labelloop retention run`
    (daily, from cron) deletes what is older."""
    return RetentionOut(days=ctx.write(retention.set_retention, project_id, body.days))
