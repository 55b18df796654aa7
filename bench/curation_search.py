"""Search by meaning (labelloop.curation.vector_index): build time, memory, query latency and
recall of the HNSW index over N random clustered unit vectors.

The vectors: N // 100 random centres in `dim` dimensions, each vector a centre plus Gaussian
noise of the same scale (cosine about 0.5 to its centre), scaled to length 1: neighbourhoods as
embeddings have them, not uniform noise. The queries: 1,000 of the vectors with a little noise
added ("items like this one"), searched one at a time (k = 10) as the API does; p95 of their
latency in milliseconds. Recall@10 is against the exact search (numpy) on the first 100 queries.
Building uses every core of the machine; a shared machine's load inflates the figures.

    .venv/bin/python bench/curation_search.py [--items N] [--dim 384]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from labelloop.curation.vector_index import VectorIndex

QUERIES, RECALL_QUERIES, K = 1000, 100, 10


def clustered(n: int, dim: int, rng: np.random.Generator, chunk: int = 100_000) -> np.ndarray:
    """n unit vectors around n // 100 centres (float32, generated a chunk at a time)."""
    centres = rng.normal(size=(max(1, n // 100), dim)).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        x = centres[rng.integers(0, len(centres), m)] + rng.normal(size=(m, dim)).astype(np.float32)
        out[start:start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def exact_answers(x: np.ndarray, ids: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """The ids of the true nearest `K` of the first `RECALL_QUERIES` queries (numpy, all at once)."""
    sample = queries[:RECALL_QUERIES] / np.linalg.norm(queries[:RECALL_QUERIES], axis=1, keepdims=True)
    sims = x @ sample.T  # (n, 100)
    out: np.ndarray = ids[np.argpartition(-sims, K - 1, axis=0)[:K].T]
    return out


def timed_search(search: Callable[[np.ndarray, int], Any], queries: np.ndarray, exact: np.ndarray,
                 ) -> tuple[list[float], float]:
    """Each query's latency in ms, one at a time as the API asks, and recall@K against `exact`."""
    latencies, found = [], []
    for q in queries:
        t = time.perf_counter()
        got, _sims = search(q, K)
        latencies.append((time.perf_counter() - t) * 1000)
        found.append(got)
    hits = sum(len(set(np.asarray(found[i]).tolist()) & set(exact[i].tolist())) for i in range(len(exact)))
    return latencies, hits / (len(exact) * K)


def measure(n: int = 1_000_000, dim: int = 384, *, keep: Path | None = None,
            expansions: tuple[int, ...] = ()) -> dict[str, Any]:
    """Build (or, with `keep` naming an existing file, load) the index and time the queries; with
    `expansions`, also each of those search widths (recall against latency)."""
    rng = np.random.default_rng(0)
    x = clustered(n, dim, rng)
    ids = np.arange(1, n + 1, dtype=np.int64)
    t0, c0 = time.perf_counter(), time.process_time()
    loaded = keep is not None and keep.is_file()
    if loaded:
        assert keep is not None
        index = VectorIndex.load(keep)
    else:
        index = VectorIndex.build(ids, x, exact=False)
        if keep is not None:
            index.save(keep)
    build_s, build_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    rows = rng.integers(0, n, QUERIES)
    queries = x[rows] + 0.1 * rng.normal(size=(QUERIES, dim)).astype(np.float32)
    exact = exact_answers(x, ids, queries)

    def run() -> tuple[list[float], float]:
        return timed_search(index.search, queries, exact)

    latencies, recall = run()
    out = {
        "search_items": n, "search_dim": dim, "search_expansion": index.expansion_search,
        **({"search_load_s": round(build_s, 1)} if loaded else
           {"search_build_s": round(build_s, 1), "search_build_cpu_s": round(build_cpu_s, 1)}),
        "search_index_mb": round(index.memory_bytes / 2**20, 1),
        "search_vectors_mb": round(x.nbytes / 2**20, 1),
        "search_p50_ms": round(float(np.percentile(latencies, 50)), 3),
        "search_p95_ms_1m": round(float(np.percentile(latencies, 95)), 3),
        "search_recall_at_10": round(recall, 4),
    }
    default = index.expansion_search
    for e in expansions:
        index.expansion_search = e
        lat, rec = run()
        out[f"search_at_expansion_{e}"] = {"p95_ms": round(float(np.percentile(lat, 95)), 3),
                                           "recall_at_10": round(rec, 4)}
    index.expansion_search = default
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--keep", type=Path, help="save the index here, or load it if the file exists")
    ap.add_argument("--expansions", default="", help="search widths to try besides the default, e.g. 256,512")
    args = ap.parse_args()
    load = [round(v, 2) for v in os.getloadavg()]
    expansions = tuple(int(e) for e in args.expansions.split(",") if e)
    out = {"load_before": load} | measure(args.items, args.dim, keep=args.keep, expansions=expansions)
    out["load_after"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
