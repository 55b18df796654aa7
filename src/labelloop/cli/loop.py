"""`labelloop loop ...`: run a round of the learning loop, pre-label images with the project's
detector or audio with its speech model, show the learning curve."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from labelloop.cli.common import OPERATOR, console, err_console, project_id, read, runtime, table, write
from labelloop.services.jobs import JobInfo, create_job, run_job
from labelloop.services.jobs import Progress as JobProgress
from labelloop.services.loop import prelabels, transcripts
from labelloop.services.loop import rounds as loop

loop_app = typer.Typer(help="The learning loop: train, rescore the queue, auto-label, find errors; "
                       "pre-label images with a detector and audio with a speech model.",
                       no_args_is_help=True)


@loop_app.command("run")
def run(project: str = typer.Argument(..., help="Project id or name.")) -> None:
    """Run one round: aggregate, train, evaluate, predict, rescore, auto-label, flag label errors."""
    with runtime() as rt:
        pid = project_id(rt, project)
        job = write(rt, create_job, pid, "round", {}, foreground=True)
        with Progress(TextColumn("{task.description}"), BarColumn(), console=err_console) as bar:
            task = bar.add_task("round", total=7)

            def echo(done: int, total: int | None) -> None:
                bar.update(task, completed=done, total=total)

            progress = JobProgress(rt.db, job.id, echo=echo)
            done = run_job(rt.db, job.id, lambda p: loop.run_round(
                rt.db, OPERATOR, pid, data_dir=rt.settings.data_dir, job_id=job.id, progress=p,
                store=rt.blobs), progress)
    _exit_if_failed(done)
    m = done.result or {}
    shown = ("labelled", "human_answers", "oof_accuracy", "gold_accuracy", "autolabelled",
             "autolabel_lower_bound", "label_issues")
    console.print(", ".join(f"{k} {m[k]:.3f}" if isinstance(m.get(k), float) else f"{k} {m.get(k)}"
                            for k in shown if k in m) or str(m))


def _exit_if_failed(done: JobInfo) -> None:
    """Say why a job failed, each of its problems included (e.g. the extra a model needs), and exit 1."""
    if done.status == "succeeded":
        return
    error: dict[str, Any] = done.error or {}
    # escape(): a message may hold brackets that are not markup (pip install 'labelloop[images-models]').
    err_console.print(f"[red]failed:[/red] {escape(str(error.get('message')))}", highlight=False)
    for p in error.get("problems") or []:
        where = f"{p['field']}: " if p.get("field") else ""
        err_console.print(f"  - {escape(where + str(p.get('message')))}", highlight=False)
    raise typer.Exit(1)


@loop_app.command("prelabel")
def prelabel(project: str = typer.Argument(..., help="Project id or name.")) -> None:
    """Pre-label images with the project's detector, or audio with its speech model.

    The detector is the loop setting `detector` (coco needs the images-models extra); its boxes go
    to the bbox question `detector_question`. Images it already boxed with the same settings keep
    their boxes. The same job as POST /api/projects/{id}/loop/prelabel (docs/loop.md, "Images").
    On a project with an audio_segments question it runs the setting `transcriber` instead (whisper
    needs the speech extra): segments with transcripts (docs/audio.md, "Speech-to-text pre-labels").
    """
    with runtime() as rt:
        pid = project_id(rt, project)
        doing = "transcribing audio" if read(rt, transcripts.is_speech_job, pid) else "detecting objects"
        job = write(rt, create_job, pid, prelabels.KIND, {}, foreground=True)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=err_console) as bar:
            task = bar.add_task(doing, total=None)

            def echo(done: int, total: int | None) -> None:
                bar.update(task, completed=done, total=total)

            progress = JobProgress(rt.db, job.id, echo=echo)
            done = run_job(rt.db, job.id, lambda p: prelabels.run_prelabels(
                rt.db, rt.blobs, OPERATOR, pid, job_id=job.id, progress=p), progress)
    _exit_if_failed(done)
    m = done.result or {}
    if "transcriber" in m:
        _print_transcripts(m)
        return
    f1 = m.get("box_f1")
    lines = [
        f"model {m.get('model_version')}: {m.get('prelabelled')} of {m.get('items')} items pre-labelled "
        f"({m.get('detected')} detected now, {m.get('reused')} kept), {m.get('boxes')} boxes",
        f"left out: {m.get('other_classes')} detections of classes the question lacks, "
        f"{m.get('without_image')} items whose image is not a stored file",
        "held-out box F1: not measured (no gold or unprompted consensus boxes yet)" if f1 is None
        else f"held-out box F1: {f1:.3f} on {m.get('box_f1_items')} images",
    ]
    for line in lines:
        console.print(line, highlight=False, markup=False)


def _print_transcripts(m: dict[str, Any]) -> None:
    wer, f1 = m.get("wer"), m.get("segment_f1")
    lines = [
        f"model {m.get('model_version')}: {m.get('prelabelled')} of {m.get('items')} items pre-labelled "
        f"({m.get('transcribed')} transcribed now, {m.get('reused')} kept), {m.get('segments')} "
        f"segments, {m.get('words')} words",
        f"left out: {m.get('without_audio')} items whose audio is not a stored file",
        "held-out WER: not measured (no gold or unprompted consensus transcripts yet)" if wer is None
        else f"held-out WER: {wer:.3f} on {m.get('wer_items')} items",
        "held-out segment F1: not measured" if f1 is None
        else f"held-out segment F1: {f1:.3f} on {m.get('segment_f1_items')} items",
    ]
    for line in lines:
        console.print(line, highlight=False, markup=False)


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
