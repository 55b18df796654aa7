"""`labelloop generate <project>`: fill the items' candidate responses from the project's model server."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from labelloop.cli.common import OPERATOR, console, err_console, project_id, read, runtime, write
from labelloop.services.generation import job as generation
from labelloop.services.jobs import Progress as JobProgress
from labelloop.services.jobs import create_job, run_job


def generate_command(project: str = typer.Argument(..., help="Project id or name.")) -> None:
    """Generate candidate responses: fill each item's responses field up to K from the project's
    OpenAI-compatible server (its generation settings; docs/feedback.md, "Generation").

    Items already full are skipped, so running it again after a failure or an interruption goes
    on where it stopped. The API key is read from the environment variable the settings name.
    The same job as POST /api/projects/{id}/generation/jobs.
    """
    with runtime() as rt:
        pid = project_id(rt, project)
        read(rt, generation.check_startable, pid)
        job = write(rt, create_job, pid, generation.KIND, {}, foreground=True)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=err_console) as bar:
            task = bar.add_task("generating", total=None)

            def echo(done: int, total: int | None) -> None:
                bar.update(task, completed=done, total=total)

            progress = JobProgress(rt.db, job.id, echo=echo)
            done = run_job(rt.db, job.id, lambda p: generation.run_generation(
                rt.db, OPERATOR, pid, job_id=job.id, progress=p), progress)
    if done.status != "succeeded":
        error = done.error or {}
        err_console.print(f"[red]failed:[/red] {escape(str(error.get('message')))}", highlight=False)
        raise typer.Exit(1)
    m = done.result or {}
    console.print(
        f"{m.get('completed')} of {m.get('to_generate')} items got {m.get('candidates')} candidates "
        f"in {m.get('requests')} requests ({m.get('already_full')} already full, "
        f"{m.get('without_prompt')} without a prompt); models: {', '.join(m.get('models') or []) or '-'}",
        highlight=False, markup=False,
    )
