"""The relational model. One SQLAlchemy model for SQLite and PostgreSQL; Alembic migrates it.

The queue lives in three columns of `items` and in `assignments`:
- `needed`: answers the item should get (the project's overlap when it was imported);
- `reserved`: answers given plus live leases; never above `needed`;
- `is_open`: `reserved < needed`, kept in step so that the next-task query walks a partial
  index of open items in priority order instead of scanning the project.
An assignment is one (item, annotator) pair ever: leased, then submitted, skipped or expired.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


JSONType = JSON().with_variant(JSONB(), "postgresql")
# For optional documents: Python None is SQL NULL, not the JSON text 'null'.
NullableJSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
# SQLite's INTEGER PRIMARY KEY is the rowid; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the token: tokens are 256-bit random secrets, so a fast hash is as strong as a
    # slow one against guessing, and checking it costs microseconds on every request.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInFailures(Base):
    """Failed sign-ins counted per account and per client address, in fixed windows.

    Kept in the database, not in memory, so the limit holds across server processes. A key is
    `account:<sha256 of the username>` (a password typed into the username box is not kept in
    clear) or `address:<client address>`; services/sign_in_limits.py says how it is used.
    """

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_window", "window_start"),)

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    label_schema: Mapped[dict[str, Any]] = mapped_column(JSONType)
    overlap: Mapped[int] = mapped_column(Integer, default=1)
    lease_seconds: Mapped[int] = mapped_column(Integer, default=600)
    # Gold mixing, adaptive overlap, trust rules and review: see services/quality/settings.py.
    quality_settings: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=dict, server_default="{}"
    )
    # Pre-labels, queue strategy, auto-labelling: see services/loop/settings.py.
    loop_settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default="{}")
    # The model server that generates candidate responses: see services/generation/settings.py.
    generation_settings: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=dict, server_default="{}"
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Membership(Base):
    __tablename__ = "memberships"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("project_id", "external_id", name="uq_items_project_external_id"),
        Index(
            "ix_items_open_queue",
            "project_id",
            text("priority DESC"),
            "id",
            sqlite_where=text("is_open = 1"),  # the form SQLAlchemy renders
            postgresql_where=text("is_open"),
        ),
        Index("ix_items_import_job", "import_job_id"),
        Index(
            "ix_items_gold", "project_id", "id",
            sqlite_where=text("gold IS NOT NULL"), postgresql_where=text("gold IS NOT NULL"),
        ),
        Index("ix_items_review", "project_id", "review_state", "id"),
        Index(
            "ix_items_label_issue", "project_id", "id",
            sqlite_where=text("label_issue IS NOT NULL"),
            postgresql_where=text("label_issue IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    meta: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    needed: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    answer_count: Mapped[int] = mapped_column(Integer, default=0)
    is_open: Mapped[bool] = mapped_column(Boolean)
    gold: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON)
    # None, or "pending" while the item waits for a reviewer, "done" once one decided.
    review_state: Mapped[str | None] = mapped_column(String(10))
    # Why the item went to review (comma-separated reasons, see services/quality/review.py), shown to
    # the reviewer; kept after the decision so the record says why it was reviewed.
    review_reason: Mapped[str | None] = mapped_column(String(200))
    # Drawn at random by the loop to certify auto-labels (never chosen by a strategy).
    validation: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The latest loop round suspects this item's label: why (services/loop/rounds.py's reasons,
    # comma-separated),
    # which model version said so, and that model's out-of-fold answer {value, confidence}.
    # A round replaces the previous round's flags; None when the latest round suspects nothing.
    label_issue: Mapped[str | None] = mapped_column(String(40))
    label_issue_version: Mapped[int | None] = mapped_column(BigInteger)
    label_issue_answer: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON)
    import_job_id: Mapped[int | None] = mapped_column(BigInteger)
    # Written by an import that has not finished: in no queue, list, count or export until the
    # import publishes it, and deleted if the import fails (a file is imported whole or not at all).
    staged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("item_id", "user_id", name="uq_assignments_item_user"),
        Index("ix_assignments_expiry", "project_id", "state", "expires_at"),
        Index("ix_assignments_holder", "user_id", "project_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(10))  # leased | submitted | skipped | expired
    leased_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    skip_reason: Mapped[str | None] = mapped_column(String(500))


class Answer(Base):
    """Append-only: a correction is a new row that names the one it supersedes."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key", name="uq_answers_user_idempotency_key"),
        Index("ix_answers_item", "item_id"),
        Index("ix_answers_project_user", "project_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    value: Mapped[dict[str, Any]] = mapped_column(JSONType)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(20), default="human")
    leased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("answers.id"))
    # How the answer relates to the model's suggestion the annotator was shown: the model
    # version, and per question whether the suggestion was kept unchanged, edited, or absent.
    # None when no suggestion was shown (services/queue/answers.py fills it).
    suggestion: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON)


class Consensus(Base):
    """One settled value per item, filled by the quality layer."""

    __tablename__ = "consensus"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[dict[str, Any]] = mapped_column(JSONType)
    confidence: Mapped[float | None] = mapped_column(Float)
    # Per question: how sure each settled value is.
    confidences: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default="{}")
    method: Mapped[str] = mapped_column(String(50))
    # A reviewer's decision: final, never recomputed from answers again.
    final: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnnotatorQuality(Base):
    """What the project knows of one annotator: gold record, estimated skill, pause."""

    __tablename__ = "annotator_quality"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    gold_answered: Mapped[int] = mapped_column(Integer, default=0)
    gold_correct: Mapped[int] = mapped_column(Integer, default=0)
    # Probability of answering correctly, from the last whole-project estimate (None: unknown).
    skill: Mapped[float | None] = mapped_column(Float)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModelVersion(Base):
    """One model trained by a round of the loop, with how well it did."""

    __tablename__ = "model_versions"
    __table_args__ = (Index("ix_model_versions_project", "project_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    question: Mapped[str] = mapped_column(String(64))
    encoder: Mapped[str] = mapped_column(String(64))
    classes: Mapped[list[Any]] = mapped_column(JSONType)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Prediction(Base):
    """A model version's answer for one item: the pre-label annotators may see."""

    __tablename__ = "predictions"
    __table_args__ = (Index("ix_predictions_item", "item_id", "model_version_id"),)

    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSONType)
    confidence: Mapped[float] = mapped_column(Float)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_project", "project_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(12))  # queued | running | succeeded | failed
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    progress_done: Mapped[int] = mapped_column(BigInteger, default=0)
    progress_total: Mapped[int | None] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON)
    error: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON)


class Blob(Base):
    """A stored file (store/blobs.py), named by the SHA-256 of its bytes.

    A row is a fact about content, shared by the whole instance; who may read the file is
    `project_blobs`. Images have `width` and `height` in pixels after EXIF orientation.
    """

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BlobVariant(Base):
    """A derived file of a blob, made at import: `preview` (web-sized) or `thumb` of an image,
    `peaks` of an audio file (its waveform, docs/audio.md). Stored as a blob too; it may be the
    original itself when that already suits a browser."""

    __tablename__ = "blob_variants"

    sha256: Mapped[str] = mapped_column(
        ForeignKey("blobs.sha256", ondelete="CASCADE"), primary_key=True
    )
    variant: Mapped[str] = mapped_column(String(10), primary_key=True)
    variant_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))


class BlobAudio(Base):
    """An audio blob as probed at import (docs/audio.md): decoded length in seconds, sample rate in
    Hz, channels and FFmpeg's codec name. Its waveform is the `peaks` variant in `blob_variants`."""

    __tablename__ = "blob_audio"

    sha256: Mapped[str] = mapped_column(
        ForeignKey("blobs.sha256", ondelete="CASCADE"), primary_key=True
    )
    duration: Mapped[float] = mapped_column(Float)
    sample_rate: Mapped[int] = mapped_column(Integer)
    channels: Mapped[int] = mapped_column(Integer)
    codec: Mapped[str] = mapped_column(String(32))


class ProjectBlob(Base):
    """The projects that hold a blob: their members (annotator and up) may read it.

    Written when an import publishes its items (services/importing/writer.py), so a failed
    import leaves no link."""

    __tablename__ = "project_blobs"
    __table_args__ = (Index("ix_project_blobs_sha256", "sha256"),)

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def open_when(reserved: Any, *, publishing: bool = False) -> Any:
    """The `is_open` rule for an item with `reserved` slots taken: a slot left, not gold, published.

    Gold items never enter the normal queue; they are mixed into each annotator's tasks apart.
    `publishing` is for the statement that clears `staged` itself (SET sees the old row).
    """
    table = Item.__table__.c
    rule = (reserved < table.needed) & table.gold.is_(None)
    return rule if publishing else rule & table.staged.is_(False)


def published_in(project_id: Any) -> Any:
    """Items of the project that are there for everyone: not staged by an unfinished import."""
    table = Item.__table__.c
    return (table.project_id == project_id) & table.staged.is_(False)


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


# Core tables, for the services' SQL (the hot paths use Core, not ORM objects).
users = _table(User)
api_tokens = _table(ApiToken)
sign_in_failures = _table(SignInFailures)
projects = _table(Project)
memberships = _table(Membership)
items = _table(Item)
assignments = _table(Assignment)
answers = _table(Answer)
consensus = _table(Consensus)
annotator_quality = _table(AnnotatorQuality)
model_versions = _table(ModelVersion)
predictions = _table(Prediction)
jobs = _table(Job)
blobs = _table(Blob)
blob_variants = _table(BlobVariant)
blob_audio = _table(BlobAudio)
project_blobs = _table(ProjectBlob)
