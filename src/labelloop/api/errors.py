"""Domain errors to HTTP statuses, in one place; every error body has the same shape.

The same place declares those errors in the OpenAPI document (`documented`), so what a client
reads there is what the handlers below send.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from labelloop.api.models import ErrorOut
from labelloop.api.security import secure_headers
from labelloop.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
)

log = logging.getLogger(__name__)

STATUS: dict[type[DomainError], tuple[int, str]] = {
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
    Invalid: (422, "invalid"),
    Forbidden: (403, "forbidden"),
    Unauthenticated: (401, "unauthenticated"),
    TooManyAttempts: (429, "too_many_attempts"),
}
# Statuses the router itself answers (no route, or not this method): same body, its own type.
HTTP_KINDS = {404: "not_found", 405: "method_not_allowed"}

WHEN = {
    401: "Not signed in: no token or session, or one that is wrong, expired or revoked.",
    403: "Signed in, but not allowed: your role, a pause, or a missing CSRF header (browser sessions).",
    404: "No such resource, or none that you may see.",
    409: "The request conflicts with the current state (the message says how).",
    422: "The request is invalid; each problem names the field, line or record.",
    429: "Too many failed sign-ins; the Retry-After header says how many seconds to wait.",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error statuses an operation can answer, with the error body."""
    return {status: {"model": ErrorOut, "description": WHEN[status]} for status in statuses}


def error_response(status: int, kind: str, message: str, problems: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"type": kind, "message": message, "problems": problems or []}}
    return JSONResponse(body, status_code=status, headers=headers)


def _domain(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return domain_error_response(exc)


def domain_error_response(exc: DomainError) -> JSONResponse:
    """The response a domain error becomes (also sent by api/hot_paths.py, outside the router)."""
    status, kind = next(v for cls, v in STATUS.items() if isinstance(exc, cls))
    problems = exc.detail if isinstance(exc, Invalid) else None
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after)}
    message = str(exc) if isinstance(exc, Invalid) else exc.message
    return error_response(status, kind, message, problems, headers)


def _problem(error: Any) -> dict[str, Any]:
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header")]
    kind, message = error.get("type"), error.get("msg", "invalid")
    if kind == "json_invalid":
        # The location is an offset into the text, not a field: say what the parser said, and where.
        reason = (error.get("ctx") or {}).get("error", "not JSON")
        where = f" at character {loc[0]}" if loc else ""
        return {"field": "body", "message": f"the body cannot be read as JSON: {reason}{where}"}
    if kind == "model_attributes_type" and not loc and isinstance(error.get("input"), bytes | str):
        # A body that was not parsed as JSON at all, usually for want of its content type.
        return {"field": "body", "message": "the body must be a JSON object sent as application/json"}
    return {"field": ".".join(loc) or None, "message": message}


def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_problem(e) for e in exc.errors()]
    head = "; ".join(
        f"field '{p['field']}': {p['message']}" if p["field"] else p["message"] for p in problems[:3]
    )
    return error_response(422, "invalid", f"the request is invalid: {head}", problems)


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    kind = HTTP_KINDS.get(exc.status_code, "http_error")
    if exc.status_code == 404:
        message = f"no such path: {request.url.path}"
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        message = f"{request.method} is not allowed on {request.url.path}" + (
            f" (allowed: {allowed})" if allowed else "")
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, kind, message, headers=dict(exc.headers or {}))


def _unexpected(_request: Request, _exc: Exception) -> JSONResponse:
    # Starlette logs the exception and re-raises it after this; the client gets the usual shape
    # and nothing of the internals. This response leaves through Starlette's outermost error
    # middleware, outside SecurityHeaders, so it carries the security headers itself.
    response = error_response(500, "internal", "internal server error")
    response.raw_headers = secure_headers(response.raw_headers)
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
