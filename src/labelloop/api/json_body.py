"""What the API reads is text that both databases can store: JSON bodies and query strings.

Python's JSON reader accepts more than JSON text that is valid Unicode: it decodes bytes with
`surrogatepass` and turns `"\\ud800"` into a lone surrogate, which no driver can encode again.
And PostgreSQL stores no NUL character, neither in text nor in JSONB. Either failed deep in a
service, when the driver met it, as a 500. Refusing them where the request is read makes them
the 422 of any malformed input, before anything else runs. Every router uses `JSONRoute`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request, Response
from fastapi.routing import APIRoute

from labelloop.errors import Invalid, Problem

# A \u escape of a UTF-16 surrogate, with the backslashes before it (an even number escape each other).
_SURROGATE = re.compile(r"(\\+)u([dD][89a-fA-F][0-9a-fA-F]{2})")
# A \u0000 escape (JSON strings cannot hold a raw NUL: control characters must be escaped).
_NUL = re.compile(r"(\\+)u0000")


def unpaired_surrogate_at(text: str) -> int | None:
    """Where the first `\\uXXXX` escape of a surrogate without its other half starts, if any."""
    high_at: int | None = None  # an escaped high surrogate waiting for its low half
    high_end = -1
    for m in _SURROGATE.finditer(text):
        if len(m.group(1)) % 2 == 0:  # "\\\\ud800": an escaped backslash, then plain text
            continue
        at = m.end(1) - 1
        is_low = int(m.group(2), 16) >= 0xDC00
        if high_at is not None:
            if is_low and at == high_end:
                high_at = None
                continue
            return high_at
        if is_low:
            return at
        high_at, high_end = at, m.end()
    return high_at


def nul_at(text: str) -> int | None:
    """Where the first `\\u0000` escape starts, if any."""
    for m in _NUL.finditer(text):
        if len(m.group(1)) % 2 == 1:
            return m.end(1) - 1
    return None


def parse_json(body: bytes) -> Any:
    """The body as JSON; `json.JSONDecodeError` (FastAPI's 422 json_invalid) if it is not valid."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise json.JSONDecodeError("not UTF-8 text", body.decode("utf-8", "replace"), e.start) from None
    value = json.loads(text)
    if "\\u" in text:
        if (at := unpaired_surrogate_at(text)) is not None:
            raise json.JSONDecodeError("unpaired UTF-16 surrogate in a string", text, at)
        if (at := nul_at(text)) is not None:
            raise json.JSONDecodeError("NUL character (\\u0000) in a string", text, at)
    return value


def check_query(query_string: bytes) -> None:
    """Refuse a query whose names or values hold a NUL character (`Invalid`, naming the parameter)."""
    if b"%00" not in query_string and b"\x00" not in query_string:
        return
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            field = name.replace("\x00", "")
            raise Invalid("the request is invalid", [Problem("NUL characters are not allowed", field=field)])


class _StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class JSONRoute(APIRoute):
    """An API route whose JSON body is read by `parse_json`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            check_query(request.scope.get("query_string", b""))
            return await handler(_StrictJSONRequest(request.scope, request.receive))

        return strict
