"""The garbage-collector setting of serving processes and long commands (labelloop/heap.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from labelloop import heap
from labelloop.api.app import create_app
from labelloop.cli.main import app
from labelloop.config import Settings, get_settings

SETTLED = """
import gc
import weakref
import labelloop.api.app  # what a server imports
from labelloop import heap

heap.settle()
frozen = gc.get_freeze_count()
class Node:
    pass
refs = []
for _ in range(1000):  # cycles made afterwards are still garbage to the collector
    a, b = Node(), Node()
    a.other, b.other = b, a
    refs.append(weakref.ref(a))
del a, b
gc.collect()
print(frozen, sum(r() is not None for r in refs))
"""


def test_settle_freezes_what_is_alive_and_later_cycles_are_still_collected() -> None:
    out = subprocess.run([sys.executable, "-c", SETTLED], capture_output=True, text=True, check=True)
    frozen, alive = map(int, out.stdout.split())
    assert frozen > 100_000  # the objects of the modules a server imports
    assert alive == 0


def test_a_serving_app_settles_once_started_and_a_tests_app_does_not(
    settings: Settings, runtime: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(heap, "settle", lambda: calls.append("settled"))
    with TestClient(create_app(settings=settings)) as client:  # owns its runtime: a serving process
        assert client.get("/api/health").status_code == 200
    assert calls == ["settled"]
    with TestClient(create_app(runtime)):  # type: ignore[arg-type]  # a test's app over its runtime
        pass
    assert calls == ["settled"]


def test_a_cli_import_settles_before_its_long_work(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(heap, "settle", lambda: calls.append("settled"))
    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        schema = tmp_path / "schema.yaml"
        schema.write_text("fields: [{name: text}]\nquestions: [{name: s, type: choice, options: [a, b]}]\n")
        data = tmp_path / "items.jsonl"
        data.write_text('{"text": "one"}\n{"text": "two"}\n')
        runner = CliRunner()
        assert runner.invoke(app, ["project", "create", "P", "--schema", str(schema)]).exit_code == 0
        assert calls == []  # a short command does not
        done = runner.invoke(app, ["import", "P", str(data)])
        assert done.exit_code == 0 and "imported 2 new items" in done.output, done.output
        assert calls == ["settled"]
    finally:
        get_settings.cache_clear()
