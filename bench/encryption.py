"""What encryption at rest costs: import throughput and blob serving, with and without a key.

    .venv/bin/python bench/encryption.py [--items N] [--blob-mb M]

In process (no HTTP), on SQLite in a temporary folder: imports N JSONL items of about 300 bytes
through the import service (job-reported items/s), then reads an M MiB blob whole and in random
64 KiB ranges through the store (what the blob endpoint streams). Prints a table and, as the last
line, one JSON object (also bench/results/encryption.json). Nothing asserts on timing.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from labelloop.config import Settings
from labelloop.services import projects
from labelloop.services.importing.writer import import_file
from labelloop.services.jobs import create_job
from labelloop.services.policy import Actor
from labelloop.services.runtime import Runtime

OPERATOR = Actor.operator()
SCHEMA = {"fields": [{"name": "text", "type": "text"}],
          "questions": [{"name": "s", "type": "choice", "options": ["a", "b"]}]}


def run_import(rt: Runtime, path: Path, n: int) -> float:
    def setup(conn: Any) -> tuple[int, int]:
        p = projects.create_project(conn, OPERATOR, "bench", SCHEMA)
        return p.id, create_job(conn, OPERATOR, p.id, "import", {"file": "b.jsonl"}, foreground=True).id

    pid, job = rt.db.run(setup)
    start = time.perf_counter()
    import_file(rt.db, OPERATOR, pid, path, job_id=job, batch_size=rt.settings.import_batch_size,
                blobs=rt.blobs)
    return n / (time.perf_counter() - start)


def run_serving(rt: Runtime, data: bytes) -> tuple[float, float]:
    sha = rt.blobs.put(data)
    start = time.perf_counter()
    with rt.blobs.open(sha) as f:
        while f.read(1 << 20):
            pass
    whole = len(data) / (1 << 20) / (time.perf_counter() - start)
    rng = random.Random(1)
    offsets = [rng.randrange(0, len(data) - 65536) for _ in range(2000)]
    start = time.perf_counter()
    for off in offsets:
        with rt.blobs.open(sha) as f:
            f.seek(off)
            f.read(65536)
    ranges = len(offsets) / (time.perf_counter() - start)
    return whole, ranges


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--blob-mb", type=int, default=64)
    args = ap.parse_args()
    rng = random.Random(0)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
    lines = io.BytesIO()
    for i in range(args.items):
        text = " ".join(rng.choice(words) for _ in range(45))
        lines.write(json.dumps({"id": f"r{i}", "text": text}).encode() + b"\n")
    blob = os.urandom(args.blob_mb << 20)
    out: dict[str, Any] = {}
    for label, key in (("plain", None), ("encrypted", SecretStr(base64.b64encode(os.urandom(32)).decode()))):
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "b.jsonl"
            src.write_bytes(lines.getvalue())
            rt = Runtime(Settings(_env_file=None, data_dir=Path(tmp) / "data", encryption_key=key))  # type: ignore[call-arg]
            try:
                rt.migrate()
                out[f"import_items_per_s_{label}"] = round(run_import(rt, src, args.items))
                whole, ranges = run_serving(rt, blob)
                out[f"serve_mib_per_s_{label}"] = round(whole)
                out[f"range_64k_per_s_{label}"] = round(ranges)
            finally:
                rt.close()
    print(f"{'':28}{'plain':>12}{'encrypted':>12}{'ratio':>8}")
    for what in ("import_items_per_s", "serve_mib_per_s", "range_64k_per_s"):
        a, b = out[f"{what}_plain"], out[f"{what}_encrypted"]
        print(f"{what:28}{a:>12,}{b:>12,}{b / a:>8.2f}")
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / "encryption.json").write_text(json.dumps(out) + "\n")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
