"""CPU of one annotator's next + submit cycle in process: the services and the database layer,
without HTTP. A quick A/B of the layers under the API on either database.

    .venv/bin/python bench/cycle_cpu.py --database-url URL [--cycles 2000] [--src PATH]

Migrates the database (emptied first when it is PostgreSQL), imports 5,000 items into a project
with one annotator, runs 200 warm-up cycles and then `--cycles` more of `queue.next_task` and
`answers.submit_answer` as the hot paths call them, and prints one JSON line: this process's CPU
ms and wall ms per cycle (on PostgreSQL the server's CPU is not in it). `--src` imports labelloop
from another checkout's `src` (a git worktree of an older commit): run both in turn for an A/B.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("LABELLOOP_TEST_DATABASE_URL"))
    ap.add_argument("--cycles", type=int, default=2000)
    ap.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[1] / "src")
    args = ap.parse_args()
    sys.path.insert(0, str(args.src))
    print(json.dumps({"src": str(args.src), **measure(args.database_url, args.cycles)}))


def measure(database_url: str | None, cycles: int) -> dict[str, Any]:
    from sqlalchemy import text

    from labelloop.api.deps import Ctx
    from labelloop.config import Settings
    from labelloop.services import projects
    from labelloop.services.accounts import tokens, users
    from labelloop.services.importing.writer import import_file
    from labelloop.services.jobs.rows import create_job
    from labelloop.services.policy import Actor
    from labelloop.services.queue import answers
    from labelloop.services.queue import tasks as queue
    from labelloop.services.runtime import Runtime
    from labelloop.store.migrate import upgrade
    from labelloop.store.models import Base

    folder = Path(tempfile.mkdtemp(prefix="labelloop-cycle-"))
    url = database_url or f"sqlite:///{folder / 'labelloop.db'}"
    rt = Runtime(Settings(_env_file=None, data_dir=folder, database_url=url))  # type: ignore[call-arg]
    upgrade(rt.db.engine)
    if not rt.db.is_sqlite:
        with rt.db.engine.begin() as conn:
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    op = Actor.operator()

    def setup(conn: Any) -> tuple[int, str]:
        owner = users.create_user(conn, op, "owner", password=None, is_admin=True)
        annotator = users.create_user(conn, op, "annotator", password=None, is_admin=False)
        schema = {"fields": [{"name": "text"}],
                  "questions": [{"name": "s", "type": "choice", "options": ["a", "b"]}]}
        project = projects.create_project(conn, Actor(owner.id, "owner", True), "cycles", schema, overlap=1)
        projects.set_member(conn, op, project.id, annotator.id, "annotator")
        return project.id, tokens.create_token(conn, op, annotator.id, "bench").secret

    pid, token = rt.db.run(setup)
    path = folder / "items.jsonl"
    path.write_text("".join(json.dumps({"text": f"item {i}"}) + "\n" for i in range(cycles + 1000)))
    job = rt.db.run(lambda conn: create_job(conn, op, pid, "import", {}, foreground=True))
    import_file(rt.db, op, pid, path, job_id=job.id)
    ctx = Ctx(rt, token)

    def cycle() -> None:
        task = ctx.write(queue.next_task, pid, exclude=frozenset(), max_held=rt.settings.max_held_tasks)
        ctx.write(answers.submit_answer, pid, task.item_id, {"s": "a"}, idempotency_key=None,
                  duration_ms=100, suggestion_version=None)

    for _ in range(200):
        cycle()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(cycles):
        cycle()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    rt.close()
    return {"database": rt.db.engine.dialect.name, "cycles": cycles,
            "cpu_ms_per_cycle": round(1000 * cpu / cycles, 3),
            "wall_ms_per_cycle": round(1000 * wall / cycles, 3),
            "load": [round(v, 2) for v in os.getloadavg()]}


if __name__ == "__main__":
    main()
