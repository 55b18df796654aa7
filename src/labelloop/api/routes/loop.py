"""The learning loop: run a round, read the learning curve, pre-label images with a detector and
audio with a speech model."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel

from labelloop.api.deps import Ctx, CtxDep, project_job
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.models import JobOut
from labelloop.api.params import Id
from labelloop.services.jobs.kinds import PRELABEL, ROUND
from labelloop.services.loop import rounds as loop

router = APIRouter(
    prefix="/api/projects/{project_id:id}/loop", tags=["loop"], route_class=JSONRoute,
    responses=documented(401, 403, 404, 422),
)


class RoundOut(BaseModel):
    model_version: int
    created_at: datetime
    metrics: dict[str, Any]


@router.post("/rounds", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED,
             responses={200: {"model": JobOut, "description": "With `wait`: the finished job."}})
async def run_round(
    project_id: Id, wait: bool = Query(False, description="Answer when the round has finished."),
    ctx: Ctx = CtxDep,
) -> Response:
    """Aggregate, train, evaluate, predict, rescore the queue, auto-label, flag label errors (a job)."""
    return await project_job(ctx, project_id, ROUND, wait=wait)


@router.post("/prelabel", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED,
             responses={200: {"model": JobOut, "description": "With `wait`: the finished job."}})
async def prelabel(
    project_id: Id, wait: bool = Query(False, description="Answer when the job has finished."),
    ctx: Ctx = CtxDep,
) -> Response:
    """Run the project's detector (`loop.detector`) over the images without its boxes, and store
    its boxes as the suggestion for the bbox question (a job; docs/loop.md, "Images"). On a project
    with an audio_segments question, its speech model (`loop.transcriber`) instead: segments with
    transcripts for the audio files without them (docs/audio.md, "Speech-to-text pre-labels")."""
    return await project_job(ctx, project_id, PRELABEL, wait=wait)


@router.get("/rounds", response_model=list[RoundOut])
def rounds(project_id: Id, ctx: Ctx = CtxDep) -> list[RoundOut]:
    """Every round's metrics, oldest first: accuracy against human answers spent."""
    return [RoundOut(model_version=r.model_version, created_at=r.created_at, metrics=r.metrics)
            for r in ctx.read(loop.list_rounds, project_id)]
