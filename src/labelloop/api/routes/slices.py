"""Slices: saved, named filters of a project's items (managers write them, reviewers and up read
them); the items of a filter before it is saved; the queue priority of a slice's items."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from labelloop.api.deps import Ctx, CtxDep
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.models import CountOut, ItemOut
from labelloop.api.params import Cursor, Id
from labelloop.services.curation import slices

router = APIRouter(
    prefix="/api/projects/{project_id:id}/slices", tags=["slices"], route_class=JSONRoute,
    responses=documented(401, 403, 404, 422),
)

FilterObject = Annotated[dict[str, Any], Field(
    description="The data browser's filter: the query parameters of GET .../items as an object "
    "(status, q, annotator, label 'question:value', meta 'key:value', review, label_issue) and ids "
    f"(at most {slices.MAX_IDS} item ids). Unknown fields are refused, naming them.")]


class SliceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=slices.NAME_CHARS)
    filter: FilterObject


class SlicePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=slices.NAME_CHARS)
    filter: FilterObject | None = None


class SliceOut(BaseModel):
    id: int
    name: str
    filter: dict[str, Any]
    created_by: int | None
    created_at: datetime
    updated_at: datetime
    count: int | None = Field(None, description="Items in the slice now (reading one slice).")


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filter: FilterObject
    after: Cursor = 0
    limit: int = Field(100, ge=1, le=1000)


class PriorityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: float = Field(ge=-1e9, le=1e9, allow_inf_nan=False)
    mode: Literal["set", "add"] = Field("set", description="set: every item gets `priority`; add: each "
                                        "item's priority moves by it (negative lowers).")


@router.get("", response_model=list[SliceOut])
def list_all(project_id: Id, ctx: Ctx = CtxDep) -> list[dict[str, Any]]:
    """The project's slices by name."""
    return ctx.read(slices.list_slices, project_id)


@router.post("", response_model=SliceOut, status_code=status.HTTP_201_CREATED, responses=documented(409))
def create(project_id: Id, body: SliceIn, ctx: Ctx = CtxDep) -> dict[str, Any]:
    """Save a filter under a name (managers); 409 when the name is taken, 422 naming a bad field."""
    return ctx.write(slices.create_slice, project_id, body.name, body.filter)


@router.post("/preview", response_model=list[ItemOut])
def preview(project_id: Id, body: PreviewIn, ctx: Ctx = CtxDep) -> list[ItemOut]:
    """The items of a filter that is not saved (a lasso's ids are too many for a query string), as
    GET .../items pages them."""
    where = slices.parse_filter(body.filter, prefix="filter")
    found = ctx.read(slices.browse, project_id, where, after_id=body.after, limit=body.limit)
    return [ItemOut.model_validate(i) for i in found]


@router.get("/{slice_id:id}", response_model=SliceOut)
def get_one(project_id: Id, slice_id: Id, ctx: Ctx = CtxDep) -> dict[str, Any]:
    """A slice with the number of items it holds now."""
    return ctx.read(slices.get_slice, project_id, slice_id)


@router.patch("/{slice_id:id}", response_model=SliceOut, responses=documented(409))
def change(project_id: Id, slice_id: Id, body: SlicePatch, ctx: Ctx = CtxDep) -> dict[str, Any]:
    """Rename a slice or replace its filter (managers)."""
    return ctx.write(slices.update_slice, project_id, slice_id, name=body.name, given=body.filter)


@router.delete("/{slice_id:id}", status_code=status.HTTP_204_NO_CONTENT)
def remove(project_id: Id, slice_id: Id, ctx: Ctx = CtxDep) -> Response:
    """Delete a slice (managers); the items stay as they are."""
    ctx.write(slices.delete_slice, project_id, slice_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{slice_id:id}/priority", response_model=CountOut)
def priority(project_id: Id, slice_id: Id, body: PriorityIn, ctx: Ctx = CtxDep) -> CountOut:
    """Raise or lower the queue priority of every item of the slice (managers); higher comes first."""
    return CountOut(updated=ctx.write(slices.set_priority, project_id, slice_id, body.priority, body.mode))
