"""The benchmark's load generator: one phase per run, driven by bench/core.py.

Reads a JSON config on stdin, runs one phase against a running server, prints one JSON
object on stdout. It runs in its own process, on asyncio (uvloop when installed) with one
keep-alive connection per simulated client, and reports its own CPU time next to the
server's, so a reader can tell which of the two was the bottleneck.

Phases:
  import  upload a JSONL file to POST /imports, poll the job until it finishes
  seq     one annotator: `warmup` then `cycles` sequential next + submit cycles
  open    open loop: Poisson arrivals at `rate` cycles/s over len(tokens) clients
  closed  closed loop: every client loops next + submit as fast as it can
  export  GET /export streamed and discarded, counting lines
"""

from __future__ import annotations

import asyncio
import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CLK_TCK, NET_ERRORS, Conn, process_cpu_seconds, summarize_ms

LABELS = ("pos", "neg", "neu")
JSON = {"Content-Type": "application/json"}


def own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def postgres_cpu_seconds(pid: int) -> float | None:
    """CPU seconds of a local PostgreSQL: the postmaster, its live children (backends and
    helpers) and its reaped children (backends that ended: /proc's cutime and cstime)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
    except OSError:
        return None
    fields = stat[stat.rindex(b")") + 2:].split()
    total = sum(int(x) for x in fields[11:15]) / CLK_TCK  # utime, stime, cutime, cstime
    # A child that ends between the two reads is lost to both sums: a backend's lifetime is
    # the benchmark's, so this is at most the odd short-lived helper.
    return total + sum(c for c in map(process_cpu_seconds, children) if c is not None)


@dataclass
class Snap:
    """Wall clock, this process's CPU, the server's CPU and, when its postmaster's pid is
    given (`postgres_pid`), the local PostgreSQL's CPU, at one instant."""

    wall: float
    cpu: float
    server_cpu: float
    db_cpu: float | None = None

    @classmethod
    def take(cls, cfg: dict[str, Any]) -> Snap:
        server = sum(c for c in (process_cpu_seconds(p) for p in cfg["server_pids"]) if c is not None)
        pg = cfg.get("postgres_pid")
        return cls(time.perf_counter(), own_cpu(), server, None if pg is None else postgres_cpu_seconds(pg))


def shares(a: Snap, b: Snap) -> dict[str, float]:
    wall = max(b.wall - a.wall, 1e-9)
    out = {
        "wall_s": round(wall, 3),
        "loadgen_cpu_s": round(b.cpu - a.cpu, 3),
        "loadgen_cpu_share": round((b.cpu - a.cpu) / wall, 3),
        "server_cpu_s": round(b.server_cpu - a.server_cpu, 3),
        "server_cpu_share": round((b.server_cpu - a.server_cpu) / wall, 3),
    }
    if a.db_cpu is not None and b.db_cpu is not None:
        out["postgres_cpu_s"] = round(b.db_cpu - a.db_cpu, 3)
        out["postgres_cpu_share"] = round((b.db_cpu - a.db_cpu) / wall, 3)
    return out


@dataclass
class Tally:
    """Latencies (seconds) and outcomes of annotator cycles."""

    next_s: list[float] = field(default_factory=list)
    submit_s: list[float] = field(default_factory=list)
    cycle_s: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    empty: int = 0
    samples: list[str] = field(default_factory=list)

    def bad(self, what: str, status: int | str, body: bytes = b"") -> None:
        self.errors += 1
        self.statuses[f"{what}:{status}"] += 1
        if len(self.samples) < 5:
            self.samples.append(f"{what} {status}: {body[:300].decode(errors='replace')}")

    def report(self) -> dict[str, Any]:
        return {
            "next_ms": summarize_ms(self.next_s), "submit_ms": summarize_ms(self.submit_s),
            "cycle_ms": summarize_ms(self.cycle_s), "statuses": dict(self.statuses),
            "errors": self.errors, "next_empty_204": self.empty, "error_samples": self.samples,
        }


@dataclass
class Annotator:
    conn: Conn
    project_id: int
    name: str
    n: int = 0

    async def cycle(self, tally: Tally | None, started: float | None = None) -> float | None:
        """Next + submit. Latencies go to `tally`; the next-task latency counts from `started`
        (the scheduled start, in an open loop) when given. The finish time, or None."""
        t0 = time.perf_counter()
        t_from = t0 if started is None else started
        self.n += 1
        sink = tally if tally is not None else Tally()
        try:
            r = await self.conn.request("POST", f"/api/projects/{self.project_id}/tasks/next")
        except NET_ERRORS as e:
            sink.bad("next", type(e).__name__)
            return None
        t1 = time.perf_counter()
        sink.statuses[f"next:{r.status}"] += 1
        if r.status == 204:
            sink.empty += 1
            return None
        if r.status != 200:
            sink.bad("next", r.status, r.body)
            return None
        item_id = orjson.loads(r.body)["item_id"]
        body = orjson.dumps({"value": {"sentiment": LABELS[item_id % 3]}, "duration_ms": 1200})
        try:
            r = await self.conn.request(
                "POST", f"/api/projects/{self.project_id}/items/{item_id}/answers", body,
                {**JSON, "Idempotency-Key": f"{self.name}-{self.n}"},
            )
        except NET_ERRORS as e:
            sink.bad("submit", type(e).__name__)
            return None
        t2 = time.perf_counter()
        sink.statuses[f"submit:{r.status}"] += 1
        if r.status not in (200, 201):
            sink.bad("submit", r.status, r.body)
            return None
        if tally is not None:
            tally.next_s.append(t1 - t_from)
            tally.submit_s.append(t2 - t1)
            tally.cycle_s.append(t2 - t_from)
        return t2


async def annotators(cfg: dict[str, Any]) -> list[Annotator]:
    out = [Annotator(Conn(cfg["host"], cfg["port"], tok), cfg["project_id"], f"c{i}-{random.random():.9f}")
           for i, tok in enumerate(cfg["tokens"])]
    await asyncio.gather(*(a.conn.open() for a in out))
    return out


async def phase_seq(cfg: dict[str, Any]) -> dict[str, Any]:
    [a] = (await annotators({**cfg, "tokens": cfg["tokens"][:1]}))
    for _ in range(cfg.get("warmup", 50)):
        await a.cycle(None)
    tally = Tally()
    s0 = Snap.take(cfg)
    for _ in range(cfg["cycles"]):
        await a.cycle(tally)
    s1 = Snap.take(cfg)
    await a.conn.close()
    return {**tally.report(), **shares(s0, s1), "cycles": len(tally.cycle_s),
            "cycles_per_s": round(len(tally.cycle_s) / (s1.wall - s0.wall), 1),
            "reconnects": a.conn.reconnects}


async def phase_open(cfg: dict[str, Any]) -> dict[str, Any]:
    """Open loop: each client gets its own Poisson arrivals at rate/clients (together a
    Poisson stream at `rate`). A cycle starts at its scheduled time, or as soon as the
    client's previous cycle ends if that is later; its latency counts from the schedule."""
    clients = await annotators(cfg)
    rate, duration, warmup = cfg["rate"], cfg["duration"], cfg.get("warmup", 2.0)
    rng = random.Random(cfg.get("seed", 1))
    per_client = rate / len(clients)
    tally, warm = Tally(), Tally()
    start = time.perf_counter() + 0.2
    measure_from = start + warmup
    end = measure_from + duration
    scheduled = 0
    finishes: list[float] = []
    lag: list[float] = []

    async def run(a: Annotator) -> None:
        nonlocal scheduled
        t = start + rng.expovariate(per_client)
        while t < end:
            now = time.perf_counter()
            if t > now:
                await asyncio.sleep(t - now)
            counted = t >= measure_from
            if counted:
                scheduled += 1
                lag.append(max(0.0, time.perf_counter() - t))
            done = await a.cycle(tally if counted else warm, started=t)
            if counted and done is not None:
                finishes.append(done)
            t += rng.expovariate(per_client)

    s_state: dict[str, Snap] = {}

    async def snap_at_measure_start() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        s_state["s0"] = Snap.take(cfg)

    snapper = asyncio.create_task(snap_at_measure_start())
    await asyncio.gather(*(run(a) for a in clients))
    await snapper
    s1 = Snap.take(cfg)
    s0 = s_state["s0"]
    last = max([end, *finishes])
    await asyncio.gather(*(a.conn.close() for a in clients))
    return {
        **tally.report(), **shares(s0, s1), "clients": len(clients), "offered_rate": rate,
        "duration_s": duration, "warmup_s": warmup, "scheduled": scheduled,
        "offered_cycles_per_s": round(scheduled / duration, 1),
        "completed": len(finishes),
        "achieved_cycles_per_s": round(len(finishes) / (last - measure_from), 1),
        "drain_s": round(last - end, 3),
        "start_lag_ms": summarize_ms(lag),
        "warmup_errors": warm.errors,
        "reconnects": sum(a.conn.reconnects for a in clients),
    }


async def phase_closed(cfg: dict[str, Any]) -> dict[str, Any]:
    """Closed loop: every client runs cycles back to back; throughput over the window."""
    clients = await annotators(cfg)
    duration, warmup = cfg["duration"], cfg.get("warmup", 2.0)
    tally, other = Tally(), Tally()
    measure_from = time.perf_counter() + warmup
    end = measure_from + duration
    s_state: dict[str, Snap] = {}

    async def run(a: Annotator) -> None:
        while True:
            t0 = time.perf_counter()
            if t0 >= end:
                return
            if t0 < measure_from:
                await a.cycle(other)
                continue
            sub = Tally()
            done = await a.cycle(sub)
            if done is not None and done <= end:
                tally.next_s += sub.next_s
                tally.submit_s += sub.submit_s
                tally.cycle_s += sub.cycle_s
            tally.statuses.update(sub.statuses)
            tally.errors += sub.errors
            tally.empty += sub.empty
            tally.samples += sub.samples[: max(0, 5 - len(tally.samples))]

    async def snaps() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        s_state["s0"] = Snap.take(cfg)
        await asyncio.sleep(max(0.0, end - time.perf_counter()))
        s_state["s1"] = Snap.take(cfg)

    await asyncio.gather(snaps(), *(run(a) for a in clients))
    await asyncio.gather(*(a.conn.close() for a in clients))
    s0, s1 = s_state["s0"], s_state["s1"]
    return {
        **tally.report(), **shares(s0, s1), "clients": len(clients), "duration_s": duration,
        "warmup_s": warmup, "cycles": len(tally.cycle_s),
        "cycles_per_s": round(len(tally.cycle_s) / (s1.wall - s0.wall), 1),
        "warmup_errors": other.errors,
        "reconnects": sum(a.conn.reconnects for a in clients),
    }


async def phase_import(cfg: dict[str, Any]) -> dict[str, Any]:
    conn = Conn(cfg["host"], cfg["port"], cfg["token"])
    await conn.open()
    path = Path(cfg["file"])
    s0 = Snap.take(cfg)
    r = await conn.upload_file(f"/api/projects/{cfg['project_id']}/imports?filename={path.name}", path)
    uploaded = time.perf_counter()
    out: dict[str, Any] = {"upload_status": r.status, "errors": 0 if r.status == 202 else 1}
    if r.status != 202:
        out["error_samples"] = [r.body[:500].decode(errors="replace")]
        return {**out, **shares(s0, Snap.take(cfg))}
    job_id = orjson.loads(r.body)["id"]
    polls = 0
    while True:
        await asyncio.sleep(cfg.get("poll_s", 0.05))
        j = await conn.request("GET", f"/api/jobs/{job_id}")
        polls += 1
        if j.status != 200:
            out["errors"] += 1
            continue
        job = orjson.loads(j.body)
        if job["status"] in ("succeeded", "failed"):
            break
    s1 = Snap.take(cfg)
    await conn.close()
    items = cfg["items"]
    out.update(shares(s0, s1))
    out.update({
        "job_status": job["status"], "job_result": job["result"], "job_error": job["error"],
        "items": items, "bytes": path.stat().st_size, "polls": polls,
        "upload_s": round(uploaded - s0.wall, 3), "total_s": round(s1.wall - s0.wall, 3),
        "items_per_s": round(items / (s1.wall - s0.wall), 1) if job["status"] == "succeeded" else 0.0,
    })
    if job["status"] != "succeeded":
        out["errors"] += 1
    return out


async def phase_export(cfg: dict[str, Any]) -> dict[str, Any]:
    conn = Conn(cfg["host"], cfg["port"], cfg["token"])
    await conn.open()
    s0 = Snap.take(cfg)
    head, body = await conn.stream(
        "GET", f"/api/projects/{cfg['project_id']}/export?format={cfg.get('format', 'jsonl')}")
    lines = size = 0
    first: float | None = None
    async for piece in body:
        if first is None:
            first = time.perf_counter()
        lines += piece.count(b"\n")
        size += len(piece)
    s1 = Snap.take(cfg)
    await conn.close()
    wall = s1.wall - s0.wall
    return {
        **shares(s0, s1), "status": head.status, "errors": 0 if head.status == 200 else 1,
        "lines": lines, "bytes": size, "first_byte_ms": round(((first or s1.wall) - s0.wall) * 1000, 1),
        "items_per_s": round(lines / wall, 1), "mb_per_s": round(size / wall / 1e6, 1),
    }


PHASES: dict[str, Callable[[dict[str, Any]], Coroutine[Any, Any, dict[str, Any]]]] = {
    "seq": phase_seq, "open": phase_open, "closed": phase_closed,
    "import": phase_import, "export": phase_export,
}


def main() -> None:
    cfg = orjson.loads(sys.stdin.buffer.read())
    phase = PHASES[cfg["phase"]]
    try:
        import uvloop
        factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
        loop_name = "uvloop"
    except ImportError:
        factory, loop_name = None, "asyncio"
    with asyncio.Runner(loop_factory=factory) as runner:
        result: dict[str, Any] = runner.run(phase(cfg))
    result["loop"] = loop_name
    r = resource.getrusage(resource.RUSAGE_SELF)
    result["loadgen_max_rss_mb"] = round(r.ru_maxrss / 1024, 1)
    sys.stdout.buffer.write(orjson.dumps(result) + b"\n")


if __name__ == "__main__":
    main()
