"""Alembic migrations build exactly the model, and go down and up again cleanly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from labelloop.store.migrate import alembic_config, upgrade
from labelloop.store.models import Base
from tests.platform.conftest import PG_URL


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own (these tests drop every table)."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def test_migrations_match_the_model(empty_url: str) -> None:
    engine = create_engine(empty_url)
    upgrade(engine)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # SQLite cannot reflect the expression index of the queue, so autogenerate sees it as changed.
    diffs = [d for d in diffs if not (isinstance(d, tuple) and d[0] in ("add_index", "remove_index")
                                      and d[1].name == "ix_items_open_queue")]
    assert diffs == []
    index_names = {i["name"] for i in inspect(engine).get_indexes("items")}
    assert "ix_items_open_queue" in index_names
    engine.dispose()


def test_downgrade_to_nothing_and_back(empty_url: str) -> None:
    cfg = alembic_config(empty_url)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "base")
    engine = create_engine(empty_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    assert "items" in inspect(engine).get_table_names()
    engine.dispose()
