"""What the sync and async clients share around a transfer: where an export goes, how a job is
waited for, and how a failure is told."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

from labelloop.client.errors import ClientError
from labelloop.client.models import Job

Destination = str | Path | IO[bytes]


@contextmanager
def export_target(destination: Destination) -> Iterator[IO[bytes]]:
    """An open binary file: the one given, or the path opened for writing, which is removed again
    when the download fails part way (never a truncated export that looks whole)."""
    if not isinstance(destination, (str, Path)):
        yield destination
        return
    path = Path(destination)
    try:
        with path.open("wb") as out:
            yield out
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def poll_delays() -> Iterator[float]:
    """Seconds between looks at a running job: quick at first, then once a second."""
    return itertools.chain((0.05, 0.1, 0.2, 0.5), itertools.repeat(1.0))


def job_failure(job: Job) -> ClientError:
    """A failed job's error (the API's {message, problems}) as a ClientError."""
    error = job.error or {}
    return ClientError(error.get("message") or f"job {job.id} ({job.kind}) failed", type="invalid",
                       problems=error.get("problems") or [])


def unreachable(request: httpx.Request, failure: Exception | None) -> ClientError:
    why = str(failure) or type(failure).__name__ if failure is not None else "no answer"
    return ClientError(f"{request.method} {request.url}: {why}")


def content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("Content-Length")
    return int(value) if value and value.isdigit() else None
