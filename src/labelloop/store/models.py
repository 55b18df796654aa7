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
    cast,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from labelloop.store.crypto import EncryptionError, is_sealed, open_text


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
# The engine's dialect carries the keyring when encryption at rest is on (services/runtime.py).
KEYRING_ATTR = "labelloop_keyring"


class SealedJSON(TypeDecorator[Any]):
    """JSON that is written sealed (AES-GCM, store/crypto.py) when the engine has a keyring, and
    read back plaintext; a sealed value read without a key is an error, never handed on."""

    impl = JSON
    cache_ok = True

    def __init__(self, purpose: str) -> None:
        super().__init__()
        self.purpose = purpose

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        keyring = getattr(dialect, KEYRING_ATTR, None)
        if keyring is None or value is None or is_sealed(value):
            return value
        return keyring.seal_json(value, purpose=self.purpose)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if not is_sealed(value):
            return value
        keyring = getattr(dialect, KEYRING_ATTR, None)
        if keyring is None:
            raise EncryptionError("item content is encrypted and no key is configured "
                                  "(LABELLOOP_ENCRYPTION_KEY or LABELLOOP_ENCRYPTION_KEY_FILE)")
        return keyring.open_json(value, purpose=self.purpose)


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
    # What the token may do, space-separated (services/policy.py, Scope): it narrows what the
    # user's roles allow, never widens it. Tokens from before scopes existed may do everything.
    scopes: Mapped[str] = mapped_column(
        String(100), default="read annotate manage admin", server_default="read annotate manage admin"
    )


class UserIdentity(Base):
    """A user's account at an OpenID Connect provider: (provider, subject) signs in as the user."""

    __tablename__ = "user_identities"
    __table_args__ = (UniqueConstraint("provider", "subject", name="uq_user_identities_subject"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(255))  # the ID token's `sub`, stable per provider
    email: Mapped[str | None] = mapped_column(String(320))  # as last seen, for the admin's eyes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OidcLogin(Base):
    """An OpenID Connect sign-in under way: its state, nonce and PKCE verifier, used once.

    Kept in the database so that the callback may reach another server process than the start.
    The state is stored as its SHA-256 (the key it is looked up by); the row is deleted when the
    callback uses it, so a replayed callback finds nothing.
    """

    __tablename__ = "oidc_logins"
    __table_args__ = (Index("ix_oidc_logins_expires", "expires_at"),)

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(100))
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


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


class RequestLimits(Base):
    """Requests counted per key in fixed windows, where a request (not only a failure) costs:
    OpenID Connect starts and callbacks per client address (`oidc_start:address:<address>`,
    `oidc_callback:address:<address>`); services/accounts/request_limits.py says how. In the
    database so the limit holds across server processes.
    """

    __tablename__ = "request_limits"
    __table_args__ = (Index("ix_request_limits_window", "window_start"),)

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
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
    # Personal data: what is detected, what each role is shown (services/privacy/settings.py).
    privacy_settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default="{}")
    # Raw content (items' data and their files) is deleted this many days after import; None:
    # kept (services/protection/retention.py).
    retention_days: Mapped[int | None] = mapped_column(Integer)
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
        Index(  # only items in the review queue: every query here names a review state
            "ix_items_review", "project_id", "review_state", "id",
            sqlite_where=text("review_state IS NOT NULL"), postgresql_where=text("review_state IS NOT NULL"),
        ),
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
    # The item's content: sealed with the instance key when encryption at rest is on.
    data: Mapped[dict[str, Any]] = mapped_column(SealedJSON("items.data"))
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
    # When retention deleted the item's raw content (`data` is then {}); its labels stay.
    content_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ItemPii(Base):
    """A piece of personal data found in an item's text (services/privacy/scan.py).

    `field` is where: a text field's name, `name/3` for message 3 of a conversation, `name/<id>` for a
    candidate response. `start`/`end` are character offsets in that text. The value itself is not
    copied: the item holds it; `value_hash` is SHA-256 of the kind and the value (case and spacing
    folded), so that the items a data subject appears in can be found from their e-mail or IBAN.
    """

    __tablename__ = "item_pii"
    __table_args__ = (
        Index("ix_item_pii_item", "item_id"),
        Index("ix_item_pii_project_kind", "project_id", "kind"),
        Index("ix_item_pii_value_hash", "value_hash"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(200))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    value_hash: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)


class ItemPiiScan(Base):
    """That an item's personal data was scanned, and under which detection settings (their key,
    services/privacy/settings.py); no row: never scanned. A table of its own, not a column of
    `items`: a scan writing it must never lock the rows the task queue picks from."""

    __tablename__ = "item_pii_scans"
    __table_args__ = (Index("ix_item_pii_scans_project", "project_id", "scan_key"),)

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    scan_key: Mapped[str] = mapped_column(String(16))


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
    __table_args__ = (
        Index("ix_jobs_project", "project_id", "id"),
        Index("ix_jobs_status", "status", "id"),  # workers look for queued and stale jobs
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(12))  # queued | running | succeeded | failed
    # Durable jobs (services/jobs/claims.py): who started it (to run it again as them), which
    # process runs it, when that process last said it is alive, and how many times it started.
    actor: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON)
    worker: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
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


class BlobVideo(Base):
    """A video blob as probed at import (docs/video.md): size as displayed (after `rotation`,
    degrees clockwise), decoded frame count, frames a second (count / duration), whether frame
    durations vary, duration in seconds and FFmpeg's codec name. Its frame table, poster and
    (when one is needed) proxy are the `frames`, `poster` and `proxy` variants in `blob_variants`."""

    __tablename__ = "blob_video"

    sha256: Mapped[str] = mapped_column(
        ForeignKey("blobs.sha256", ondelete="CASCADE"), primary_key=True
    )
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    rotation: Mapped[int] = mapped_column(Integer)
    frame_count: Mapped[int] = mapped_column(Integer)
    fps: Mapped[float] = mapped_column(Float)
    vfr: Mapped[bool] = mapped_column(Boolean)
    duration: Mapped[float] = mapped_column(Float)
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


class AuditEntry(Base):
    """One entry of the audit log (services/audit/): append-only and hash-chained.

    `hash` is SHA-256 over the entry's fields and `prev_hash` (docs/audit.md gives the exact
    serialisation); `seq` is assigned from `audit_head` in the writer's transaction, so the chain
    never forks. No foreign keys: deleting a user or a project must not delete what they did.
    """

    __tablename__ = "audit_log"
    # One index besides the key, for a manager's view of a project: each one is written by every
    # append, on the annotators' hot path. Other filters walk the log newest first.
    __table_args__ = (Index("ix_audit_log_project", "project_id", "seq"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str] = mapped_column(String(150))
    action: Mapped[str] = mapped_column(String(40))
    project_id: Mapped[int | None] = mapped_column(BigInteger)
    object_type: Mapped[str | None] = mapped_column(String(30))
    object_id: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The audit chain's last entry: one row (id 1), updated by every append in its transaction.

    Its row lock (PostgreSQL) or the write lock (SQLite) serialises appends, so two writers can
    never both chain onto the same entry."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class EncryptionState(Base):
    """Encryption at rest (store/crypto.py): one row (id 1) once a key was set.

    `key_check` is HMAC-SHA256(key, "labelloop key check"): a server started with another key,
    or none, is refused. `pending` names an `enable` or `rotate` that has not finished (both are
    resumable: rerun the command); during a rotation `next_key_id`/`next_key_check` are the new key.
    """

    __tablename__ = "encryption_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key_id: Mapped[str] = mapped_column(String(16))
    key_check: Mapped[str] = mapped_column(String(64))
    pending: Mapped[str | None] = mapped_column(String(10))
    next_key_id: Mapped[str | None] = mapped_column(String(16))
    next_key_check: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DatasetRelease(Base):
    """A versioned dataset release (services/curation/releases.py): written once, never changed but
    for its withdrawal by an erasure.

    `manifest_sha256` names the release's manifest in the blob store, which lists every file of
    the release with its SHA-256; `card` is the dataset card's JSON (also a file of the release)."""

    __tablename__ = "dataset_releases"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_dataset_releases_project_name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    item_count: Mapped[int] = mapped_column(BigInteger)
    card: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # Set once when an erasure removed content the release holds (services/curation/withdrawal.py):
    # its files are deleted then, and reading it says why.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdrawn_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ReleaseKey(Base):
    """A project's key for the pseudonymous annotator ids of its releases (HMAC-SHA256 of the user
    id): the same annotator has the same id in every release of the project, and no reader of a
    release can tell who it is. Never shown."""

    __tablename__ = "release_keys"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64))


class ItemGroup(Base):
    """An item's group of duplicates under one method (services/curation/duplicates.py): exact,
    text, image or semantic. `group_id` is the smallest item id of the group; `score` is the item's
    highest similarity to another member. A run of the duplicates job replaces a method's rows."""

    __tablename__ = "item_groups"
    __table_args__ = (Index("ix_item_groups_project_method_group", "project_id", "method", "group_id"),)

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    method: Mapped[str] = mapped_column(String(10), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(BigInteger)
    score: Mapped[float] = mapped_column(Float)


class DuplicateSetAside(Base):
    """An item a manager took out of the queue by keeping another of its duplicate group; `needed`
    is what the item needed before, given back when the group is restored. A table of its own: a
    new duplicates run replaces the groups, never what a manager decided."""

    __tablename__ = "duplicate_set_asides"
    __table_args__ = (Index("ix_duplicate_set_asides_group", "project_id", "method", "group_id"),)

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(10))
    group_id: Mapped[int] = mapped_column(BigInteger)
    kept_item_id: Mapped[int] = mapped_column(BigInteger)
    needed: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Slice(Base):
    """A saved, named filter of a project's items (services/curation/slices.py): the data browser's
    filter object, usable wherever a filter is (the browser, exports, review, queue priority,
    releases)."""

    __tablename__ = "slices"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_slices_project_name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    filter: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SealedText(TypeDecorator[str]):
    """An item's `data` as JSON text (`item_data_text()`), made plaintext JSON text again when sealed:
    exports stream this text without parsing it."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return open_text(getattr(dialect, KEYRING_ATTR, None), value, purpose="items.data")


def item_data_text() -> Any:
    """`CAST(items.data AS TEXT)`, labelled `data`, plaintext whether sealed or not."""
    return cast(Item.__table__.c.data, SealedText()).label("data")


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
user_identities = _table(UserIdentity)
oidc_logins = _table(OidcLogin)
sign_in_failures = _table(SignInFailures)
request_limits = _table(RequestLimits)
projects = _table(Project)
memberships = _table(Membership)
items = _table(Item)
item_pii = _table(ItemPii)
item_pii_scans = _table(ItemPiiScan)
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
blob_video = _table(BlobVideo)
project_blobs = _table(ProjectBlob)
audit_log = _table(AuditEntry)
encryption_state = _table(EncryptionState)
audit_head = _table(AuditHead)
dataset_releases = _table(DatasetRelease)
release_keys = _table(ReleaseKey)
item_groups = _table(ItemGroup)
duplicate_set_asides = _table(DuplicateSetAside)
slices = _table(Slice)
