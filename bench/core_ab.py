"""A/B of the core benchmark: this checkout against another commit, alternately, in one run.

    .venv/bin/python bench/core.py --ab REV [--rounds N] [--quick] [--items N] [--duration S]

On a machine shared with other work, figures taken minutes apart differ by more than most changes
do; ratios taken within one run, with the two code bases taking turns, do not. REV is checked out
as a git worktree under the temporary folder (reused when it is there already) and served from
this same virtual environment with PYTHONPATH at its `src`, so both sides run on the same
interpreter and libraries. Each round runs both sides, in alternating order (A B, then B A...);
each side: a server over a fresh SQLite database (1 worker) for the imports (records without ids,
then with ids), one annotator's cycles and the saturation phase, then a server with 2 worker
processes for the saturation phase again (bench/core.py's `run_workers2`). The table shows the
median of each side's rounds and the ratio this checkout / REV; bench/results/core-ab.json has
every run. Nothing here asserts on timing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from rich.table import Table

from core import (
    RESULTS,
    ROOT,
    Api,
    Server,
    admin_token,
    annotators,
    console,
    cpu_ms_per_cycle,
    cpu_pressure,
    loadgen,
    new_project,
    run_workers2,
    write_jsonl,
)

CURRENT = "this checkout"
# (key, label, higher is better)
METRICS = [
    ("import_items_per_s_noids", "import without ids (items/s)", True),
    ("import_cpu_us_per_item_noids", "  server CPU per item (µs)", False),
    ("import_items_per_s", "import with ids (items/s)", True),
    ("import_cpu_us_per_item", "  server CPU per item (µs)", False),
    ("next_p50_ms_1", "1 annotator: next p50 (ms)", False),
    ("submit_p50_ms_1", "1 annotator: submit p50 (ms)", False),
    ("cpu_ms_per_cycle_1", "1 annotator: server CPU per cycle (ms)", False),
    ("cycles_per_s_16", "saturation, 16 clients (cycles/s)", True),
    ("cpu_ms_per_cycle_16", "  server CPU per cycle (ms)", False),
    ("cycles_per_s_16_workers2", "saturation, 2 worker processes (cycles/s)", True),
    ("cpu_ms_per_cycle_16_workers2", "  server CPU per cycle (ms)", False),
    ("errors", "errors (non-2xx)", False),
]


def git(*args: str, cwd: Path = ROOT) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def worktree(rev: str) -> tuple[str, Path]:
    """(full commit id, its `src` folder): a detached worktree of REV in the temporary folder."""
    sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    path = Path(tempfile.gettempdir()) / f"labelloop-ab-{sha[:7]}"
    if not (path / "src").is_dir():
        git("worktree", "add", "--detach", str(path), sha)
    elif git("rev-parse", "HEAD", cwd=path) != sha:
        raise SystemExit(f"{path} exists but is not at {sha}: remove it (git worktree remove {path})")
    return sha, path / "src"


def one_side(args: argparse.Namespace, tmp: Path, files: dict[str, Path], src: Path | None) -> dict[str, Any]:
    """One code base's run of every phase; its figures."""
    folder = tmp / f"data-{random_tag()}"
    folder.mkdir()
    server = Server(folder, 1, None, src=src)
    try:
        server.start()
        admin = admin_token(server)
        api = Api(server.base, admin)
        pid, pid_noids = new_project(api, "ids"), new_project(api, "noids")
        tokens = annotators(api, pid, args.clients)
        noids = loadgen("import", server, token=admin, project_id=pid_noids, file=str(files["noids"]),
                        items=args.items)
        ids = loadgen("import", server, token=admin, project_id=pid, file=str(files["ids"]), items=args.items)
        seq = loadgen("seq", server, tokens=tokens[:1], project_id=pid, cycles=args.seq_cycles, warmup=50)
        closed = loadgen("closed", server, tokens=tokens, project_id=pid, duration=args.duration)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    two = run_workers2(args, tmp, files["ids"], src=src, quiet=True)
    errors = sum(int(p.get("errors", 0)) + int(p.get("warmup_errors", 0)) for p in (noids, ids, seq, closed))
    return {
        "import_items_per_s_noids": noids["items_per_s"],
        "import_cpu_us_per_item_noids": round(1e6 * noids["server_cpu_s"] / args.items, 2),
        "import_items_per_s": ids["items_per_s"],
        "import_cpu_us_per_item": round(1e6 * ids["server_cpu_s"] / args.items, 2),
        "next_p50_ms_1": seq["next_ms"]["p50"], "submit_p50_ms_1": seq["submit_ms"]["p50"],
        "cpu_ms_per_cycle_1": cpu_ms_per_cycle(seq),
        "cycles_per_s_16": closed["cycles_per_s"], "cpu_ms_per_cycle_16": cpu_ms_per_cycle(closed),
        "cycles_per_s_16_workers2": two["cycles_per_s_16_workers2"],
        "cpu_ms_per_cycle_16_workers2": two["cpu_ms_per_cycle_16_workers2"],
        "errors": errors + two["errors_workers2"],
    }


def random_tag() -> str:
    return os.urandom(4).hex()


def run_ab(args: argparse.Namespace) -> None:
    if args.database_url:
        raise SystemExit("--ab runs on SQLite (each side needs a fresh database)")
    sha, old_src = worktree(args.ab)
    sides: dict[str, Path | None] = {sha[:7]: old_src, CURRENT: None}
    names = list(sides)
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    load_start, pressure_start, t0 = os.getloadavg(), cpu_pressure(), time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="labelloop-bench-ab-"))
    try:
        files = {"ids": tmp / "items.jsonl", "noids": tmp / "noids.jsonl"}
        write_jsonl(files["ids"], args.items, seed=1)
        write_jsonl(files["noids"], args.items, seed=3, ids=False)
        for r in range(args.rounds):
            for name in names if r % 2 == 0 else names[::-1]:
                console.print(f"[dim]{time.strftime('%H:%M:%S')} round {r + 1} of {args.rounds}: "
                              f"{name}...[/dim]")
                runs[name].append(one_side(args, tmp, files, sides[name]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res = summarize(runs, names)
    res.update(rev=args.ab, commit=sha, current_commit=git("rev-parse", "--short", "HEAD"),
               current_src_dirty=bool(git("status", "--porcelain", "--", "src")), rounds=args.rounds,
               config={"items": args.items, "clients": args.clients, "duration_s": args.duration,
                       "seq_cycles": args.seq_cycles},
               loadavg_start=[round(x, 2) for x in load_start],
               loadavg_end=[round(x, 2) for x in os.getloadavg()],
               cpu_pressure_avg60_start=pressure_start, cpu_pressure_avg60_end=cpu_pressure(),
               bench_wall_s=round(time.perf_counter() - t0, 1), cpu_count=os.cpu_count())
    show(res, names)
    out = RESULTS / "core-ab.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    line = orjson.dumps(res).decode()
    out.write_text(line + "\n")
    print(line, flush=True)


def summarize(runs: dict[str, list[dict[str, Any]]], names: list[str]) -> dict[str, Any]:
    median: dict[str, dict[str, float | None]] = {n: {} for n in names}
    for n in names:
        for key, _, _ in METRICS:
            values = [r[key] for r in runs[n] if r.get(key) is not None]
            median[n][key] = round(statistics.median(values), 3) if values else None
    base, new = names
    ratio = {key: (round(median[new][key] / median[base][key], 3)  # type: ignore[operator]
                   if median[base][key] and median[new][key] is not None else None)
             for key, _, _ in METRICS}
    return {"runs": runs, "median": median, "ratio_current_over_rev": ratio}


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def show(res: dict[str, Any], names: list[str]) -> None:
    base, new = names
    t = Table(title=f"core benchmark A/B: {new} against {base}, {res['rounds']} rounds alternating "
                    f"(median, and each run; all in bench/results/core-ab.json)")
    for col in ("metric", base, new, f"{new} / {base}"):
        t.add_column(col, justify="left" if col == "metric" else "right")
    for key, label, higher in METRICS:
        cells = []
        for n in names:
            each = " / ".join(_num(r.get(key)) for r in res["runs"][n])
            cells.append(f"{_num(res['median'][n][key])} ({each})")
        ratio = res["ratio_current_over_rev"][key]
        better = ratio is not None and (ratio > 1 if higher else ratio < 1)
        t.add_row(label, *cells, "-" if ratio is None else f"[{'green' if better else 'red'}]{ratio:.2f}x[/]")
    console.print(t)
    console.print(f"[dim]load average {res['loadavg_start']} -> {res['loadavg_end']}; CPU pressure (some, "
                  f"avg60) {res['cpu_pressure_avg60_start']}% -> {res['cpu_pressure_avg60_end']}%; "
                  f"took {res['bench_wall_s']} s[/dim]")
