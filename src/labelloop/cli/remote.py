"""The CLI's remote mode: with `--server URL --token T` (or LABELLOOP_SERVER / LABELLOOP_TOKEN),
`import`, `export`, `status` and `project list` go through the HTTP client to that server, as the
token's user, instead of opening the local database as its operator."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

from labelloop.cli.common import console, err_console, table
from labelloop.client import Client, ClientError

# Commands (and `project` subcommands) that know the remote mode; the others act on the local
# instance only, and are refused when a server is given rather than silently run locally.
REMOTE_COMMANDS = frozenset({"import", "export", "status", "project", "version"})
REMOTE_PROJECT_COMMANDS = frozenset({"list"})


@dataclass(frozen=True)
class Server:
    url: str
    token: str | None


_server: Server | None = None


def configure(ctx: typer.Context, url: str | None, token: str | None) -> None:
    """Remember the server for this invocation (None: act on the local instance)."""
    global _server
    _server = Server(url, token) if url else None
    if _server is not None and ctx.invoked_subcommand not in REMOTE_COMMANDS | {None}:
        _refuse(str(ctx.invoked_subcommand))


def guard_project(ctx: typer.Context) -> None:
    if _server is not None and ctx.invoked_subcommand not in REMOTE_PROJECT_COMMANDS:
        _refuse(f"project {ctx.invoked_subcommand}")


def active() -> bool:
    return _server is not None


def _refuse(command: str) -> None:
    err_console.print(f"[red]error:[/red] `{escape(command)}` acts on the local instance only; "
                      "leave out --server (and LABELLOOP_SERVER) to run it", highlight=False)
    raise typer.Exit(2)


@contextmanager
def client() -> Iterator[Client]:
    """The client for the configured server; API errors end the command with their message."""
    assert _server is not None
    try:
        with Client(_server.url, _server.token) as c:
            yield c
    except ClientError as e:
        err_console.print(f"[red]error:[/red] {escape(str(e))}", highlight=False)
        raise typer.Exit(1) from None


def _bar() -> Progress:
    return Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                    TransferSpeedColumn(), TimeRemainingColumn(), console=err_console)


def project_list() -> None:
    with client() as c:
        rows = c.list_projects()
    table("Projects", ["id", "name", "overlap", "lease (s)", "created"],
          [[p.id, p.name, p.overlap, p.lease_seconds, f"{p.created_at:%Y-%m-%d}"] for p in rows])


def import_file(project: str, path: Path, options: dict[str, Any]) -> None:
    if path.is_dir():
        err_console.print(f"[red]error:[/red] {escape(str(path))} is a folder: zip it to import it "
                          "on a server", highlight=False)
        raise typer.Exit(1)
    with client() as c, _bar() as bar:
        pid = c.find_project(project).id
        task = bar.add_task(f"uploading {path.name}", total=path.stat().st_size)
        job = c.import_file(pid, path, progress=lambda done, total: bar.update(task, completed=done),
                            **options)
    r = job.result or {}
    console.print(f"imported {r.get('created', 0):,} new items "
                  f"({r.get('unchanged', 0):,} already there) in job {job.id}")


def export(project: str, output: Path | None, options: dict[str, Any]) -> None:
    with client() as c, _bar() as bar:
        pid = c.find_project(project).id
        task = bar.add_task(f"exporting project {pid}", total=None)
        c.export(pid, output if output else sys.stdout.buffer,
                 progress=lambda done, total: bar.update(task, completed=done, total=total), **options)
    if output:
        err_console.print(f"wrote {output}")


def status(project: str | None) -> tuple[list[Any], dict[int, str]]:
    """The status rows and project names that `status` prints, read from the server."""
    with client() as c:
        if project:
            one = c.find_project(project)
            return [c.project_status(one.id)], {one.id: one.name}
        names = {p.id: p.name for p in c.list_projects()}
        return [c.project_status(i) for i in names], names
