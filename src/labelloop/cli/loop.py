"""`labelloop loop ...`: run a round of the learning loop, show the learning curve."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, Progress, TextColumn

from labelloop.cli.common import OPERATOR, console, err_console, project_id, read, runtime, table, write
from labelloop.services.jobs import Progress as JobProgress
from labelloop.services.jobs import create_job, run_job
from labelloop.services.loop import rounds as loop

loop_app = typer.Typer(help="The learning loop: train, rescore the queue, auto-label, find errors.",
                       no_args_is_help=True)


@loop_app.command("run")
def run(project: str = typer.Argument(..., help="Project id or name.")) -> None:
    """Run one round: aggregate, train, evaluate, predict, rescore, auto-label, flag label errors."""
    with runtime() as rt:
        pid = project_id(rt, project)
        job = write(rt, create_job, pid, "round", {})
        with Progress(TextColumn("{task.description}"), BarColumn(), console=err_console) as bar:
            task = bar.add_task("round", total=7)

            def echo(done: int, total: int | None) -> None:
                bar.update(task, completed=done, total=total)

            progress = JobProgress(rt.db, job.id, echo=echo)
            done = run_job(rt.db, job.id, lambda p: loop.run_round(
                rt.db, OPERATOR, pid, data_dir=rt.settings.data_dir, job_id=job.id, progress=p,
                store=rt.blobs), progress)
    if done.status != "succeeded":
        console.print(f"[red]failed:[/red] {(done.error or {}).get('message')}")
        raise typer.Exit(1)
    m = done.result or {}
    shown = ("labelled", "human_answers", "oof_accuracy", "gold_accuracy", "autolabelled",
             "autolabel_lower_bound", "label_issues")
    console.print(", ".join(f"{k} {m[k]:.3f}" if isinstance(m.get(k), float) else f"{k} {m.get(k)}"
                            for k in shown if k in m) or str(m))


@loop_app.command("rounds")
def rounds(project: str = typer.Argument(..., help="Project id or name.")) -> None:
    """The learning curve: each round's accuracy against the human answers spent."""
    with runtime() as rt:
        found = read(rt, loop.list_rounds, project_id(rt, project))

    def num(x: object) -> str:
        return f"{x:.3f}" if isinstance(x, float) else "" if x is None else str(x)

    table("Rounds", ["model", "when", "human answers", "labelled", "cross-val acc", "gold acc",
                     "auto-labelled", "label issues"],
          [[r.model_version, f"{r.created_at:%Y-%m-%d %H:%M}", r.metrics.get("human_answers"),
            r.metrics.get("labelled"), num(r.metrics.get("oof_accuracy")),
            num(r.metrics.get("gold_accuracy")), r.metrics.get("autolabelled"),
            r.metrics.get("label_issues")] for r in found])
