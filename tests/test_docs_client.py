"""Every ```python block of docs/client.md runs, in order, in one namespace, against a real
server process: the docs cannot drift from the client."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from labelloop.services.accounts import tokens, users
from labelloop.services.policy import Actor
from labelloop.store.db import Database
from tests.platform.live import live_server

ROOT = Path(__file__).resolve().parents[1]


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "client.md").read_text(), re.S)


def test_client_docs_have_examples_of_every_noun() -> None:
    text = "".join(python_blocks())
    for method in ("create_project", "import_file", "iter_items", "list_items", "next_task", "submit",
                   "quality_report", "run_round", "list_rounds", "export", "AsyncClient"):
        assert f"{method}(" in text, method


def test_client_docs_run_against_a_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'labelloop.db'}"
    (tmp_path / "server").mkdir()
    with live_server(tmp_path / "server", url) as server:  # `serve` migrates the database first
        db = Database(url)

        def admin_token(conn: Any) -> str:
            user = users.create_user(conn, Actor.operator(), "docs", is_admin=True)
            return tokens.create_token(conn, Actor.operator(), user.id, "docs").secret

        token = db.run(admin_token)
        db.dispose()
        monkeypatch.setenv("LABELLOOP_SERVER", server.url)
        monkeypatch.setenv("LABELLOOP_TOKEN", token)
        monkeypatch.chdir(tmp_path)
        namespace: dict[str, Any] = {"__name__": "docs_client"}
        blocks = python_blocks()
        assert len(blocks) >= 9
        for n, block in enumerate(blocks, 1):
            try:
                exec(compile(block, f"docs/client.md block {n}", "exec"), namespace)
            except Exception as e:
                raise AssertionError(f"docs/client.md python block {n} failed: {e!r}\n{block}") from e
    assert (tmp_path / "reviews-out.jsonl").read_text().count("\n") == 300
