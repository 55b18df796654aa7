"""In CI (`.ci/run` sets `CI`), a test never skips for a missing optional package: every package the
tests import with `pytest.importorskip` is one `make test` installs, so its absence is a broken
install, and the test fails with the import's own error instead of passing unnoticed. Outside CI
(a developer's partial install) the skip stays."""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

import pytest

if os.environ.get("CI"):
    def _required(modname: str, minversion: str | None = None, reason: str | None = None,
                  **_kwargs: Any) -> ModuleType:
        del minversion, reason  # the versions are pinned by the install, not checked here
        return importlib.import_module(modname)

    pytest.importorskip = _required  # type: ignore[assignment]


@pytest.fixture(autouse=True)
def _no_heap_freeze(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run in process here (`labelloop import` through CliRunner) settle the heap as a real
    process does (labelloop/heap.py); frozen in pytest's process, the objects of every test alive
    then would stay out of the collector for the rest of the session. tests/platform/test_heap.py
    checks the freeze itself in a subprocess."""
    monkeypatch.setattr("labelloop.heap.gc.freeze", lambda: None)
