"""The audit log: filtered pages, the chain's check, and an export for an auditor (docs/audit.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from labelloop.api.deps import Ctx, CtxDep
from labelloop.api.download import content_disposition
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.params import Id
from labelloop.errors import Invalid, Problem
from labelloop.services.audit.log import AuditFilter, export_entries, list_entries, verify_log
from labelloop.services.audit.verify import check_anchor

router = APIRouter(prefix="/api/audit", tags=["audit"], route_class=JSONRoute,
                   responses=documented(401, 403, 404, 422))


class AuditEntryOut(BaseModel):
    seq: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    project_id: int | None
    object_type: str | None
    object_id: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPageOut(BaseModel):
    entries: list[AuditEntryOut]
    next_before: int | None = Field(
        description="Pass as `before` for the next (older) page; null at the end.")


class AuditProblemOut(BaseModel):
    seq: int
    kind: str = Field(
        description="changed, missing, inserted, reordered, unlinked, truncated, head or anchor")
    message: str


class AuditVerifyOut(BaseModel):
    ok: bool
    entries: int
    last_seq: int
    last_hash: str
    head_seq: int
    head_hash: str
    first_break: int | None
    problems: list[AuditProblemOut]
    truncated_list: bool = Field(description="More problems than the 50 listed.")
    anchor: dict[str, Any] | None


def _filter(project: int | None, actor: str | None, action: str | None, since: datetime | None,
            until: datetime | None, object_type: str | None, object_id: str | None) -> AuditFilter:
    times: dict[str, datetime | None] = {"since": since, "until": until}
    for name, when in times.items():
        if when is None:
            continue
        if when.tzinfo is None:
            raise Invalid("a time needs its zone", [Problem("give a zone: 2026-11-29T10:00:00Z", field=name)])
        try:
            times[name] = when.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
            raise Invalid("time out of range",
                          [Problem("between the years 1 and 9999 in UTC", field=name)]) from None
    return AuditFilter(project, actor or None, action or None, times["since"], times["until"],
                       object_type or None, object_id or None)


@router.get("", response_model=AuditPageOut)
def list_audit(
    project: Annotated[Id | None, Query(
        description="Only this project's entries (managers must give it).")] = None,
    actor: Annotated[str | None, Query(max_length=150, description="A username, as recorded.")] = None,
    action: Annotated[str | None, Query(max_length=40, description="An action (answer.submit) or its "
                                        "family (answer).")] = None,
    since: Annotated[datetime | None, Query(description="From this time (inclusive), with its zone.")] = None,
    until: Annotated[datetime | None, Query(description="Before this time, with its zone.")] = None,
    object_type: Annotated[str | None, Query(max_length=30)] = None,
    object_id: Annotated[str | None, Query(max_length=100)] = None,
    before: Annotated[Id | None, Query(description="Entries with a smaller seq (the next page).")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ctx: Ctx = CtxDep,
) -> AuditPageOut:
    """Entries newest first: admins every entry, a project's managers that project's (`project`)."""
    f = _filter(project, actor, action, since, until, object_type, object_id)
    found = ctx.read(list_entries, f, before=before, limit=limit)
    out = [AuditEntryOut.model_validate(e, from_attributes=True) for e in found]
    return AuditPageOut(entries=out, next_before=found[-1].seq if len(found) == limit else None)


@router.get("/verify", response_model=AuditVerifyOut)
def verify_audit(
    project: Annotated[Id | None, Query(
        description="For a project's managers: the project they manage.")] = None,
    anchor_seq: Annotated[int | None, Query(ge=0, le=2**63 - 1, description="An anchor's seq.")] = None,
    anchor_hash: Annotated[str | None, Query(max_length=64, description="That anchor's hash.")] = None,
    ctx: Ctx = CtxDep,
) -> AuditVerifyOut:
    """Recompute the whole chain; say where it breaks, and whether it still holds the anchor given."""
    anchor = None
    if (anchor_seq is None) != (anchor_hash is None):
        raise Invalid("an anchor needs both", [Problem("give anchor_seq and anchor_hash together",
                                                       field="anchor_hash")])
    if anchor_seq is not None:
        try:
            anchor = check_anchor({"seq": anchor_seq, "hash": anchor_hash})
        except ValueError as e:
            raise Invalid("invalid anchor", [Problem(str(e), field="anchor_hash")]) from None
    report = ctx.read(verify_log, project, anchor)
    return AuditVerifyOut.model_validate(report.as_dict())


@router.get("/export", responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}})
def export_audit(
    format: Literal["jsonl", "csv"] = "jsonl",
    project: Annotated[Id | None, Query()] = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    ctx: Ctx = CtxDep,
) -> StreamingResponse:
    """Entries oldest first, with their hashes (JSONL or CSV), for an auditor."""
    f = _filter(project, None, None, since, until, None, None)
    caller = ctx.read(lambda _conn, actor: actor)
    stream = export_entries(ctx.runtime.db, caller, f, format)  # checks access before the first byte
    name = f"audit{'-project-' + str(project) if project else ''}.{format}"
    return StreamingResponse(stream, media_type="text/csv" if format == "csv" else "application/x-ndjson",
                             headers={"Content-Disposition": content_disposition(name)})
