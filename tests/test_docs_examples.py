"""Every ```python block of the docs runs: each page's blocks in order, in one namespace per page
(docs/client.md runs against a live server in tests/test_docs_client.py). A block that shows a
result checks it with an assert, so a page cannot drift from what the code returns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN_ELSEWHERE = {"client.md"}  # needs a server: tests/test_docs_client.py


def pages_with_python() -> list[Path]:
    return sorted(p for p in (ROOT / "docs").glob("*.md")
                  if p.name not in RUN_ELSEWHERE and "```python" in p.read_text())


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), re.S)


def test_the_pages_with_examples_are_found() -> None:
    names = {p.name for p in pages_with_python()}
    assert {"quality.md", "privacy.md", "audit.md", "learn.md"} <= names


@pytest.mark.parametrize("page", pages_with_python(), ids=lambda p: p.name)
def test_every_python_block_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a block that writes files writes them here
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    for n, block in enumerate(python_blocks(page), 1):
        code = compile(block, f"{page.name} block {n}", "exec")
        exec(code, namespace)  # the docs' own examples
