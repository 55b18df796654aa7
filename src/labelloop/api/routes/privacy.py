"""Personal data: the project's policy, the scan, and revealing an item's original (docs/privacy.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from labelloop.api.deps import Ctx, CtxDep, project_job
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.models import JobOut
from labelloop.api.params import Id
from labelloop.services.privacy import manage, scan
from labelloop.services.privacy.view import reveal_item

router = APIRouter(
    prefix="/api/projects/{project_id:id}", tags=["privacy"], route_class=JSONRoute,
    responses=documented(401, 403, 404, 422),
)


class PrivacyOut(BaseModel):
    settings: dict[str, Any] = Field(description="The policy, every key (docs/privacy.md).")
    may_reveal: bool = Field(description="Whether you may reveal items' originals.")
    ner_available: bool = Field(description="Whether this server detects names, places, organisations.")
    summary: dict[str, Any] | None = Field(
        None, description="Managers: findings per kind, items with findings, items scanned, items.")


class PrivacyPatch(BaseModel):
    """The keys to change; the others keep their values."""

    enabled: bool | None = None
    kinds: list[str] | None = None
    regions: list[str] | None = None
    language: str | None = None
    annotators: str | None = None
    reveal: str | None = None
    scan_on_import: bool | None = None
    blur_faces: bool | None = None


class RevealOut(BaseModel):
    item_id: int
    data: dict[str, Any] = Field(description="The item's original content.")
    fields: list[str] = Field(description="The texts that hold personal data (paths: docs/privacy.md).")
    legend: dict[str, str] = Field(description="Each placeholder and the original it stands for.")


@router.get("/privacy", response_model=PrivacyOut)
def get_privacy(project_id: Id, ctx: Ctx = CtxDep) -> PrivacyOut:
    """The project's privacy policy (and, for managers, what the scans found)."""
    return PrivacyOut.model_validate(vars(ctx.read(manage.get_privacy, project_id)))


@router.patch("/privacy", response_model=PrivacyOut)
def set_privacy(project_id: Id, body: PrivacyPatch, ctx: Ctx = CtxDep) -> PrivacyOut:
    """Change the policy (managers); the change is recorded in the audit log."""
    changes = body.model_dump(exclude_unset=True)
    return PrivacyOut.model_validate(vars(ctx.write(manage.set_privacy, project_id, changes)))


@router.post("/privacy/scan", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED,
             responses={200: {"model": JobOut, "description": "With `wait`: the finished job."}})
async def scan_items(
    project_id: Id,
    rescan: bool = Query(False, description="Scan every item again, not only those not yet scanned "
                         "under the current settings."),
    wait: bool = Query(False, description="Answer when the scan has finished."),
    ctx: Ctx = CtxDep,
) -> Response:
    """Detect personal data in the project's items (a job with progress; the policy must be on)."""
    ctx.read(scan.check_scan, project_id)  # refused before a job is made
    return await project_job(ctx, project_id, scan.KIND, wait=wait, params={"rescan": rescan})


@router.post("/items/{item_id:id}/reveal", response_model=RevealOut)
def reveal(project_id: Id, item_id: Id, ctx: Ctx = CtxDep) -> RevealOut:
    """The item's original content, personal data included: for the roles the policy allows
    (reviewers by default, never annotators); each reveal is recorded in the audit log."""
    return RevealOut.model_validate(vars(ctx.write(reveal_item, project_id, item_id)))
