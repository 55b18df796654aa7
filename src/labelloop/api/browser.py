"""How a browser authenticates: the session cookie, and the CSRF check that goes with it.

API clients send `Authorization: Bearer <token>` and are not exposed to CSRF (a browser never
adds that header by itself). A browser sends the session cookie, which it would also attach to
a forged cross-site request; so every unsafe method authenticated by the cookie must repeat
the CSRF token in a header, which a page on another origin cannot read or set.
"""

from __future__ import annotations

from fastapi import Request, Response

from labelloop.errors import Forbidden
from labelloop.services.accounts.sessions import SESSION_DAYS, csrf_matches

SESSION_COOKIE = "labelloop_session"
CSRF_COOKIE = "labelloop_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def session_secret(request: Request) -> str | None:
    """The session token from the cookie, after the CSRF check for unsafe methods."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    if request.method not in SAFE_METHODS and not csrf_matches(secret, request.headers.get(CSRF_HEADER)):
        raise Forbidden(f"missing or wrong {CSRF_HEADER} header (send the value of the {CSRF_COOKIE} cookie)")
    return secret


def set_session_cookies(request: Request, response: Response, secret: str, csrf: str) -> None:
    # Secure whenever the page itself came over https (directly or via a proxy that says so),
    # so a plain-http development server on loopback still works.
    secure = request.url.scheme == "https"
    max_age = SESSION_DAYS * 86400
    response.set_cookie(SESSION_COOKIE, secret, max_age=max_age, path="/", secure=secure,
                        httponly=True, samesite="strict")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, path="/", secure=secure,
                        httponly=False, samesite="strict")


def clear_session_cookies(request: Request, response: Response) -> None:
    secure = request.url.scheme == "https"
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="strict")
    response.delete_cookie(CSRF_COOKIE, path="/", secure=secure, httponly=False, samesite="strict")
