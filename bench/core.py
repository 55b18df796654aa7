"""Core benchmark: import, the annotator loop (alone, under open-loop load, at saturation), export.

    .venv/bin/python bench/core.py [--workers N] [--database-url URL] [--quick] [--profile]
    .venv/bin/python bench/core.py --ab REV [--rounds N] [--quick]     (bench/core_ab.py)

Starts a real `labelloop serve` on loopback over a fresh database (SQLite in a temporary
folder unless --database-url names an empty PostgreSQL database), drives it from a separate
load-generator process (bench/loadgen.py, one run per phase), prints a table and, as the
last line, one JSON object, also written to bench/results/core.json. Nothing here asserts on
timing: the targets are shown next to the numbers for the reader.

How to read the numbers:
- import items/s: from the first byte of the upload to the job reported "succeeded"
  (polled every 50 ms); once with ids (`{"id", "text", "meta"}`), once with plain `{"text"}`
  records (`_noids`: the item's id is then its content hash).
- CPU per cycle: the server's CPU time over a phase (every process of it, from /proc) divided by
  the cycles counted in it; `_1` one annotator, `_16` at saturation, `_workers2` at saturation
  against `serve --workers 2` (a second server over a database of its own, after the first).
- open loop: cycles (next + submit) arrive as a Poisson stream; a next-task latency counts
  from the cycle's scheduled start, so time spent queued behind a slow response counts too.
  `_import`: the same loop while records without ids are imported into another project.
- CPU share: CPU seconds / wall seconds over the measured window (1.0 = one core busy), for
  the load generator, the server process(es) and, on a local PostgreSQL, the database's own
  processes (postmaster, backends, and backends that ended meanwhile).
- audit log cost per cycle: next + submit in process (no HTTP), pairs of cycles with the audit
  log on and off in random order; the difference of their medians (bench/audit_cost.py).
- export peak RSS: the server's VmHWM (reset before each export through clear_refs), or else
  VmRSS sampled every 50 ms; "growth" is that peak minus the RSS just before the export.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil  # type: ignore[import-untyped, unused-ignore]
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_cost import measure as measure_audit_cost
from common import proc_status_kb

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
BIN = Path(sys.executable).parent
SCHEMA = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "sentiment", "type": "choice", "options": ["pos", "neg", "neu"]}],
}
TARGETS = {
    "import_items_per_s": (">=", 20_000), "import_items_per_s_noids": (">=", 40_000),
    "next_p95_ms_load": ("<=", 15), "submit_p95_ms_load": ("<=", 15),
    "cycles_per_s_16": (">=", 400), "cycles_per_s_16_workers2": (">=", 400),
    "export_items_per_s": (">=", 50_000),
    "audit_overhead_ms_per_cycle": ("<=", 0.2),
}
console = Console(stderr=False)


# --- test data -------------------------------------------------------------------------------

_OPEN = ["I bought this", "We ordered the", "My partner picked up the", "After two weeks with the",
         "I returned the", "Honestly, the", "For the price, the", "Compared to my old one, the",
         "Out of the box, the", "Three months in, the", "Our team switched to the", "I gifted the"]
_THING = ["blender", "headphones", "desk lamp", "hiking boots", "coffee grinder", "backpack",
          "phone case", "air fryer", "office chair", "e-reader", "rain jacket", "router",
          "electric kettle", "yoga mat", "vacuum", "monitor arm", "water bottle", "keyboard"]
_VERB = ["works exactly as described", "stopped working after a week", "feels cheap but does the job",
         "exceeded what I expected", "arrived with a cracked lid", "is quieter than the reviews said",
         "took forever to set up", "is worth every cent", "broke on the second day",
         "looks great on the shelf", "runs hotter than I would like", "is fine, nothing special"]
_DETAIL = ["the battery lasts about two days", "customer support never answered my emails",
           "the instructions were missing a page", "shipping was faster than promised",
           "the color is a bit darker than in the photos", "it is lighter than it looks",
           "the buttons are stiff and hard to press", "my kids use it every single morning",
           "the cord is far too short for our kitchen", "it fits perfectly in a carry-on",
           "the app keeps asking me to log in again", "cleaning it takes under a minute",
           "the smell of plastic went away after a day", "it replaced two other gadgets for me"]
_LINK = ["and", "but", "although", "because", "even though", "and honestly", "so"]
_CLOSE = ["Would buy again.", "I would not recommend it.", "Three stars from me.",
          "Still deciding whether to keep it.", "Five stars, no hesitation.", "Meh.",
          "Returning it tomorrow.", "Pleasantly surprised overall."]


def sentence(rng: random.Random) -> str:
    """A product-review-like text of 100 to 300 characters."""
    while True:
        s = f"{rng.choice(_OPEN)} {rng.choice(_THING)} and it {rng.choice(_VERB)}, "
        s += f"{rng.choice(_LINK)} {rng.choice(_DETAIL)}."
        while len(s) < 100 or (len(s) < 220 and rng.random() < 0.5):
            s += f" Also, {rng.choice(_DETAIL)}, {rng.choice(_LINK)} {rng.choice(_DETAIL)}."
        s += f" {rng.choice(_CLOSE)}"
        if 100 <= len(s) <= 300:
            return s


def write_jsonl(path: Path, n: int, seed: int, prefix: str = "i", *, ids: bool = True) -> None:
    """`n` records `{"id", "text", "meta"}`, or plain `{"text"}` records without `ids`."""
    rng = random.Random(seed)
    with path.open("wb") as f:
        for i in range(1, n + 1):
            rec = {"id": f"{prefix}{i:06d}", "text": sentence(rng), "meta": {"n": i}} if ids else {
                "text": sentence(rng)}
            f.write(orjson.dumps(rec))
            f.write(b"\n")


# --- the server ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`labelloop serve` in a subprocess over a fresh data folder."""

    def __init__(self, data_dir: Path, workers: int, database_url: str | None,
                 src: Path | None = None) -> None:
        """`src`: another checkout's `src` folder to serve from (PYTHONPATH wins over this venv's
        editable install), for A/B runs (bench/core_ab.py)."""
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "LABELLOOP_DATA_DIR": str(data_dir), "LABELLOOP_ACCESS_LOG": "false",
                    "LABELLOOP_LOG_LEVEL": "warning", "LABELLOOP_PORT": str(self.port),
                    "LABELLOOP_HOST": "127.0.0.1"}
        if src is not None:
            self.env["PYTHONPATH"] = os.pathsep.join(p for p in (str(src), os.environ.get("PYTHONPATH")) if p)
        if database_url:
            self.env["LABELLOOP_DATABASE_URL"] = database_url
        self.workers = workers
        self.log = data_dir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> float:
        cmd = [str(BIN / "labelloop"), "serve", "--workers", str(self.workers)]
        t0 = time.perf_counter()
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.data_dir)
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.base + "/api/health", timeout=1).status_code == 200:
                    started = time.perf_counter() - t0
                    self.wait_for_job_process(timeout)
                    return started
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"the server did not answer /api/health in {timeout}s:\n{self.log_tail()}")

    def wait_for_job_process(self, timeout: float) -> None:
        """Until `serve`'s job process (cli/job_process.py; none in older code or with
        LABELLOOP_JOB_PROCESS=false) says it claims jobs: an import timed before that would
        count the process's start."""
        assert self.proc is not None
        if not any("worker" in c.cmdline() for c in psutil.Process(self.proc.pid).children()):
            return
        deadline = time.perf_counter() + timeout
        while "labelloop worker " not in self.log.read_text(errors="replace"):
            if time.perf_counter() > deadline:
                raise SystemExit(f"the job process did not start in {timeout}s:\n{self.log_tail()}")
            time.sleep(0.05)

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def admin_password(self) -> str | None:
        m = re.search(r"password:\s*(\S+)", self.log.read_text(errors="replace"))
        return m.group(1) if m else None

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([str(BIN / "labelloop"), *args], env=self.env, input=stdin,
                              capture_output=True, text=True, check=True)
        return done.stdout

    def pids(self) -> list[int]:
        """The server process and its children (uvicorn's worker processes, if any)."""
        assert self.proc is not None
        main = psutil.Process(self.proc.pid)
        return [main.pid, *(c.pid for c in main.children(recursive=True))]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


class Api:
    """Set-up calls (not measured): a plain httpx client with the admin's token."""

    def __init__(self, base: str, token: str) -> None:
        self.http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)

    def call(self, method: str, path: str, expect: int = 200, **kw: Any) -> Any:
        r = self.http.request(method, path, **kw)
        if r.status_code != expect:
            raise SystemExit(f"{method} {path}: {r.status_code} {r.text[:500]}")
        return r.json() if r.content else None


# --- measuring -------------------------------------------------------------------------------

def postgres_pid(database_url: str | None) -> int | None:
    """The local PostgreSQL's postmaster pid (first line of its data folder's postmaster.pid), for
    the CPU split; None on SQLite, or when the server is remote or its data folder unreadable."""
    if not database_url or not database_url.startswith("postgresql"):
        return None
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            folder = conn.execute(text("SHOW data_directory")).scalar_one()
        pid = int(Path(folder, "postmaster.pid").read_text().split()[0])
        return pid if Path(f"/proc/{pid}").exists() else None
    except Exception:  # a benchmark without the split rather than none
        return None
    finally:
        engine.dispose()


def loadgen(phase: str, server: Server, timeout: float = 600, **cfg: Any) -> dict[str, Any]:
    """Run one phase in a fresh load-generator process; its JSON result."""
    config = {"phase": phase, "host": "127.0.0.1", "port": server.port, "server_pids": server.pids(), **cfg}
    try:
        done = subprocess.run([sys.executable, str(HERE / "loadgen.py")], input=orjson.dumps(config),
                              capture_output=True, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"loadgen {phase} ran past {timeout:g}s; server log:\n{server.log_tail()}") from None
    if done.returncode != 0:
        raise SystemExit(f"loadgen {phase} failed ({done.returncode}):\n{done.stderr.decode()[-3000:]}"
                         f"\nserver log:\n{server.log_tail()}")
    result: dict[str, Any] = orjson.loads(done.stdout.splitlines()[-1])
    return result


@contextmanager
def rss_peak(pids: list[int], every: float = 0.05) -> Iterator[dict[str, float]]:
    """Peak resident memory (MB) of the busiest server process while the block runs.

    Samples VmRSS every `every` seconds and, where the kernel allows resetting it (writing 5
    to /proc/<pid>/clear_refs), also reads the exact high-water mark VmHWM afterwards."""
    out: dict[str, float] = {}
    base = {p: proc_status_kb(p, "VmRSS") or 0 for p in pids}
    hwm_reset = True
    for p in pids:
        try:
            Path(f"/proc/{p}/clear_refs").write_text("5")
        except OSError:
            hwm_reset = False
    peak = dict(base)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for p in pids:
                peak[p] = max(peak[p], proc_status_kb(p, "VmRSS") or 0)
            stop.wait(every)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield out
    finally:
        stop.set()
        thread.join()
        if hwm_reset:
            for p in pids:
                peak[p] = max(peak[p], proc_status_kb(p, "VmHWM") or 0)
        top = max(pids, key=lambda p: peak[p] - base[p])
        out.update(peak_mb=round(peak[top] / 1024, 1), before_mb=round(base[top] / 1024, 1),
                   growth_mb=round((peak[top] - base[top]) / 1024, 1), exact_hwm=float(hwm_reset))


@contextmanager
def profiled(server: Server, enabled: bool, seconds: float) -> Iterator[dict[str, Any]]:
    """py-spy on the server for `seconds` (if enabled and installed); fills in its hot spots."""
    out: dict[str, Any] = {}
    spy = shutil.which("py-spy", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if not enabled or spy is None:
        if enabled:
            out["error"] = "py-spy not found (pip install py-spy)"
        yield out
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    raw = RESULTS / "core-profile.txt"
    assert server.proc is not None
    proc = subprocess.Popen(
        [spy, "record", "--pid", str(server.proc.pid), "--duration", str(int(seconds)), "--rate", "100",
         "--format", "raw", "--output", str(raw), "--subprocesses"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)  # let it attach
    try:
        yield out
    finally:
        try:
            _, err = proc.communicate(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        if raw.exists():
            out.update(file=str(raw.relative_to(ROOT)), **hot_spots(raw))
        else:
            out["error"] = err.decode(errors="replace")[-500:]


def hot_spots(raw: Path, top: int = 15) -> dict[str, Any]:
    """From py-spy's collapsed stacks: the functions the server spends its samples in,
    by self time (the innermost frame) and by labelloop frame (the innermost labelloop one)."""
    self_t: dict[str, int] = {}
    ours: dict[str, int] = {}
    total = 0
    frame_re = re.compile(r"^(.*) \((.*?)(?::\d+)?\)$")

    def short(frame: str) -> str:
        m = frame_re.match(frame)
        if not m:
            return frame
        fn, path = m.groups()
        path = re.sub(r"^.*/(site-packages|lib/python3\.\d+|src)/", "", path)
        return f"{fn} ({path})"

    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        count = int(n)
        total += count
        frames = stack.split(";")
        leaf = short(frames[-1])
        self_t[leaf] = self_t.get(leaf, 0) + count
        mine = next((short(f) for f in reversed(frames) if "labelloop/" in f), "(outside labelloop)")
        ours[mine] = ours.get(mine, 0) + count

    def rank(d: dict[str, int]) -> list[list[Any]]:
        best = sorted(d.items(), key=lambda kv: -kv[1])[:top]
        return [[k, round(100 * v / max(total, 1), 1)] for k, v in best]

    return {"samples": total, "self_pct": rank(self_t), "innermost_labelloop_pct": rank(ours)}


def cpu_pressure() -> float | None:
    """Share of the last 60 s in which some runnable task waited for a CPU (Linux PSI), in %:
    near 0 on a quiet machine; high values mean other work competed with the benchmark."""
    try:
        first = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    m = re.search(r"avg60=([\d.]+)", first)
    return float(m.group(1)) if m else None


def git_state() -> dict[str, Any]:
    """The code the numbers belong to: commit, and whether src/ had uncommitted changes."""
    def git(*a: str) -> str:
        done = subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()
    return {"commit": git("rev-parse", "--short", "HEAD") or None,
            "src_dirty": bool(git("status", "--porcelain", "--", "src"))}


def machine(args: argparse.Namespace, db_url: str | None) -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "platform": platform.platform(), "machine": platform.machine(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "database": "sqlite" if not db_url else re.sub(r"//[^@/]*@", "//***@", db_url),
        "workers": args.workers, "git": git_state(),
    }


# --- main ------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    ap.add_argument("--database-url", default=None,
                    help="LABELLOOP_DATABASE_URL for the server (an empty PostgreSQL database); "
                         "default: SQLite in a temporary folder")
    ap.add_argument("--items", type=int, default=100_000, help="items in the big import/export")
    ap.add_argument("--small-items", type=int, default=10_000, help="items in the small export")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--rate", type=float, default=100.0, help="open-loop cycles per second")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of open and closed loop")
    ap.add_argument("--seq-cycles", type=int, default=500)
    ap.add_argument("--audit-pairs", type=int, default=1000,
                    help="pairs of cycles with the audit log on and off (bench/audit_cost.py)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: 10k items, 5 s phases")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    ap.add_argument("--out", type=Path, default=RESULTS / "core.json")
    ap.add_argument("--ab", metavar="REV", default=None,
                    help="A/B: the same phases on this checkout and on a git worktree of REV, "
                         "alternately (bench/core_ab.py); writes bench/results/core-ab.json")
    ap.add_argument("--rounds", type=int, default=2, help="A/B rounds (each runs both code bases once)")
    ap.add_argument("--profile", action="store_true",
                    help="sample the server with py-spy during the saturation phase (slows it a little); "
                         "writes bench/results/core-profile.txt (collapsed stacks) and prints the hot spots")
    args = ap.parse_args()
    if args.quick:
        args.items, args.small_items, args.duration, args.seq_cycles = 10_000, 2_000, 5.0, 200
        args.audit_pairs = 400
    if args.ab:
        from core_ab import run_ab

        run_ab(args)
        return

    t_begin = time.perf_counter()
    load_start, pressure_start = os.getloadavg(), cpu_pressure()
    info = machine(args, args.database_url)
    tmp = Path(tempfile.mkdtemp(prefix="labelloop-bench-"))
    server = Server(tmp / "data", args.workers, args.database_url)
    server.data_dir.mkdir()
    res: dict[str, Any] = {}
    try:
        big, small, noids = tmp / "items.jsonl", tmp / "small.jsonl", tmp / "noids.jsonl"
        write_jsonl(big, args.items, seed=1)
        write_jsonl(small, args.small_items, seed=2, prefix="s")
        write_jsonl(noids, args.items, seed=3, ids=False)
        console.print(f"[dim]data: {args.items:,} items ({big.stat().st_size / 1e6:.1f} MB); "
                      f"starting the server ({args.workers} worker(s))...[/dim]")
        res["server_start_s"] = round(server.start(), 2)
        res.update(run(server, args, big, small, noids))
        server.stop()
        res.update(run_workers2(args, tmp, big))
        # In process, while the server idles: the audit log's cost per cycle, on minus off
        # (bench/audit_cost.py says how).
        console.print(f"[dim]{time.strftime('%H:%M:%S')} audit log on and off, "
                      f"{args.audit_pairs} pairs of cycles...[/dim]")
        res.update(measure_audit_cost(args.database_url, pairs=args.audit_pairs))
    finally:
        server.stop()
        if args.keep:
            console.print(f"[dim]kept {tmp}[/dim]")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    res["loadavg_start"] = [round(x, 2) for x in load_start]
    res["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    res["cpu_pressure_avg60_start"], res["cpu_pressure_avg60_end"] = pressure_start, cpu_pressure()
    res["bench_wall_s"] = round(time.perf_counter() - t_begin, 1)
    res["machine"] = info
    res["config"] = {"items": args.items, "small_items": args.small_items, "clients": args.clients,
                     "rate": args.rate, "duration_s": args.duration, "seq_cycles": args.seq_cycles}
    show(res)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    line = orjson.dumps(res).decode()
    args.out.write_text(line + "\n")
    print(line, flush=True)


def admin_token(server: Server) -> str:
    """An administrator's token: the first start's admin, or on a database that already has users
    (PostgreSQL) an administrator made for this run."""
    password = server.admin_password()
    if password is None:
        password = f"bench-{random.randrange(10**12)}"
        name = f"bench-admin-{random.randrange(10**9)}"
        server.cli("user", "create", name, "--admin", "--password-stdin", stdin=password + "\n")
    else:
        name = "admin"
    login = httpx.post(server.base + "/api/auth/login", json={"username": name, "password": password})
    login.raise_for_status()
    return str(login.json()["token"])


def new_project(api: Api, label: str) -> int:
    p = api.call("POST", "/api/projects", 201, json={
        "name": f"bench {label}", "label_schema": SCHEMA, "overlap": 1, "lease_seconds": 600})
    return int(p["id"])


def annotators(api: Api, project_id: int, n: int) -> list[str]:
    """Tokens of `n` new annotators of the project."""
    tokens = []
    tag = random.randrange(10**9)
    for i in range(n):
        u = api.call("POST", "/api/users", 201,
                     json={"username": f"annotator{i:02d}-{tag}", "password": None})
        tok = api.call("POST", "/api/tokens", 201, json={"name": "bench", "user_id": u["id"]})
        tokens.append(tok["token"])
        api.call("PUT", f"/api/projects/{project_id}/members/{u['id']}", json={"role": "annotator"})
    return tokens


def cpu_ms_per_cycle(phase: dict[str, Any]) -> float | None:
    """The server's CPU time over the phase (all its processes, from /proc) per cycle counted."""
    cycles = phase.get("cycles") or 0
    return round(1000 * phase["server_cpu_s"] / cycles, 3) if cycles else None


def run(server: Server, args: argparse.Namespace, big: Path, small: Path, noids: Path) -> dict[str, Any]:
    admin = admin_token(server)
    api = Api(server.base, admin)
    pid_big, pid_small, pid_noids = (new_project(api, label) for label in ("big", "small", "noids"))
    tokens = annotators(api, pid_big, args.clients)

    phases: dict[str, dict[str, Any]] = {}
    pg = postgres_pid(args.database_url)
    split = {} if pg is None else {"postgres_pid": pg}  # PostgreSQL's own CPU, in each phase

    def phase(key: str, title: str, name: str, **cfg: Any) -> dict[str, Any]:
        console.print(f"[dim]{time.strftime('%H:%M:%S')} {title}...[/dim]")
        phases[key] = loadgen(name, server, **split, **cfg)
        return phases[key]

    imp = phase("import", f"import {args.items:,} items", "import", token=admin,
                project_id=pid_big, file=str(big), items=args.items)
    phase("import_small", f"import {args.small_items:,} items", "import", token=admin,
          project_id=pid_small, file=str(small), items=args.small_items)
    imp_noids = phase("import_noids", f"import {args.items:,} items without ids", "import", token=admin,
                      project_id=pid_noids, file=str(noids), items=args.items)
    seq = phase("seq", f"1 annotator, {args.seq_cycles} cycles", "seq", tokens=tokens[:1],
                project_id=pid_big, cycles=args.seq_cycles, warmup=50)
    opn = phase("open", f"open loop {args.rate:g} cycles/s, {args.clients} clients, {args.duration:g}s",
                "open", tokens=tokens, project_id=pid_big, rate=args.rate, duration=args.duration)
    during = open_during_import(server, phases, split, admin, tokens, pid_big, new_project(api, "during"),
                                noids, args)
    with profiled(server, args.profile, seconds=args.duration + 2) as profile:
        closed = phase("closed", f"closed loop, {args.clients} clients, {args.duration:g}s", "closed",
                       tokens=tokens, project_id=pid_big, duration=args.duration)
    with rss_peak(server.pids()) as mem_small:
        exp_small = phase("export_small", f"export {args.small_items:,} items", "export",
                          token=admin, project_id=pid_small)
    with rss_peak(server.pids()) as mem_big:
        exp = phase("export", f"export {args.items:,} items", "export", token=admin,
                    project_id=pid_big)
    status = api.call("GET", f"/api/projects/{pid_big}/status")

    def ms(p: dict[str, Any], which: str, q: str) -> float | None:
        value: float | None = p[f"{which}_ms"][q]
        return value

    errors = sum(int(p.get("errors", 0)) + int(p.get("warmup_errors", 0)) for p in phases.values())
    if exp["lines"] != args.items or exp_small["lines"] != args.small_items:
        errors += 1
    return {
        "import_items_per_s": imp["items_per_s"], "import_items_per_s_noids": imp_noids["items_per_s"],
        "cpu_ms_per_cycle_1": cpu_ms_per_cycle(seq), "cpu_ms_per_cycle_16": cpu_ms_per_cycle(closed),
        "next_p50_ms_1": ms(seq, "next", "p50"), "next_p95_ms_1": ms(seq, "next", "p95"),
        "submit_p50_ms_1": ms(seq, "submit", "p50"), "submit_p95_ms_1": ms(seq, "submit", "p95"),
        "next_p50_ms_load": ms(opn, "next", "p50"), "next_p95_ms_load": ms(opn, "next", "p95"),
        "submit_p50_ms_load": ms(opn, "submit", "p50"), "submit_p95_ms_load": ms(opn, "submit", "p95"),
        "cycle_p95_ms_load": ms(opn, "cycle", "p95"),
        "achieved_cycles_per_s_load": opn["achieved_cycles_per_s"],
        "next_p95_ms_import": ms(during, "next", "p95"), "submit_p95_ms_import": ms(during, "submit", "p95"),
        "import_items_per_s_under_load": phases["import_under_load"]["items_per_s"],
        "cycles_per_s_16": closed["cycles_per_s"],
        "next_p95_ms_16": ms(closed, "next", "p95"), "submit_p95_ms_16": ms(closed, "submit", "p95"),
        "export_items_per_s": exp["items_per_s"],
        "export_items_per_s_10k": exp_small["items_per_s"],
        "export_first_byte_ms": exp["first_byte_ms"],
        "export_peak_rss_mb": mem_big["peak_mb"], "export_peak_rss_mb_10k": mem_small["peak_mb"],
        "export_rss_growth_mb": mem_big["growth_mb"], "export_rss_growth_mb_10k": mem_small["growth_mb"],
        "export_rss_exact_hwm": bool(mem_big["exact_hwm"]),
        # The saturation phase is where "who was the bottleneck" matters; every phase is below.
        "loadgen_cpu_share": closed["loadgen_cpu_share"], "server_cpu_share": closed["server_cpu_share"],
        "postgres_cpu_share": closed.get("postgres_cpu_share"),
        "cpu_share_by_phase": {k: {"loadgen": p["loadgen_cpu_share"], "server": p["server_cpu_share"],
                                   "postgres": p.get("postgres_cpu_share")}
                               for k, p in phases.items()},
        "errors": errors,
        "next_empty_204": sum(int(p.get("next_empty_204", 0)) for p in phases.values()),
        "project_status": status,
        "phases": phases,
        **({"profile": profile} if args.profile else {}),
    }


def open_during_import(server: Server, phases: dict[str, dict[str, Any]], split: dict[str, int],
                       admin: str, tokens: list[str], project_id: int, import_project_id: int,
                       noids: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The open loop again while records without ids are imported into another project: what an
    import costs the annotators on the same server (its job runs in `serve`'s job process, or
    with LABELLOOP_JOB_PROCESS=false in the serving process itself). The
    import starts once the loop's warm-up is over; its own rate lands in `import_under_load`.
    `split`: `run`'s PostgreSQL pid, so each phase counts the database's CPU too."""
    n = sum(1 for _ in noids.open("rb"))
    console.print(f"[dim]{time.strftime('%H:%M:%S')} open loop {args.rate:g} cycles/s during an "
                  f"import of {n:,} records without ids...[/dim]")

    def load() -> None:
        time.sleep(2.5)  # past the open loop's warm-up
        phases["import_under_load"] = loadgen("import", server, **split, token=admin,
                                              project_id=import_project_id, file=str(noids), items=n)

    importer = threading.Thread(target=load)
    importer.start()
    try:
        phases["open_during_import"] = loadgen("open", server, **split, tokens=tokens, project_id=project_id,
                                               rate=args.rate, duration=max(args.duration / 2, 8.0))
    finally:
        importer.join()
    return phases["open_during_import"]


def run_workers2(args: argparse.Namespace, tmp: Path, items: Path, *, src: Path | None = None,
                 quiet: bool = False) -> dict[str, Any]:
    """The saturation phase again against `serve --workers 2` over a database of its own (on SQLite
    two processes share one file: WAL, each waiting for the other's write lock in its busy handler)."""
    folder = tmp / f"data-workers2-{random.randrange(10**9)}"
    folder.mkdir()
    server = Server(folder, 2, args.database_url, src=src)
    n = sum(1 for _ in items.open("rb"))
    try:
        if not quiet:
            console.print(f"[dim]{time.strftime('%H:%M:%S')} starting a server with 2 worker "
                          "processes...[/dim]")
        server.start()
        api = Api(server.base, admin_token(server))
        pid = new_project(api, "workers2")
        tokens = annotators(api, pid, args.clients)
        imp = loadgen("import", server, token=str(api.http.headers["Authorization"]).split()[1],
                      project_id=pid, file=str(items), items=n)
        if not quiet:
            console.print(f"[dim]{time.strftime('%H:%M:%S')} closed loop, {args.clients} clients, 2 worker "
                          f"processes, {args.duration:g}s...[/dim]")
        closed = loadgen("closed", server, tokens=tokens, project_id=pid, duration=args.duration)
    finally:
        server.stop()
    return {
        "cycles_per_s_16_workers2": closed["cycles_per_s"],
        "cpu_ms_per_cycle_16_workers2": cpu_ms_per_cycle(closed),
        "next_p95_ms_16_workers2": closed["next_ms"]["p95"],
        "submit_p95_ms_16_workers2": closed["submit_ms"]["p95"],
        "errors_workers2": int(imp.get("errors", 0)) + int(closed.get("errors", 0))
        + int(closed.get("warmup_errors", 0)),
        "phases_workers2": {"import": imp, "closed": closed},
    }


def show(res: dict[str, Any]) -> None:
    t = Table(title=f"labelloop core benchmark ({res['machine']['database']}, "
                    f"{res['machine']['workers']} worker(s), {res['machine']['cpu_count']} CPUs)")
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_column("target", justify="right")

    def row(label: str, key: str, unit: str = "", fmt: str = "{:,.1f}") -> None:
        v = res.get(key)
        text = "-" if v is None else fmt.format(v) + unit
        target = ""
        if key in TARGETS:
            op, goal = TARGETS[key]
            met = v is not None and (v >= goal if op == ">=" else v <= goal)
            target = f"[{'green' if met else 'red'}]{op} {goal:,}[/]"
        t.add_row(label, text, target)

    row("import (items/s)", "import_items_per_s", fmt="{:,.0f}")
    row("import, records without ids (items/s)", "import_items_per_s_noids", fmt="{:,.0f}")
    row("1 annotator: next p50 / p95", "next_p50_ms_1", " ms")
    row("", "next_p95_ms_1", " ms")
    row("1 annotator: submit p50 / p95", "submit_p50_ms_1", " ms")
    row("", "submit_p95_ms_1", " ms")
    row("open loop: achieved cycles/s", "achieved_cycles_per_s_load")
    row("open loop: next p50 / p95", "next_p50_ms_load", " ms")
    row("", "next_p95_ms_load", " ms")
    row("open loop: submit p50 / p95", "submit_p50_ms_load", " ms")
    row("", "submit_p95_ms_load", " ms")
    row("open loop during an import: next / submit p95", "next_p95_ms_import", " ms")
    row("", "submit_p95_ms_import", " ms")
    row("  the import meanwhile (items/s)", "import_items_per_s_under_load", fmt="{:,.0f}")
    row("saturation: cycles/s (16 clients)", "cycles_per_s_16")
    row("saturation: next / submit p95", "next_p95_ms_16", " ms")
    row("", "submit_p95_ms_16", " ms")
    row("saturation, 2 worker processes: cycles/s", "cycles_per_s_16_workers2")
    row("server CPU per cycle: 1 annotator (ms)", "cpu_ms_per_cycle_1", fmt="{:.3f}")
    row("  saturation, 1 / 2 worker processes", "cpu_ms_per_cycle_16", fmt="{:.3f}")
    row("", "cpu_ms_per_cycle_16_workers2", fmt="{:.3f}")
    row("export (items/s)", "export_items_per_s", fmt="{:,.0f}")
    row("export 10k (items/s)", "export_items_per_s_10k", fmt="{:,.0f}")
    row("export peak RSS, big / 10k", "export_peak_rss_mb", " MB")
    row("", "export_peak_rss_mb_10k", " MB")
    row("export RSS growth, big / 10k", "export_rss_growth_mb", " MB")
    row("", "export_rss_growth_mb_10k", " MB")
    row("audit log: cost per cycle (wall / CPU)", "audit_overhead_ms_per_cycle", " ms", fmt="{:.3f}")
    row("", "audit_overhead_cpu_ms_per_cycle", " ms", fmt="{:.3f}")
    row("errors (non-2xx)", "errors", fmt="{:d}")
    row("errors, 2 worker processes", "errors_workers2", fmt="{:d}")
    console.print(t)

    c = Table(title="CPU share (CPU seconds / wall seconds; 1.0 = one core busy)")
    for col in ("phase", "wall s", "loadgen", "server", "postgres"):
        c.add_column(col, justify="right" if col != "phase" else "left")
    for k, p in [*res["phases"].items(), *(("closed_workers2", p) for k2, p in
                                            res.get("phases_workers2", {}).items() if k2 == "closed")]:
        pg = p.get("postgres_cpu_share")
        c.add_row(k, f"{p['wall_s']:.1f}", f"{p['loadgen_cpu_share']:.2f}", f"{p['server_cpu_share']:.2f}",
                  "-" if pg is None else f"{pg:.2f}")
    console.print(c)
    prof = res.get("profile") or {}
    for key, title in (("self_pct", "self time"), ("innermost_labelloop_pct", "innermost labelloop frame")):
        if prof.get(key):
            h = Table(title=f"server profile during saturation: {title} ({prof['samples']} samples of "
                            "non-idle threads; time blocked in SQLite, e.g. on its write lock, counts)")
            h.add_column("function")
            h.add_column("%", justify="right")
            for name, pct in prof[key]:
                h.add_row(name, f"{pct:.1f}")
            console.print(h)
    if prof.get("error"):
        console.print(f"[red]profile: {prof['error']}[/red]")
    console.print(f"[dim]load average {res['loadavg_start']} -> {res['loadavg_end']}; CPU pressure (some, "
                  f"avg60) {res['cpu_pressure_avg60_start']}% -> {res['cpu_pressure_avg60_end']}%; "
                  f"bench took {res['bench_wall_s']} s[/dim]")


if __name__ == "__main__":
    main()
