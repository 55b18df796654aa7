"""What the API answers, as typed objects. Unknown fields are ignored, so a newer server's
answers still parse."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class _Answered(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Project(_Answered):
    id: int
    name: str
    description: str
    label_schema: dict[str, Any]
    overlap: int
    lease_seconds: int
    quality: dict[str, Any]
    loop: dict[str, Any]
    created_at: datetime
    role: str | None = None


class ProjectStatus(_Answered):
    project_id: int
    items: int
    done: int
    in_progress: int
    untouched: int
    answers: int
    answers_needed: int
    leased: int
    skipped: int
    annotators: int
    percent_done: float


class Item(_Answered):
    id: int
    external_id: str
    content_hash: str
    data: dict[str, Any]
    meta: dict[str, Any]
    priority: float
    needed: int
    answer_count: int
    leased: int
    status: str
    gold: dict[str, Any] | None = None
    created_at: datetime
    review: str | None = None
    consensus: dict[str, Any] | None = None
    review_reasons: list[str] = []


class Job(_Answered):
    id: int
    project_id: int | None
    kind: str
    status: str
    progress_done: int
    progress_total: int | None
    message: str
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed")


class Task(_Answered):
    item_id: int
    external_id: str
    data: dict[str, Any]
    meta: dict[str, Any]
    leased_at: datetime
    lease_expires_at: datetime
    prelabel: dict[str, Any] | None = None


class Answer(_Answered):
    id: int
    item_id: int
    user_id: int
    username: str | None
    value: dict[str, Any]
    created_at: datetime
    duration_ms: int | None
    source: str


class Round(_Answered):
    model_version: int
    created_at: datetime
    metrics: dict[str, Any]
