"""Duplicate groups: find them (a job), list a method's groups, keep one item of a group (the others
leave the queue) and undo it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from labelloop.api.deps import Ctx, CtxDep, project_job
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.models import JobOut
from labelloop.api.params import Cursor, Id
from labelloop.services.curation import duplicates

router = APIRouter(
    prefix="/api/projects/{project_id:id}/duplicates", tags=["curation"], route_class=JSONRoute,
    responses=documented(401, 403, 404, 422),
)

MethodQuery = Annotated[str, Query(pattern="^(exact|text|image|semantic)$",
                                   description="exact, text, image or semantic.")]


class DuplicatesIn(duplicates.DuplicateParams):
    """Which methods to run, and their thresholds (each has a default)."""


class GroupItemOut(BaseModel):
    item_id: int
    external_id: str
    score: float = Field(description="The item's highest similarity to another member.")
    preview: str = Field(description="The first characters of its first text, as the item views show it.")
    set_aside: bool = Field(description="Out of the queue: another item of the group was kept.")


class GroupOut(BaseModel):
    group_id: int = Field(description="The group's smallest item id.")
    method: str
    items: list[GroupItemOut]


class KeepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: Id
    method: str | None = Field(None, pattern="^(exact|text|image|semantic)$",
                               description="Needed only when the group id is a group of several methods.")


class KeptOut(BaseModel):
    group_id: int
    method: str
    kept: int
    set_aside: list[int]


class RestoredOut(BaseModel):
    group_id: int
    restored: list[int]


@router.post("", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED,
             responses={200: {"model": JobOut, "description": "With `wait`: the finished job."}})
async def find_duplicates(
    project_id: Id, body: DuplicatesIn | None = None,
    wait: bool = Query(False, description="Answer when the job has finished."), ctx: Ctx = CtxDep,
) -> Response:
    """Find exact, near-duplicate text, near-duplicate image and semantic groups (a job); each
    method's groups replace the ones it found before."""
    params: dict[str, Any] = (body or DuplicatesIn()).model_dump()
    return await project_job(ctx, project_id, duplicates.KIND, wait=wait, params=params)


@router.get("", response_model=list[GroupOut])
def list_duplicates(
    project_id: Id, method: MethodQuery = "text",
    after: Annotated[Cursor, Query(description="Groups with a larger id (keyset pagination).")] = 0,
    limit: int = Query(50, ge=1, le=500), ctx: Ctx = CtxDep,
) -> list[dict[str, Any]]:
    """A method's groups with their items (managers and owners)."""
    return ctx.read(duplicates.list_groups, project_id, method, after_group=after, limit=limit)


@router.post("/{group_id:id}/keep", response_model=KeptOut)
def keep(project_id: Id, group_id: Id, body: KeepIn, ctx: Ctx = CtxDep) -> dict[str, Any]:
    """Keep one item of the group; the others leave the queue (undo with DELETE)."""
    return ctx.write(duplicates.keep_one, project_id, group_id, body.item_id, body.method)


@router.delete("/{group_id:id}/keep", response_model=RestoredOut)
def restore(project_id: Id, group_id: Id, method: Annotated[str | None, Query(
        pattern="^(exact|text|image|semantic)$")] = None, ctx: Ctx = CtxDep) -> dict[str, Any]:
    """Put the items that keeping one set aside back in the queue."""
    return ctx.write(duplicates.restore_group, project_id, group_id, method)
