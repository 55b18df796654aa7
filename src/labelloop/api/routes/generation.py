"""Generation: the project's model server settings, and the job that fills items' candidates."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Body, Query, Response, status
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from labelloop.api.deps import Ctx, CtxDep, project_job
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.models import JobOut
from labelloop.api.params import Id
from labelloop.services.generation import job as generation
from labelloop.services.generation.settings import GenerationSettings, get_generation, update_generation

router = APIRouter(
    prefix="/api/projects/{project_id:id}/generation", tags=["generation"], route_class=JSONRoute,
    responses=documented(401, 403, 404, 422),
)


class GenerationOut(GenerationSettings):
    endpoint: str | None = Field(description="Where requests go: <base_url>/v1/chat/completions.")
    api_key_set: bool = Field(
        description="Whether the variable api_key_env names is set in the server's environment "
        "(the key itself is never shown)."
    )


def _out(settings: GenerationSettings) -> GenerationOut:
    name = settings.api_key_env
    return GenerationOut(**settings.model_dump(), endpoint=settings.completions_url,
                         api_key_set=bool(name and os.environ.get(name, "").strip()))


@router.get("/settings", response_model=GenerationOut)
def read_settings(project_id: Id, ctx: Ctx = CtxDep) -> GenerationOut:
    """The model server's settings (managers)."""
    return _out(ctx.read(get_generation, project_id))


@router.patch("/settings", response_model=GenerationOut)
def change_settings(
    project_id: Id,
    changes: dict[str, Any] = Body(..., description="Only the keys to change; null resets a key "
                                   "to its default (docs/feedback.md, \"Generation\")."),
    ctx: Ctx = CtxDep,
) -> GenerationOut:
    """Change the model server's settings; 422 names each wrong key as `generation.<key>`."""
    return _out(ctx.write(update_generation, project_id, changes))


@router.post("/jobs", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED,
             responses={200: {"model": JobOut, "description": "With `wait`: the finished job."}})
async def start_job(
    project_id: Id, wait: bool = Query(False, description="Answer when the job has finished."),
    ctx: Ctx = CtxDep,
) -> Response:
    """Fill every item's responses up to K candidates from the model server (a job with progress;
    422 at once when generation is not set up)."""
    await run_in_threadpool(ctx.read, generation.check_startable, project_id)
    return await project_job(ctx, project_id, generation.KIND, wait=wait)
