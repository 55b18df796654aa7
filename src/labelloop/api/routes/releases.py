"""Versioned dataset releases: create (inline in the request for now), list, card, files, diff."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from labelloop.api.deps import Ctx, CtxDep
from labelloop.api.download import content_disposition
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.params import Id
from labelloop.errors import Invalid, Problem
from labelloop.services.curation import releases, slices
from labelloop.services.items import ItemFilter

router = APIRouter(
    prefix="/api/projects/{project_id:id}/releases", tags=["releases"], route_class=JSONRoute,
    responses=documented(401, 403, 404, 422),
)

NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
ReleaseName = Annotated[str, Path(pattern=NAME, description="The release's name.")]
MEDIA = {"parquet": "application/vnd.apache.parquet", "json": "application/json", "md": "text/markdown"}


class SliceIn(BaseModel):
    """Which items (all labelled ones when empty); the data browser's filters."""

    text: str | None = Field(None, max_length=500)
    label: tuple[str, str] | None = Field(None, description="[question, value] of the consensus.")
    meta: tuple[str, str] | None = Field(None, description="[key, value] of the item's metadata.")
    review: str | None = Field(None, pattern="^(pending|done)$")
    label_issue: bool | None = None


class ReleaseIn(BaseModel):
    name: str = Field(pattern=NAME)
    split: tuple[int, int, int] | None = Field((80, 10, 10), description="train/validation/test shares; "
                                               "null: every item in train.")
    stratify: str | None = Field(None, max_length=64,
                                 description="'label' (the first question) or a question.")
    group_by: str | None = Field(None, max_length=64, description="exact, or near-duplicates[:method]: "
                                 "a group never straddles two splits.")
    seed: int = Field(0, ge=0, le=2**32 - 1)
    filter: SliceIn | None = None
    slice: int | str | None = Field(None, description="A saved slice (its id or name) whose labelled items "
                                    "are released; not with `filter`.")


class ReleaseOut(BaseModel):
    name: str
    manifest_sha256: str
    created_at: Any
    created_by: int | None
    item_count: int
    withdrawn_at: Any = Field(None, description="When an erasure withdrew the release (its files are "
                              "deleted; reading it is 409); null while it stands.")
    withdrawn_reason: str | None = None


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ReleaseOut,
             responses=documented(409))
def create(project_id: Id, body: ReleaseIn, ctx: Ctx = CtxDep) -> dict[str, Any]:
    """Write an immutable release (managers). It runs inside the request; a second release with
    the same name is 409."""
    if body.filter is not None and body.slice is not None:
        raise Invalid("two filters", [Problem("give a saved slice or a filter, not both", field="slice")])
    with ctx.runtime.db.read() as conn:
        actor = ctx.actor(conn)
        where = (slices.slice_filter(conn, actor, project_id, body.slice) if body.slice is not None
                 else ItemFilter(**body.filter.model_dump()) if body.filter else None)
    return releases.create_release(
        ctx.runtime.db, ctx.runtime.blobs, actor, project_id, body.name, slice=where,
        split=body.split, stratify=body.stratify, group_by=body.group_by, seed=body.seed)


@router.get("", response_model=list[ReleaseOut])
def list_all(project_id: Id, ctx: Ctx = CtxDep) -> list[dict[str, Any]]:
    """The project's releases, oldest first."""
    return ctx.read(releases.list_releases, project_id)


@router.get("/diff")
def diff(
    project_id: Id, from_: Annotated[str, Query(alias="from", max_length=100)],
    to: Annotated[str, Query(max_length=100)], limit: Annotated[int, Query(ge=0, le=100_000)] = 1000,
    ctx: Ctx = CtxDep,
) -> dict[str, Any]:
    """Items added, removed and relabelled from release `from` to `to`, by external id."""
    return ctx.read(releases.diff_releases, project_id, from_, to, ctx.runtime.blobs, limit=limit)


@router.get("/{name}")
def get_one(project_id: Id, name: ReleaseName, ctx: Ctx = CtxDep) -> dict[str, Any]:
    """A release: its summary, its dataset card (JSON) and its files with their SHA-256."""
    return ctx.read(releases.get_release, project_id, name, ctx.runtime.blobs)


@router.get("/{name}/files/{file}", responses={
    **documented(409),
    200: {"content": {t: {} for t in (*MEDIA.values(), "application/octet-stream")},
          "description": "The file, streamed once its SHA-256 was checked."}})
def get_file(project_id: Id, name: ReleaseName,
             file: Annotated[str, Path(pattern=NAME, description="A file the manifest lists.")],
             ctx: Ctx = CtxDep) -> StreamingResponse:
    """A file of the release, streamed once its SHA-256 was checked (409 when a byte changed)."""
    entry, chunks = ctx.read(releases.release_file, project_id, name, file, ctx.runtime.blobs)
    media = MEDIA.get(file.rpartition(".")[2], "application/octet-stream")
    return StreamingResponse(chunks, media_type=media, headers={
        "Content-Length": str(entry["size"]), "ETag": f'"{entry["sha256"]}"',
        "Content-Disposition": content_disposition(f"{name}-{file}")})
