"""Signing in with OpenID Connect: the providers, the start (a redirect) and the callback.

These are browser navigations, not calls from the page: both answer with a redirect, and a
sign-in that fails goes back to the sign-in page with the reason in `sign_in_error`, which the
page shows as text. They need no authentication (they are how one gets it), like the password
sign-in; the state cookie binds the callback to the browser that started.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from labelloop.api.browser import set_session_cookies
from labelloop.api.deps import get_runtime
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.routes.accounts import client_address
from labelloop.config import PROVIDER_NAME
from labelloop.errors import DomainError
from labelloop.services.accounts import oidc
from labelloop.services.accounts.request_limits import OidcLimits, OidcStep, check_oidc
from labelloop.services.runtime import Runtime
from labelloop.web import WEB_PREFIX

router = APIRouter(prefix="/api/auth/oidc", tags=["accounts"], route_class=JSONRoute)
STATE_COOKIE = "labelloop_oidc_state"
REDIRECT: dict[int | str, dict[str, Any]] = {
    302: {"description": "To the provider, or back to the app (with `sign_in_error` if it failed)."}
}


class ProviderOut(BaseModel):
    name: str
    label: str
    start_url: str


@router.get("/providers", response_model=list[ProviderOut])
def list_providers(runtime: Runtime = Depends(get_runtime)) -> list[ProviderOut]:
    """The OpenID Connect providers one may sign in with (no token needed: the sign-in page asks)."""
    return [ProviderOut(name=p.name, label=p.label or p.name, start_url=f"{router.prefix}/{p.name}/start")
            for p in oidc.providers(runtime.settings)]


def _back_to_app(error: str | None = None) -> RedirectResponse:
    target = WEB_PREFIX + "/" + (f"?sign_in_error={quote(error)}" if error else "")
    return RedirectResponse(target, status_code=302)


def _limit(request: Request, runtime: Runtime, step: OidcStep, provider: str) -> None:
    """Count the request against its address's limit, or TooManyAttempts (429, Retry-After)."""
    check_oidc(runtime.db, OidcLimits.from_settings(runtime.settings), step, provider,
               client_address(request))


@router.get("/{provider}/start", responses={**REDIRECT, **documented(404, 422, 429)})
async def start(
    request: Request, provider: str = Path(pattern=PROVIDER_NAME), runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Go to the provider's sign-in page (a redirect), remembering this sign-in in a cookie."""
    p = oidc.provider(runtime.settings, provider)
    await run_in_threadpool(_limit, request, runtime, OidcStep.start, p.name)
    try:
        started = await run_in_threadpool(oidc.start, runtime.db, p)
    except DomainError as e:
        return _back_to_app(e.message)
    response = RedirectResponse(started.authorization_url, status_code=302)
    # Lax, not Strict: the callback is a top-level navigation from the provider's site.
    response.set_cookie(STATE_COOKIE, started.state, max_age=oidc.LOGIN_SECONDS, path=router.prefix,
                        secure=request.url.scheme == "https", httponly=True, samesite="lax")
    return response


@router.get("/{provider}/callback", responses={**REDIRECT, **documented(404, 422, 429)})
async def callback(
    request: Request, provider: str = Path(pattern=PROVIDER_NAME), code: str | None = None,
    state: str | None = None, error: str | None = None, error_description: str | None = None,
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Where the provider sends the browser back: opens a browser session, then goes to the app."""
    p = oidc.provider(runtime.settings, provider)
    await run_in_threadpool(_limit, request, runtime, OidcStep.callback, p.name)
    if error is not None or not code or not state:
        reason = error_description or error or "no code or state in the answer"
        response = _back_to_app(f"{p.label or p.name} did not sign you in: {reason}")
    else:
        try:
            session = await run_in_threadpool(
                lambda: oidc.finish(runtime.db, p, code=code, state=state,
                                    browser_state=request.cookies.get(STATE_COOKIE))
            )
        except DomainError as e:
            response = _back_to_app(e.message)
        else:
            response = _back_to_app()
            set_session_cookies(request, response, session.secret, session.csrf)
    response.delete_cookie(STATE_COOKIE, path=router.prefix, httponly=True, samesite="lax")
    return response
