"""Import and export at scale: N generated text items (a million by default) through the HTTP API.

    .venv/bin/python bench/scale_io.py --database-url URL [--items N]

Starts a real `labelloop serve` over an empty database (the one --database-url names, else
SQLite in a temporary folder), uploads N items as one JSONL file (timed from the first byte
of the upload to the job reported "succeeded") and exports them as JSONL (timed from the
request to the last byte). Prints a table and, as the last line, one JSON object.

CPU split: CPU seconds over each phase's wall seconds for the server process(es) and, on a
local PostgreSQL, for the database's processes (the postmaster and every backend, including
backends that ended during the phase: the postmaster's reaped-children times count them).
Export memory: the server's RSS growth during the export (bench/core.py's `rss_peak`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import psutil  # type: ignore[import-untyped, unused-ignore]
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from core import SCHEMA, Api, Server, admin_token, loadgen, postgres_pid, rss_peak, write_jsonl

TARGET_ITEMS_PER_S = 50_000
console = Console()


def postgres_cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU of the postmaster, its live children and its reaped children."""
    if pid is None:
        return None
    main = psutil.Process(pid)
    t = main.cpu_times()
    total: float = t.user + t.system + t.children_user + t.children_system
    for child in main.children():
        try:
            c = child.cpu_times()
        except psutil.NoSuchProcess:
            continue  # reaped meanwhile: now in the postmaster's children times
        total += c.user + c.system
    return total


def server_cpu_seconds(server: Server) -> float:
    total = 0.0
    for pid in server.pids():
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def postgres_kind(proc: Any) -> str:
    """`backend` for a connection's process, else what the process is (autovacuum worker, ...)."""
    title = " ".join(proc.cmdline())
    if "autovacuum" in title:
        return "autovacuum"
    if "parallel worker" in title:
        return "parallel worker"
    return "backend" if "(" in title else "background"


class CpuSplit:
    """CPU seconds of the server and of PostgreSQL over a phase, as shares of its wall time.

    PostgreSQL's CPU is also split by kind of process, from samples of its live processes every
    `every` seconds; what ended between two samples is counted in `postgres_unattributed`."""

    def __init__(self, server: Server, pg_pid: int | None, every: float = 0.25) -> None:
        self.server, self.pg_pid = server, pg_pid
        self.wall = time.perf_counter()
        self.server_cpu = server_cpu_seconds(server)
        self.pg_cpu = postgres_cpu_seconds(pg_pid)
        self.first: dict[int, float] = {}
        self.last: dict[int, tuple[str, float]] = {}
        self.stop = threading.Event()
        self.sampler = threading.Thread(target=self._sample, args=(every,), daemon=True)
        if pg_pid is not None:
            self._take(initial=True)
            self.sampler.start()

    def _take(self, initial: bool = False) -> None:
        assert self.pg_pid is not None
        for child in psutil.Process(self.pg_pid).children():
            try:
                t = child.cpu_times()
                kind = self.last[child.pid][0] if child.pid in self.last else postgres_kind(child)
            except psutil.Error:
                continue
            if initial:
                self.first[child.pid] = t.user + t.system
            self.last[child.pid] = (kind, t.user + t.system)

    def _sample(self, every: float) -> None:
        while not self.stop.wait(every):
            self._take()

    def done(self) -> dict[str, Any]:
        wall = time.perf_counter() - self.wall
        server = server_cpu_seconds(self.server) - self.server_cpu
        kinds: dict[str, float] = {}
        if self.pg_pid is not None:  # the last sample before the total, so the parts fit in it
            self.stop.set()
            self.sampler.join()
            self._take()
            for pid, (kind, cpu) in self.last.items():
                kinds[kind] = kinds.get(kind, 0.0) + cpu - self.first.get(pid, 0.0)
        pg_end = postgres_cpu_seconds(self.pg_pid)
        pg = None if pg_end is None or self.pg_cpu is None else pg_end - self.pg_cpu
        split = {f"postgres_{k.replace(' ', '_')}_cpu_s": round(v, 2) for k, v in sorted(kinds.items())}
        if pg is not None:
            split["postgres_unattributed_cpu_s"] = round(pg - sum(kinds.values()), 2)
        return {
            "wall_s": round(wall, 2), "server_cpu_s": round(server, 2),
            "postgres_cpu_s": None if pg is None else round(pg, 2),
            "server_cpu_share": round(server / wall, 2),
            "postgres_cpu_share": None if pg is None else round(pg / wall, 2),
            **split,
        }


def admin_api(server: Server) -> tuple[Api, str]:
    token = admin_token(server)
    return Api(server.base, token), token


def measure(database_url: str | None, n: int = 1_000_000, workdir: Path | None = None) -> dict[str, Any]:
    """Import then export `n` items through a real server; throughput, CPU split, export memory."""
    tmp = Path(tempfile.mkdtemp(prefix="labelloop-scale-io-", dir=workdir))
    server = Server(tmp / "data", 1, database_url)
    server.data_dir.mkdir()
    try:
        data = tmp / "items.jsonl"
        write_jsonl(data, n, seed=1)
        console.print(f"[dim]{n:,} items ({data.stat().st_size / 1e6:.0f} MB); starting the server[/dim]")
        server.start()
        api, token = admin_api(server)
        project = api.call("POST", "/api/projects", 201, json={
            "name": "scale io", "label_schema": SCHEMA, "overlap": 1, "lease_seconds": 600})["id"]
        pg_pid = postgres_pid(database_url)

        console.print(f"[dim]{time.strftime('%H:%M:%S')} import[/dim]")
        cpu = CpuSplit(server, pg_pid)
        imp = loadgen("import", server, timeout=3600, token=token, project_id=project,
                      file=str(data), items=n)
        imp_cpu = cpu.done()
        if imp["job_status"] != "succeeded":
            raise SystemExit(f"the import failed: {imp.get('job_error') or imp.get('error_samples')}")

        console.print(f"[dim]{time.strftime('%H:%M:%S')} export[/dim]")
        with rss_peak(server.pids()) as mem:
            cpu = CpuSplit(server, pg_pid)
            exp = loadgen("export", server, timeout=3600, token=token, project_id=project)
            exp_cpu = cpu.done()
        if exp["lines"] != n:
            raise SystemExit(f"the export has {exp['lines']:,} lines for {n:,} items")
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "items": n,
        "import_1m_items_per_s": imp["items_per_s"],
        "export_1m_items_per_s": exp["items_per_s"],
        "export_rss_growth_mb": mem["growth_mb"], "export_peak_rss_mb": mem["peak_mb"],
        "export_first_byte_ms": exp["first_byte_ms"], "export_mb": round(exp["bytes"] / 1e6, 1),
        "import_cpu": imp_cpu, "export_cpu": exp_cpu,
        "database": "postgresql" if database_url and database_url.startswith("postgresql") else "sqlite",
    }


def show(res: dict[str, Any]) -> None:
    t = Table(title=f"import and export of {res['items']:,} items ({res['database']})")
    for col in ("phase", "items/s", "wall s", "server CPU", "postgres CPU"):
        t.add_column(col, justify="left" if col == "phase" else "right")
    for phase in ("import", "export"):
        rate = res[f"{phase}_1m_items_per_s"]
        cpu = res[f"{phase}_cpu"]
        colour = "green" if rate >= TARGET_ITEMS_PER_S else "red"
        pg = "-" if cpu["postgres_cpu_share"] is None else f"{cpu['postgres_cpu_share']:.2f}"
        t.add_row(phase, f"[{colour}]{rate:,.0f}[/]", f"{cpu['wall_s']:.1f}",
                  f"{cpu['server_cpu_share']:.2f}", pg)
    console.print(t)
    for phase in ("import", "export"):
        parts = {k.removeprefix("postgres_").removesuffix("_cpu_s"): v for k, v in res[f"{phase}_cpu"].items()
                 if k.startswith("postgres_") and k.endswith("_cpu_s") and k != "postgres_cpu_s"}
        if len(parts) > 1:
            console.print(f"[dim]{phase}: PostgreSQL CPU seconds by process: "
                          + ", ".join(f"{k} {v}" for k, v in parts.items()) + "[/dim]")
    console.print(f"[dim]CPU: CPU seconds / wall seconds (1.0 = one core busy); target "
                  f">= {TARGET_ITEMS_PER_S:,} items/s; export RSS growth {res['export_rss_growth_mb']} MB; "
                  f"load average {res['loadavg']}[/dim]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=None,
                    help="LABELLOOP_DATABASE_URL for the server (an empty PostgreSQL database); "
                         "default: SQLite in a temporary folder")
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--workdir", type=Path, default=None, help="where the data file and folder go")
    args = ap.parse_args()
    res = measure(args.database_url, args.items, args.workdir)
    res["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    show(res)
    print(orjson.dumps(res).decode(), flush=True)


if __name__ == "__main__":
    main()
