"""Settings, read from `LABELLOOP_*` environment variables (and a `.env` file if present).

Every setting is documented in the README's "Configuration" table; a test keeps the two in step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROVIDER_NAME = r"^[a-z0-9][a-z0-9_-]{0,49}$"  # an OpenID Connect provider's name, as it appears in URLs


class OidcProvider(BaseModel):
    """An OpenID Connect provider users may sign in with (docs/security.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=PROVIDER_NAME,
                      description="In URLs: /api/auth/oidc/<name>/...")
    label: str = Field("", max_length=100, description="The sign-in button's text (default: the name).")
    issuer: str = Field(
        description="The issuer URL; discovery reads <issuer>/.well-known/openid-configuration."
    )
    client_id: str = Field(min_length=1)
    client_secret_env: str | None = Field(
        None, description="The name of the environment variable holding the client secret (never "
        "the secret itself); none for a public client, which PKCE protects.",
    )
    redirect_url: str = Field(description="https://<this server>/api/auth/oidc/<name>/callback, "
                              "as registered at the provider.")
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    allowed_domains: list[str] = Field(
        default_factory=list, description="E-mail domains allowed to sign in (empty: any)."
    )
    create_users: bool = Field(
        False, description="Create an account at first sign-in for a verified e-mail address; "
        "false: an administrator creates it first (its username the e-mail address).",
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LABELLOOP_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        Path("labelloop-data"),
        description="Folder for the embedded SQLite database, uploads and blobs.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db. "
        "Default: SQLite file labelloop.db in the data folder.",
    )
    host: str = Field("127.0.0.1", description="Address `labelloop serve` binds to.")
    port: int = Field(8000, description="Port `labelloop serve` listens on.")
    workers: int = Field(1, description="Server worker processes.")
    db_pool_size: int = Field(8, description="Database connections kept per worker process (on "
                              "PostgreSQL up to this + 32 once opened: store/db.py).")
    default_lease_seconds: int = Field(
        600, description="How long a handed-out task stays reserved for its annotator."
    )
    max_held_tasks: int = Field(
        3, description="Tasks one annotator may hold at once in a project (current + prefetched)."
    )
    import_batch_size: int = Field(
        2000, description="Items written per transaction during an import."
    )
    job_workers: int = Field(
        2, ge=0, description="Background job threads per server process; 0: the server runs no "
        "job itself and `labelloop worker` processes take them (docs/scaling.md).",
    )
    job_process: bool = Field(
        True, description="`labelloop serve` runs its job threads in a process of its own, started "
        "and stopped with it, so a heavy job (an import, a loop round) does not take the CPU its "
        "requests need; false: in the serving process.",
    )
    job_heartbeat_seconds: float = Field(
        5.0, gt=0, description="How often a running job's process says it is alive.",
    )
    job_stale_seconds: float = Field(
        30.0, gt=0, description="A running job whose process has not said so for this long is "
        "taken over by another worker (its process is presumed dead).",
    )
    ray_address: str | None = Field(
        None, description="Run a loop round's heavy steps and large exports as Ray tasks: a Ray "
        "cluster's address, or `auto` for a local one. Unset: in process.",
    )
    max_upload_mb: int = Field(4096, description="Largest file the import endpoint accepts.")
    max_item_bytes: int = Field(
        1_048_576, ge=1, description="Largest item an import accepts, in bytes: each line, record "
        "or CSV row, each file of a zip or folder, and the item as stored (fields, meta and gold "
        "as JSON). Media are referenced by URL, not inlined.",
    )
    max_archive_bytes: int = Field(
        1_073_741_824, ge=1,
        description="Largest total of the files in one zip import, uncompressed, in bytes.",
    )
    max_image_bytes: int = Field(
        52_428_800, ge=1,
        description="Largest image file an import accepts, in bytes (each file of a zip or folder).",
    )
    max_audio_bytes: int = Field(
        1_073_741_824, ge=1,
        description="Largest audio file an import accepts, in bytes (each file of a zip or folder).",
    )
    max_audio_seconds: int = Field(
        14_400, ge=1,
        description="Longest audio file an import accepts, in seconds (4 hours).",
    )
    max_video_bytes: int = Field(
        8_589_934_592, ge=1,
        description="Largest video file an import accepts, in bytes (each file of a zip or folder).",
    )
    max_video_seconds: int = Field(
        14_400, ge=1,
        description="Longest video an import accepts, in seconds (4 hours).",
    )
    max_json_depth: int = Field(
        64, ge=2, le=200,
        description="Deepest nesting of objects and arrays in an imported item's fields, meta "
        "and gold (each counts as level 1).",
    )
    log_level: str = Field("info", description="Server log level.")
    access_log: bool = Field(True, description="Log every HTTP request.")
    audit_log: bool = Field(
        True, description="Keep the tamper-evident audit log (docs/audit.md). Turn it off only to "
        "measure what it costs (bench/core.py does); a gap in the log cannot be told from tampering.",
    )
    sign_in_window_seconds: int = Field(
        900, ge=1, description="Window in which failed sign-ins are counted; a locked account "
        "or address is refused (429) until its window ends.",
    )
    sign_in_max_failures_per_account: int = Field(
        10, ge=1, description="Failed sign-ins one username may have in a window.",
    )
    sign_in_max_failures_per_address: int = Field(
        50, ge=1, description="Failed sign-ins one client address may have in a window.",
    )
    oidc_max_starts_per_address: int = Field(
        60, ge=1, description="OpenID Connect sign-in starts one client address may make in a "
        "sign-in window (each stores a pending sign-in); past it, 429 until the window ends.",
    )
    oidc_max_callbacks_per_address: int = Field(
        60, ge=1, description="OpenID Connect callbacks one client address may make in a sign-in "
        "window (each calls the provider); past it, 429 until the window ends.",
    )
    encryption_key: SecretStr | None = Field(
        None, description="Key for encryption at rest of blobs and item content: 32 random bytes "
        "as base64 (`head -c 32 /dev/urandom | base64`). See docs/data-protection.md.",
    )
    encryption_key_file: Path | None = Field(
        None, description="A file holding the encryption key (base64), instead of "
        "LABELLOOP_ENCRYPTION_KEY.",
    )
    blob_store: Literal["local", "s3"] = Field(
        "local", description="Where blobs are kept: `local` (the data folder's blobs/) or `s3` (an "
        "S3-compatible bucket, LABELLOOP_S3_*; see docs/scaling.md).",
    )
    s3_bucket: str | None = Field(
        None, description="The bucket of LABELLOOP_BLOB_STORE=s3 (checked at start).",
    )
    s3_prefix: str = Field("blobs", description="Key prefix of the blobs in the bucket.")
    s3_endpoint_url: str | None = Field(
        None, description="Endpoint of an S3-compatible service (MinIO, Ceph, SeaweedFS); unset: "
        "AWS. Region and credentials come from boto3's usual chain (AWS_* variables, ~/.aws).",
    )
    s3_sse: str | None = Field(
        None, description="Server-side encryption asked for on every upload: `AES256` or `aws:kms`.",
    )
    s3_sse_kms_key_id: str | None = Field(None, description="The KMS key of LABELLOOP_S3_SSE=aws:kms.")
    s3_presign: bool = Field(
        False, description="Send browsers to a short-lived presigned URL of the object (307) "
        "instead of streaming it through the server; never for files encrypted by labelloop.",
    )
    s3_presign_seconds: int = Field(300, ge=1, le=604_800, description="How long a presigned URL is valid.")
    oidc_providers: list[OidcProvider] = Field(
        [], description="OpenID Connect providers to sign in with, as a JSON list (docs/security.md).",
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'labelloop.db').resolve()}"

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"


@lru_cache
def get_settings() -> Settings:
    return Settings()
