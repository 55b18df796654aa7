"""Every ```python block of docs/client.md runs, in order, in one namespace, against a real
server process, and then its bash block of the CLI's remote mode, with bash, against the same
server: the docs cannot drift from the client."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
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
        # The remote-mode block, with the server and token of this test for the docs' placeholders.
        shell = re.findall(r"```bash\n(.*?)```", (ROOT / "docs" / "client.md").read_text(), re.S)
        [remote] = [b for b in shell if "LABELLOOP_SERVER=" in b]
        remote = re.sub(r"export LABELLOOP_SERVER=\S+ LABELLOOP_TOKEN=\S+",
                        f"export LABELLOOP_SERVER={server.url} LABELLOOP_TOKEN={token}", remote)
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "COLUMNS": "200"}
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", remote], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{remote}\n{done.stdout}\n{done.stderr}"
    assert (tmp_path / "reviews-out.jsonl").read_text().count("\n") == 300
    assert pq.read_table(tmp_path / "reviews.parquet").num_rows == 300
