"""`labelloop blobs ...`: move stored files between the local folder and S3 (docs/scaling.md)."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from labelloop.cli.common import console, err_console, project_id, runtime
from labelloop.errors import Invalid, Problem
from labelloop.services import blob_migration
from labelloop.services.runtime import blob_store

blobs_app = typer.Typer(help="Stored files (blobs): copy them between the local folder and S3.",
                        no_args_is_help=True)


class StoreKind(enum.StrEnum):
    local = "local"
    s3 = "s3"


@contextmanager
def _bar(what: str) -> Iterator[blob_migration.Progress]:
    with Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err_console) as bar:
        task = bar.add_task(what, total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield step


@blobs_app.command("migrate")
def migrate_command(
    to: StoreKind = typer.Option(..., "--to", help="The store to copy into (the configured one, "
                                 "LABELLOOP_BLOB_STORE, is the source)."),
    project: str | None = typer.Option(None, "--project", help="Only this project's files (id or "
                                       "name) and their variants; default: every stored file."),
    verify: bool = typer.Option(False, "--verify", help="Afterwards, read every file back from the "
                                "target and check its SHA-256; exit 1 if any is missing or wrong."),
    workers: int = typer.Option(8, "--workers", min=1, max=64, help="Files copied side by side."),
) -> None:
    """Copy blobs from the configured store to another. Resumable: run it again after a stop, and
    files the target already holds (read back and hashed) are skipped. The source is kept; set
    LABELLOOP_BLOB_STORE to the target and restart the server once it has finished."""
    with runtime() as rt:
        if to.value == rt.settings.blob_store:
            raise Invalid(f"the blobs are already in the {to.value} store (LABELLOOP_BLOB_STORE)",
                          [Problem("choose the other store", field="to")])
        target = blob_store(rt.settings, to.value)  # a wrong bucket or credentials stops here
        target.keyring = rt.keyring  # encrypted at rest there as here
        pid = None if project is None else project_id(rt, project)
        with rt.db.read() as conn:
            hashes = blob_migration.hashes_to_move(conn, pid)
        with _bar(f"copying to {to.value}") as step:
            done = blob_migration.migrate(rt.blobs, target, hashes, workers=workers, progress=step)
        console.print(f"{done.total:,} files: {done.copied:,} copied ({done.bytes_copied:,} bytes), "
                      f"{done.present:,} already there")
        bad = bool(done.failed)
        for sha256 in done.failed:
            err_console.print(f"  not copied: {sha256} (missing from the source, or read back wrong)")
        if verify:
            with _bar(f"verifying {to.value}") as step:
                found = blob_migration.verify(target, hashes, workers=workers, progress=step)
            console.print(f"verified {found.total:,} files: {len(found.missing):,} missing, "
                          f"{len(found.wrong):,} wrong")
            for sha256 in found.missing:
                err_console.print(f"  missing: {sha256}")
            for sha256 in found.wrong:
                err_console.print(f"  wrong bytes: {sha256}")
            bad = bad or not found.ok
    if bad:
        raise typer.Exit(1)
