"""When a request is tried again, and after how long.

Only requests that are safe to repeat are retried: GETs, and POSTs that carry an
Idempotency-Key (the server stores such a request once however often it arrives). A transient
failure is one where the request never reached a handler or the server asked to come back:
a connection error, 502/503/504 (a proxy or a restarting server), or 429 (its Retry-After says
when).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})


def is_repeatable(request: httpx.Request) -> bool:
    return request.method in ("GET", "HEAD") or "Idempotency-Key" in request.headers


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the Retry-After header asks for (as a number or an HTTP date), if it says."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: about base, 2*base, 4*base ... seconds, at most `cap`;
    a Retry-After from the server wins (up to `cap`)."""

    base: float = 0.5
    cap: float = 30.0

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        asked = retry_after(response) if response is not None else None
        if asked is not None:
            return min(asked, self.cap)
        return float(min(self.cap, self.base * 2**attempt) * random.uniform(0.5, 1.0))


@dataclass(frozen=True)
class RetryPolicy:
    """How many times a repeatable request is tried again after a transient failure."""

    retries: int = 3
    backoff: Backoff = Backoff()

    def wait_before_retry(self, request: httpx.Request, response: httpx.Response | None,
                          attempt: int) -> float | None:
        """Seconds to wait before trying again, or None to stop here. `response` is None when the
        request failed without an answer (a connection error, a timeout)."""
        if attempt >= self.retries or not is_repeatable(request):
            return None
        if response is not None and response.status_code not in TRANSIENT_STATUSES:
            return None
        return self.backoff.delay(attempt, response)
