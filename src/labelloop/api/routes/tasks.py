"""The annotator's loop: next task, submit, skip, keep the lease alive."""

from __future__ import annotations

from fastapi import APIRouter, Header, Response, status
from fastapi.responses import JSONResponse

from labelloop.api.deps import Ctx, CtxDep
from labelloop.api.models import AnswerOut, LeaseOut, NextIn, SkipIn, SubmitIn, TaskOut
from labelloop.services import answers, queue

router = APIRouter(prefix="/api/projects/{project_id}", tags=["tasks"])


@router.post(
    "/tasks/next",
    response_model=TaskOut,
    responses={204: {"description": "Nothing left for you in this project."}},
)
def next_task(project_id: int, body: NextIn | None = None, ctx: Ctx = CtxDep) -> Response:
    """Lease the next item for you (or return one you already hold)."""
    task = ctx.write(
        queue.next_task, project_id,
        exclude=frozenset(body.exclude) if body else frozenset(),
        max_held=ctx.runtime.settings.max_held_tasks,
    )
    if task is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return JSONResponse(TaskOut.model_validate(task).model_dump(mode="json"))


@router.post(
    "/items/{item_id}/answers",
    response_model=AnswerOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "A retry: the answer stored under this key, unchanged."}},
)
def submit(
    project_id: int,
    item_id: int,
    body: SubmitIn,
    idempotency_key: str | None = Header(
        None, description="Any unique string per answer; a retry with it never stores twice."
    ),
    ctx: Ctx = CtxDep,
) -> Response:
    answer, created = ctx.write(
        answers.submit_answer, project_id, item_id, body.value,
        idempotency_key=idempotency_key, duration_ms=body.duration_ms,
    )
    return JSONResponse(AnswerOut.model_validate(answer).model_dump(mode="json"),
                        status_code=201 if created else 200)


@router.post("/items/{item_id}/skip", status_code=status.HTTP_204_NO_CONTENT)
def skip(project_id: int, item_id: int, body: SkipIn | None = None, ctx: Ctx = CtxDep) -> Response:
    """Give the item back; you will not be handed it again."""
    ctx.write(queue.skip_task, project_id, item_id, body.reason if body else None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/items/{item_id}/lease", response_model=LeaseOut)
def renew(project_id: int, item_id: int, ctx: Ctx = CtxDep) -> LeaseOut:
    """Extend your lease on the item (call while the item is on screen)."""
    return LeaseOut.model_validate(ctx.write(queue.renew_lease, project_id, item_id))
