"""The annotator's two hot requests, answered without the router: next task and submit.

Routing through every declared route, solving dependencies, a Pydantic round trip of the
response and anyio's thread hand-off cost about a third of a next + submit cycle's CPU
(bench/profile_cycle.py; BENCHMARKS.md), more than the services behind them. `HotPaths`
answers the common form of the two requests itself, with the same service calls, the same
authentication and the same response bodies as the routes in routes/tasks.py (which stay, and
document both in OpenAPI):

- `POST /api/projects/{id}/tasks/next` with no body or a valid `NextIn`;
- `POST /api/projects/{id}/items/{id}/answers` with a valid `TaskAnswerIn` as JSON;

each with `Authorization: Bearer`, no query string and ids in range. Anything else (a browser's
cookie session with its CSRF check, a body that fails validation, an id out of range, a wrong
scheme) goes on to the router untouched, which answers it as it always did; so every error but a
domain error (rendered by the one function the router uses) keeps its single source.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from labelloop.api.deps import Ctx
from labelloop.api.errors import domain_error_response
from labelloop.api.json_body import parse_json
from labelloop.api.models import AnswerOut, NextIn, TaskAnswerIn, TaskOut
from labelloop.api.params import MAX_ID
from labelloop.errors import DomainError
from labelloop.services.queue import answers
from labelloop.services.queue import tasks as queue

# Ids as the routes accept them (`Id`: 1 to MAX_ID); anything else is the router's to refuse.
_NEXT = re.compile(r"/api/projects/([1-9][0-9]{0,18})/tasks/next")
_SUBMIT = re.compile(r"/api/projects/([1-9][0-9]{0,18})/items/([1-9][0-9]{0,18})/answers")
_JSON_TYPES = frozenset({b"application/json", b"application/json; charset=utf-8"})
_MAX_BODY = 1 << 20  # larger bodies go the long way (the router reads any size)
_TASK_FIELDS = tuple(TaskOut.model_fields)
_ANSWER_FIELDS = tuple(AnswerOut.model_fields)
_JSON_HEADER = (b"content-type", b"application/json")
# The services run in threads, as FastAPI runs a route; handed over with the event loop's own
# executor call, which costs about half of anyio's (its limiter and cancel scope) per request.
# On PostgreSQL as many threads as anyio's default limiter allows. SQLite has one writer at a time
# and both requests write: threads past a few only wait on its lock, and waking them costs CPU
# (a cycle at saturation, 16 clients: 5-8% less CPU with 2 or 4 threads than with 40); a few
# remain so that a request waiting for another process's write does not hold up the rest.
_THREADS = ThreadPoolExecutor(40, thread_name_prefix="labelloop-hot")
_SQLITE_THREADS = ThreadPoolExecutor(4, thread_name_prefix="labelloop-hot-sqlite")
T = TypeVar("T")


async def _in_thread(ctx: Ctx, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn` in a thread, in a copy of this context (as FastAPI's thread hand-off runs it)."""
    call = partial(contextvars.copy_context().run, fn, *args, **kwargs)
    pool = _SQLITE_THREADS if ctx.runtime.db.is_sqlite else _THREADS
    return await asyncio.get_running_loop().run_in_executor(pool, call)


class _Reply:
    """A response as ASGI messages, without Starlette's Response object."""

    __slots__ = ("body", "status")

    def __init__(self, status: int, body: bytes = b"") -> None:
        self.status, self.body = status, body

    async def __call__(self, _scope: Scope, _receive: Receive, send: Send) -> None:
        length = (b"content-length", str(len(self.body)).encode())
        headers = [] if self.status == 204 else [_JSON_HEADER, length]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


class _Declined(Exception):
    """The request is not in the common form: the router answers it."""


def _body_json(obj: Any, fields: tuple[str, ...], model: type[BaseModel]) -> bytes:
    """The response body the route would send: the Out model's fields of `obj`, as JSON.

    orjson renders what the model's JSON mode renders (datetimes in UTC with `Z`); a value it
    cannot (an integer past 64 bits in an item's data) goes through the model instead."""
    try:
        return orjson.dumps({name: getattr(obj, name) for name in fields}, option=orjson.OPT_UTC_Z)
    except orjson.JSONEncodeError:
        return json.dumps(model.model_validate(obj).model_dump(mode="json"), ensure_ascii=False,
                          separators=(",", ":")).encode()


def _headers(scope: Scope) -> tuple[str, bytes | None, str | None]:
    """(bearer token, content type, idempotency key) of a request in the common form."""
    auth: bytes | None = None
    content_type: bytes | None = None
    key: bytes | None = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            if auth is not None:
                raise _Declined
            auth = value
        elif name == b"content-type":
            content_type = value.lower()
        elif name == b"idempotency-key":
            if key is not None:
                raise _Declined
            key = value
    if auth is None:
        raise _Declined
    scheme, _, token = auth.decode("latin-1").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _Declined
    return token, content_type, None if key is None else key.decode("latin-1")


class _Body:
    """The request body as read so far: whole (`complete`), or cut short, to hand on as it came."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.complete = False
        self.last: Message | None = None  # a message that was not body (a disconnect)

    async def read(self, receive: Receive) -> bytes:
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                self.last = message
                raise _Declined  # the client went away: the router deals with it
            chunk = message.get("body", b"")
            self.chunks.append(chunk)
            size += len(chunk)
            self.complete = not message.get("more_body", False)
            if size > _MAX_BODY:
                raise _Declined
            if self.complete:
                return b"".join(self.chunks)

    def replay(self, receive: Receive) -> Receive:
        """A `receive` that gives the router what was read, then the rest of the request."""
        pending: list[Message] = []
        if self.chunks or self.complete:
            pending.append({"type": "http.request", "body": b"".join(self.chunks),
                            "more_body": not self.complete})
        if self.last is not None:
            pending.append(self.last)

        async def replayed() -> Message:
            if pending:
                return pending.pop(0)
            return await receive()

        return replayed


def _model(model: type[BaseModel], body: bytes) -> Any:
    try:
        return model.model_validate(parse_json(body))
    except (json.JSONDecodeError, ValidationError):
        raise _Declined from None


class HotPaths:
    """Pure ASGI middleware in front of the router (inside SecurityHeaders and Starlette's error
    handling, so responses get the same headers and an unexpected error the same 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope.get("query_string") \
                or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        nxt = _NEXT.fullmatch(path)
        sub = None if nxt else _SUBMIT.fullmatch(path)
        if nxt is None and sub is None:
            await self.app(scope, receive, send)
            return
        try:
            token, content_type, key = _headers(scope)
        except _Declined:
            await self.app(scope, receive, send)
            return
        read = _Body()
        try:
            body = await read.read(receive)
            if content_type is not None and content_type not in _JSON_TYPES:
                raise _Declined
            ctx = Ctx(scope["app"].state.runtime, token)
            if nxt is not None:
                response = await self._next(ctx, int(nxt.group(1)), body)
            else:
                assert sub is not None
                response = await self._submit(ctx, int(sub.group(1)), int(sub.group(2)), body, key)
        except _Declined:
            await self.app(scope, read.replay(receive), send)
            return
        await response(scope, receive, send)

    async def _next(self, ctx: Ctx, project_id: int, body: bytes) -> ASGIApp:
        if project_id > MAX_ID:
            raise _Declined
        exclude = frozenset(_model(NextIn, body).exclude) if body else frozenset[int]()
        try:
            task = await _in_thread(ctx, ctx.write, queue.next_task, project_id, exclude=exclude,
                                    max_held=ctx.runtime.settings.max_held_tasks)
        except DomainError as e:
            return domain_error_response(e)
        if task is None:
            return _Reply(204)
        return _Reply(200, _body_json(task, _TASK_FIELDS, TaskOut))

    async def _submit(self, ctx: Ctx, project_id: int, item_id: int, body: bytes, key: str | None
                      ) -> ASGIApp:
        if project_id > MAX_ID or item_id > MAX_ID:
            raise _Declined
        sent: TaskAnswerIn = _model(TaskAnswerIn, body)
        try:
            answer, created = await _in_thread(
                ctx, ctx.write, answers.submit_answer, project_id, item_id, sent.value, idempotency_key=key,
                duration_ms=sent.duration_ms, suggestion_version=sent.suggestion_version)
        except DomainError as e:
            return domain_error_response(e)
        return _Reply(201 if created else 200, _body_json(answer, _ANSWER_FIELDS, AnswerOut))
