"""Settings, read from `LABELLOOP_*` environment variables (and a `.env` file if present).

Every setting is documented in the README's "Configuration" table; a test keeps the two in step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    db_pool_size: int = Field(8, description="Database connections kept per worker process.")
    default_lease_seconds: int = Field(
        600, description="How long a handed-out task stays reserved for its annotator."
    )
    max_held_tasks: int = Field(
        3, description="Tasks one annotator may hold at once in a project (current + prefetched)."
    )
    import_batch_size: int = Field(
        2000, description="Items written per transaction during an import."
    )
    job_workers: int = Field(2, description="Background job threads per server process.")
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
    max_json_depth: int = Field(
        64, ge=2, le=200,
        description="Deepest nesting of objects and arrays in an imported item's fields, meta "
        "and gold (each counts as level 1).",
    )
    log_level: str = Field("info", description="Server log level.")
    access_log: bool = Field(True, description="Log every HTTP request.")
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
