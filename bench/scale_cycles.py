"""The annotator's loop on PostgreSQL with one and with two server processes, and where the CPU goes.

    .venv/bin/python bench/scale_cycles.py --database-url URL [--clients 64] [--rate 100] [--quick]

For 1 and then 2 server processes (`labelloop serve --workers N`, one port) over the PostgreSQL
database --database-url names (LABELLOOP_TEST_DATABASE_URL by default), each on fresh projects:
- open loop: cycles (next task + submit) arrive as a Poisson stream at --rate per second over
  --clients annotators; a next-task latency counts from the cycle's scheduled start;
- closed loop (saturation): --clients annotators run cycles back to back; cycles per second.
Each phase runs in its own load-generator process (bench/loadgen.py, as bench/core.py does).

CPU split: CPU seconds over the phase's wall seconds (1.0 = one core busy) for the server
process(es), the local PostgreSQL (postmaster, backends, and backends that ended meanwhile) and
the load generator; on this machine all three share the same cores, so "rest" is what is left
of them (idle, or taken by anything else running on the machine). Prints a table and, as the
last line, one JSON object (also written to bench/results/scale_cycles.json). Nothing here asserts on timing.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from core import SCHEMA, Api, Server, cpu_pressure, git_state, loadgen, postgres_pid, write_jsonl
from core import admin_token as core_admin_token

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_NEXT_P95_MS = 15.0
console = Console()


def _project(server: Server, api: Api, admin_token: str, tokens: list[tuple[int, str]], label: str,
             items: int, folder: Path, seed: int) -> int:
    """A project with `items` items and every annotator a member."""
    p = api.call("POST", "/api/projects", 201, json={
        "name": f"scale cycles {label} {random.randrange(10**9)}", "label_schema": SCHEMA, "overlap": 1,
        "lease_seconds": 600})
    pid = int(p["id"])
    for uid, _ in tokens:
        api.call("PUT", f"/api/projects/{pid}/members/{uid}", json={"role": "annotator"})
    path = folder / f"{label}.jsonl"
    write_jsonl(path, items, seed=seed, prefix=label[:1])
    imp = loadgen("import", server, token=admin_token, project_id=pid, file=str(path), items=items)
    if imp["errors"]:
        raise SystemExit(f"import for {label} failed: {imp}")
    return pid


def _annotators(api: Api, n: int) -> list[tuple[int, str]]:
    tag = random.randrange(10**9)
    out = []
    for i in range(n):
        u = api.call("POST", "/api/users", 201, json={"username": f"cycler{tag}-{i:02d}", "password": None})
        tok = api.call("POST", "/api/tokens", 201, json={"name": "bench", "user_id": u["id"]})
        out.append((int(u["id"]), str(tok["token"])))
    return out


def _split(phase: dict[str, Any], cpus: int) -> dict[str, float | None]:
    server, loadgen_share = phase["server_cpu_share"], phase["loadgen_cpu_share"]
    pg = phase.get("postgres_cpu_share")
    used = server + loadgen_share + (pg or 0.0)
    return {"server": server, "postgres": pg, "loadgen": loadgen_share,
            "rest": round(max(0.0, cpus - used), 3)}


def run_workers(database_url: str, workdir: Path, workers: int, *, clients: int, rate: float,
                duration: float, pg_pid: int | None) -> dict[str, Any]:
    """Both phases against one `labelloop serve --workers N`."""
    data = workdir / f"data-{workers}"
    data.mkdir(parents=True, exist_ok=True)
    server = Server(data, workers, database_url)
    server.start(timeout=180)  # two processes on a busy 2-core machine can take a while
    try:
        admin_token = core_admin_token(server)
        api = Api(server.base, admin_token)
        people = _annotators(api, clients)
        tokens = [t for _, t in people]
        # Enough items that no phase runs dry: the open loop's cycles, and the closed loop's at
        # up to 1,000 cycles/s, warm-ups included.
        open_items = int(rate * (duration + 3)) + 500
        open_pid = _project(server, api, admin_token, people, f"open{workers}", open_items, workdir,
                            seed=2 * workers)
        closed_pid = _project(server, api, admin_token, people, f"closed{workers}",
                              int(1000 * (duration + 3)), workdir, seed=2 * workers + 1)
        extra = {} if pg_pid is None else {"postgres_pid": pg_pid}
        console.print(f"[dim]{time.strftime('%H:%M:%S')} {workers} process(es): open loop {rate:g} "
                      f"cycles/s, {clients} clients, {duration:g}s...[/dim]")
        opn = loadgen("open", server, tokens=tokens, project_id=open_pid, rate=rate, duration=duration,
                      **extra)
        console.print(f"[dim]{time.strftime('%H:%M:%S')} {workers} process(es): closed loop, "
                      f"{clients} clients, {duration:g}s...[/dim]")
        closed = loadgen("closed", server, tokens=tokens, project_id=closed_pid, duration=duration, **extra)
    finally:
        server.stop()
    return {"open": opn, "closed": closed}


def measure(database_url: str, workdir: Path, *, clients: int = 64, rate: float = 100.0,
            duration: float = 15.0) -> dict[str, Any]:
    """Cycles/s at saturation with 1 and 2 server processes, next-task latency at `rate` cycles/s
    offered, and the CPU split of each phase."""
    if not database_url.startswith("postgresql"):
        raise ValueError(f"scale_cycles measures PostgreSQL; got the database URL {database_url!r}")
    cpus = os.cpu_count() or 1
    pg_pid = postgres_pid(database_url)
    runs = {w: run_workers(database_url, workdir, w, clients=clients, rate=rate, duration=duration,
                           pg_pid=pg_pid) for w in (1, 2)}
    out: dict[str, Any] = {}
    for w, label in ((1, "1proc"), (2, "2proc")):
        opn, closed = runs[w]["open"], runs[w]["closed"]
        out[f"cycles_per_s_{label}"] = closed["cycles_per_s"]
        out[f"next_p50_ms_{label}"] = opn["next_ms"]["p50"]
        out[f"next_p95_ms_{label}"] = opn["next_ms"]["p95"]
        out[f"submit_p95_ms_{label}"] = opn["submit_ms"]["p95"]
        out[f"achieved_cycles_per_s_open_{label}"] = opn["achieved_cycles_per_s"]
        out[f"saturation_next_p95_ms_{label}"] = closed["next_ms"]["p95"]
        out[f"cpu_split_saturation_{label}"] = _split(closed, cpus)
        out[f"cpu_split_open_{label}"] = _split(opn, cpus)
        # CPU per cycle at saturation, in ms: what one cycle costs each side.
        cycles = max(closed["cycles"], 1)
        out[f"cpu_ms_per_cycle_{label}"] = {
            "server": round(1000 * closed["server_cpu_s"] / cycles, 2),
            "postgres": (round(1000 * closed["postgres_cpu_s"] / cycles, 2)
                         if "postgres_cpu_s" in closed else None),
            "loadgen": round(1000 * closed["loadgen_cpu_s"] / cycles, 2),
        }
    out["speedup_2proc"] = round(out["cycles_per_s_2proc"] / max(out["cycles_per_s_1proc"], 1e-9), 2)
    out["errors"] = sum(int(p["errors"]) + int(p.get("warmup_errors", 0))
                        for r in runs.values() for p in r.values())
    out["phases"] = {f"{k}_{w}proc": p for w, r in runs.items() for k, p in r.items()}
    out["config"] = {"clients": clients, "rate": rate, "duration_s": duration, "cpu_count": cpus,
                     "postgres_split": pg_pid is not None}
    return out


def show(res: dict[str, Any]) -> None:
    t = Table(title=f"annotator loop on PostgreSQL, {res['config']['clients']} clients, "
                    f"{res['config']['cpu_count']} CPUs")
    t.add_column("metric")
    for col in ("1 process", "2 processes"):
        t.add_column(col, justify="right")

    def row(label: str, key: str, fmt: str = "{:,.1f}") -> None:
        cells = [res.get(f"{key}_{p}") for p in ("1proc", "2proc")]
        t.add_row(label, *("-" if v is None else fmt.format(v) for v in cells))

    row("saturation: cycles/s", "cycles_per_s")
    row("saturation: next p95 (ms)", "saturation_next_p95_ms")
    row(f"open loop {res['config']['rate']:g}/s: achieved cycles/s", "achieved_cycles_per_s_open")
    row("open loop: next p50 (ms)", "next_p50_ms")
    row(f"open loop: next p95 (ms, target <= {TARGET_NEXT_P95_MS:g})", "next_p95_ms")
    row("open loop: submit p95 (ms)", "submit_p95_ms")
    console.print(t)
    c = Table(title="CPU split (CPU seconds / wall seconds; 1.0 = one core busy)")
    for col in ("phase", "server", "postgres", "loadgen", "rest"):
        c.add_column(col, justify="right" if col != "phase" else "left")
    for p in ("1proc", "2proc"):
        for phase in ("saturation", "open"):
            s = res[f"cpu_split_{phase}_{p}"]
            c.add_row(f"{phase}, {p}", *("-" if s[k] is None else f"{s[k]:.2f}"
                                         for k in ("server", "postgres", "loadgen", "rest")))
    console.print(c)
    for p in ("1proc", "2proc"):
        ms = res[f"cpu_ms_per_cycle_{p}"]
        console.print(f"[dim]CPU per cycle at saturation, {p}: server {ms['server']} ms, "
                      f"postgres {ms['postgres']} ms, load generator {ms['loadgen']} ms[/dim]")
    console.print(f"[dim]2 processes / 1: {res['speedup_2proc']}x; errors {res['errors']}; load average "
                  f"{res['loadavg_start']} -> {res['loadavg_end']}; bench took {res['bench_wall_s']} s[/dim]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("LABELLOOP_TEST_DATABASE_URL"),
                    help="a PostgreSQL database (default: $LABELLOOP_TEST_DATABASE_URL)")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--rate", type=float, default=100.0, help="open-loop cycles per second")
    ap.add_argument("--duration", type=float, default=15.0, help="seconds of each phase")
    ap.add_argument("--quick", action="store_true", help="a smoke run: 5 s phases")
    ap.add_argument("--out", type=Path, default=RESULTS / "scale_cycles.json")
    args = ap.parse_args()
    if not args.database_url:
        ap.error("--database-url (or LABELLOOP_TEST_DATABASE_URL) must name a PostgreSQL database")
    if args.quick:
        args.duration = 5.0
    t0 = time.perf_counter()
    load_start, pressure_start = os.getloadavg(), cpu_pressure()
    tmp = Path(tempfile.mkdtemp(prefix="labelloop-scale-cycles-"))
    try:
        res = measure(args.database_url, tmp, clients=args.clients, rate=args.rate, duration=args.duration)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res["loadavg_start"] = [round(x, 2) for x in load_start]
    res["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    res["cpu_pressure_avg60_start"], res["cpu_pressure_avg60_end"] = pressure_start, cpu_pressure()
    res["bench_wall_s"] = round(time.perf_counter() - t0, 1)
    res["git"] = git_state()
    show(res)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    line = orjson.dumps(res).decode()
    args.out.write_text(line + "\n")
    print(line, flush=True)


if __name__ == "__main__":
    main()
