"""The synchronous client (httpx.Client)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TypeVar

import httpx

from labelloop.client import calls
from labelloop.client.calls import CHUNK, Call, Progress
from labelloop.client.errors import ClientError, error_from
from labelloop.client.models import Answer, Item, Job, Project, ProjectStatus, Round, Task
from labelloop.client.retry import Backoff, RetryPolicy
from labelloop.client.transfer import (
    Destination,
    content_length,
    export_target,
    job_failure,
    poll_delays,
    unreachable,
)

T = TypeVar("T")


class Client:
    """A labelloop server over HTTP: `Client("http://host:8000", token="llt_...")`.

    Use it as a context manager (or call `close()`). Errors raise `ClientError`.
    """

    def __init__(self, base_url: str, token: str | None = None, *, timeout: float = 30.0,
                 retries: int = 3, backoff: Backoff = Backoff(),
                 transport: httpx.BaseTransport | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout,
                                  transport=transport)
        self.retry = RetryPolicy(retries, backoff)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        attempt = 0
        while True:
            response: httpx.Response | None = None
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as e:
                failure: httpx.TransportError | None = e
            else:
                failure = None
            wait = self.retry.wait_before_retry(request, response, attempt)
            if wait is None:
                break
            if response is not None:
                response.close()
            time.sleep(wait)
            attempt += 1
        if failure is not None or response is None:
            raise unreachable(request, failure) from failure
        if response.is_error:
            response.read()
            response.close()
            raise error_from(response)
        return response

    def _call(self, call: Call[T], content: Any = None) -> T:
        return call.read(self._send(call.request(self._http, content)))

    # Projects
    def list_projects(self) -> list[Project]:
        """Every project you may see."""
        return self._call(calls.list_projects())

    def get_project(self, project_id: int) -> Project:
        return self._call(calls.get_project(project_id))

    def find_project(self, ref: int | str) -> Project:
        """A project by id, or by its exact name."""
        if isinstance(ref, int) or ref.isdigit():
            return self.get_project(int(ref))
        for p in self.list_projects():
            if p.name == ref:
                return p
        raise ClientError(f"no project named {ref!r}", status=404, type="not_found")

    def create_project(self, name: str, schema: dict[str, Any] | str, *, description: str = "",
                       overlap: int = 1, lease_seconds: int | None = None,
                       quality: dict[str, Any] | None = None) -> Project:
        """Create a project from a label schema (an object, or YAML/JSON text)."""
        return self._call(calls.create_project(name, schema, description=description, overlap=overlap,
                                               lease_seconds=lease_seconds, quality=quality))

    def project_status(self, project_id: int) -> ProjectStatus:
        return self._call(calls.project_status(project_id))

    # Items
    def list_items(self, project_id: int, *, after: int = 0, limit: int = 100, status: str | None = None,
                   q: str | None = None, label: str | None = None, meta: str | None = None,
                   review: str | None = None) -> list[Item]:
        """One page of items with an id above `after`, in id order."""
        filters = {"status": status, "q": q, "label": label, "meta": meta, "review": review}
        return self._call(calls.list_items(project_id, after=after, limit=limit, filters=filters))

    def iter_items(self, project_id: int, *, page_size: int = 100, status: str | None = None,
                   q: str | None = None, label: str | None = None, meta: str | None = None,
                   review: str | None = None) -> Iterator[Item]:
        """Every matching item, one page fetched at a time as the loop reaches it."""
        after = 0
        while True:
            page = self.list_items(project_id, after=after, limit=page_size, status=status, q=q,
                                   label=label, meta=meta, review=review)
            yield from page
            if len(page) < page_size:
                return
            after = page[-1].id

    # Import and export
    def import_file(self, project_id: int, path: str | Path, *, format: str | None = None,
                    as_: str | None = None, question: str | None = None, split: str | None = None,
                    progress: Progress | None = None, wait: bool = True,
                    timeout: float | None = None) -> Job:
        """Upload a file (streamed, `progress(sent, size)` after each chunk) and, with `wait`, wait
        for its import job; a failed import raises ClientError naming each bad line and field."""
        path = Path(path)
        call = calls.start_import(project_id, path, format=format,
                                  options=calls.import_options(as_, question, split))
        job = self._call(call, _chunks(path, progress))
        if not wait:
            return job
        done = self.wait_job(job.id, timeout=timeout)
        if done.status == "failed":
            raise job_failure(done)
        return done

    def export(self, project_id: int, destination: Destination, *, format: str = "jsonl",
               question: str | None = None, source: str | None = None, images: str | None = None,
               license: str | None = None, redact: bool | None = None,
               progress: Progress | None = None) -> int:
        """Stream an export into a file (a path, or an open binary file); returns the bytes written.
        `progress(written, size)` after each chunk (size None: the server streams it as it goes)."""
        call = calls.export(project_id, format=format,
                            options=calls.export_options(question, source, images, license, redact))
        response = self._send(call.request(self._http), stream=True)
        try:
            with export_target(destination) as out:
                return _drain(response.iter_bytes(CHUNK), out, response, progress)
        finally:
            response.close()

    # Jobs
    def get_job(self, job_id: int) -> Job:
        return self._call(calls.get_job(job_id))

    def list_jobs(self, project_id: int) -> list[Job]:
        return self._call(calls.list_jobs(project_id))

    def wait_job(self, job_id: int, *, timeout: float | None = None) -> Job:
        """The job once it has succeeded or failed (polled, more slowly as it runs longer)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for delay in poll_delays():
            job = self.get_job(job_id)
            if job.finished:
                return job
            if deadline is not None and time.monotonic() + delay > deadline:
                raise ClientError(f"job {job_id} ({job.kind}) is still {job.status} after {timeout}s")
            time.sleep(delay)
        raise AssertionError("unreachable")

    # Tasks
    def next_task(self, project_id: int, *, exclude: Sequence[int] = ()) -> Task | None:
        """Lease the next item to label (or the one you hold); None when nothing is left for you."""
        return self._call(calls.next_task(project_id, exclude))

    def submit(self, project_id: int, item_id: int, value: dict[str, Any], *,
               idempotency_key: str | None = None, duration_ms: int | None = None,
               suggestion_version: int | str | None = None) -> Answer:
        """Answer an item. The Idempotency-Key (one is made when none is given) lets a retry
        return the stored answer instead of storing it twice."""
        return self._call(calls.submit(project_id, item_id, value, idempotency_key=idempotency_key,
                                       duration_ms=duration_ms, suggestion_version=suggestion_version))

    # Quality
    def quality_report(self, project_id: int) -> dict[str, Any]:
        """Agreement per question (with its interval), consensus confidence, review, pauses."""
        return self._call(calls.quality_report(project_id))

    def annotator_report(self, project_id: int) -> list[dict[str, Any]]:
        """Each annotator's volume, speed, gold accuracy and agreement."""
        return self._call(calls.annotator_report(project_id))

    # Learning loop
    def run_round(self, project_id: int, *, wait: bool = True, timeout: float | None = None) -> Job:
        """Start a loop round (a job) and, with `wait`, wait for it to finish."""
        job = self._call(calls.start_round(project_id))
        return self.wait_job(job.id, timeout=timeout) if wait else job

    def list_rounds(self, project_id: int) -> list[Round]:
        """Every round's metrics, oldest first."""
        return self._call(calls.list_rounds(project_id))


def _chunks(path: Path, progress: Progress | None) -> Iterator[bytes]:
    size = path.stat().st_size
    sent = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            sent += len(chunk)
            yield chunk
            if progress:
                progress(sent, size)


def _drain(chunks: Iterator[bytes], out: IO[bytes], response: httpx.Response,
           progress: Progress | None) -> int:
    total = content_length(response)
    written = 0
    for chunk in chunks:
        out.write(chunk)
        written += len(chunk)
        if progress:
            progress(written, total)
    return written
