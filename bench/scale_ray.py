"""Ray's plumbing against one process: N generated short texts (a million by default) embedded
with the default text encoder (hashed TF-IDF, 1024-d) over the same batches, both ways.

    .venv/bin/python bench/scale_ray.py [--items N] [--batch-items B]

Each batch is one task of a loop round's compute layer (labelloop.services.compute): it makes its
texts (seeded by the batch, so both runs embed the same ones) and returns their vectors, which
the driver copies into one `(N, 1024)` float32 array, as a round assembles its embeddings.
`single`: the batches one after another in this process (InProcess). `ray`: the same batches as
Ray tasks on a local cluster of 2 workers of its own (`ray.init(address="local", num_cpus=2)`).
Each rate is N over the wall time from the first batch sent to the last vectors copied back; the
cluster's start (and each worker's first task, which imports the encoder) is `ray_start_s`,
apart. The two arrays are checked equal.

Overhead, two ways (target: under 20%): `ray_overhead` is 1 - ray/single items/s when Ray is the
slower (else 0), as asked; on a 2-core machine shared with other work the wall clock flatters
whichever run has more processes, so `ray_cpu_overhead` also compares the CPU seconds each run
spent (Ray: the driver and every process of its cluster, the raylet and object store included)
on the same work: ray_cpu / single_cpu - 1, what the plumbing costs.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import time
from typing import Any

import numpy as np
import orjson
import psutil  # type: ignore[import-untyped, unused-ignore]
from rich.console import Console
from rich.table import Table

from labelloop.services.compute import BATCH_ITEMS, BatchMap, InProcess, batch_map, spans
from labelloop.services.compute.round_steps import text_encoder

ENCODER = "hashed-tfidf"
TARGET_OVERHEAD = 0.20
WORDS = [f"w{i}" for i in range(20_000)]  # a vocabulary larger than the hashed dimension
console = Console()


def embed_generated(start: int, stop: int, *, encoder: str) -> np.ndarray:
    """The vectors of items start..stop-1: short texts of 6-12 words, seeded by `start`."""
    from labelloop.learn.encoders import embed

    rng = random.Random(start)
    texts = [" ".join(rng.choices(WORDS, k=rng.randint(6, 12))) for _ in range(stop - start)]
    return embed(text_encoder(encoder), texts)


def cpu_seconds() -> float:
    """CPU seconds of this process and all its descendants (a local Ray cluster's processes)."""
    total = 0.0
    for proc in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def run(runner: BatchMap, parts: list[tuple[int, int]], out: np.ndarray) -> tuple[float, float]:
    """Wall and CPU seconds to embed every batch and copy it into `out`."""
    c0, t0 = cpu_seconds(), time.perf_counter()
    for k, vectors in runner.imap(embed_generated, parts, encoder=ENCODER):
        a, b = parts[k]
        out[a:b] = vectors
    return time.perf_counter() - t0, cpu_seconds() - c0


def measure(n: int = 1_000_000, batch_items: int = BATCH_ITEMS) -> dict[str, Any]:
    import ray
    from threadpoolctl import threadpool_limits

    parts = spans(n, batch_items)
    out = np.zeros((n, text_encoder(ENCODER).dim), dtype=np.float32)
    out.fill(0.0)  # its pages mapped now, not during the first run's copies
    with threadpool_limits(1):  # as a round's own process runs
        single = InProcess()
        single.map(embed_generated, [(0, 2)], encoder=ENCODER)  # the encoder imported and built
        single_s, single_cpu = run(single, parts, out)
    single_digest = hashlib.sha256(out.data).hexdigest()
    out[:] = 0

    t0 = time.perf_counter()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = batch_map("auto")
        on_ray.map(embed_generated, [(0, 2), (2, 4)], encoder=ENCODER)  # both workers up and warm
        start_s = time.perf_counter() - t0
        ray_s, ray_cpu = run(on_ray, parts, out)
    finally:
        ray.shutdown()
    same = hashlib.sha256(out.data).hexdigest() == single_digest
    single_rate, ray_rate = n / single_s, n / ray_s
    return {
        "items": n, "batch_items": batch_items, "batches": len(parts), "dim": int(out.shape[1]),
        "embed_1m_items_per_s_single": round(single_rate, 1), "embed_1m_items_per_s_ray": round(ray_rate, 1),
        "ray_overhead": round(max(0.0, 1.0 - ray_rate / single_rate), 4),
        "ray_speedup": round(ray_rate / single_rate, 3),
        "ray_cpu_overhead": round(ray_cpu / single_cpu - 1.0, 4),
        "single_cpu_s": round(single_cpu, 2), "ray_cpu_s": round(ray_cpu, 2),
        "single_s": round(single_s, 2), "ray_s": round(ray_s, 2), "ray_start_s": round(start_s, 2),
        "ray_workers": 2, "same_vectors": same, "cpus": os.cpu_count(),
    }


def show(res: dict[str, Any]) -> None:
    t = Table(title=f"embedding {res['items']:,} texts ({ENCODER}, {res['dim']}-d) in "
                    f"{res['batches']} batches of {res['batch_items']:,}")
    for col in ("run", "items/s", "wall s", "CPU s"):
        t.add_column(col, justify="left" if col == "run" else "right")
    t.add_row("one process", f"{res['embed_1m_items_per_s_single']:,.0f}", f"{res['single_s']:.1f}",
              f"{res['single_cpu_s']:.1f}")
    t.add_row("Ray, 2 workers", f"{res['embed_1m_items_per_s_ray']:,.0f}", f"{res['ray_s']:.1f}",
              f"{res['ray_cpu_s']:.1f}")
    console.print(t)
    met = max(res["ray_overhead"], res["ray_cpu_overhead"]) < TARGET_OVERHEAD and res["same_vectors"]
    console.print(f"[{'green' if met else 'red'}]Ray overhead {res['ray_overhead']:.1%} in items/s, "
                  f"{res['ray_cpu_overhead']:.1%} in CPU seconds (target < {TARGET_OVERHEAD:.0%}); "
                  f"speed-up {res['ray_speedup']:.2f}x; same vectors: {res['same_vectors']}[/]")
    console.print(f"[dim]cluster start (2 workers, warm) {res['ray_start_s']:.1f} s, not counted; "
                  f"{res['cpus']} CPUs; load average {res['loadavg']}[/dim]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--batch-items", type=int, default=BATCH_ITEMS)
    args = ap.parse_args()
    res = measure(args.items, args.batch_items)
    res["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    show(res)
    print(orjson.dumps(res).decode(), flush=True)


if __name__ == "__main__":
    main()
