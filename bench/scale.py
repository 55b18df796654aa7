"""Scale-out benchmark (`make bench-scale`): a million items on PostgreSQL, two API processes, Ray.

    make bench-scale     (a throwaway PostgreSQL: scripts/with-postgres.sh)
    .venv/bin/python bench/scale.py --database-url postgresql+psycopg://... [--items N]

Runs the three parts in one sitting, one after the other, each against a fresh server:
- bench/scale_io.py: import and export of N text items through the HTTP API;
- bench/scale_cycles.py: next + submit with 64 clients, 1 and 2 server processes (saturation,
  and next-task latency at 100 cycles/s offered), with the CPU split of server and database;
- bench/scale_ray.py: hashed TF-IDF embedding of N texts in one process and as Ray tasks.
Prints one table and, as the last line, one JSON object (also bench/results/scale.json).
Nothing asserts on timing: the targets are printed beside the figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale_cycles
import scale_io
import scale_ray
from common import report_targets

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {
    "import_1m_items_per_s": (">=", 50_000), "export_1m_items_per_s": (">=", 50_000),
    "next_p95_ms_2proc": ("<=", 15), "ray_overhead": ("<=", 0.2),
}


def stored_bytes(url: str, table: str) -> dict[str, float]:
    """What a row of `table` costs in PostgreSQL, indexes and TOAST included (for the sizing in
    docs/scaling.md), measured on whatever the last part left there."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f"ANALYZE {table}"))
            rows = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            size = conn.execute(text(f"SELECT pg_total_relation_size('{table}')")).scalar_one()
    finally:
        engine.dispose()
    return {f"pg_bytes_per_{table[:-1]}": round(size / rows, 1) if rows else 0.0, f"{table}_stored": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("LABELLOOP_TEST_DATABASE_URL"),
                    help="an empty PostgreSQL database (default: $LABELLOOP_TEST_DATABASE_URL)")
    ap.add_argument("--items", type=int, default=1_000_000)
    args = ap.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql"):
        sys.exit("bench/scale.py measures PostgreSQL: give --database-url postgresql+psycopg://... "
                 "(or run it under scripts/with-postgres.sh)")
    load_before = os.getloadavg()
    started = time.time()
    out: dict[str, Any] = {"items": args.items, "cpus": os.cpu_count(),
                           "load_before": [round(x, 2) for x in load_before]}
    with tempfile.TemporaryDirectory(prefix="labelloop-scale-") as tmp:
        out |= scale_io.measure(args.database_url, args.items, Path(tmp))
        out |= stored_bytes(args.database_url, "items")
        out |= scale_cycles.measure(args.database_url, Path(tmp))
        out |= stored_bytes(args.database_url, "answers")
    out |= scale_ray.measure(args.items)
    out["load_after"] = [round(x, 2) for x in os.getloadavg()]
    out["minutes"] = round((time.time() - started) / 60, 1)
    report_targets(f"labelloop at scale: {args.items:,} items on PostgreSQL", out, TARGETS,
                   RESULTS / "scale.json")


if __name__ == "__main__":
    main()
