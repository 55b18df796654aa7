"""The one error the client raises: what the server (or the network) said went wrong."""

from __future__ import annotations

from typing import Any

import httpx


class ClientError(Exception):
    """A request that failed: the API's status, error type, message and problems.

    `status` is None when no answer came (the server could not be reached, or a job failed);
    each problem is the API's `{message, field?, line?, record?, file?}`.
    """

    def __init__(self, message: str, *, status: int | None = None, type: str | None = None,
                 problems: list[dict[str, Any]] | None = None) -> None:
        self.message = message
        self.status = status
        self.type = type
        self.problems = list(problems or [])
        super().__init__(self._text())

    def _text(self) -> str:
        head = f"{self.message} (HTTP {self.status})" if self.status is not None else self.message
        lines = [head]
        for p in self.problems:
            where = ", ".join(f"{k} {p[k]}" for k in ("file", "line", "record", "field")
                              if p.get(k) is not None)
            lines.append(f"  - {where + ': ' if where else ''}{p.get('message', '')}")
        return "\n".join(lines)


def error_from(response: httpx.Response) -> ClientError:
    """The API's error body (`{"error": {type, message, problems}}`) as a ClientError; any other
    body (a proxy's page) is quoted in the message."""
    try:
        body = response.json()
        error = body["error"]
        return ClientError(str(error["message"]), status=response.status_code, type=error.get("type"),
                           problems=error.get("problems") or [])
    except (ValueError, KeyError, TypeError):
        text = response.text.strip()[:200] or response.reason_phrase
        return ClientError(f"{response.request.method} {response.request.url.path}: {text}",
                           status=response.status_code)
