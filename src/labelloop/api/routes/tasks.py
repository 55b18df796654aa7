"""The annotator's loop: next task, submit, skip, keep the lease alive."""

from __future__ import annotations

from fastapi import APIRouter, Header, Response, status
from fastapi.responses import JSONResponse

from labelloop.api.deps import Ctx, CtxDep
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.models import AnswerOut, LeaseOut, NextIn, ProgressOut, SkipIn, TaskAnswerIn, TaskOut
from labelloop.api.params import Id
from labelloop.services.queue import answers, progress
from labelloop.services.queue import tasks as queue

router = APIRouter(
    prefix="/api/projects/{project_id:id}", tags=["tasks"], route_class=JSONRoute,
    responses=documented(401, 403, 404, 409, 422),
)


@router.post(
    "/tasks/next",
    response_model=TaskOut,
    responses={204: {"description": "Nothing left for you in this project."}},
)
def next_task(project_id: Id, body: NextIn | None = None, ctx: Ctx = CtxDep) -> Response:
    """Lease the next item for you (or return one you already hold)."""
    task = ctx.write(
        queue.next_task, project_id,
        exclude=frozenset(body.exclude) if body else frozenset(),
        max_held=ctx.runtime.settings.max_held_tasks,
    )
    if task is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return JSONResponse(TaskOut.model_validate(task).model_dump(mode="json"))


@router.get("/tasks/progress", response_model=ProgressOut)
def my_progress(project_id: Id, ctx: Ctx = CtxDep) -> ProgressOut:
    """Your own numbers in the project: items answered, and about how many are left for you."""
    return ProgressOut.model_validate(ctx.read(progress.my_progress, project_id))


@router.post(
    "/items/{item_id:id}/answers",
    response_model=AnswerOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "A retry: the answer stored under this key, unchanged."}},
)
def submit(
    project_id: Id,
    item_id: Id,
    body: TaskAnswerIn,
    idempotency_key: str | None = Header(
        None, description="Any unique string per answer; a retry with it never stores twice."
    ),
    ctx: Ctx = CtxDep,
) -> Response:
    answer, created = ctx.write(
        answers.submit_answer, project_id, item_id, body.value,
        idempotency_key=idempotency_key, duration_ms=body.duration_ms,
        suggestion_version=body.suggestion_version,
    )
    return JSONResponse(AnswerOut.model_validate(answer).model_dump(mode="json"),
                        status_code=201 if created else 200)


@router.post("/items/{item_id:id}/skip", status_code=status.HTTP_204_NO_CONTENT)
def skip(project_id: Id, item_id: Id, body: SkipIn | None = None, ctx: Ctx = CtxDep) -> Response:
    """Give the item back; you will not be handed it again."""
    ctx.write(queue.skip_task, project_id, item_id, body.reason if body else None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/items/{item_id:id}/lease", response_model=LeaseOut)
def renew(project_id: Id, item_id: Id, ctx: Ctx = CtxDep) -> LeaseOut:
    """Extend your lease on the item (call while the item is on screen)."""
    return LeaseOut.model_validate(ctx.write(queue.renew_lease, project_id, item_id))
