"""One answer with its item, and revising one's own answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from labelloop.api.deps import Ctx, CtxDep
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.models import AnswerOut, SubmitIn
from labelloop.api.params import Id
from labelloop.services.queue import revisions

router = APIRouter(
    prefix="/api/projects/{project_id:id}/answers/{answer_id:id}", tags=["tasks"], route_class=JSONRoute,
    responses=documented(401, 403, 404, 422),
)


class AnsweredItemOut(BaseModel):
    id: int
    external_id: str
    data: dict[str, Any]
    meta: dict[str, Any]


class AnswerInContextOut(BaseModel):
    answer: AnswerOut
    item: AnsweredItemOut
    superseded_by: int | None = Field(description="The revision that replaced this answer, if any.")
    editable: bool = Field(description="Whether you may revise it (your latest answer; no final decision).")


@router.get("", response_model=AnswerInContextOut)
def get_answer(project_id: Id, answer_id: Id, ctx: Ctx = CtxDep) -> AnswerInContextOut:
    """An answer with its item; annotators see their own answers only."""
    a = ctx.read(revisions.get_answer, project_id, answer_id)
    return AnswerInContextOut(
        answer=AnswerOut.model_validate(a.answer),
        item=AnsweredItemOut(id=a.answer.item_id, external_id=a.external_id, data=a.data, meta=a.meta),
        superseded_by=a.superseded_by, editable=a.editable,
    )


@router.post(
    "/revisions",
    response_model=AnswerOut,
    status_code=201,
    responses={200: {"description": "A retry: the revision stored under this key, unchanged."},
               **documented(409)},
)
def revise(
    project_id: Id,
    answer_id: Id,
    body: SubmitIn,
    idempotency_key: str | None = Header(None, description="A retry with the same key never stores twice."),
    ctx: Ctx = CtxDep,
) -> Response:
    """Replace your answer with a corrected one (a new answer that supersedes it)."""
    answer, created = ctx.write(revisions.revise_answer, project_id, answer_id, body.value,
                                idempotency_key=idempotency_key, duration_ms=body.duration_ms)
    return JSONResponse(AnswerOut.model_validate(answer).model_dump(mode="json"),
                        status_code=201 if created else 200)
