"""`labelloop serve`'s job process: the server's job threads, in a process of their own.

A job's Python work (an import parsing its file, a round training its model) holds the
interpreter lock of the process it runs in. Run beside the requests, it made annotators wait
seconds for their next task while a file was imported (`make bench-core`, the phase during an
import). So `serve` starts `labelloop worker` as a child with LABELLOOP_JOB_WORKERS threads and
runs no job itself (LABELLOOP_JOB_PROCESS=false keeps them in the serving process). The child:

- is in a session of its own: a terminal's Ctrl-C reaches only `serve`, which then stops it as a
  worker is stopped (the jobs running there finish first; a second Ctrl-C stops them at once);
- dies with `serve`, however `serve` ends (`worker --parent`: on Linux the kernel kills it, and
  elsewhere it sees within half a second that its parent is gone), so a killed server leaves no
  job running unseen: its jobs are taken over as a dead worker's are;
- is started again if it dies while `serve` runs (its jobs are taken over once stale).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from labelloop.cli.common import err_console

POLL_SECONDS = 0.25  # how soon the child sees a job queued by the API processes
RESTART_DELAYS = (1.0, 30.0)  # first and longest wait before the child is started again


class JobProcess:
    def __init__(self, threads: int) -> None:
        self.command = [sys.executable, "-m", "labelloop", "worker", "--threads", str(threads),
                        "--parent", str(os.getpid()), "--poll-seconds", str(POLL_SECONDS)]
        self.proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        # The child is started from this thread, which lives as long as `serve` does: on Linux
        # the kernel's "parent died" signal follows the thread that started a child.
        self._watcher = threading.Thread(target=self._watch, name="labelloop-job-process", daemon=True)

    def start(self) -> None:
        self._watcher.start()

    def _watch(self) -> None:
        delay = RESTART_DELAYS[0]
        while True:
            with self._lock:
                if self._stopping.is_set():
                    return
                self.proc = subprocess.Popen(self.command, start_new_session=True)
            started = time.monotonic()
            code = self.proc.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started > 60:  # it had been running: not a failure to start
                delay = RESTART_DELAYS[0]
            err_console.print(f"the job process {self.proc.pid} stopped ({_exit_status(code)}); "
                              f"starting it again in {delay:.0f} s", highlight=False)
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, RESTART_DELAYS[1])

    def stop(self) -> None:
        """Stop the child as a worker is stopped: the jobs running there finish first (an
        interrupt while they do stops them at once)."""
        with self._lock:
            self._stopping.set()
            proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGTERM)  # the worker's second signal: at once
            proc.wait()


def _exit_status(code: int) -> str:
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


def die_with(parent: int) -> None:
    """In the child: end at once when `parent` ends (Linux: the kernel's parent-death signal;
    the worker's main loop checks `orphaned` too, for other systems)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if orphaned(parent):  # it ended before the signal was asked for
        os._exit(1)


def orphaned(parent: int) -> bool:
    return os.getppid() != parent
