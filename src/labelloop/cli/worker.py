"""`labelloop worker`: a process that runs background jobs and nothing else (docs/scaling.md)."""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

import typer

from labelloop import heap
from labelloop.cli.common import console, err_console
from labelloop.cli.job_process import die_with, orphaned
from labelloop.config import get_settings
from labelloop.services.runtime import Runtime


def worker_command(
    threads: int = typer.Option(2, min=1, help="Jobs run side by side in this process."),
    name: str | None = typer.Option(None, help="How jobs name this process (default: the host "
                                    "name); the process id is added."),
    until_idle: bool = typer.Option(False, help="Stop once no job is queued or running here."),
    parent: int | None = typer.Option(None, hidden=True, help="`serve`'s job process: the pid to "
                                      "die with; `serve` has settled the last run's jobs already."),
    poll_seconds: float = typer.Option(1.0, hidden=True, min=0.01,
                                       help="How often the threads look for a queued job."),
) -> None:
    """Claim queued jobs (imports, rounds, pre-labels, recomputes, scans, generation) from the
    database and run them, until stopped. A job whose process died is taken over once it has
    been silent for LABELLOOP_JOB_STALE_SECONDS. Stop with Ctrl-C or SIGTERM: the jobs running
    here finish first; a second signal stops at once (another worker then takes them over)."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise SystemExit(128 + signum)
        err_console.print("stopping: the jobs running here finish first (again to stop at once)")
        stop.set()

    if parent is not None:
        die_with(parent)
    rt = Runtime(get_settings(), job_threads=threads, worker_name=name, job_poll_seconds=poll_seconds)
    try:
        rt.migrate()
        for line in rt.recover() if parent is None else ():
            console.print(line, markup=False)
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        rt.start_jobs()
        heap.settle()
        console.print(f"labelloop worker {rt.jobs.name}: {threads} thread{'s' if threads > 1 else ''}, "
                      f"jobs from {rt.settings.resolved_database_url.split('@')[-1]}", markup=False)
        while not stop.is_set():
            if until_idle and rt.jobs.wait_idle(timeout=0.5):
                break
            if parent is not None and orphaned(parent):  # cut off, as if killed with `serve`
                os._exit(1)
            stop.wait(0.5)
    finally:
        rt.close()
