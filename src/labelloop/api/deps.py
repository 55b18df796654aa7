"""Per-request context: who is calling, and one transaction to call a service in.

The caller's token is resolved inside the same transaction as the work it asks for, so a
request costs one connection and one transaction, and a revoked token stops working at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Connection

from labelloop.api.browser import session_secret
from labelloop.errors import Unauthenticated
from labelloop.services.policy import Actor
from labelloop.services.runtime import Runtime
from labelloop.services.tokens import actor_for_token

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


async def get_ctx(request: Request) -> Ctx:
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
