"""Fixtures for tests that need a database: SQLite by default, PostgreSQL when
LABELLOOP_TEST_DATABASE_URL is set (as `make test-postgres` does)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from labelloop.api.app import create_app
from labelloop.config import Settings
from labelloop.services.runtime import Runtime
from labelloop.store.db import Database
from labelloop.store.migrate import upgrade
from labelloop.store.models import Base
from tests.platform.world import World

PG_URL = os.environ.get("LABELLOOP_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """A migrated database to start each test from (a file copy on SQLite)."""
    if PG_URL:
        db = Database(PG_URL)
        upgrade(db.engine)
        db.dispose()
        return None
    path = tmp_path_factory.mktemp("template") / "labelloop.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    db.dispose()
    return path


@pytest.fixture
def database_url(tmp_path: Path, template_db: Path | None) -> str:
    if PG_URL:
        db = Database(PG_URL)
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        db.dispose()
        return PG_URL
    assert template_db is not None
    target = tmp_path / "labelloop.db"
    shutil.copyfile(template_db, target)
    return f"sqlite:///{target}"


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, database_url=database_url, **overrides)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as c:
        yield c


@pytest.fixture
def world(runtime: Runtime, client: TestClient) -> World:
    return World(runtime, client)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[Any]:
    """A real S3 server (moto's) on a free loopback port, started once (tests/platform/s3.py);
    the S3 tests are skipped where boto3 or moto is not installed."""
    from tests.platform.s3 import s3_server as start

    with start() as server:
        yield server
