"""The documentation site builds with --strict (no broken link, no missing page), its HTTP reference
holds every operation of the server's OpenAPI document, its Python reference the public classes, and
every `labelloop ...` line of a ```bash block in the docs is one the command line accepts."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from labelloop.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
SHELL_OPERATORS = {">", ">>", "<", "<<<", "|", "&&", ";", "2>&1"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_the_http_reference_has_every_operation(site: Path, tmp_path: Path) -> None:
    from labelloop.api.app import create_app
    from labelloop.config import Settings
    from labelloop.services.runtime import Runtime

    spec = create_app(Runtime(Settings(_env_file=None, data_dir=tmp_path))).openapi()  # type: ignore[call-arg]
    page = (site / "reference" / "http" / "index.html").read_text()
    headings = re.findall(r"<h3 id=\"[^\"]*\"><code>([A-Z]+) ([^<]+)</code>", page)
    expected = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops
                if m in ("get", "post", "put", "patch", "delete")}
    assert {(m, p.replace("&amp;", "&")) for m, p in headings} == expected
    assert len(headings) == len(expected) > 80


def test_the_python_reference_documents_the_libraries(site: Path) -> None:
    page = (site / "reference" / "python" / "index.html").read_text()
    for name in ("labelloop.client.Client", "labelloop.client.AsyncClient", "labelloop.quality.DawidSkene",
                 "labelloop.quality.default_box_aggregator", "labelloop.learn.EmbeddingClassifier",
                 "labelloop.privacy.placeholders"):
        assert f'id="{name}"' in page, name


def cli_lines() -> list[tuple[str, str]]:
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for block in re.findall(r"```bash\n(.*?)```", page.read_text(), re.S):
            for line in block.replace("\\\n", " ").splitlines():
                if not re.match(r"\s*([A-Z_]+=\S+\s+)*(\S*/)?labelloop\s", line):
                    continue
                words = shlex.split(line, comments=True)
                while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):  # VAR=value prefixes
                    words = words[1:]
                if words and Path(words[0]).name == "labelloop":
                    cut = next((i for i, w in enumerate(words) if w in SHELL_OPERATORS), len(words))
                    found.append((page.name, shlex.join(words[1:cut])))
    return found


def test_the_docs_show_command_lines() -> None:
    assert len(cli_lines()) >= 15


@pytest.mark.parametrize(("page", "line"), cli_lines(), ids=lambda v: str(v)[:60])
def test_every_command_line_in_the_docs_parses(page: str, line: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The command, its sub-commands and options exist and the required arguments are there; nothing runs."""
    monkeypatch.chdir(tmp_path)
    args = shlex.split(line)
    for word in args:  # the files a line reads must exist for the parser: empty stand-ins
        if re.fullmatch(r"[\w-]+\.(jsonl|json|yaml|csv|zip)", word):
            (tmp_path / word).touch()
    command: Any = typer.main.get_command(app)
    ctx = command.make_context("labelloop", args)
    while hasattr(command, "resolve_command"):  # a group: its sub-command comes next
        name, sub, rest = command.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
        assert sub is not None, f"{page}: no command {name!r} in `labelloop {line}`"
        command, ctx = sub, sub.make_context(name or "", list(rest), parent=ctx)
    assert not ctx.args, f"{page}: `labelloop {line}` has extra arguments {ctx.args}"
