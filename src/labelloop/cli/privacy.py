"""`labelloop privacy ...`: a project's personal-data policy, and the scan (docs/privacy.md)."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from labelloop.cli.common import OPERATOR, console, err_console, project_id, read, runtime, write
from labelloop.services.jobs import Progress as JobProgress
from labelloop.services.jobs import create_job, run_job
from labelloop.services.privacy import manage
from labelloop.services.privacy import scan as privacy_scan

privacy_app = typer.Typer(help="Personal data: the project's policy (what is detected, what annotators "
                          "see) and the scan that finds it.", no_args_is_help=True)


def _show(view: manage.PrivacyView) -> None:
    for key, value in view.settings.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        console.print(f"{key}: {escape(str(shown))}", highlight=False)
    if view.summary is not None:
        s = view.summary
        kinds = ", ".join(f"{k} {n}" for k, n in s["by_kind"].items()) or "none"
        console.print(f"found: {kinds}; {s['items_with_findings']} items with personal data; "
                      f"{s['items_scanned']} of {s['items']} items scanned under these settings")


@privacy_app.command("show")
def show(project: str = typer.Argument(..., help="Project id or name.")) -> None:
    """The policy and what the scans found."""
    with runtime() as rt:
        _show(read(rt, manage.get_privacy, project_id(rt, project)))


@privacy_app.command("set")
def set_policy(
    project: str = typer.Argument(..., help="Project id or name."),
    enabled: bool | None = typer.Option(None, "--enable/--disable", help="Turn the policy on or off."),
    kinds: str | None = typer.Option(None, help="Kinds to detect, comma-separated (email,phone,iban,...)."),
    regions: str | None = typer.Option(None, help="Phone regions, comma-separated (US,FR,...)."),
    language: str | None = typer.Option(None, help="auto, en or fr."),
    annotators: str | None = typer.Option(None, help="placeholders, masked or original."),
    reveal: str | None = typer.Option(None, help="The least role that may reveal: reviewer or manager."),
    scan_on_import: bool | None = typer.Option(None, "--scan-on-import/--no-scan-on-import"),
) -> None:
    """Change the policy (the keys given; the others keep their values)."""
    changes: dict[str, Any] = {k: v for k, v in {
        "enabled": enabled, "language": language, "annotators": annotators, "reveal": reveal,
        "scan_on_import": scan_on_import,
        "kinds": kinds.split(",") if kinds else None, "regions": regions.split(",") if regions else None,
    }.items() if v is not None}
    with runtime() as rt:
        _show(write(rt, manage.set_privacy, project_id(rt, project), changes))


@privacy_app.command("scan")
def scan(
    project: str = typer.Argument(..., help="Project id or name."),
    rescan: bool = typer.Option(False, help="Scan every item again, not only those not yet scanned."),
) -> None:
    """Detect personal data in the project's items, with a progress bar (the policy must be on)."""
    with runtime() as rt:
        pid = project_id(rt, project)
        read(rt, privacy_scan.check_scan, pid)
        job = write(rt, create_job, pid, privacy_scan.KIND, {"rescan": rescan}, foreground=True)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=err_console) as bar:
            task = bar.add_task("scanning", total=None)
            progress = JobProgress(rt.db, job.id,
                                   echo=lambda done, total: bar.update(task, completed=done, total=total))
            done = run_job(rt.db, job.id, lambda p: privacy_scan.run_scan(
                rt.db, OPERATOR, pid, rescan=rescan, job_id=job.id, progress=p), progress)
    if done.status != "succeeded":
        err_console.print(f"[red]failed:[/red] {escape(str((done.error or {}).get('message')))}",
                          highlight=False)
        raise typer.Exit(1)
    r = done.result or {}
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(r.get("by_kind", {}).items())) or "none"
    console.print(f"scanned {r.get('items', 0)} items: {r.get('findings', 0)} findings ({kinds})")
