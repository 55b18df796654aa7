"""Request and response bodies of the HTTP API (the OpenAPI document is built from these)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ProblemOut(BaseModel):
    message: str
    line: int | None = None
    record: int | None = None
    file: str | None = None
    field: str | None = None


class ErrorBody(BaseModel):
    type: str = Field(description="not_found, conflict, invalid, forbidden or unauthenticated")
    message: str
    problems: list[ProblemOut] = []


class ErrorOut(BaseModel):
    error: ErrorBody


class LoginIn(BaseModel):
    username: str
    password: str


class UserOut(Out):
    id: int
    username: str
    display_name: str | None
    is_admin: bool
    is_active: bool
    created_at: datetime


class UserIn(BaseModel):
    username: str
    password: str | None = Field(None, description="Leave out for a token-only account (a bot).")
    display_name: str | None = None
    is_admin: bool = False


class UserPatch(BaseModel):
    password: str | None = None
    display_name: str | None = None
    is_active: bool | None = None
    is_admin: bool | None = None


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    user_id: int | None = Field(None, description="Admins may create tokens for others.")
    expires_in_days: int | None = Field(None, ge=1, le=3650)


class TokenOut(Out):
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked: bool


class NewTokenOut(BaseModel):
    token: str = Field(description="The secret. It is shown this once and stored only as a hash.")
    info: TokenOut


class LoginOut(BaseModel):
    token: str
    user: UserOut


class ProjectIn(BaseModel):
    name: str
    description: str = ""
    label_schema: dict[str, Any] | str = Field(
        description="The label schema, as an object or as YAML/JSON text (see docs/schema.md)."
    )
    overlap: int = Field(1, description="Answers each item needs, from distinct annotators.")
    lease_seconds: int | None = Field(
        None, description="How long a handed-out task stays reserved (default: the server's setting)."
    )
    quality: dict[str, Any] | None = Field(
        None, description="Quality-control settings (gold mixing, adaptive overlap, trust, review); "
        "see docs/quality.md.",
    )


class ProjectPatch(BaseModel):
    name: str | None = None
    description: str | None = None
    label_schema: dict[str, Any] | str | None = None
    overlap: int | None = None
    lease_seconds: int | None = None
    quality: dict[str, Any] | None = Field(None, description="Only the keys to change.")
    loop: dict[str, Any] | None = Field(
        None, description="Learning-loop settings, only the keys to change (see docs/loop.md)."
    )


class ProjectOut(Out):
    id: int
    name: str
    description: str
    label_schema: dict[str, Any]
    overlap: int
    lease_seconds: int
    quality: dict[str, Any]
    loop: dict[str, Any]
    created_at: datetime
    role: str | None = Field(description="Your role in the project.")


class MemberIn(BaseModel):
    role: str = Field(description="owner, manager, reviewer or annotator")


class NewMemberIn(MemberIn):
    username: str


class MemberOut(Out):
    user_id: int
    username: str
    role: str


class JobOut(Out):
    id: int
    project_id: int | None
    kind: str
    status: str = Field(description="queued, running, succeeded or failed")
    progress_done: int
    progress_total: int | None
    message: str
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class LabelIssueOut(BaseModel):
    reasons: list[str] = Field(
        description="confident_learning (confident learning over out-of-fold probabilities) and/or "
        "model_disagrees (the model confidently predicts another class than the consensus)."
    )
    model_version: int | None = Field(description="The model version (round) that suspects the label.")
    model_answer: dict[str, Any] | None = Field(
        None, description="That model's out-of-fold answer: {value: {question: class}, confidence}."
    )


class ItemOut(Out):
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
    gold: dict[str, Any] | None = Field(description="Shown to managers only.")
    created_at: datetime
    review: str | None = Field(None, description="pending or done: the review queue.")
    consensus: dict[str, Any] | None = Field(
        None, description="{value, confidence, method, final}, once the item has one."
    )
    label_issue: LabelIssueOut | None = Field(
        None, description="Set when the latest loop round suspects the item's label: why, and which model."
    )


class AnswerOut(Out):
    id: int
    item_id: int
    user_id: int
    username: str | None
    value: dict[str, Any]
    created_at: datetime
    leased_at: datetime | None
    duration_ms: int | None
    source: str


class ItemDetailOut(BaseModel):
    item: ItemOut
    answers: list[AnswerOut]


class GoldIn(BaseModel):
    value: dict[str, Any]


class PriorityIn(BaseModel):
    item_id: int
    priority: float


class PrioritiesIn(BaseModel):
    priorities: list[PriorityIn] = Field(max_length=100_000)


class CountOut(BaseModel):
    updated: int


class NextIn(BaseModel):
    exclude: list[int] = Field(
        default_factory=list,
        max_length=100,
        description="Items the client already shows (so a prefetch gets another one).",
    )


class TaskOut(Out):
    item_id: int
    external_id: str
    data: dict[str, Any]
    meta: dict[str, Any]
    leased_at: datetime
    lease_expires_at: datetime
    prelabel: dict[str, Any] | None = Field(
        None, description="The latest model's answer {value, confidence, model_version}, when the "
        "project shows pre-labels: a suggestion to accept or edit.",
    )


class SubmitIn(BaseModel):
    value: dict[str, Any] = Field(description="The answer: question name -> value.")
    duration_ms: int | None = Field(None, description="Time the annotator spent, as measured by the client.")


class SkipIn(BaseModel):
    reason: str | None = Field(None, max_length=500)


class LeaseOut(Out):
    item_id: int
    state: str
    leased_at: datetime
    expires_at: datetime


class StatusOut(Out):
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
