"""Search by meaning inside PostgreSQL with pgvector (services/curation/pg_vectors.py): build time,
table and index size, query latency and recall of the HNSW table over N clustered unit vectors.

A throwaway PostgreSQL 16 with pgvector (`pgserver`, the `test` extra) in a temporary folder,
migrated, with one project of N items (rows written by SQL: the search joins them). The vectors are
bench/curation_search.py's (N // 100 centres, cosine about 0.5 to the centre), written to the table
by `pg_vectors.vector_table` as search does: binary COPY, then the HNSW index, one transaction. The
queries: 1,000 of the vectors with a little noise, searched one at a time (k = 10) with
`VectorTable.search`, the service's query (a read transaction, `hnsw.ef_search`, the join with the
project's published items); p50/p95 in milliseconds. Recall@10 is against the exact search (numpy)
on the first 100 queries. PostgreSQL builds with its parallel workers; a shared machine's load
inflates the figures, so the load average is printed before and after.

    .venv/bin/python bench/curation_search_pg.py [--items N] [--dim 384]

Prints a table, then one JSON line (also bench/results/curation_search_pg_<N>.json; at a million
items the p95 is `search_p95_ms_1m_pgvector`).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from sqlalchemy import text
from sqlalchemy.engine import make_url

from common import report_targets
from curation_search import clustered, exact_answers, timed_search
from labelloop.services import projects
from labelloop.services.curation import pg_vectors
from labelloop.services.policy import Actor
from labelloop.store.db import Database
from labelloop.store.migrate import upgrade

HERE = Path(__file__).resolve().parent
QUERIES, RECALL_QUERIES, K, BATCH = 1000, 100, 10, 10_000
SCHEMA = {"fields": [{"name": "text", "type": "text"}],
          "questions": [{"name": "label", "type": "choice", "options": ["a", "b"]}]}
TARGETS = {"search_recall_at_10_pgvector": (">=", 0.95)}


def project_with_items(db: Database, n: int) -> int:
    """A project whose items have the ids 1..n (the vectors' ids)."""
    with db.write() as conn:
        pid = projects.create_project(conn, Actor.operator(), "bench", SCHEMA).id
        conn.execute(text(
            "INSERT INTO items (id, project_id, external_id, content_hash, data, meta, priority, needed, "
            "reserved, answer_count, is_open, created_at) SELECT g, :pid, 'i' || g, md5(g::text), "
            "'{}', '{}', 0, 1, 0, 0, true, now() FROM generate_series(1, :n) g"), {"pid": pid, "n": n})
    return pid


def measure(n: int, dim: int, pg_dir: str) -> dict[str, Any]:
    import pgserver

    server = pgserver.get_server(pg_dir, cleanup_mode="delete")
    try:
        url = make_url(server.get_uri()).set(drivername="postgresql+psycopg")
        db = Database(url.render_as_string(hide_password=False))
        upgrade(db.engine)
        if not pg_vectors.available(db):
            raise SystemExit("pgvector is not available in pgserver's PostgreSQL")
        pid = project_with_items(db, n)
        rng = np.random.default_rng(0)
        x = clustered(n, dim, rng)
        ids = np.arange(1, n + 1, dtype=np.int64)

        def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            for start in range(0, n, BATCH):
                yield ids[start:start + BATCH], x[start:start + BATCH]

        t0 = time.perf_counter()
        table = pg_vectors.vector_table(db, pid, 1, "bench", dim, batches)
        build_s = time.perf_counter() - t0
        assert table is not None, "the build failed (see the log)"
        with db.read() as conn:
            heap_mb, total_mb = conn.execute(text(
                "SELECT pg_relation_size(:t) / 2^20, pg_total_relation_size(:t) / 2^20"),
                {"t": table.name}).one()
            q0 = "[" + ",".join(map(str, x[0].tolist())) + "]"
            plan = conn.execute(text(f"EXPLAIN SELECT item_id FROM {table.name} "
                                     f"ORDER BY embedding <=> '{q0}' LIMIT 100")).scalars().all()
        uses_index = any("hnsw" in line or "Index Scan" in line for line in plan)
        rows = rng.integers(0, n, QUERIES)
        queries = x[rows] + 0.1 * rng.normal(size=(QUERIES, dim)).astype(np.float32)
        for q in queries[:20]:  # warm the connection pool and the server's caches
            table.search(q, K)
        latencies, recall = timed_search(table.search, queries, exact_answers(x, ids, queries))
        db.dispose()
    finally:
        server.cleanup()
    p95 = round(float(np.percentile(latencies, 95)), 3)
    out: dict[str, Any] = {
        "search_items": n, "search_dim": dim, "search_pg_uses_hnsw_index": uses_index,
        "search_build_s_pgvector": round(build_s, 1),
        "search_table_mb_pgvector": round(float(heap_mb), 1),
        "search_table_and_index_mb_pgvector": round(float(total_mb), 1),
        "search_p50_ms_pgvector": round(float(np.percentile(latencies, 50)), 3),
        "search_p95_ms_pgvector": p95,
        "search_recall_at_10_pgvector": round(recall, 4),
        "search_ef_search": pg_vectors.EF_SEARCH,
    }
    if n >= 1_000_000:
        out["search_p95_ms_1m_pgvector"] = p95
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    args = ap.parse_args()
    out: dict[str, Any] = {"load_before": [round(v, 2) for v in os.getloadavg()]}
    out |= measure(args.items, args.dim, tempfile.mkdtemp(prefix="llbench"))
    out["load_after"] = [round(v, 2) for v in os.getloadavg()]
    targets = dict(TARGETS) | ({"search_p95_ms_1m_pgvector": ("<=", 100)} if args.items >= 1_000_000 else {})
    report_targets(f"labelloop search on pgvector: {args.items:,} items, {args.dim} dimensions", out,
                   targets, HERE / "results" / f"curation_search_pg_{args.items}.json")


if __name__ == "__main__":
    main()
