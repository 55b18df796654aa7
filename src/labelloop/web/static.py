"""Serving the built app under /app/ with a strict Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

WEB_PREFIX = "/app"
DIST_DIR = Path(__file__).resolve().parent / "dist"

# Scripts and styles only from this origin, no inline code, no plugins, no framing; and
# Trusted Types with no policy at all, so that assigning a string to innerHTML (or any other
# HTML sink) throws: untrusted item content can only ever reach the page as text.
# Items' media fields are references to images, audio and video that may live elsewhere, so
# those load from this origin or over https (never plain http from elsewhere, never data: or
# blob:); `data:` stays for images only because the page's empty favicon is one. The app
# itself refuses any reference that is not an http(s) URL or a relative path (media.tsx).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: https:",
    "media-src 'self' https:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
NOT_BUILT = "The web app is not built: run `make web` (or `make run`, which builds it).\n"


class _Assets(StaticFiles):
    """Hashed build assets: cacheable for ever, with the security headers."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.directory is None or not Path(self.directory).is_dir():
            await PlainTextResponse(NOT_BUILT, status_code=404)(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))  # type: ignore[call-overload]
                for name, value in SECURITY_HEADERS.items():
                    headers.append((name.lower().encode(), value.encode()))
                headers.append((b"cache-control", b"public, max-age=31536000, immutable"))
                message = {**message, "headers": headers}
            await send(message)

        await super().__call__(scope, receive, send_with_headers)  # type: ignore[arg-type]


def _page(dist: Path) -> Response:
    index = dist / "index.html"
    if not index.is_file():
        return PlainTextResponse(NOT_BUILT, status_code=503, headers=SECURITY_HEADERS)
    # The page itself is revalidated on every load so a new build is picked up at once.
    return FileResponse(index, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


def mount_web(app: FastAPI, dist: Path = DIST_DIR) -> None:
    """Serve the app at /app/ (the page) and /app/assets/ (its hashed files)."""

    @app.get(WEB_PREFIX, include_in_schema=False)
    def app_redirect() -> RedirectResponse:
        return RedirectResponse(WEB_PREFIX + "/")

    @app.get(WEB_PREFIX + "/", include_in_schema=False)
    def app_page() -> Response:
        return _page(dist)

    app.mount(WEB_PREFIX + "/assets", _Assets(directory=dist / "assets", check_dir=False), name="web-assets")
