"""`labelloop project ...`, `import`, `export` and `status`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich import box
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table
from rich.text import Text

from labelloop import heap
from labelloop.cli import remote
from labelloop.cli.common import (
    OPERATOR,
    console,
    err_console,
    project_id,
    read,
    runtime,
    table,
    user_id,
    write,
)
from labelloop.services import exports, projects, stats
from labelloop.services.compute.export_tasks import export_stream
from labelloop.services.importing.annotated import DatasetOptions
from labelloop.services.importing.limits import ImportLimits
from labelloop.services.importing.readers import DATASETS, MOVE_IN, detect_format
from labelloop.services.importing.writer import import_file
from labelloop.services.jobs import Progress as JobProgress
from labelloop.services.jobs import create_job, run_job

project_app = typer.Typer(help="Create projects, change their settings and members.",
                          no_args_is_help=True)


@project_app.command("create")
def project_create(
    name: str,
    schema: Path = typer.Option(..., exists=True, dir_okay=False,
                                help="Label schema file (YAML or JSON); see docs/schema.md."),
    overlap: int = typer.Option(1, help="Answers each item needs, from distinct annotators."),
    lease_seconds: int | None = typer.Option(
        None, help="How long a handed-out task stays reserved (default: LABELLOOP_DEFAULT_LEASE_SECONDS)."
    ),
    description: str = typer.Option("", help="Shown to members."),
    owner: str | None = typer.Option(None, help="Username that becomes the project's owner."),
) -> None:
    """Create a project from a label schema file."""
    with runtime() as rt:
        def go(conn):  # type: ignore[no-untyped-def]
            p = projects.create_project(conn, OPERATOR, name, schema.read_text(encoding="utf-8"),
                                        description=description, overlap=overlap,
                                        lease_seconds=lease_seconds or rt.settings.default_lease_seconds)
            if owner:
                projects.set_member(conn, OPERATOR, p.id, user_id(conn, owner), "owner")
            return p
        p = rt.db.run(go)
    console.print(f"created project [bold]{p.name}[/bold] (id {p.id})")


@project_app.command("list")
def project_list() -> None:
    """List every project."""
    if remote.active():
        return remote.project_list()
    with runtime() as rt:
        rows = read(rt, projects.list_projects)
    table("Projects", ["id", "name", "overlap", "lease (s)", "created"],
          [[p.id, p.name, p.overlap, p.lease_seconds, f"{p.created_at:%Y-%m-%d}"] for p in rows])


@project_app.command("show")
def project_show(project: str = typer.Argument(..., help="Project id or name.")) -> None:
    """Show a project's settings, schema and members."""
    import yaml

    with runtime() as rt:
        pid = project_id(rt, project)
        p = read(rt, projects.get_project, pid)
        members = read(rt, projects.list_members, pid)
    console.print(f"[bold]{p.name}[/bold] (id {p.id}) overlap {p.overlap}, lease {p.lease_seconds}s")
    console.print(yaml.safe_dump(p.label_schema, sort_keys=False), highlight=False)
    table("Members", ["user", "role"], [[m.username, m.role] for m in members])


@project_app.command("set")
def project_set(
    project: str = typer.Argument(..., help="Project id or name."),
    overlap: int | None = typer.Option(None, help="Answers each item needs."),
    lease_seconds: int | None = typer.Option(None, help="Lease time in seconds."),
    name: str | None = typer.Option(None, help="New name."),
    description: str | None = typer.Option(None, help="New description."),
) -> None:
    """Change a project's settings."""
    with runtime() as rt:
        p = write(rt, projects.update_project, project_id(rt, project), overlap=overlap,
                  lease_seconds=lease_seconds, name=name, description=description)
    console.print(f"{p.name}: overlap {p.overlap}, lease {p.lease_seconds}s")


@project_app.command("add-member")
def project_add_member(
    project: str = typer.Argument(..., help="Project id or name."),
    user: str = typer.Argument(..., help="Username or id."),
    role: str = typer.Argument("annotator", help="owner, manager, reviewer or annotator."),
) -> None:
    """Add a user to a project with a role (or change their role)."""
    with runtime() as rt:
        pid = project_id(rt, project)
        m = rt.db.run(lambda c: projects.set_member(c, OPERATOR, pid, user_id(c, user), role))
    console.print(f"{m.username} is {m.role} of project {pid}")


@project_app.command("remove-member")
def project_remove_member(
    project: str = typer.Argument(..., help="Project id or name."),
    user: str = typer.Argument(..., help="Username or id."),
) -> None:
    """Take a user out of a project."""
    with runtime() as rt:
        pid = project_id(rt, project)
        rt.db.run(lambda c: projects.remove_member(c, OPERATOR, pid, user_id(c, user)))
    console.print("removed")


def import_command(
    project: str = typer.Argument(..., help="Project id or name."),
    path: Path = typer.Argument(..., exists=True,
                                help="A .jsonl, .json (array), .csv, .tsv or .zip file, "
                                "or a folder of .txt files, of images, or of a Hugging Face dataset "
                                "written by save_to_disk."),
    format: str | None = typer.Option(None, help="Override the format the name suggests "
                                      "(jsonl, json, csv, tsv, zip, txt or images), or say that a "
                                      "zip or folder is a coco, yolo or voc dataset, or an audio "
                                      "dataset: nemo, srt, webvtt or rttm, or a video dataset: mot "
                                      "or cvat."),
    as_: str = typer.Option("gold", "--as", help="coco, yolo, voc, nemo, srt, webvtt, rttm, mot, cvat: "
                            "the annotations become gold or prelabels."),
    question: str | None = typer.Option(None, help="coco, yolo, voc: the shape question they answer; "
                                        "nemo, srt, webvtt, rttm: the audio_segments question; mot, "
                                        "cvat: the video_tracks question (when the schema has several)."),
    split: str | None = typer.Option(None, help="hf: the split of a DatasetDict to import "
                                     "(default train)."),
) -> None:
    """Import items into a project, with a progress bar. Bad input imports nothing.

    A zip or folder of images makes one item per image (its id the file's path), or holds one
    records file at its top whose image fields name the images by path; a COCO, YOLO or Pascal
    VOC dataset brings its annotations as gold or pre-labels (docs/images.md), and a NeMo manifest,
    SRT, WebVTT or RTTM files beside their audio files bring segments (docs/audio.md)."""
    if remote.active():
        return remote.import_file(project, path, {"format": format, "as_": as_, "question": question,
                                                  "split": split})
    with runtime() as rt:
        pid = project_id(rt, project)
        fmt = detect_format(path, format)
        dataset = DatasetOptions(as_, question) if fmt in (*DATASETS, *MOVE_IN) else None
        params = {"file": str(path), "format": fmt} | ({"as": as_, "question": question} if dataset else {})
        if fmt == "hf":
            params["split"] = split
        job = write(rt, create_job, pid, "import", params, foreground=True)
        heap.settle()  # a long import in this process, as in a server's (labelloop/heap.py)
        with Progress(
            "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
            TransferSpeedColumn(), TimeRemainingColumn(), console=err_console,
        ) as bar:
            task = bar.add_task(f"importing {path.name}", total=None)
            progress = JobProgress(rt.db, job.id,
                                   echo=lambda done, total: bar.update(task, completed=done, total=total))
            done = run_job(rt.db, job.id, lambda p: import_file(
                rt.db, OPERATOR, pid, path, job_id=job.id, fmt=fmt,
                batch_size=rt.settings.import_batch_size, progress=p,
                limits=ImportLimits.from_settings(rt.settings), blobs=rt.blobs, dataset=dataset,
                split=split), progress)
    if done.status != "succeeded":
        err = done.error or {}
        err_console.print(f"[red]error:[/red] {err.get('message')}", highlight=False)
        for p in err.get("problems") or []:
            where = ", ".join(f"{k} {p[k]}" for k in ("file", "line", "record") if k in p)
            field = f" field '{p['field']}'" if "field" in p else ""
            err_console.print(f"  - {where}{field}: {p['message']}", highlight=False)
        raise typer.Exit(1)
    r = done.result or {}
    console.print(f"imported {r.get('created', 0):,} new items "
                  f"({r.get('unchanged', 0):,} already there) in job {job.id}")


def export_command(
    project: str = typer.Argument(..., help="Project id or name."),
    format: str = typer.Option("jsonl", help="jsonl, csv or parquet; or coco, yolo or voc (a zip); or "
                               "nemo, srt, webvtt or rttm (a zip of audio and segments); or mot, "
                               "cvat, vis or yolo-frames (a zip of videos and tracks, docs/video.md); or "
                               "training data: dpo, sft, ratings, ratings-parquet, hf (docs/feedback.md)."),
    output: Path | None = typer.Option(None, "-o", "--output", help="File to write (default: stdout)."),
    question: str | None = typer.Option(None, help="coco, yolo, voc: the shape question; nemo, srt, "
                                        "webvtt, rttm: the audio_segments question (when the schema "
                                        "has several); dpo, sft, ratings, hf: the question to take."),
    source: str = typer.Option("consensus", help="coco, yolo, voc, nemo, srt, webvtt, rttm: "
                               "consensus, gold or answers (not yolo, srt, webvtt, rttm)."),
    images: str = typer.Option("include", help="coco, yolo, voc: include the image files, or refs; "
                               "nemo, srt, webvtt, rttm: the same for the audio files."),
    license: str = typer.Option("other", help="hf: the dataset card's license id (apache-2.0, ...)."),
    redact: bool = typer.Option(False, help="jsonl, csv, parquet: personal data replaced by "
                                "placeholders (docs/privacy.md); default: the original."),
    slice_ref: str | None = typer.Option(None, "--slice", help="jsonl, csv, parquet: only the items of "
                                         "this saved slice (its name or id; docs/curation.md)."),
) -> None:
    """Export every item with its answers, gold and consensus, or one shape question as an image
    dataset (COCO, YOLO or Pascal VOC; docs/images.md), or one audio_segments question as a NeMo
    manifest, SRT, WebVTT or RTTM files with the audio (docs/audio.md), or training data (DPO, SFT, ratings, a
    Hugging Face dataset; docs/feedback.md)."""
    if remote.active():
        if slice_ref is not None:
            raise typer.BadParameter("--slice works on the local database (the API takes ?slice=ID)")
        return remote.export(project, output, {"format": format, "question": question, "source": source,
                                               "images": images, "license": license, "redact": redact})
    with runtime() as rt:
        plan = write(rt, exports.plan_export, project_id(rt, project), format, question=question,
                    source=source, images=images, license=license, redact=redact, slice_ref=slice_ref)
        out = output.open("wb") if output else sys.stdout.buffer
        try:
            for chunk in export_stream(rt.db, plan, rt.blobs, rt.settings.ray_address):
                out.write(chunk)
        finally:
            if output:
                out.close()
    if output:
        err_console.print(f"wrote {output}")
    if plan.feedback is not None:
        err_console.print_json(data=plan.feedback.summary())


def status_command(
    project: str | None = typer.Argument(None, help="Project id or name (default: all)."),
) -> None:
    """Progress of one project or of all of them."""
    if remote.active():
        rows, names = remote.status(project)
    else:
        with runtime() as rt:
            names = {p.id: p.name for p in read(rt, projects.list_projects)}
            ids = [project_id(rt, project)] if project else list(names)
            rows = [read(rt, stats.project_status, i) for i in ids]
    if project:
        one = rows[0]
        # Text, not markup: a project's name is whatever its owner typed
        console.print(Text.assemble((names.get(one.project_id, ""), "bold"), f" (id {one.project_id})"))
        console.print(_status_of(one))
    else:
        console.print(_status_table(rows, names))


def _percent(s: stats.ProjectStatus) -> str:
    return f"{s.percent_done:.1f}" if s.items else f"{s.percent_done:.1f} (no items yet)"


def _status_of(s: stats.ProjectStatus) -> Table:
    """One project's numbers, one per line."""
    t = Table(show_header=False, box=box.SIMPLE, pad_edge=False)
    t.add_column("", style="bold", no_wrap=True)
    t.add_column("", overflow="fold")
    for label, value in [
        ("items", s.items), ("done", s.done), ("in progress", s.in_progress), ("not started", s.untouched),
        ("answers", f"{s.answers}/{s.answers_needed}"), ("% done", _percent(s)), ("skipped", s.skipped),
        ("leased", s.leased), ("annotators", s.annotators),
    ]:
        t.add_row(label, str(value))
    return t


def _status_table(rows: list[stats.ProjectStatus], names: dict[int, str]) -> Table:
    """Every project, one row each, in 80 columns: numbers never wrap (their headers break between
    words), and the name takes the room left, wrapped between words (a word too long for it is
    folded). Skips, leases and annotators are in `status <project>`, which has room for them."""
    empty = [names.get(s.project_id, "") for s in rows if not s.items]
    t = Table(title="Status", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True,
              caption=Text(f"No items yet (0% done): {', '.join(empty)}") if empty else None)
    t.add_column("id", justify="right", no_wrap=True)
    t.add_column("project", min_width=16, ratio=1, overflow="fold")
    for header in ("items", "done", "in\nprogress", "not\nstarted", "answers", "%\ndone"):
        t.add_column(header, justify="right", no_wrap=True)
    for s in rows:
        t.add_row(str(s.project_id), Text(names.get(s.project_id, "")),
                  *(str(n) for n in (s.items, s.done, s.in_progress, s.untouched)),
                  f"{s.answers}/{s.answers_needed}", f"{s.percent_done:.1f}")
    return t
