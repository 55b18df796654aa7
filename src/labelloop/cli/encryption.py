"""`labelloop encryption ...`: turn encryption at rest on, rotate its key (docs/data-protection.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from labelloop.cli.common import OPERATOR, console, err_console
from labelloop.config import get_settings
from labelloop.errors import DomainError
from labelloop.services.protection import encryption
from labelloop.services.runtime import Runtime
from labelloop.store.crypto import EncryptionError, new_key_text, read_key_file

encryption_app = typer.Typer(help="Encryption at rest of blobs and item content.", no_args_is_help=True)


@contextmanager
def _instance() -> Iterator[Runtime]:
    """The instance, migrated, without the start's key check (these commands set the key state)."""
    rt: Runtime | None = None
    try:
        rt = Runtime(get_settings(), check_key=False)
        rt.migrate()
        yield rt
    except DomainError as e:
        err_console.print(f"[red]error:[/red] {escape(e.message)}", highlight=False)
        raise typer.Exit(1) from None
    finally:
        if rt is not None:
            rt.close()


@contextmanager
def _bar() -> Iterator[encryption.Progress]:
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=err_console) as bar:
        tasks: dict[str, TaskID] = {}

        def step(done: int, total: int, what: str) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(f"encrypting {what}", total=total)
            bar.update(tasks[what], completed=done, total=total)

        yield step


@encryption_app.command("new-key")
def new_key() -> None:
    """Print a new random key (base64 of 32 bytes) for LABELLOOP_ENCRYPTION_KEY or a key file."""
    print(new_key_text())


@encryption_app.command("enable")
def enable() -> None:
    """Encrypt the blobs and item content already here with the configured key
    (LABELLOOP_ENCRYPTION_KEY or LABELLOOP_ENCRYPTION_KEY_FILE). Resumable: if it stops, run it
    again; the server refuses to start until it has finished. Stop the server first."""
    with _instance() as rt:
        if rt.encryption_key is None:
            raise EncryptionError("no key is configured: set LABELLOOP_ENCRYPTION_KEY or "
                                  "LABELLOOP_ENCRYPTION_KEY_FILE (`labelloop encryption new-key`)")
        with _bar() as step:
            done = encryption.enable(rt.db, rt.blobs, rt.encryption_key, OPERATOR, step)
    console.print(f"encryption on: {done.blobs:,} files and {done.items:,} items encrypted")


@encryption_app.command("rotate")
def rotate(
    new_key_file: Path = typer.Option(..., "--new-key-file", help="The new key (base64) in a file."),
) -> None:
    """Re-encrypt everything under a new key; the configured key is the current one. Resumable:
    rerun with the same two keys if it stops. Afterwards, configure the new key. Stop the server
    first."""
    with _instance() as rt:
        if rt.encryption_key is None:
            raise EncryptionError("the current key is not configured: set LABELLOOP_ENCRYPTION_KEY or "
                                  "LABELLOOP_ENCRYPTION_KEY_FILE")
        new = read_key_file(new_key_file)
        with _bar() as step:
            done = encryption.rotate(rt.db, rt.blobs, rt.encryption_key, new, OPERATOR, step)
    console.print(f"key rotated: {done.blobs:,} files and {done.items:,} items re-encrypted; "
                  f"configure the new key ({escape(str(new_key_file))}) before starting the server")
