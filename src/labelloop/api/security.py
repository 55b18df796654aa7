"""Security headers on every response: no MIME sniffing, and no page of ours inside a frame.

JSON from /api could otherwise be sniffed as HTML by an old browser, and the API docs page
(/docs, /redoc) could be framed by another site to trick a signed-in user into clicking
through it. The web app under /app/ sends a stricter policy of its own (`labelloop.web`);
a policy already on a response is extended with `frame-ancestors`, never replaced.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NOSNIFF = (b"x-content-type-options", b"nosniff")
NO_FRAMES = (b"x-frame-options", b"DENY")
CSP = b"content-security-policy"
FRAME_ANCESTORS = b"frame-ancestors 'none'"


def secure_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """`headers` with nosniff, X-Frame-Options and CSP frame-ancestors added where missing."""
    out = list(headers)
    names = {name.lower() for name, _ in out}
    for name, value in (NOSNIFF, NO_FRAMES):
        if name not in names:
            out.append((name, value))
    if CSP not in names:
        out.append((CSP, FRAME_ANCESTORS))
        return out
    for i, (name, value) in enumerate(out):
        if name.lower() == CSP and b"frame-ancestors" not in value.lower():
            out[i] = (name, value.rstrip(b"; ") + b"; " + FRAME_ANCESTORS)
    return out


class SecurityHeaders:
    """Pure ASGI middleware: it touches only the response start, so streamed bodies stay streamed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": secure_headers(list(message.get("headers", [])))}
            await send(message)

        await self.app(scope, receive, send_secured)
