"""`labelloop erase ...` (GDPR article 17) and `labelloop retention ...` (docs/data-protection.md)."""

from __future__ import annotations

import typer
from rich.markup import escape

from labelloop.cli.common import OPERATOR, console, project_id, runtime, user_id
from labelloop.services.protection import retention
from labelloop.services.protection.erasure import ErasureRequest, erase

retention_app = typer.Typer(help="Delete items' raw content after a project's retention period.",
                            no_args_is_help=True)


def erase_command(
    project: str = typer.Argument(..., help="Project id or name."),
    item: list[int] = typer.Option([], "--item", help="An item id (repeat for several)."),
    import_job: int | None = typer.Option(None, "--import-job", help="The items of one import job."),
    source_file: str | None = typer.Option(None, "--source-file",
                                           help="The items imported from the file of this name."),
    annotator: str | None = typer.Option(None, "--annotator",
                                         help="Everything this user (name or id) wrote in the project."),
    subject: list[str] = typer.Option([], "--subject", help="An identifier of a data subject (e-mail, "
                                      "name, ...): every item that mentions it (repeat for several)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be erased; change nothing."),
) -> None:
    """Erase items, a source file, an annotator's work or a data subject's items for good: rows,
    files, caches; a tombstone (counts, never content) goes to the audit log."""
    with runtime() as rt:
        pid = project_id(rt, project)
        uid = None
        if annotator is not None:
            with rt.db.read() as conn:
                uid = user_id(conn, annotator)
        req = ErasureRequest(tuple(item), import_job, source_file, uid, tuple(subject), dry_run)
        done = erase(rt.db, rt.blobs, OPERATOR, pid, req, data_dir=rt.settings.data_dir)
    verb = "would erase" if dry_run else "erased"
    for iid, ext in zip(done.item_ids, done.external_ids, strict=True):
        console.print(f"item {iid}  {escape(ext)}", highlight=False)
    console.print(f"{verb}: {len(done.item_ids):,} items, {done.answers:,} answers"
                  + ("" if dry_run else f", {len(done.files):,} files, {done.jobs_scrubbed:,} job "
                     f"records scrubbed, {done.embeddings:,} cached embeddings"))
    if done.releases_withdrawn:
        console.print(f"{'would withdraw' if dry_run else 'withdrew'} dataset releases holding erased "
                      f"content: {escape(', '.join(done.releases_withdrawn))}", highlight=False)


@retention_app.command("set")
def set_command(
    project: str = typer.Argument(..., help="Project id or name."),
    days: int | None = typer.Option(None, "--days", help="Delete raw content this many days after import."),
    off: bool = typer.Option(False, "--off", help="Keep raw content (no retention)."),
) -> None:
    """Set a project's retention period."""
    if (days is None) == (not off):
        raise typer.BadParameter("give --days N or --off")
    with runtime() as rt:
        pid = project_id(rt, project)
        rt.db.run(lambda conn: retention.set_retention(conn, OPERATOR, pid, None if off else days))
    said = "raw content kept" if off else f"raw content deleted after {days} days"
    console.print(f"project {pid}: {said}")


@retention_app.command("run")
def run_command() -> None:
    """Delete the raw content every project's retention period has passed (run it daily, e.g.
    from cron)."""
    with runtime() as rt:
        done = retention.run(rt.db, rt.blobs, OPERATOR, data_dir=rt.settings.data_dir)
    for r in done:
        console.print(f"project {r.project_id}: raw content of {r.items:,} items and "
                      f"{r.files:,} files deleted")
    if not done:
        console.print("nothing due")
