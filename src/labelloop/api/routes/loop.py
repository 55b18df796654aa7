"""The learning loop: run a round, read the learning curve."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from labelloop.api.deps import Ctx, CtxDep
from labelloop.api.models import JobOut
from labelloop.services import loop
from labelloop.services.jobs import JobInfo, Progress, create_job
from labelloop.services.policy import Action, Actor, access

router = APIRouter(prefix="/api/projects/{project_id}/loop", tags=["loop"])


class RoundOut(BaseModel):
    model_version: int
    created_at: datetime
    metrics: dict[str, Any]


def _start(conn: Connection, actor: Actor, project_id: int) -> tuple[Actor, JobInfo]:
    access(conn, actor, project_id, Action.edit_project)
    return actor, create_job(conn, actor, project_id, "round", {})


@router.post("/rounds", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED)
async def run_round(
    project_id: int, wait: bool = Query(False, description="Answer when the round has finished."),
    ctx: Ctx = CtxDep,
) -> Response:
    """Aggregate, train, evaluate, predict, rescore the queue, auto-label, flag label errors (a job)."""
    runtime = ctx.runtime
    actor, job = await run_in_threadpool(ctx.write, _start, project_id)

    def body(progress: Progress) -> dict[str, Any]:
        return loop.run_round(runtime.db, actor, project_id, data_dir=runtime.settings.data_dir,
                              job_id=job.id, progress=progress)

    future = runtime.jobs.submit(job.id, body)
    if wait:
        job = await asyncio.wrap_future(future)
    return JSONResponse(JobOut.model_validate(job).model_dump(mode="json"), status_code=200 if wait else 202)


@router.get("/rounds", response_model=list[RoundOut])
def rounds(project_id: int, ctx: Ctx = CtxDep) -> list[RoundOut]:
    """Every round's metrics, oldest first: accuracy against human answers spent."""
    return [RoundOut(model_version=r.model_version, created_at=r.created_at, metrics=r.metrics)
            for r in ctx.read(loop.list_rounds, project_id)]
