"""What the audit log costs the annotator's hot path: one queue cycle (next task + submit answer).

    .venv/bin/python bench/audit_cost.py [--database-url URL] [--pairs N]

Both halves of the cycle record an entry (`task.serve`, `answer.submit`), each in its own
transaction. The cycle runs in process through the services (`Database.run`, as the API does,
without HTTP, whose jitter is larger than the difference measured), over a fresh database (SQLite in
a temporary folder unless --database-url names a PostgreSQL database). Cycles run in pairs, one with
the log on and one off (the `labelloop_audit` engine option that LABELLOOP_AUDIT_LOG=false sets), in
a random order, so that load on the machine that comes and goes falls on both alike; the overhead
is the median cycle with the log minus the median cycle without. bench/core.py runs this as part
of bench-core; the
last line printed is one JSON object. Nothing here asserts on timing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from labelloop.config import Settings
from labelloop.services import projects
from labelloop.services.accounts import users
from labelloop.services.audit.chain import ENABLED_OPTION
from labelloop.services.importing.writer import import_file
from labelloop.services.jobs import create_job
from labelloop.services.policy import Actor
from labelloop.services.queue.answers import submit_answer
from labelloop.services.queue.tasks import next_task
from labelloop.services.runtime import Runtime

SCHEMA = {
    "fields": [{"name": "text", "type": "text"}],
    "questions": [{"name": "sentiment", "type": "choice", "options": ["pos", "neg", "neu"]}],
}
OPERATOR = Actor.operator()


def _setup(rt: Runtime, items: int, folder: Path) -> tuple[Actor, int]:
    tag = uuid.uuid4().hex[:8]

    def people(conn: Any) -> tuple[int, int]:
        ann = users.create_user(conn, OPERATOR, f"audit-bench-{tag}")
        p = projects.create_project(conn, OPERATOR, f"audit bench {tag}", SCHEMA, overlap=1)
        projects.set_member(conn, OPERATOR, p.id, ann.id, "annotator")
        return ann.id, p.id

    uid, pid = rt.db.run(people)
    path = folder / f"audit-{tag}.jsonl"
    path.write_bytes(b"".join(orjson.dumps({"id": f"a{i}", "text": f"item {i} of the audit bench"}) + b"\n"
                              for i in range(items)))
    job = rt.db.run(lambda conn: create_job(conn, OPERATOR, pid, "import", {}, foreground=True))
    import_file(rt.db, OPERATOR, pid, path, job_id=job.id)
    return Actor(uid, f"audit-bench-{tag}"), pid


def _cycle(rt: Runtime, ann: Actor, pid: int) -> tuple[float, float]:
    """(wall ms, this process's CPU ms) of one cycle."""
    t0, c0 = time.perf_counter(), time.process_time()
    task = rt.db.run(lambda conn: next_task(conn, ann, pid))
    assert task is not None, "the bench ran out of items"
    rt.db.run(lambda conn: submit_answer(conn, ann, pid, task.item_id, {"sentiment": "pos"},
                                         idempotency_key=uuid.uuid4().hex))
    return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000


def measure(database_url: str | None = None, *, pairs: int = 1000, warmup: int = 50) -> dict[str, Any]:
    """The log's cost per cycle in ms (on minus off), with both medians and how it was measured."""
    with tempfile.TemporaryDirectory(prefix="labelloop-audit-bench-") as tmp:
        folder = Path(tmp)
        settings = Settings(_env_file=None, data_dir=folder, database_url=database_url)  # type: ignore[call-arg]
        rt = Runtime(settings)
        try:
            rt.migrate()
            ann, pid = _setup(rt, warmup + 2 * pairs + 10, folder)
            for _ in range(warmup):
                _cycle(rt, ann, pid)
            walls: dict[bool, list[float]] = {True: [], False: []}
            cpus: dict[bool, list[float]] = {True: [], False: []}
            order = random.Random(7)
            for _ in range(pairs):
                # One cycle each way, in a random order: load that comes and goes falls on both.
                for on in order.sample((True, False), 2):
                    rt.db.engine.update_execution_options(**{ENABLED_OPTION: on})
                    wall, cpu = _cycle(rt, ann, pid)
                    walls[on].append(wall)
                    cpus[on].append(cpu)
            dialect = rt.db.dialect
        finally:
            rt.close()
    on, off = statistics.median(walls[True]), statistics.median(walls[False])
    paired = statistics.median(a - b for a, b in zip(walls[True], walls[False], strict=True))
    # process_time ticks coarsely: means, not medians.
    cpu_on, cpu_off = statistics.fmean(cpus[True]), statistics.fmean(cpus[False])
    return {
        "audit_overhead_ms_per_cycle": round(on - off, 3),
        # On SQLite the database works in this process, so its CPU time is the whole cost and is
        # not inflated by waiting for a core on a busy machine; on PostgreSQL it misses the server's.
        "audit_overhead_cpu_ms_per_cycle": round(cpu_on - cpu_off, 3),
        "audit_cycle_ms_on": round(on, 3), "audit_cycle_ms_off": round(off, 3),
        "audit_bench": {"database": dialect, "cycles_each": len(walls[True]),
                        "median_paired_difference_ms": round(paired, 3),
                        "p90_ms_on": round(statistics.quantiles(walls[True], n=10)[-1], 3),
                        "p90_ms_off": round(statistics.quantiles(walls[False], n=10)[-1], 3)},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=None, help="default: SQLite in a temporary folder")
    ap.add_argument("--pairs", type=int, default=1000, help="pairs of cycles (log on, log off)")
    args = ap.parse_args()
    res = measure(args.database_url, pairs=args.pairs)
    print(f"audit log: {res['audit_overhead_ms_per_cycle']:.3f} ms per cycle, "
          f"{res['audit_overhead_cpu_ms_per_cycle']:.3f} ms of CPU (median cycle "
          f"{res['audit_cycle_ms_on']:.3f} ms with it, {res['audit_cycle_ms_off']:.3f} ms without; "
          f"{res['audit_bench']['database']}); target <= 0.2 ms", file=sys.stderr)
    print(orjson.dumps(res).decode(), flush=True)


if __name__ == "__main__":
    main()
