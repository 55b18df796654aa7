"""A whole deployment on one machine, started by a test: PostgreSQL (the suite's), moto's S3
server, N `labelloop serve` processes behind the test's own round-robin proxy (proxy.py),
M `labelloop worker` processes and a local Ray head; each process's output goes to a log file
that a failing test prints. Processes can be killed with SIGKILL and started again.

The commands and environment variable names are constants here, and deploy/compose.yaml runs
the same ones (tests/test_deploy_files.py holds the two equal): the recipe in docs/scaling.md
is what this harness runs, not a second story.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, make_url, text

BIN = Path(sys.executable).parent  # the virtualenv's console scripts: labelloop, ray
PROXY_SCRIPT = Path(__file__).with_name("proxy.py")

# The commands (deploy/compose.yaml runs exactly these; per-process flags come after them).
SERVE = ("labelloop", "serve")
WORKER = ("labelloop", "worker", "--threads", "2")  # then --name <name>
RAY_HEAD = ("ray", "start", "--head", "--block", "--num-cpus", "2", "--disable-usage-stats",
            "--include-dashboard=false")  # then the ports

# The environment each kind of process is given (names; the values are the deployment's).
S3_ENV = ("LABELLOOP_BLOB_STORE", "LABELLOOP_S3_BUCKET", "LABELLOOP_S3_ENDPOINT_URL",
          "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_EC2_METADATA_DISABLED")
JOB_ENV = ("LABELLOOP_JOB_HEARTBEAT_SECONDS", "LABELLOOP_JOB_STALE_SECONDS")
API_ENV = ("LABELLOOP_DATABASE_URL", "LABELLOOP_DATA_DIR", *S3_ENV, *JOB_ENV,
           "LABELLOOP_HOST", "LABELLOOP_PORT", "LABELLOOP_JOB_WORKERS")
WORKER_ENV = ("LABELLOOP_DATABASE_URL", "LABELLOOP_DATA_DIR", *S3_ENV, *JOB_ENV, "LABELLOOP_RAY_ADDRESS")
RAY_ENV = ("LABELLOOP_DATABASE_URL", *S3_ENV)  # what a Ray task may read: the database, the blobs
# Values that are the same in every deployment: blobs on S3; the API processes run no job.
FIXED_ENV = {"LABELLOOP_BLOB_STORE": "s3", "LABELLOOP_JOB_WORKERS": "0"}
API_PROCESSES = 2
WORKER_PROCESSES = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ray_installed() -> bool:
    return (BIN / "ray").exists()


@dataclass
class Proc:
    """One process of the deployment; its output (every start of it) goes to `log`."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    ready: Callable[[Proc], bool] | None = None  # polled after a start until true
    url: str | None = None
    scratch: Path | None = None  # a folder to remove once it is stopped
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def launch(self) -> None:
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n===== {self.name}, start {self.starts}: {shlex.join(self.argv)}\n".encode())
            out.flush()
            # A session of its own, so stopping it also stops what it started (Ray's processes).
            self.popen = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)

    def wait_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited with {self.returncode}:\n{self.log_tail()}")
            if self.ready is None or self.ready(self):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} was not ready in {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.1)

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} was never started"
        return self.popen.pid

    def kill9(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no shutdown code runs."""
        assert self.popen is not None and self.alive, f"{self.name} is not running"
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait()

    def stop(self, timeout: float = 20.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
        except ProcessLookupError:
            pass

    def cpu_seconds(self) -> float:
        """CPU time of the running process and what it started (Ray's processes), so far."""
        import psutil  # type: ignore[import-untyped]

        if not self.alive:
            return 0.0
        try:
            top = psutil.Process(self.pid)
            total = 0.0
            for p in [top, *top.children(recursive=True)]:
                t = p.cpu_times()
                total += t.user + t.system
            return total
        except psutil.NoSuchProcess:
            return 0.0

    def log_tail(self, chars: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def answers_health(proc: Proc) -> bool:
    try:
        return httpx.get(f"{proc.url}/api/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def says(marker: str) -> Callable[[Proc], bool]:
    return lambda proc: marker in proc.log.read_text(errors="replace").rsplit("\n===== ", 1)[-1]


@dataclass
class Deployment:
    url: str  # the proxy's: where clients go
    database_url: str
    apis: list[Proc]
    workers: list[Proc]
    proxy: Proc
    ray: Proc | None
    ray_address: str | None

    @property
    def procs(self) -> list[Proc]:
        return [*([self.ray] if self.ray else []), *self.apis, self.proxy, *self.workers]

    def worker_running(self, job_worker: str) -> Proc:
        """The worker process a job's `worker` names (`--name` and the process id)."""
        found = [w for w in self.workers if w.alive and job_worker == f"{worker_name(w)}:{w.pid}"]
        assert found, f"no running worker process is {job_worker!r}"
        return found[0]

    def cpu_split(self) -> dict[str, float]:
        """CPU seconds per running process (a restarted one counts from its restart)."""
        return {p.name: round(p.cpu_seconds(), 1) for p in self.procs}

    def logs(self, chars: int = 6000) -> str:
        """Every process's log tail, for a failing test's output."""
        return "\n".join(f"----- {p.name} ({'running' if p.alive else f'exit {p.returncode}'})\n"
                         f"{p.log_tail(chars)}" for p in self.procs)


def worker_name(proc: Proc) -> str:
    return proc.argv[proc.argv.index("--name") + 1]


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A database of its own on the PostgreSQL server of `server_url`, dropped afterwards."""
    url = make_url(server_url)
    name = f"labelloop_fault_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _ray_head(root: Path, env: dict[str, str]) -> tuple[Proc, str]:
    # Ray's socket paths must stay short: a folder of its own under /tmp, not under tmp_path.
    temp = tempfile.mkdtemp(prefix="llray")
    port = free_port()
    argv = [str(BIN / "ray"), *RAY_HEAD[1:], "--port", str(port), "--node-ip-address", "127.0.0.1",
            "--temp-dir", temp,
            "--dashboard-agent-listen-port", str(free_port())]
    proc = Proc("ray-head", argv, _base_env() | {k: env[k] for k in RAY_ENV}, root / "ray-head.log",
                ready=says("Ray runtime started"), scratch=Path(temp))
    return proc, f"127.0.0.1:{port}"


def _base_env() -> dict[str, str]:
    """What every process inherits: this environment less every LABELLOOP_ variable, so each
    process runs with exactly the settings its kind is given (and compose.yaml lists)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("LABELLOOP_")}


@contextmanager
def deployment(
    root: Path, database_url: str, *, apis: int = API_PROCESSES, workers: int = WORKER_PROCESSES,
    with_ray: bool = True, heartbeat_seconds: float = 0.5, stale_seconds: float = 3.0,
    env: dict[str, str] | None = None,
) -> Iterator[Deployment]:
    """Start the deployment on a migrated database (the caller migrates it first, so the API
    processes never race to migrate) and stop every process at the end."""
    from tests.platform.s3 import ENV as AWS_ENV
    from tests.platform.s3 import s3_server

    with ExitStack() as stack:
        s3 = stack.enter_context(s3_server())
        shared = {
            **AWS_ENV, **FIXED_ENV,
            "LABELLOOP_DATABASE_URL": database_url,
            "LABELLOOP_S3_BUCKET": s3.new_bucket(), "LABELLOOP_S3_ENDPOINT_URL": s3.endpoint,
            "LABELLOOP_JOB_HEARTBEAT_SECONDS": str(heartbeat_seconds),
            "LABELLOOP_JOB_STALE_SECONDS": str(stale_seconds),
            **(env or {}),
        }
        started: list[Proc] = []

        def stop_all() -> None:
            for p in reversed(started):
                p.stop()
                if p.scratch is not None:
                    shutil.rmtree(p.scratch, ignore_errors=True)

        stack.callback(stop_all)

        # One data folder for the API processes and the workers (a shared volume in compose.yaml):
        # a worker imports the file an API process received. Blobs are on S3, state in PostgreSQL.
        data = root / "data"
        data.mkdir(parents=True, exist_ok=True)
        shared["LABELLOOP_DATA_DIR"] = str(data)

        ray: Proc | None = None
        ray_address: str | None = None
        if with_ray and ray_installed():
            ray, ray_address = _ray_head(root, shared)
            started.append(ray)
            ray.launch()

        api_procs = []
        for i in range(1, apis + 1):
            port = free_port()
            values = shared | {"LABELLOOP_HOST": "127.0.0.1", "LABELLOOP_PORT": str(port)}
            api_procs.append(Proc(f"api-{i}", [str(BIN / SERVE[0]), *SERVE[1:]],
                                  _base_env() | {k: values[k] for k in API_ENV}, root / f"api-{i}.log",
                                  ready=answers_health, url=f"http://127.0.0.1:{port}"))
        for p in api_procs:
            started.append(p)
            p.launch()
        for p in api_procs:
            p.wait_ready()
        if ray is not None:
            ray.wait_ready()

        port = free_port()
        proxy_argv = [sys.executable, str(PROXY_SCRIPT), "--port", str(port)]
        for p in api_procs:
            proxy_argv += ["--upstream", str(p.url)]
        proxy = Proc("proxy", proxy_argv, _base_env(), root / "proxy.log", ready=answers_health,
                     url=f"http://127.0.0.1:{port}")
        started.append(proxy)
        proxy.start()

        worker_procs = []
        for i in range(1, workers + 1):
            values = dict(shared)
            if ray_address is not None:
                values["LABELLOOP_RAY_ADDRESS"] = ray_address
            worker_procs.append(Proc(f"worker-{i}", [str(BIN / WORKER[0]), *WORKER[1:], "--name", f"worker-{i}"],
                                     _base_env() | {k: values[k] for k in WORKER_ENV if k in values},
                                     root / f"worker-{i}.log", ready=says("labelloop worker ")))
        for p in worker_procs:
            started.append(p)
            p.start()

        yield Deployment(str(proxy.url), database_url, api_procs, worker_procs, proxy, ray, ray_address)
