"""The `labelloop` command line."""

from __future__ import annotations

import os
import signal
from types import FrameType

import typer
from rich.panel import Panel

from labelloop import __version__
from labelloop.cli.accounts import token_app, user_app
from labelloop.cli.audit import audit_app
from labelloop.cli.blobs import blobs_app
from labelloop.cli.common import console, runtime
from labelloop.cli.dataset import dataset_app
from labelloop.cli.encryption import encryption_app
from labelloop.cli.erase import erase_command, retention_app
from labelloop.cli.generate import generate_command
from labelloop.cli.job_process import JobProcess
from labelloop.cli.loop import loop_app
from labelloop.cli.privacy import privacy_app
from labelloop.cli.projects import export_command, import_command, project_app, status_command
from labelloop.cli.quality import quality_app
from labelloop.cli.remote import configure as configure_remote
from labelloop.cli.remote import guard_project
from labelloop.cli.worker import worker_command
from labelloop.config import Settings

app = typer.Typer(
    help="labelloop: a self-hosted data engine for AI training data. "
    "Commands act on the local instance (LABELLOOP_DATA_DIR or LABELLOOP_DATABASE_URL) "
    "as its operator.",
    no_args_is_help=True,
)
project_app.callback()(guard_project)


@app.callback()
def remote_mode(
    ctx: typer.Context,
    server: str | None = typer.Option(None, "--server", envvar="LABELLOOP_SERVER",
                                      help="A labelloop server's URL: import, export, status and project "
                                      "list then go through its API (docs/client.md)."),
    token: str | None = typer.Option(None, "--token", envvar="LABELLOOP_TOKEN",
                                     help="The API token to use on --server."),
) -> None:
    configure_remote(ctx, server, token)


app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(project_app, name="project")
app.add_typer(quality_app, name="quality")
app.add_typer(loop_app, name="loop")
app.add_typer(audit_app, name="audit")
app.add_typer(privacy_app, name="privacy")
app.add_typer(encryption_app, name="encryption")
app.add_typer(retention_app, name="retention")
app.add_typer(blobs_app, name="blobs")
app.add_typer(dataset_app, name="dataset")
app.command("erase")(erase_command)
app.command("import")(import_command)
app.command("worker")(worker_command)
app.command("export")(export_command)
app.command("status")(status_command)
app.command("generate")(generate_command)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to bind (default 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default 8000)."),
    workers: int | None = typer.Option(None, help="Worker processes."),
    demo: bool = typer.Option(False, help="Create the demo projects if they are missing (the LLM "
                              "preference one when PandaLM's test set is in ../shared/data)."),
) -> None:
    """Migrate the database, then serve the API (and, first time, print the admin login)."""
    from labelloop.services.accounts.users import ensure_first_admin, find_user
    from labelloop.services.demo import ensure_demo_project, ensure_feedback_demo

    for name, value in (("HOST", host), ("PORT", port), ("WORKERS", workers)):
        if value is not None:
            os.environ[f"LABELLOOP_{name}"] = str(value)
    from labelloop.config import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    with runtime() as rt:
        for line in rt.recover():
            console.print(line)
        created = rt.db.run(ensure_first_admin)
        if created:
            console.print(Panel(
                f"username: [bold]{created[0]}[/bold]\npassword: [bold]{created[1]}[/bold]\n\n"
                "Shown once. Change it with `labelloop user set-password admin`.",
                title="First start: an administrator account was created",
            ))
        if demo:
            with rt.db.read() as conn:
                admin = find_user(conn, "admin").id if created else None
            pid = ensure_demo_project(rt.db, owner_id=admin)
            if pid is not None:
                console.print(f"demo project created (id {pid})")
            feedback = ensure_feedback_demo(rt.db, owner_id=admin,
                                            starting=lambda say: console.print(say, markup=False))
            console.print(feedback.note, markup=False)
    console.print(f"labelloop {__version__} on http://{settings.host}:{settings.port} "
                  f"(web app at /app/, API docs at /docs), data in {settings.resolved_database_url}")
    jobs = None
    if settings.job_process and settings.job_workers > 0:  # cli/job_process.py
        os.environ["LABELLOOP_JOB_WORKERS"] = "0"  # the serving processes run no job themselves
        get_settings.cache_clear()
        jobs = JobProcess(settings.job_workers)
        jobs.start()
        # uvicorn raises the signal that stopped it again once it has shut down: SIGTERM's default
        # would end this process there, with its job process killed rather than stopped.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        _serve(settings)
    finally:
        if jobs is not None:
            jobs.stop()


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _serve(settings: Settings) -> None:
    import uvicorn

    uvicorn.run(
        "labelloop.api.app:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        # A worker process imports the whole app before it answers the health check: on a busy
        # machine that takes more than uvicorn's 5 s, which would restart it forever.
        timeout_worker_healthcheck=60,
        log_level=settings.log_level,
        access_log=settings.access_log,
    )


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)
