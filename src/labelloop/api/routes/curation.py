"""Duplicate groups: find them (a job), list a method's groups, keep one item of a group (the others
leave the queue) and undo it. Search the items by meaning: like one item, or like a text. The
embedding map: the latest round's embeddings on a plane, with what to colour them by."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from labelloop.api.deps import Ctx, CtxDep, project_job
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.models import JobOut
from labelloop.api.params import Cursor, Id
from labelloop.errors import Invalid, Problem
from labelloop.services.curation import duplicates, embedding_map
from labelloop.services.curation import search as item_search

router = APIRouter(
    prefix="/api/projects/{project_id:id}", tags=["curation"], route_class=JSONRoute,
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


@router.post("/duplicates", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED,
             responses={200: {"model": JobOut, "description": "With `wait`: the finished job."}})
async def find_duplicates(
    project_id: Id, body: DuplicatesIn | None = None,
    wait: bool = Query(False, description="Answer when the job has finished."), ctx: Ctx = CtxDep,
) -> Response:
    """Find exact, near-duplicate text, near-duplicate image and semantic groups (a job); each
    method's groups replace the ones it found before."""
    params: dict[str, Any] = (body or DuplicatesIn()).model_dump()
    return await project_job(ctx, project_id, duplicates.KIND, wait=wait, params=params)


@router.get("/duplicates", response_model=list[GroupOut])
def list_duplicates(
    project_id: Id, method: MethodQuery = "text",
    after: Annotated[Cursor, Query(description="Groups with a larger id (keyset pagination).")] = 0,
    limit: int = Query(50, ge=1, le=500), ctx: Ctx = CtxDep,
) -> list[dict[str, Any]]:
    """A method's groups with their items (managers and owners)."""
    return ctx.read(duplicates.list_groups, project_id, method, after_group=after, limit=limit)


@router.post("/duplicates/{group_id:id}/keep", response_model=KeptOut)
def keep(project_id: Id, group_id: Id, body: KeepIn, ctx: Ctx = CtxDep) -> dict[str, Any]:
    """Keep one item of the group; the others leave the queue (undo with DELETE)."""
    return ctx.write(duplicates.keep_one, project_id, group_id, body.item_id, body.method)


@router.delete("/duplicates/{group_id:id}/keep", response_model=RestoredOut)
def restore(project_id: Id, group_id: Id, method: Annotated[str | None, Query(
        pattern="^(exact|text|image|semantic)$")] = None, ctx: Ctx = CtxDep) -> dict[str, Any]:
    """Put the items that keeping one set aside back in the queue."""
    return ctx.write(duplicates.restore_group, project_id, group_id, method)


class FoundOut(BaseModel):
    item_id: int
    external_id: str
    similarity: float = Field(description="Cosine similarity of the latest round's embeddings.")
    preview: str = Field(description="The first characters of its first text, as the item views show it.")


@router.get("/search", response_model=list[FoundOut], responses=documented(409))
def search(
    project_id: Id,
    like: Annotated[Id | None, Query(description="Items like this item (itself first).")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=2000,
                                   description="Items like this text.")] = None,
    k: int = Query(10, ge=1, le=100), ctx: Ctx = CtxDep,
) -> list[dict[str, Any]]:
    """Items most similar by the latest loop round's embeddings, best first (reviewers and up);
    give exactly one of `like` and `q`. 409 when the project has no round to search."""
    if (like is None) == (q is None):
        raise Invalid("give exactly one of like and q", [Problem(
            "both given" if like is not None else "neither given", field="like")])
    data_dir = ctx.runtime.settings.data_dir
    with ctx.runtime.db.read() as conn:
        actor = ctx.actor(conn)
    if like is not None:
        return item_search.like(ctx.runtime.db, actor, project_id, like, k, data_dir=data_dir)
    assert q is not None
    return item_search.text(ctx.runtime.db, actor, project_id, q, k, data_dir=data_dir)


class MapOut(BaseModel):
    model_version: int = Field(description="The loop round's model version whose embeddings are drawn.")
    encoder: str
    question: str = Field(description="The question the round's model answers: what `label` is of.")
    items: int = Field(description="Items in the project when the projection was made.")
    sampled: int = Field(description="Items drawn: all of them up to `limit` (at most "
                         f"{embedding_map.MAX_POINTS}).")
    shown: int = Field(description="Sampled items with an embedding: the points.")
    missing: int = Field(description="Sampled items without one (imported after the round).")
    limit: int
    explained_variance: list[float] = Field(description="Share of the variance along x and y.")
    ids: list[int]
    x: list[float]
    y: list[float]
    label: list[str | None] = Field(description="The consensus label of `question`.")
    confidence: list[float | None] = Field(description="The consensus confidence.")
    disagreement: list[str | None] = Field(description="agrees or disagrees: the round's model and the "
                                           "consensus; null when either is missing.")
    annotator: list[int | None] = Field(description="The first annotator who answered the item (user id).")
    annotators: dict[str, str] = Field(description="User id -> username of the annotators named.")


@router.get("/map", response_model=MapOut, responses=documented(409))
def item_map(
    project_id: Id,
    limit: int = Query(embedding_map.MAX_POINTS, ge=1, le=embedding_map.MAX_POINTS,
                       description="At most this many items are drawn (a seeded sample beyond it)."),
    ctx: Ctx = CtxDep,
) -> dict[str, Any]:
    """The latest loop round's item embeddings projected onto a plane (PCA), with each point's label,
    consensus confidence, model disagreement and annotator (managers: it shows everyone's labels).
    409 when the project has no round to draw."""
    with ctx.runtime.db.read() as conn:
        actor = ctx.actor(conn)
    return embedding_map.embedding_map(ctx.runtime.db, actor, project_id,
                                       data_dir=ctx.runtime.settings.data_dir, limit=limit)
