"""Domain errors to HTTP statuses, in one place; every error body has the same shape."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from labelloop.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthenticated

log = logging.getLogger(__name__)

STATUS: dict[type[DomainError], tuple[int, str]] = {
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
    Invalid: (422, "invalid"),
    Forbidden: (403, "forbidden"),
    Unauthenticated: (401, "unauthenticated"),
}


def error_response(status: int, kind: str, message: str, problems: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"type": kind, "message": message, "problems": problems or []}}
    return JSONResponse(body, status_code=status, headers=headers)


def _domain(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status, kind = next(v for cls, v in STATUS.items() if isinstance(exc, cls))
    problems = exc.detail if isinstance(exc, Invalid) else None
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    message = str(exc) if isinstance(exc, Invalid) else exc.message
    return error_response(status, kind, message, problems, headers)


def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path", "header")]
        problems.append({"field": ".".join(loc) or None, "message": e.get("msg", "invalid")})
    head = "; ".join(f"field '{p['field']}': {p['message']}" for p in problems[:3])
    return error_response(422, "invalid", f"the request is invalid: {head}", problems)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
