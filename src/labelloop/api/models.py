"""Request and response bodies of the HTTP API (the OpenAPI document is built from these)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from labelloop.api.params import MAX_DURATION_MS, MAX_LEASE_SECONDS, BodyId
from labelloop.services.policy import Scope
from labelloop.services.projects import MAX_OVERLAP


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ProblemOut(BaseModel):
    message: str
    line: int | None = None
    column: int | None = None
    record: int | None = None
    file: str | None = None
    field: str | None = None


class ErrorBody(BaseModel):
    type: str = Field(
        description="not_found, conflict, invalid, forbidden, unauthenticated, too_many_attempts, "
        "method_not_allowed or internal"
    )
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
    password: str | None = Field(
        None, description="Admins reset another user's password; it ends that user's browser sessions. "
        "Your own: POST /api/me/password.",
    )
    display_name: str | None = None
    is_active: bool | None = None
    is_admin: bool | None = None
    revoke_tokens: bool = Field(True, description="With a password reset: revoke the user's API tokens too.")


class PasswordChangeIn(BaseModel):
    current_password: str
    new_password: str
    revoke_tokens: bool = Field(
        False, description="Revoke your other API tokens too (your other browser sessions end anyway).",
    )


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    user_id: BodyId | None = Field(None, description="Admins may create tokens for others.")
    expires_in_days: int | None = Field(None, strict=True, ge=1, le=3650)
    scopes: list[Scope] = Field(
        default_factory=lambda: list(Scope), min_length=1, max_length=4,
        description="What the token may do: read, annotate, manage, admin (default: all four); "
        "they narrow what the user's roles allow (docs/security.md).",
    )


class TokenOut(Out):
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked: bool
    scopes: list[str]


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
    overlap: int = Field(1, strict=True, ge=1, le=MAX_OVERLAP,
                         description="Answers each item needs, from distinct annotators.")
    lease_seconds: int | None = Field(
        None, strict=True, ge=1, le=MAX_LEASE_SECONDS,
        description="How long a handed-out task stays reserved (default: the server's setting).",
    )
    quality: dict[str, Any] | None = Field(
        None, description="Quality-control settings (gold mixing, adaptive overlap, trust, review); "
        "see docs/quality.md.",
    )


class ProjectPatch(BaseModel):
    name: str | None = None
    description: str | None = None
    label_schema: dict[str, Any] | str | None = None
    overlap: int | None = Field(None, strict=True, ge=1, le=MAX_OVERLAP)
    lease_seconds: int | None = Field(None, strict=True, ge=1, le=MAX_LEASE_SECONDS)
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
    worker: str | None = Field(None, description="The process running it (or that ran it last): "
                               "host:pid of a `labelloop serve` or `labelloop worker`.")
    heartbeat_at: datetime | None = Field(None, description="When that process last said it is alive.")
    attempts: int = Field(0, description="How many times it started (more than 1: a process running "
                          "it stopped and another took it over).")


class LabelIssueOut(BaseModel):
    reasons: list[str] = Field(
        description="unlikely_label (the label's out-of-fold probability falls in the low group of a "
        "mixture over every labelled item; confident_learning on rounds before it) and/or "
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
    review_reasons: list[str] = Field(
        [], description="Why the item was sent to review, oldest first (kept after the decision): "
        "low_confidence (the consensus stayed below review_below), flagged (sent by hand), "
        "unlikely_label (confident_learning before it) and/or model_disagrees (a loop round suspects the "
        "label; see label_issue).",
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
    suggestion: dict[str, Any] | None = Field(
        None, description="What the answer did with the suggestion shown with it: {from: model | "
        "import, model_version, preselected, questions: {question: unchanged | edited | none}}; "
        "null when none was shown (see docs/loop.md).",
    )


class ItemDetailOut(BaseModel):
    item: ItemOut
    answers: list[AnswerOut]


class GoldIn(BaseModel):
    value: dict[str, Any]


class PriorityIn(BaseModel):
    item_id: BodyId
    # NaN and infinities (which Python's JSON reader accepts) have no place in a queue order.
    priority: float = Field(strict=True, allow_inf_nan=False)


class PrioritiesIn(BaseModel):
    priorities: list[PriorityIn] = Field(max_length=100_000)


class CountOut(BaseModel):
    updated: int


class NextIn(BaseModel):
    exclude: list[BodyId] = Field(
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
        "project shows pre-labels and that model passes its accuracy bar: a suggestion to accept "
        "or edit. Send its model_version back as the answer's suggestion_version.",
    )


class SubmitIn(BaseModel):
    value: dict[str, Any] = Field(description="The answer: question name -> value.")
    duration_ms: int | None = Field(
        None, strict=True, ge=0, le=MAX_DURATION_MS,
        description="Time the annotator spent, as measured by the client.",
    )


class TaskAnswerIn(SubmitIn):
    suggestion_version: BodyId | Literal["import"] | None = Field(
        None, description="The suggestion shown with the item: the task's prelabel.model_version, "
        '"import" for the item\'s own meta.prelabel, or null when none was shown. The server '
        "compares the answer with it and stores, per question, whether it was kept unchanged.",
    )


class SkipIn(BaseModel):
    reason: str | None = Field(None, max_length=500)


class LeaseOut(Out):
    item_id: int
    state: str
    leased_at: datetime
    expires_at: datetime
    prelabel: dict[str, Any] | None = Field(
        None, description="The item's current suggestion, as in the task: a round that finished "
        "since the item was handed out shows here.",
    )


class ProgressOut(Out):
    done: int = Field(description="Items you answered in this project.")
    left: int = Field(description="Items you could still get: held by you now, or open and never "
                      "taken by you (others may take some of them first).")
    left_capped: bool = Field(description="More than `left` are left: the count stops at a cap.")


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


class BlobFileOut(BaseModel):
    sha256: str
    size: int = Field(description="Bytes.")
    media_type: str
    width: int | None = Field(None, description="Pixels, after EXIF orientation (images only).")
    height: int | None = None


class AudioProbeOut(BaseModel):
    """What an audio file's probe at import found (docs/audio.md)."""

    duration: float = Field(description="Seconds: decoded samples / sample rate.")
    sample_rate: int = Field(description="Hz.")
    channels: int
    codec: str = Field(description="FFmpeg's codec name: pcm_s16le, flac, mp3, vorbis, opus, aac, ...")


class VideoProbeOut(BaseModel):
    """What a video file's probe at import found (docs/video.md)."""

    width: int = Field(description="Pixels as displayed (after the rotation); boxes are drawn in these.")
    height: int
    rotation: int = Field(description="Degrees clockwise the frames are turned for display: 0, 90, 180, 270.")
    frame_count: int = Field(description="Decoded frames; frame numbers run from 0 to frame_count - 1.")
    fps: float = Field(description="frame_count / duration.")
    vfr: bool = Field(description="Whether frame durations differ by more than 1 %.")
    duration: float = Field(description="Seconds from the first frame's time to the end of the last.")
    codec: str = Field(description="FFmpeg's codec name: h264, vp9, hevc, ...")


class BlobInfoOut(BlobFileOut):
    """A stored file and its variants (for an image: the web-sized preview and the thumbnail,
    which may be the original itself; for audio: the waveform peaks and the probe; for video: the
    frame table, poster, proxy and the probe)."""

    preview: BlobFileOut
    thumb: BlobFileOut
    peaks: BlobFileOut | None = Field(None, description="Audio only: the waveform (docs/audio.md).")
    audio: AudioProbeOut | None = Field(None, description="Audio only: what its probe found.")
    frames: BlobFileOut | None = Field(None, description="Video only: the frame table (docs/video.md).")
    poster: BlobFileOut | None = Field(None, description="Video only: frame 0 as a JPEG.")
    proxy: BlobFileOut | None = Field(
        None, description="Video only, when the browser cannot play the original or it is larger than "
        "1920x1080: H.264 MP4 with the same frames at the same times.")
    video: VideoProbeOut | None = Field(None, description="Video only: what its probe found.")
