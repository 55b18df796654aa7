"""Per-request context: who is calling, and one transaction to call a service in.

The caller's token is resolved inside the same transaction as the work it asks for, so a
request costs one connection and one transaction, and a revoked token stops working at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Depends, Request, Response, Security
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from labelloop.api.browser import SESSION_COOKIE, session_secret
from labelloop.api.models import JobOut
from labelloop.errors import Unauthenticated
from labelloop.services.accounts.tokens import actor_for_token
from labelloop.services.jobs import JobInfo, create_job, get_job
from labelloop.services.policy import Action, Actor, access
from labelloop.services.runtime import Runtime

T = TypeVar("T")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


class Ctx:
    """The runtime and the caller's credentials; `write`/`read` run a service as the caller."""

    def __init__(self, runtime: Runtime, token: str) -> None:
        self.runtime = runtime
        self.token = token

    def actor(self, conn: Connection) -> Actor:
        return actor_for_token(conn, self.token)

    def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return self.runtime.db.run(lambda conn: fn(conn, self.actor(conn), *args, **kwargs))

    def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self.runtime.db.read() as conn:
            return fn(conn, self.actor(conn), *args, **kwargs)


# Declared so that the OpenAPI document (and Swagger UI's Authorize button) names both ways in;
# `get_ctx` reads the header and the cookie itself, so a wrong scheme gets a message of its own.
BEARER = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer <token>`.")
SESSION = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False,
    description="A browser session (POST /api/auth/session); unsafe methods also need X-CSRF-Token.",
)


async def get_ctx(
    request: Request,
    _bearer: HTTPAuthorizationCredentials | None = Security(BEARER),
    _session: str | None = Security(SESSION),
) -> Ctx:
    header = request.headers.get("authorization")
    if not header:
        session = session_secret(request)  # a browser: the session cookie, CSRF-checked
        if session is not None:
            return Ctx(request.app.state.runtime, session)
        raise Unauthenticated("authentication required: send 'Authorization: Bearer <token>'")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("use 'Authorization: Bearer <token>'")
    return Ctx(request.app.state.runtime, token.strip())


CtxDep = Depends(get_ctx)


def _start_project_job(conn: Connection, actor: Actor, project_id: int, kind: str, params: dict[str, Any]
                       ) -> JobInfo:
    access(conn, actor, project_id, Action.edit_project)
    return create_job(conn, actor, project_id, kind, params)


async def finished(runtime: Runtime, job_id: int, poll: float = 0.02) -> JobInfo:
    """The job once it has finished, whichever process runs it (the request waits for it)."""
    while True:
        job = await run_in_threadpool(runtime.db.run, lambda conn: get_job(conn, Actor.operator(), job_id))
        if job.finished:
            return job
        await asyncio.sleep(poll)


async def project_job(ctx: Ctx, project_id: int, kind: str, *, wait: bool,
                      params: dict[str, Any] | None = None) -> Response:
    """Queue a manager's background job on a project (services/jobs/kinds.py runs it from `params`):
    202 with the job, or 200 once done if `wait`."""
    job = await run_in_threadpool(ctx.write, _start_project_job, project_id, kind, params or {})
    ctx.runtime.queued(job)
    if wait:
        job = await finished(ctx.runtime, job.id)
    return JSONResponse(JobOut.model_validate(job).model_dump(mode="json"), status_code=200 if wait else 202)
