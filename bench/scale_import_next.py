"""The next task while a large import runs on PostgreSQL, where the import is one transaction.

    bash scripts/with-postgres.sh bash -c '.venv/bin/python bench/scale_import_next.py \
        --database-url "$LABELLOOP_TEST_DATABASE_URL" [--items N]'

The import's rows enter the queue's index as they are written, before anyone may see them, so a
pick that finds no visible open item ahead of them steps over every row written so far. Two
cases, each a fresh project with one annotator, N items imported in process (`writer.import_file`)
while the annotator asks for a task every 50 ms (in process, each pick rolled back so none keeps
a lease): `drained`, a project with no open item; `behind`, 1,000 open items of priority 0 while
the import brings items of priority 1. Prints a table, then one JSON object.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from core import SCHEMA
from labelloop.config import Settings
from labelloop.services import projects
from labelloop.services.accounts import users
from labelloop.services.importing.writer import import_file
from labelloop.services.jobs.rows import create_job
from labelloop.services.policy import Actor
from labelloop.services.queue.tasks import next_task
from labelloop.services.runtime import Runtime
from labelloop.store.migrate import upgrade
from labelloop.store.models import Base

OPERATOR = Actor.operator()


def write(path: Path, count: int, start: int, priority: int) -> Path:
    with path.open("wb") as f:
        for k in range(start, start + count):
            f.write(orjson.dumps({"id": f"i{k}", "text": f"text number {k} of the queue test",
                                  "priority": priority}) + b"\n")
    return path


def run_case(rt: Runtime, folder: Path, items: int, case: str) -> dict[str, Any]:
    with rt.db.engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(t.name for t in Base.metadata.sorted_tables)
                          + " RESTART IDENTITY CASCADE"))

    def setup(conn: Any) -> tuple[int, int]:
        owner = users.create_user(conn, OPERATOR, "owner", password=None, is_admin=True)
        pid = projects.create_project(conn, Actor(owner.id, "owner", True), case, SCHEMA, overlap=1).id
        annotator = users.create_user(conn, OPERATOR, "annotator", password=None)
        projects.set_member(conn, OPERATOR, pid, annotator.id, "annotator")
        return pid, annotator.id

    pid, annotator = rt.db.run(setup)
    actor = Actor(annotator, "annotator", False)

    def imported(path: Path) -> float:
        job = rt.db.run(lambda c: create_job(c, OPERATOR, pid, "import", {}, foreground=True))
        started = time.perf_counter()
        import_file(rt.db, OPERATOR, pid, path, job_id=job.id)
        return time.perf_counter() - started

    if case == "behind":
        imported(write(folder / "open.jsonl", 1000, 10**9, 0))
    big = write(folder / "big.jsonl", items, 0, 1 if case == "behind" else 0)
    took: list[float] = []
    done = threading.Event()

    def run() -> None:
        try:
            took.append(imported(big))
        finally:
            done.set()

    threading.Thread(target=run).start()
    picks: list[float] = []
    while not done.is_set():
        started = time.perf_counter()
        with rt.db.engine.connect() as conn:
            next_task(conn, actor, pid)
            conn.rollback()  # no lease kept: every pick looks again
        picks.append((time.perf_counter() - started) * 1000)
        time.sleep(0.05)
    picks.sort()
    return {"case": case, "picks": len(picks), "next_p50_ms": round(picks[len(picks) // 2], 1),
            "next_p95_ms": round(picks[int(len(picks) * 0.95)], 1), "next_max_ms": round(picks[-1], 1),
            "import_items_per_s": round(items / took[0]) if took else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--items", type=int, default=1_000_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    rt = Runtime(Settings(_env_file=None, data_dir=folder, database_url=args.database_url))  # type: ignore[call-arg]
    upgrade(rt.db.engine)
    results = [run_case(rt, folder, args.items, case) for case in ("drained", "behind")]
    table = Table(title=f"next task during an import of {args.items:,} items (PostgreSQL)")
    for column in results[0]:
        table.add_column(column, justify="right")
    for row in results:
        table.add_row(*(str(v) for v in row.values()))
    Console().print(table)
    print(orjson.dumps({"items": args.items, "cases": results, "loadavg": os.getloadavg()}).decode())


if __name__ == "__main__":
    main()
