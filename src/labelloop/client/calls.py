"""Each API operation the client offers, as a request to send and a way to read its answer.

The sync and async clients send the same `Call`s, so what a method means is written once here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
from pydantic import TypeAdapter

from labelloop.client.models import Answer, Item, Job, Project, ProjectStatus, Round, Task

T = TypeVar("T")
Progress = Callable[[int, int | None], None]
"""Called with (bytes done, bytes in all, or None when the size is not known)."""
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    read: Callable[[httpx.Response], T]
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def request(self, http: httpx.Client | httpx.AsyncClient, content: Any = None) -> httpx.Request:
        params = {k: _query(v) for k, v in self.params.items() if v is not None}
        return http.build_request(self.method, self.path, params=params, json=self.json,
                                  headers=self.headers, content=content)


def _query(value: Any) -> Any:
    return str(value).lower() if isinstance(value, bool) else value


def _one(model: type[T]) -> Callable[[httpx.Response], T]:
    adapter = TypeAdapter(model)
    return lambda r: adapter.validate_json(r.content)


def _many(model: type[T]) -> Callable[[httpx.Response], list[T]]:
    adapter = TypeAdapter(list[model])  # type: ignore[valid-type]
    return lambda r: adapter.validate_json(r.content)


def _json(r: httpx.Response) -> Any:
    return r.json()


def _nothing(r: httpx.Response) -> None:
    return None


def _task_or_none(r: httpx.Response) -> Task | None:
    return None if r.status_code == 204 else Task.model_validate_json(r.content)


def list_projects() -> Call[list[Project]]:
    return Call("GET", "/api/projects", _many(Project))


def get_project(project_id: int) -> Call[Project]:
    return Call("GET", f"/api/projects/{project_id}", _one(Project))


def create_project(name: str, schema: dict[str, Any] | str, *, description: str, overlap: int,
                   lease_seconds: int | None, quality: dict[str, Any] | None) -> Call[Project]:
    body = {"name": name, "label_schema": schema, "description": description, "overlap": overlap,
            "lease_seconds": lease_seconds, "quality": quality}
    return Call("POST", "/api/projects", _one(Project), json=body)


def project_status(project_id: int) -> Call[ProjectStatus]:
    return Call("GET", f"/api/projects/{project_id}/status", _one(ProjectStatus))


def list_items(project_id: int, *, after: int, limit: int, filters: dict[str, Any]) -> Call[list[Item]]:
    return Call("GET", f"/api/projects/{project_id}/items", _many(Item),
                params={**filters, "after": after, "limit": limit})


def start_import(project_id: int, path: Path, *, format: str | None,
                 options: dict[str, Any]) -> Call[Job]:
    # No Idempotency-Key: an upload sent twice would be imported twice, so it is never retried.
    return Call("POST", f"/api/projects/{project_id}/imports", _one(Job),
                params={"filename": path.name, "format": format, **options},
                headers={"Content-Type": "application/octet-stream"})


def export(project_id: int, *, format: str, options: dict[str, Any]) -> Call[None]:
    return Call("GET", f"/api/projects/{project_id}/export", _nothing, params={"format": format, **options})


def get_job(job_id: int) -> Call[Job]:
    return Call("GET", f"/api/jobs/{job_id}", _one(Job))


def list_jobs(project_id: int) -> Call[list[Job]]:
    return Call("GET", f"/api/projects/{project_id}/jobs", _many(Job))


def next_task(project_id: int, exclude: Sequence[int]) -> Call[Task | None]:
    return Call("POST", f"/api/projects/{project_id}/tasks/next", _task_or_none,
                json={"exclude": list(exclude)})


def submit(project_id: int, item_id: int, value: dict[str, Any], *, idempotency_key: str | None,
           duration_ms: int | None, suggestion_version: int | str | None) -> Call[Answer]:
    # A key of our own when the caller gives none: the server stores the answer once, so a retry
    # after a lost reply is safe.
    key = idempotency_key or str(uuid.uuid4())
    return Call("POST", f"/api/projects/{project_id}/items/{item_id}/answers", _one(Answer),
                json={"value": value, "duration_ms": duration_ms, "suggestion_version": suggestion_version},
                headers={"Idempotency-Key": key})


def quality_report(project_id: int) -> Call[dict[str, Any]]:
    return Call("GET", f"/api/projects/{project_id}/quality", _json)


def annotator_report(project_id: int) -> Call[list[dict[str, Any]]]:
    return Call("GET", f"/api/projects/{project_id}/quality/annotators", _json)


def start_round(project_id: int) -> Call[Job]:
    return Call("POST", f"/api/projects/{project_id}/loop/rounds", _one(Job))


def list_rounds(project_id: int) -> Call[list[Round]]:
    return Call("GET", f"/api/projects/{project_id}/loop/rounds", _many(Round))


def export_options(question: str | None, source: str | None, images: str | None, license: str | None,
                   redact: bool | None) -> dict[str, Any]:
    return {"question": question, "source": source, "images": images, "license": license, "redact": redact}


def import_options(as_: str | None, question: str | None, split: str | None) -> dict[str, Any]:
    return {"as": as_, "question": question, "split": split}
