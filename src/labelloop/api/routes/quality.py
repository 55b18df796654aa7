"""Quality control: reports, consensus recompute, pauses, and the review queue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from labelloop.api.deps import Ctx, CtxDep, project_job
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.models import AnswerOut, ItemDetailOut, ItemOut, JobOut
from labelloop.api.params import Cursor, Id
from labelloop.services.jobs.kinds import RECOMPUTE
from labelloop.services.quality import reports as quality_reports
from labelloop.services.quality import review, trust

router = APIRouter(
    prefix="/api/projects/{project_id:id}", tags=["quality"], route_class=JSONRoute,
    responses=documented(401, 403, 404, 422),
)


class PauseIn(BaseModel):
    paused: bool
    reason: str | None = Field(None, max_length=500)


class StandingOut(BaseModel):
    gold_answered: int
    gold_correct: int
    skill: float | None
    paused: bool
    paused_reason: str | None


class ReviewIn(BaseModel):
    value: dict[str, Any] = Field(description="The final answer, which becomes the consensus.")


@router.get("/quality")
def agreement(project_id: Id, ctx: Ctx = CtxDep) -> dict[str, Any]:
    """Agreement per question (with a bootstrap interval), consensus confidence, review, pauses."""
    return ctx.read(quality_reports.agreement_report, project_id)


@router.get("/quality/annotators")
def annotators(project_id: Id, ctx: Ctx = CtxDep) -> list[dict[str, Any]]:
    """Each annotator's volume, speed, gold accuracy (with interval), agreement and flags."""
    return ctx.read(quality_reports.annotator_report, project_id)


@router.post("/quality/recompute", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED,
             responses={200: {"model": JobOut, "description": "With `wait`: the finished job."}})
async def recompute(
    project_id: Id, wait: bool = Query(False, description="Answer when the job has finished."),
    ctx: Ctx = CtxDep,
) -> Response:
    """Re-fit consensus and annotator skills over every answer (a background job)."""
    return await project_job(ctx, project_id, RECOMPUTE, wait=wait)


@router.put("/annotators/{user_id:id}/pause", response_model=StandingOut)
def pause(project_id: Id, user_id: Id, body: PauseIn, ctx: Ctx = CtxDep) -> StandingOut:
    """Pause an annotator (no more tasks; answers left out of consensus) or lift a pause."""
    s = ctx.write(trust.set_paused, project_id, user_id, body.paused, body.reason)
    return StandingOut(**vars(s))


@router.get("/review/next", response_model=ItemDetailOut,
            responses={204: {"description": "Nothing waits for review."}})
def next_review(
    project_id: Id,
    after: Annotated[Cursor, Query(description="Skip to items with a larger id.")] = 0,
    slice_id: Annotated[Id | None, Query(alias="slice", description="Only items of this slice.")] = None,
    ctx: Ctx = CtxDep,
) -> Response:
    """The oldest item waiting for review (after `after`, of a slice when given), with every answer."""
    # a write: the audit log keeps the read
    d = ctx.write(review.next_review, project_id, after_id=after, slice_id=slice_id)
    if d is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    out = ItemDetailOut(item=ItemOut.model_validate(d.item),
                        answers=[AnswerOut.model_validate(a) for a in d.answers])
    return JSONResponse(out.model_dump(mode="json"))


@router.get("/review/count")
def review_count(
    project_id: Id,
    slice_id: Annotated[Id | None, Query(alias="slice", description="Only items of this slice.")] = None,
    ctx: Ctx = CtxDep,
) -> dict[str, int]:
    """How many items wait for review (of a slice when given)."""
    return {"pending": ctx.read(review.pending_count, project_id, slice_id=slice_id)}


@router.post("/items/{item_id:id}/review", responses=documented(409))
def decide(
    project_id: Id, item_id: Id, body: ReviewIn,
    idempotency_key: str | None = Header(None), ctx: Ctx = CtxDep,
) -> dict[str, Any]:
    """Decide an item waiting for review; the answer becomes its final consensus."""
    value = ctx.write(review.decide, project_id, item_id, body.value, idempotency_key=idempotency_key)
    return {"item_id": item_id, "value": value, "final": True}


@router.post("/items/{item_id:id}/flag", status_code=status.HTTP_204_NO_CONTENT)
def flag(project_id: Id, item_id: Id, ctx: Ctx = CtxDep) -> Response:
    """Send an item to review."""
    ctx.write(review.flag, project_id, item_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
