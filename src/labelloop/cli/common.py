"""What every command shares: the runtime, the operator identity, output helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Connection

from labelloop.config import get_settings
from labelloop.errors import DomainError, Invalid
from labelloop.services.policy import Actor
from labelloop.services.runtime import Runtime

console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")
OPERATOR = Actor.operator()


@contextmanager
def runtime() -> Iterator[Runtime]:
    """The local instance, migrated; domain errors end the command with a clear message."""
    rt: Runtime | None = None
    try:
        rt = Runtime(get_settings())  # a wrong encryption key stops here (docs/data-protection.md)
        rt.migrate()
        yield rt
    except DomainError as e:
        # Messages quote user input and package extras (`labelloop[images-models]`): not markup.
        err_console.print(f"[red]error:[/red] {escape(e.message)}", highlight=False)
        if isinstance(e, Invalid):
            for p in e.problems:
                err_console.print(f"  - {escape(str(p))}", highlight=False)
        raise typer.Exit(1) from None
    finally:
        if rt is not None:
            rt.close()


def write(rt: Runtime, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return rt.db.run(lambda conn: fn(conn, OPERATOR, *args, **kwargs))


def read(rt: Runtime, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with rt.db.read() as conn:
        return fn(conn, OPERATOR, *args, **kwargs)


def project_id(rt: Runtime, ref: str) -> int:
    from labelloop.services.projects import find_project

    return read(rt, find_project, ref).id


def user_id(conn: Connection, ref: str) -> int:
    from labelloop.services.accounts.users import find_user, get_user

    return get_user(conn, int(ref)).id if ref.isdigit() else find_user(conn, ref).id


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    t = Table(title=title)
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*("" if v is None else str(v) for v in r))
    console.print(t)
