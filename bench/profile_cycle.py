"""Where the server's CPU goes: one annotator's next + submit cycle, and an import without ids.

    .venv/bin/python bench/profile_cycle.py [--cycles N] [--items N] [--rate HZ]

Starts a real `labelloop serve` (SQLite, one worker; bench/core.py's Server), samples it with
py-spy while one annotator runs `--cycles` sequential cycles (bench/loadgen.py's seq phase) and
while a JSONL of `{"text": ...}` records without ids is imported, and splits the samples by layer
(the innermost frame's package: the HTTP server, FastAPI/Starlette, Pydantic, labelloop's own
code, SQLAlchemy, the SQLite driver). Shares of samples become ms per cycle (or µs per item) by
scaling them to the server's CPU time over the phase, read from /proc. Prints the tables, writes
bench/results/profile_cycle.json and the raw stacks next to it. Nothing here asserts on timing.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from core import BIN, RESULTS, SCHEMA, Api, Server, admin_token, loadgen, write_jsonl

console = Console()
# (layer, pattern on the innermost frame "function (path)"), first match wins. The SQLite driver
# runs in C below SQLAlchemy's do_execute/do_commit/fetch calls, which py-spy shows as their leaves.
LAYERS: list[tuple[str, re.Pattern[str]]] = [
    ("sqlite (driver: execute, commit, fetch)", re.compile(
        r"^(\w+\.)?(do_execute|do_executemany|do_execute_no_params|do_commit|do_rollback|do_begin|_exec_driver_sql"
        r"|fetchone|fetchall|fetchmany|_fetchone_impl|_fetchall_impl|connect) \(sqlalchemy/")),
    ("sqlite (driver: execute, commit, fetch)", re.compile(r"\(labelloop/store/db\.py\)$|_append_sqlite")),
    ("sqlalchemy (compile, bind, result rows, pool)", re.compile(r"\(sqlalchemy/")),
    ("labelloop: audit", re.compile(r"\(labelloop/services/audit/")),
    ("labelloop: importing", re.compile(r"\(labelloop/services/importing/")),
    ("labelloop: other services", re.compile(r"\(labelloop/")),
    ("pydantic (validation, serialisation)", re.compile(r"\((pydantic|pydantic_core)/")),
    ("fastapi / starlette (routing, dependencies, responses)", re.compile(r"\((fastapi|starlette)/")),
    ("uvicorn / httptools / event loop", re.compile(r"\((uvicorn|httptools|uvloop|asyncio)/")),
    ("threadpool hand-off (anyio, threading)", re.compile(r"\((anyio|threading\.py|concurrent/)")),
    ("json / orjson", re.compile(r"\((json|orjson)/")),
]
# Leaves that are waits: idle threadpool and job threads, and the event loop's epoll (uvloop runs in
# C under Runner.run; its own socket work is lost with its waits and spread over the rest).
IDLE = ("Condition.wait (threading.py)", "Runner.run (asyncio/runners.py)", "Event.wait (threading.py)",
        "select (selectors.py)", "poll (selectors.py)", "Thread._wait_for_tstate_lock (threading.py)",
        "_worker (concurrent/futures/thread.py)")  # the last: waiting in SimpleQueue.get, in C
_FRAME = re.compile(r"^(.*) \((.*?)(?::\d+)?\)$")


def short(frame: str) -> str:
    m = _FRAME.match(frame)
    if not m:
        return frame
    fn, path = m.groups()
    path = re.sub(r"^.*/(site-packages|lib/python3\.\d+|src)/", "", path)
    return f"{fn} ({path})"


def layer_of(leaf: str) -> str:
    return next((name for name, pat in LAYERS if pat.search(leaf)), "other (stdlib, hashlib, datetime...)")


def split(raw: Path, per: float, unit: str, top: int = 25) -> dict[str, Any]:
    """Samples by layer and by innermost labelloop function, scaled so that they add up to `per`
    (the server's CPU per cycle or per item, in `unit`)."""
    layers: dict[str, int] = {}
    ours: dict[str, int] = {}
    leaves: dict[str, int] = {}
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        count = int(n)
        frames = [short(f) for f in stack.split(";")]
        if frames and frames[-1].startswith(IDLE):
            continue  # a thread waiting (py-spy cannot always tell a wait in C from work)
        total += count
        leaf = frames[-1]
        layers[layer_of(leaf)] = layers.get(layer_of(leaf), 0) + count
        leaves[leaf] = leaves.get(leaf, 0) + count
        mine = next((f for f in reversed(frames) if "(labelloop/" in f), "(outside labelloop)")
        ours[mine] = ours.get(mine, 0) + count

    def scaled(d: dict[str, int], n: int | None = None) -> list[list[Any]]:
        best = sorted(d.items(), key=lambda kv: -kv[1])[:n]
        return [[k, round(per * v / max(total, 1), 4), round(100 * v / max(total, 1), 1)] for k, v in best]

    return {"samples": total, "unit": unit, "per": per, "layers": scaled(layers),
            "innermost_labelloop": scaled(ours, top), "leaves": scaled(leaves, top)}


def record(server: Server, name: str, seconds: float, rate: int) -> tuple[subprocess.Popen[bytes], Path]:
    spy = shutil.which("py-spy", path=str(BIN))
    if spy is None:
        raise SystemExit("py-spy not found (pip install py-spy)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    raw = RESULTS / f"profile-{name}.txt"
    raw.unlink(missing_ok=True)
    assert server.proc is not None
    proc = subprocess.Popen([spy, "record", "--pid", str(server.proc.pid), "--duration", str(int(seconds)),
                             "--rate", str(rate), "--format", "raw", "--output", str(raw), "--subprocesses"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # let it attach
    return proc, raw


def finish(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(2)  # py-spy writes what it has on SIGINT
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def show(title: str, rows: list[list[Any]], unit: str) -> None:
    t = Table(title=title)
    t.add_column("where")
    t.add_column(unit, justify="right")
    t.add_column("%", justify="right")
    for name, v, pct in rows:
        t.add_row(name, f"{v:.3f}", f"{pct:.1f}")
    console.print(t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cycles", type=int, default=3000)
    ap.add_argument("--items", type=int, default=100_000,
                    help="items in the import without ids (0: no import)")
    ap.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", type=Path, default=RESULTS / "profile_cycle.json")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="labelloop-profile-"))
    server = Server(tmp / "data", args.workers, None)
    server.data_dir.mkdir()
    out: dict[str, Any] = {}
    try:
        work, noids = tmp / "work.jsonl", tmp / "noids.jsonl"
        write_jsonl(work, args.cycles + 200, seed=3)
        write_jsonl(noids, args.items, seed=1, ids=False)
        server.start()
        api = Api(server.base, admin_token(server))
        pids = []
        for label in ("cycle", "import"):
            pids.append(int(api.call("POST", "/api/projects", 201, json={
                "name": f"profile {label}", "label_schema": SCHEMA, "overlap": 1,
                "lease_seconds": 600})["id"]))
        u = api.call("POST", "/api/users", 201, json={"username": "annotator", "password": None})
        token = api.call("POST", "/api/tokens", 201, json={"name": "bench", "user_id": u["id"]})["token"]
        api.call("PUT", f"/api/projects/{pids[0]}/members/{u['id']}", json={"role": "annotator"})
        admin = str(api.http.headers["Authorization"]).split()[1]
        loadgen("import", server, token=admin, project_id=pids[0], file=str(work), items=args.cycles + 200)

        console.print(f"[dim]{args.cycles} cycles under py-spy...[/dim]")
        spy, raw = record(server, "cycle", 600, args.rate)
        seq = loadgen("seq", server, tokens=[token], project_id=pids[0], cycles=args.cycles, warmup=50)
        finish(spy)
        per_cycle = 1000 * seq["server_cpu_s"] / seq["cycles"]
        out["cycle"] = {"cycles": seq["cycles"], "server_cpu_ms_per_cycle": round(per_cycle, 3),
                        "cycles_per_s": seq["cycles_per_s"], **split(raw, per_cycle, "ms/cycle")}

        if not args.items:
            return _done(args, out)
        console.print(f"[dim]import of {args.items:,} items without ids under py-spy...[/dim]")
        spy, raw = record(server, "import", 600, args.rate)
        imp = loadgen("import", server, token=admin, project_id=pids[1], file=str(noids), items=args.items)
        finish(spy)
        per_item = 1e6 * imp["server_cpu_s"] / args.items
        out["import"] = {"items": args.items, "items_per_s": imp["items_per_s"],
                         "server_cpu_us_per_item": round(per_item, 2), **split(raw, per_item, "µs/item")}
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    _done(args, out)


def _done(args: argparse.Namespace, out: dict[str, Any]) -> None:
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(out) + b"\n")
    c = out["cycle"]
    show(f"next + submit: server CPU {c['server_cpu_ms_per_cycle']:.3f} ms per cycle by layer "
         f"({c['samples']} samples; {c['cycles_per_s']} cycles/s under the profiler)",
         c["layers"], "ms/cycle")
    show("next + submit: innermost labelloop frame", c["innermost_labelloop"], "ms/cycle")
    show("next + submit: innermost frame", c["leaves"], "ms/cycle")
    i = out.get("import")
    if i is None:
        return
    show(f"import without ids: server CPU {i['server_cpu_us_per_item']:.2f} µs per item by layer "
         f"({i['items_per_s']:,.0f} items/s under the profiler)", i["layers"], "µs/item")
    show("import: innermost labelloop frame", i["innermost_labelloop"], "µs/item")
    show("import: innermost frame", i["leaves"], "µs/item")


if __name__ == "__main__":
    main()
