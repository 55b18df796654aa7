"""The FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi_offline import FastAPIOffline

from labelloop import __version__, heap
from labelloop.api import errors
from labelloop.api.hot_paths import HotPaths
from labelloop.api.routes import (
    accounts,
    audit,
    blobs,
    curation,
    erasure,
    feedback,
    generation,
    items,
    loop,
    oidc,
    privacy,
    projects,
    quality,
    releases,
    revisions,
    schemas,
    segment,
    session,
    slices,
    tasks,
    track,
)
from labelloop.api.security import SecurityHeaders
from labelloop.config import Settings, get_settings
from labelloop.services.runtime import Runtime
from labelloop.web import WEB_PREFIX, mount_web

DESCRIPTION = """
The labelloop HTTP API. Authenticate with `Authorization: Bearer <token>`: get a token with
`POST /api/auth/login` or `labelloop token create`. Errors always have the shape
`{"error": {"type", "message", "problems": [{"line", "record", "file", "field", "message"}]}}`.
"""


def create_app(runtime: Runtime | None = None, *, settings: Settings | None = None) -> FastAPI:
    """The app over `runtime` (or a new one from settings; the database must be migrated)."""
    owned = runtime is None
    rt = runtime or Runtime(settings or get_settings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # LABELLOOP_JOB_WORKERS threads claim jobs (none when 0: `serve`'s job process or workers do)
        rt.start_jobs()
        if owned:  # a serving process, not a test's app
            heap.settle()
        yield
        if owned:
            rt.close()

    # The docs pages load Swagger UI from the package, not from a CDN: nothing leaves the network.
    # FastAPI's own OpenTelemetry is off: nothing here sets up a provider, and asking whether one is
    # set up cost about 30 µs of every request (measured on a busy 2-core machine).
    app = FastAPIOffline(
        title="labelloop", version=__version__, description=DESCRIPTION, lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.runtime = rt
    errors.install(app)
    app.add_middleware(HotPaths)  # next task and submit without the router (api/hot_paths.py)
    app.add_middleware(SecurityHeaders)  # added last: the outer one, so it sees every response
    for module in (accounts, session, oidc, projects, schemas, items, blobs, tasks, segment, track, quality,
                   revisions, loop, generation, feedback, audit, privacy, erasure, releases, curation,
                   slices):
        app.include_router(module.router)

    @app.get("/api/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness probe; needs no token and says nothing about the data."""
        return {"status": "ok", "version": __version__}

    mount_web(app)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(WEB_PREFIX + "/")

    return app


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (each worker process builds its own runtime)."""
    return create_app()
