"""Browser sessions: log in to a cookie, log out."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from labelloop.api.browser import (
    CSRF_HEADER,
    SESSION_COOKIE,
    clear_session_cookies,
    session_secret,
    set_session_cookies,
)
from labelloop.api.deps import get_runtime
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.models import LoginIn, UserOut
from labelloop.api.routes.accounts import client_address
from labelloop.errors import Unauthenticated
from labelloop.services.accounts import sessions, sign_in
from labelloop.services.runtime import Runtime

router = APIRouter(prefix="/api/auth", tags=["accounts"], route_class=JSONRoute)


class SessionOut(BaseModel):
    user: UserOut
    csrf_token: str = Field(description=f"Send it back as the {CSRF_HEADER} header on unsafe methods.")
    expires_at: datetime


@router.post("/session", response_model=SessionOut, status_code=status.HTTP_201_CREATED,
             responses=documented(401, 422, 429))
def open_session(
    body: LoginIn, request: Request, response: Response, runtime: Runtime = Depends(get_runtime)
) -> SessionOut:
    """Log a browser in: sets an HttpOnly session cookie and a readable CSRF cookie.

    Too many failed attempts for the username or from the address: 429 with Retry-After.
    """
    limits = sign_in.SignInLimits.from_settings(runtime.settings)
    s = sign_in.sign_in(runtime.db, limits, body.username, body.password, client_address(request),
                        sessions.open_session)
    set_session_cookies(request, response, s.secret, s.csrf)
    return SessionOut(user=UserOut.model_validate(s.user), csrf_token=s.csrf, expires_at=s.expires_at)


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT, responses=documented(401, 403))
def close_session(request: Request, runtime: Runtime = Depends(get_runtime)) -> Response:
    """Log out: revoke the session (or, with a bearer token, that token) and clear the cookies.

    A stale or revoked session still has its cookies cleared, so a browser can always log out.
    """
    header = request.headers.get("authorization", "")
    scheme, _, bearer = header.partition(" ")
    secret = bearer.strip() if scheme.lower() == "bearer" and bearer.strip() else None
    if secret is None:
        secret = session_secret(request)
    if secret is None:
        raise Unauthenticated(f"authentication required: no {SESSION_COOKIE} cookie or bearer token")

    def go(conn: Connection) -> bool:
        return sessions.close_session(conn, secret)

    runtime.db.run(go)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookies(request, response)
    return response
