"""Projects, their members, progress and jobs."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from labelloop.api.deps import Ctx, CtxDep
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
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
from labelloop.api.params import Id
from labelloop.services import jobs, projects, stats
from labelloop.services.curation import search

router = APIRouter(prefix="/api", tags=["projects"], route_class=JSONRoute)
# What an operation on one project (or its job) can answer besides success; changes can conflict.
ONE_PROJECT = documented(401, 403, 404, 422)
CHANGE_PROJECT = documented(401, 403, 404, 409, 422)


@router.get("/projects", response_model=list[ProjectOut], responses=documented(401))
def list_projects(ctx: Ctx = CtxDep) -> list[ProjectOut]:
    return [ProjectOut.model_validate(p) for p in ctx.read(projects.list_projects)]


@router.post("/projects", response_model=ProjectOut, status_code=status.HTTP_201_CREATED,
             responses=documented(401, 403, 409, 422))
def create_project(body: ProjectIn, ctx: Ctx = CtxDep) -> ProjectOut:
    return ProjectOut.model_validate(
        ctx.write(projects.create_project, body.name, body.label_schema,
                  description=body.description, overlap=body.overlap,
                  lease_seconds=body.lease_seconds or ctx.runtime.settings.default_lease_seconds,
                  quality=body.quality)
    )


@router.get("/projects/{project_id:id}", response_model=ProjectOut, responses=ONE_PROJECT)
def get_project(project_id: Id, ctx: Ctx = CtxDep) -> ProjectOut:
    return ProjectOut.model_validate(ctx.read(projects.get_project, project_id))


@router.patch("/projects/{project_id:id}", response_model=ProjectOut, responses=CHANGE_PROJECT)
def update_project(project_id: Id, body: ProjectPatch, ctx: Ctx = CtxDep) -> ProjectOut:
    changes = body.model_dump(exclude_unset=True)
    if "label_schema" in changes:
        changes["schema"] = changes.pop("label_schema")
    return ProjectOut.model_validate(ctx.write(projects.update_project, project_id, **changes))


@router.delete("/projects/{project_id:id}", status_code=status.HTTP_204_NO_CONTENT, responses=ONE_PROJECT)
def delete_project(project_id: Id, ctx: Ctx = CtxDep) -> Response:
    ctx.write(projects.delete_project, project_id)
    search.drop_saved_indexes(ctx.runtime.settings.data_dir, project_id)  # vectors of its items
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/projects/{project_id:id}/members", response_model=list[MemberOut], responses=ONE_PROJECT)
def list_members(project_id: Id, ctx: Ctx = CtxDep) -> list[MemberOut]:
    return [MemberOut.model_validate(m) for m in ctx.read(projects.list_members, project_id)]


@router.post("/projects/{project_id:id}/members", response_model=MemberOut, responses=CHANGE_PROJECT)
def add_member(project_id: Id, body: NewMemberIn, ctx: Ctx = CtxDep) -> MemberOut:
    """Add a member by username (or change their role)."""
    return MemberOut.model_validate(ctx.write(projects.add_member, project_id, body.username, body.role))


@router.put("/projects/{project_id:id}/members/{user_id:id}", response_model=MemberOut,
            responses=CHANGE_PROJECT)
def set_member(project_id: Id, user_id: Id, body: MemberIn, ctx: Ctx = CtxDep) -> MemberOut:
    return MemberOut.model_validate(ctx.write(projects.set_member, project_id, user_id, body.role))


@router.delete("/projects/{project_id:id}/members/{user_id:id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=CHANGE_PROJECT)
def remove_member(project_id: Id, user_id: Id, ctx: Ctx = CtxDep) -> Response:
    ctx.write(projects.remove_member, project_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/projects/{project_id:id}/status", response_model=StatusOut, responses=ONE_PROJECT)
def project_status(project_id: Id, ctx: Ctx = CtxDep) -> StatusOut:
    s = ctx.read(stats.project_status, project_id)
    return StatusOut(**vars(s), percent_done=s.percent_done)


@router.get("/projects/{project_id:id}/jobs", response_model=list[JobOut], responses=ONE_PROJECT)
def list_jobs(project_id: Id, ctx: Ctx = CtxDep) -> list[JobOut]:
    return [JobOut.model_validate(j) for j in ctx.read(jobs.list_jobs, project_id)]


@router.get("/jobs/{job_id:id}", response_model=JobOut, responses=ONE_PROJECT)
def get_job(job_id: Id, ctx: Ctx = CtxDep) -> JobOut:
    return JobOut.model_validate(ctx.read(jobs.get_job, job_id))
