"""Interactive masks: a box and/or scribbles on an item's image in, a mask proposal (COCO RLE) out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from labelloop.api.deps import Ctx, CtxDep
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.params import Id
from labelloop.services import segment

router = APIRouter(
    prefix="/api/projects/{project_id:id}", tags=["tasks"], route_class=JSONRoute,
    responses=documented(401, 403, 404, 409, 422),
)

# Pixels of the largest image the server stores are below 2**31; anything past that is a mistake.
Coordinate = Annotated[float, Field(ge=0, le=2**31, allow_inf_nan=False)]
Point = Annotated[list[Coordinate], Field(min_length=2, max_length=2)]


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    box: Annotated[list[Coordinate], Field(min_length=4, max_length=4)] | None = Field(
        None, description="[x1, y1, x2, y2] around the object, in the original image's pixels.")
    foreground: list[Point] = Field(default_factory=list, max_length=10_000,
                                    description="[x, y] points on the object (scribbles).")
    background: list[Point] = Field(default_factory=list, max_length=10_000,
                                    description="[x, y] points off the object.")
    field: str | None = Field(None, max_length=64, description="The image field (default: the mask "
                              "question's target, else the schema's first image field).")


class RleOut(BaseModel):
    size: list[int] = Field(description="[height, width] of the original image.")
    counts: str = Field(description="COCO compressed RLE, column-major.")


class SegmentOut(BaseModel):
    rle: RleOut
    area: int = Field(description="Pixels in the mask.")
    segmenter: str
    worked_on: str = Field(description="preview (the built-in GrabCut, scaled up) or original.")


@router.post("/items/{item_id:id}/segment", response_model=SegmentOut)
def segment_item(project_id: Id, item_id: Id, body: SegmentIn, ctx: Ctx = CtxDep) -> dict[str, Any]:
    """A mask proposal for a box and/or scribbles on the item's image, for the annotator holding
    its lease (reviewers and up: any item). Nothing is stored (docs/loop.md, "Images")."""
    runtime = ctx.runtime
    actor = ctx.read(lambda _conn, who: who)
    prompt = segment.Prompt(box=body.box, foreground=body.foreground, background=body.background,
                            field=body.field)
    found = segment.segment_item(runtime.db, runtime.blobs, actor, project_id, item_id, prompt)
    return {"rle": found.rle, "area": found.area, "segmenter": found.segmenter, "worked_on": found.worked_on}
