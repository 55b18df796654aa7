"""The video tracker: a box on one frame of an item's video in, proposed boxes on the next frames out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from labelloop.api.deps import Ctx, CtxDep
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.params import Id
from labelloop.services.video import tracker

router = APIRouter(
    prefix="/api/projects/{project_id:id}", tags=["tasks"], route_class=JSONRoute,
    responses=documented(401, 403, 404, 409, 422),
)

# Pixels of the largest video are far below 2**31; anything past that is a mistake.
Coordinate = Annotated[float, Field(ge=0, le=2**31, allow_inf_nan=False)]


class TrackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    frame: int = Field(ge=0, le=2**31, description="The frame the box is drawn on.")
    box: Annotated[list[Coordinate], Field(min_length=4, max_length=4)] = Field(
        description="[x1, y1, x2, y2] around the object, in the original video's displayed pixels.")
    frames: int = Field(30, ge=1, le=tracker.MAX_FRAMES,
                        description="How many frames after `frame` to track.")
    field: str | None = Field(None, max_length=64, description="The video field (default: the "
                              "video_tracks question's target, else the schema's first video field).")


class Proposed(BaseModel):
    frame: int
    box: list[float] = Field(description="[x1, y1, x2, y2] in the original's displayed pixels.")


class TrackOut(BaseModel):
    boxes: list[Proposed] = Field(description="One box per frame after `frame`, until the tracker stopped.")
    tracker: str
    stopped: str = Field(description="lost (the object), end (of the video) or limit (the frames asked).")


@router.post("/items/{item_id:id}/track", response_model=TrackOut)
def track_item(project_id: Id, item_id: Id, body: TrackIn, ctx: Ctx = CtxDep) -> dict[str, Any]:
    """Boxes the project's tracker proposes on the frames after `frame`, for the annotator holding the
    item (reviewers and up: any item). Nothing is stored (docs/video.md, "Tracks")."""
    runtime = ctx.runtime
    actor = ctx.read(lambda _conn, who: who)
    request = tracker.TrackRequest(frame=body.frame, box=body.box, frames=body.frames, field=body.field)
    run = tracker.track_item(runtime.db, runtime.blobs, actor, project_id, item_id, request)
    return {"boxes": [{"frame": f, "box": b} for f, b in run.boxes], "tracker": run.tracker,
            "stopped": run.stopped}
