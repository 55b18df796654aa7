"""`labelloop dataset duplicates <project>`: find a project's duplicate groups and list them."""

from __future__ import annotations

import typer
from rich.markup import escape

from labelloop.cli.common import OPERATOR, console, err_console, project_id, read, runtime, table, write
from labelloop.services.jobs import create_job, run_job


def duplicates_command(
    project: str = typer.Argument(..., help="Project id or name."),
    method: str | None = typer.Option(None, help="exact, text, image or semantic (all when left out)."),
    find: bool = typer.Option(True, "--find/--list", help="Find the groups first (a job), or only list "
                              "the stored ones."),
    limit: int = typer.Option(20, min=1, max=500, help="Groups listed."),
) -> None:
    """Find exact, near-duplicate text and image, and semantic duplicate groups; list a method's groups."""
    from labelloop.services.curation import duplicates

    methods = [method] if method else list(duplicates.METHODS)
    params = duplicates.job_params({"methods": methods}).model_dump()
    with runtime() as rt:
        pid = project_id(rt, project)
        if find:
            job = write(rt, create_job, pid, duplicates.KIND, params, foreground=True)
            done = run_job(rt.db, job.id, lambda p: duplicates.run_duplicates(
                rt.db, OPERATOR, pid, params, blobs=rt.blobs, data_dir=rt.settings.data_dir, progress=p))
            if done.status != "succeeded":
                err_console.print(f"[red]failed:[/red] {escape(str((done.error or {}).get('message')))}",
                                  highlight=False)
                raise typer.Exit(1)
            found = done.result or {}
            table(f"Duplicates in {found.get('items', 0)} items", ["method", "groups", "items", "skipped"], [
                [m, r.get("groups", "-"), r.get("grouped_items", "-"),
                 r["skipped"] if isinstance(r.get("skipped"), str)
                 else ", ".join(f"{why}: {n}" for why, n in r.get("skipped", {}).items())]
                for m in methods if isinstance(r := found.get(m), dict)])
        shown = methods[0] if method else "text"
        groups = read(rt, duplicates.list_groups, pid, shown, limit=limit)
    table(f"{shown} groups (first {limit})", ["group", "item", "external id", "score", "preview"], [
        [g["group_id"], i["item_id"], i["external_id"], i["score"],
         ("[set aside] " if i["set_aside"] else "") + i["preview"]]
        for g in groups for i in g["items"]])
    if not groups:
        console.print(f"no {shown} groups")
