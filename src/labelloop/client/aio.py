"""The asynchronous client (httpx.AsyncClient): the same methods as `Client`, awaited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

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


class AsyncClient:
    """A labelloop server over HTTP, for asyncio: `async with AsyncClient(url, token=...) as c`."""

    def __init__(self, base_url: str, token: str | None = None, *, timeout: float = 30.0,
                 retries: int = 3, backoff: Backoff = Backoff(),
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout,
                                       transport=transport)
        self.retry = RetryPolicy(retries, backoff)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def _send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        attempt = 0
        while True:
            response: httpx.Response | None = None
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.TransportError as e:
                failure: httpx.TransportError | None = e
            else:
                failure = None
            wait = self.retry.wait_before_retry(request, response, attempt)
            if wait is None:
                break
            if response is not None:
                await response.aclose()
            await asyncio.sleep(wait)
            attempt += 1
        if failure is not None or response is None:
            raise unreachable(request, failure) from failure
        if response.is_error:
            await response.aread()
            await response.aclose()
            raise error_from(response)
        return response

    async def _call(self, call: Call[T], content: Any = None) -> T:
        return call.read(await self._send(call.request(self._http, content)))

    # Projects
    async def list_projects(self) -> list[Project]:
        return await self._call(calls.list_projects())

    async def get_project(self, project_id: int) -> Project:
        return await self._call(calls.get_project(project_id))

    async def find_project(self, ref: int | str) -> Project:
        """A project by id, or by its exact name."""
        if isinstance(ref, int) or ref.isdigit():
            return await self.get_project(int(ref))
        for p in await self.list_projects():
            if p.name == ref:
                return p
        raise ClientError(f"no project named {ref!r}", status=404, type="not_found")

    async def create_project(self, name: str, schema: dict[str, Any] | str, *, description: str = "",
                             overlap: int = 1, lease_seconds: int | None = None,
                             quality: dict[str, Any] | None = None) -> Project:
        return await self._call(calls.create_project(name, schema, description=description, overlap=overlap,
                                                     lease_seconds=lease_seconds, quality=quality))

    async def project_status(self, project_id: int) -> ProjectStatus:
        return await self._call(calls.project_status(project_id))

    # Items
    async def list_items(self, project_id: int, *, after: int = 0, limit: int = 100,
                         status: str | None = None, q: str | None = None, label: str | None = None,
                         meta: str | None = None, review: str | None = None) -> list[Item]:
        filters = {"status": status, "q": q, "label": label, "meta": meta, "review": review}
        return await self._call(calls.list_items(project_id, after=after, limit=limit, filters=filters))

    async def iter_items(self, project_id: int, *, page_size: int = 100, status: str | None = None,
                         q: str | None = None, label: str | None = None, meta: str | None = None,
                         review: str | None = None) -> AsyncIterator[Item]:
        """Every matching item, one page fetched at a time as the loop reaches it."""
        after = 0
        while True:
            page = await self.list_items(project_id, after=after, limit=page_size, status=status, q=q,
                                         label=label, meta=meta, review=review)
            for item in page:
                yield item
            if len(page) < page_size:
                return
            after = page[-1].id

    # Import and export
    async def import_file(self, project_id: int, path: str | Path, *, format: str | None = None,
                          as_: str | None = None, question: str | None = None, split: str | None = None,
                          progress: Progress | None = None, wait: bool = True,
                          timeout: float | None = None) -> Job:
        path = Path(path)
        call = calls.start_import(project_id, path, format=format,
                                  options=calls.import_options(as_, question, split))
        job = await self._call(call, _chunks(path, progress))
        if not wait:
            return job
        done = await self.wait_job(job.id, timeout=timeout)
        if done.status == "failed":
            raise job_failure(done)
        return done

    async def export(self, project_id: int, destination: Destination, *, format: str = "jsonl",
                     question: str | None = None, source: str | None = None, images: str | None = None,
                     license: str | None = None, redact: bool | None = None,
                     progress: Progress | None = None) -> int:
        call = calls.export(project_id, format=format,
                            options=calls.export_options(question, source, images, license, redact))
        response = await self._send(call.request(self._http), stream=True)
        try:
            total = content_length(response)
            written = 0
            with export_target(destination) as out:
                async for chunk in response.aiter_bytes(CHUNK):
                    out.write(chunk)
                    written += len(chunk)
                    if progress:
                        progress(written, total)
            return written
        finally:
            await response.aclose()

    # Jobs
    async def get_job(self, job_id: int) -> Job:
        return await self._call(calls.get_job(job_id))

    async def list_jobs(self, project_id: int) -> list[Job]:
        return await self._call(calls.list_jobs(project_id))

    async def wait_job(self, job_id: int, *, timeout: float | None = None) -> Job:
        deadline = None if timeout is None else time.monotonic() + timeout
        for delay in poll_delays():
            job = await self.get_job(job_id)
            if job.finished:
                return job
            if deadline is not None and time.monotonic() + delay > deadline:
                raise ClientError(f"job {job_id} ({job.kind}) is still {job.status} after {timeout}s")
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    # Tasks
    async def next_task(self, project_id: int, *, exclude: Sequence[int] = ()) -> Task | None:
        return await self._call(calls.next_task(project_id, exclude))

    async def submit(self, project_id: int, item_id: int, value: dict[str, Any], *,
                     idempotency_key: str | None = None, duration_ms: int | None = None,
                     suggestion_version: int | str | None = None) -> Answer:
        return await self._call(calls.submit(project_id, item_id, value, idempotency_key=idempotency_key,
                                             duration_ms=duration_ms,
                                             suggestion_version=suggestion_version))

    # Quality
    async def quality_report(self, project_id: int) -> dict[str, Any]:
        return await self._call(calls.quality_report(project_id))

    async def annotator_report(self, project_id: int) -> list[dict[str, Any]]:
        return await self._call(calls.annotator_report(project_id))

    # Learning loop
    async def run_round(self, project_id: int, *, wait: bool = True, timeout: float | None = None) -> Job:
        job = await self._call(calls.start_round(project_id))
        return await self.wait_job(job.id, timeout=timeout) if wait else job

    async def list_rounds(self, project_id: int) -> list[Round]:
        return await self._call(calls.list_rounds(project_id))


async def _chunks(path: Path, progress: Progress | None) -> AsyncIterator[bytes]:
    size = path.stat().st_size
    sent = 0
    with path.open("rb") as f:
        while chunk := await asyncio.to_thread(f.read, CHUNK):
            sent += len(chunk)
            yield chunk
            if progress:
                progress(sent, size)
