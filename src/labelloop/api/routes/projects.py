"""Projects, their members, progress and jobs."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from labelloop.api.deps import Ctx, CtxDep
from labelloop.api.models import (
    JobOut,
    MemberIn,
    MemberOut,
    NewMemberIn,
    ProjectIn,
    ProjectOut,
    ProjectPatch,
    StatusOut,
)
from labelloop.services import jobs, projects, stats

router = APIRouter(prefix="/api", tags=["projects"])


@router.get("/projects", response_model=list[ProjectOut])
def list_projects(ctx: Ctx = CtxDep) -> list[ProjectOut]:
    return [ProjectOut.model_validate(p) for p in ctx.read(projects.list_projects)]


@router.post("/projects", response_model=ProjectOut, status_code=status.HTTP_201_CREATED)
def create_project(body: ProjectIn, ctx: Ctx = CtxDep) -> ProjectOut:
    return ProjectOut.model_validate(
        ctx.write(projects.create_project, body.name, body.label_schema,
                  description=body.description, overlap=body.overlap,
                  lease_seconds=body.lease_seconds or ctx.runtime.settings.default_lease_seconds,
                  quality=body.quality)
    )


@router.get("/projects/{project_id}", response_model=ProjectOut)
def get_project(project_id: int, ctx: Ctx = CtxDep) -> ProjectOut:
    return ProjectOut.model_validate(ctx.read(projects.get_project, project_id))


@router.patch("/projects/{project_id}", response_model=ProjectOut)
def update_project(project_id: int, body: ProjectPatch, ctx: Ctx = CtxDep) -> ProjectOut:
    changes = body.model_dump(exclude_unset=True)
    if "label_schema" in changes:
        changes["schema"] = changes.pop("label_schema")
    return ProjectOut.model_validate(ctx.write(projects.update_project, project_id, **changes))


@router.delete("/projects/{project_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_project(project_id: int, ctx: Ctx = CtxDep) -> Response:
    ctx.write(projects.delete_project, project_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/projects/{project_id}/members", response_model=list[MemberOut])
def list_members(project_id: int, ctx: Ctx = CtxDep) -> list[MemberOut]:
    return [MemberOut.model_validate(m) for m in ctx.read(projects.list_members, project_id)]


@router.post("/projects/{project_id}/members", response_model=MemberOut)
def add_member(project_id: int, body: NewMemberIn, ctx: Ctx = CtxDep) -> MemberOut:
    """Add a member by username (or change their role)."""
    return MemberOut.model_validate(ctx.write(projects.add_member, project_id, body.username, body.role))


@router.put("/projects/{project_id}/members/{user_id}", response_model=MemberOut)
def set_member(project_id: int, user_id: int, body: MemberIn, ctx: Ctx = CtxDep) -> MemberOut:
    return MemberOut.model_validate(ctx.write(projects.set_member, project_id, user_id, body.role))


@router.delete("/projects/{project_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_member(project_id: int, user_id: int, ctx: Ctx = CtxDep) -> Response:
    ctx.write(projects.remove_member, project_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/projects/{project_id}/status", response_model=StatusOut)
def project_status(project_id: int, ctx: Ctx = CtxDep) -> StatusOut:
    s = ctx.read(stats.project_status, project_id)
    return StatusOut(**vars(s), percent_done=s.percent_done)


@router.get("/projects/{project_id}/jobs", response_model=list[JobOut])
def list_jobs(project_id: int, ctx: Ctx = CtxDep) -> list[JobOut]:
    return [JobOut.model_validate(j) for j in ctx.read(jobs.list_jobs, project_id)]


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: int, ctx: Ctx = CtxDep) -> JobOut:
    return JobOut.model_validate(ctx.read(jobs.get_job, job_id))
