"""The HTTP client of a generation job: OpenAI-compatible chat completions, with a timeout per
request, retries with exponential backoff and jitter, and a rate limit its threads share.

Retried: 429, 5xx and 408 answers, timeouts and failed connections, up to `max_retries` times. The
n-th retry waits `Retry-After` when the answer has one (seconds or an HTTP date, at most
MAX_RETRY_AFTER), else `d/2 + U(0, d/2)` with `d = min(backoff_s * 2**(n-1), MAX_BACKOFF)`:
"equal jitter", so that clients turned away together do not come back together, and none comes
back at once (Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015). Any other
answer but 200 (401, 404 for an unknown model, 400) fails at once: asking again cannot help.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from labelloop import __version__
from labelloop.errors import Invalid, Problem
from labelloop.services.generation.settings import GenerationSettings

MAX_BACKOFF = 60.0
MAX_RETRY_AFTER = 120.0
RETRIED = frozenset({408, 429})
DETAIL_CHARS = 300


class EndpointError(Invalid):
    """The model server failed or refused; the message names its URL and what it answered."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [Problem(message, field="generation.base_url")])


class Stopped(Exception):
    """The job stopped (another request failed) while this one waited."""


class RateLimit:
    """At most `rate` requests a second over every thread: a token bucket that holds one token,
    kept as the time the next request may start (the GCRA form, so a waiting thread holds no lock).
    Requests are spaced at least 1/rate apart, so any window of w seconds sees at most w*rate + 1.
    """

    def __init__(self, rate: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 0.0 if rate is None else 1.0 / rate
        self.clock = clock
        self._lock = threading.Lock()
        self._next = 0.0

    def acquire(self, stop: threading.Event) -> None:
        if self.interval == 0.0:
            return
        with self._lock:
            now = self.clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now and stop.wait(start - now):
            raise Stopped


@dataclass(frozen=True)
class Choice:
    content: str
    finish_reason: str | None


@dataclass(frozen=True)
class Completion:
    """One answer of the server: its choices, the model it names, token usage, seconds taken."""

    choices: list[Choice]
    model: str | None
    usage: dict[str, Any] | None
    seconds: float
    asked: int  # choices asked for (the usage counts them all)
    at: datetime


class ChatClient:
    """Chat completions from one server; safe to share between threads. The first request to fail
    for good stops the others: they raise `Stopped` instead of asking (or waiting) any further."""

    def __init__(self, settings: GenerationSettings, api_key: str | None, *,
                 stop: threading.Event | None = None, rng: random.Random | None = None) -> None:
        assert settings.completions_url is not None and settings.model is not None
        self.settings = settings
        self.url = settings.completions_url
        self.stop = stop or threading.Event()
        self.limit = RateLimit(settings.requests_per_second)
        self._rng = rng or random.Random()
        headers = {"User-Agent": f"labelloop/{__version__}"}
        if api_key is not None:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            headers=headers, timeout=httpx.Timeout(settings.timeout_s),
            limits=httpx.Limits(max_connections=settings.concurrency,
                                max_keepalive_connections=settings.concurrency),
            follow_redirects=False, trust_env=False,
        )
        self.requests = 0  # sent, retries included (for the job's result)
        self._count_lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def complete(self, messages: list[dict[str, str]], n: int) -> Completion:
        """Ask for `n` choices (the server may give fewer); EndpointError once retries are spent."""
        s = self.settings
        body = {"model": s.model, "messages": messages, "temperature": s.temperature, "top_p": s.top_p,
                "max_tokens": s.max_tokens, "n": n, "stream": False}
        attempts = s.max_retries + 1
        for attempt in range(1, attempts + 1):
            if self.stop.is_set():
                raise Stopped
            self.limit.acquire(self.stop)
            with self._count_lock:
                self.requests += 1
            started = time.monotonic()
            retry_after: float | None = None
            try:
                r = self._http.post(self.url, json=body)
            except httpx.TimeoutException:
                failure = f"did not answer within {s.timeout_s:g} s"
            except httpx.TransportError as e:
                failure = f"cannot be reached ({type(e).__name__}: {e})"
            else:
                if r.status_code == 200:
                    return self._completion(r, n, time.monotonic() - started)
                failure = f"answered {r.status_code} {r.reason_phrase}{_detail(r)}"
                if r.status_code not in RETRIED and r.status_code < 500:
                    raise self._fail(f"the model server at {self.url} {failure}")
                retry_after = _retry_after(r.headers.get("retry-after"))
            if attempt == attempts:
                tries = f"{attempts} attempts" if attempts > 1 else "1 attempt (no retries)"
                raise self._fail(f"the model server at {self.url} {failure}, after {tries}")
            if self.stop.wait(self._delay(attempt, retry_after)):
                raise Stopped
        raise AssertionError("unreachable")

    def _fail(self, message: str) -> EndpointError:
        """The error to raise; every other request of the client stops from now on."""
        self.stop.set()
        return EndpointError(message)

    def _delay(self, retry: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        d = min(self.settings.backoff_s * 2.0 ** (retry - 1), MAX_BACKOFF)
        return d / 2 + self._rng.uniform(0, d / 2)

    def _completion(self, r: httpx.Response, n: int, seconds: float) -> Completion:
        try:
            doc = r.json()
            raw = doc["choices"]
            choices = [Choice(c["message"]["content"], c.get("finish_reason")) for c in raw[:n]]
        except (ValueError, KeyError, TypeError, AttributeError):
            choices = []
        if not choices or not all(isinstance(c.content, str) for c in choices):
            raise self._fail(f"the model server at {self.url} answered 200 with no chat completion "
                                f"(expected choices[].message.content text){_detail(r)}")
        model = doc.get("model")
        usage = doc.get("usage")
        return Completion(
            choices=[Choice(c.content, c.finish_reason if isinstance(c.finish_reason, str) else None)
                     for c in choices],
            model=model if isinstance(model, str) and model else None,
            usage=usage if isinstance(usage, dict) else None,
            seconds=round(seconds, 3), asked=n, at=datetime.now(UTC),
        )


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), capped."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
        if not math.isfinite(seconds):
            return None
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _detail(r: httpx.Response) -> str:
    """The server's own explanation, shortened: `: model 'x' not found`."""
    text = ""
    try:
        doc = r.json()
        if isinstance(doc, dict):
            err = doc.get("error", doc.get("detail", doc.get("message")))
            text = str(err.get("message", err)) if isinstance(err, dict) else str(err or "")
    except ValueError:
        text = r.text
    text = " ".join(text.split())
    if len(text) > DETAIL_CHARS:
        text = text[:DETAIL_CHARS] + "…"
    return f": {text}" if text else ""
