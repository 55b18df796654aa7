"""A versioned dataset release of a million labelled items, with its card: `release_1m_s`.

A fresh SQLite database gets one project and `n` items written in bulk (sqlite3's executemany,
not timed), each with a final label: 70% by the annotators' consensus, 10% decided by a reviewer,
15% auto-labelled by a model version certified at a lower bound, 5% gold; 1% carry a label-error
flag. Timed: `create_release` as the CLI runs it (snapshot read of items and consensus, splits
80/10/10 stratified by the label, manifest and per-split Parquet files, card, everything hashed
into the blob store, the release row).

    .venv/bin/python bench/curation_release.py [--items 1000000]

Prints a table and, as the last line, one JSON object. Target: `release_1m_s` under 60.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from rich.console import Console
from rich.table import Table

from labelloop.services.curation.releases import create_release
from labelloop.services.loop.rounds import AUTO
from labelloop.services.policy import Actor
from labelloop.services.projects import create_project
from labelloop.services.quality.consensus import INCREMENTAL, REVIEW
from labelloop.store.blobs import LocalBlobStore
from labelloop.store.db import Database
from labelloop.store.migrate import upgrade

SCHEMA = {"fields": [{"name": "text", "type": "text"}],
          "questions": [{"name": "sentiment", "type": "choice", "options": ["pos", "neg", "neu"]}]}
LABELS = ("pos", "neg", "neu")
CHUNK = 50_000


def _fill(db: Database, project_id: int, n: int) -> None:
    """Items, consensus rows and one auto-labelling model version, straight through sqlite3."""
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("INSERT INTO model_versions (project_id, question, encoder, classes, metrics, "
                    "created_at) VALUES (?, 'sentiment', 'hashed', ?, ?, ?)",
                    (project_id, json.dumps(LABELS), json.dumps({"autolabelled": n * 15 // 100,
                                                                 "autolabel_lower_bound": 0.9}),
                     "2000-01-01 00:00:00.000000"))
        for start in range(0, n, CHUNK):
            rows, settled = [], []
            for i in range(start, min(n, start + CHUNK)):
                label = LABELS[(i * 7) % 3]
                kind = i % 20  # 0: gold; 1-3: auto-label; 4-5: review; else consensus
                gold = json.dumps({"sentiment": label}) if kind == 0 else None
                rows.append((i + 1, project_id, f"item-{i:07d}", f"{i:064x}",
                             json.dumps({"text": f"generated review number {i} with a few words"}),
                             "{}", 0.0, 1, 1, 1, 0, gold, "done" if kind in (4, 5) else None, 0,
                             "confident_learning" if i % 100 == 7 else None, 0, now))
                if kind:
                    method, conf, final = ((AUTO, 0.95, 0) if kind <= 3 else (REVIEW, 1.0, 1) if kind <= 5
                                           else (INCREMENTAL, 0.6 + (i % 40) / 100, 0))
                    settled.append((i + 1, project_id, json.dumps({"sentiment": label}), conf,
                                    json.dumps({"sentiment": conf}), method, final, now))
            cur.executemany(
                "INSERT INTO items (id, project_id, external_id, content_hash, data, meta, priority, needed, "
                "reserved, answer_count, is_open, gold, review_state, validation, label_issue, staged, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            cur.executemany(
                "INSERT INTO consensus (item_id, project_id, value, confidence, confidences, method, final, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", settled)
        raw.commit()
    finally:
        raw.close()


def measure(n: int = 1_000_000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="labelloop-bench-release-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'labelloop.db'}")
        upgrade(db.engine)
        operator = Actor.operator()
        project_id = db.run(lambda conn: create_project(conn, operator, "release bench", SCHEMA).id)
        t = time.perf_counter()
        _fill(db, project_id, n)
        fill_s = time.perf_counter() - t
        blobs = LocalBlobStore(Path(tmp) / "blobs")
        load = os.getloadavg()
        t = time.perf_counter()
        made = create_release(db, blobs, operator, project_id, "v1", split=(80, 10, 10), stratify="label",
                              seed=0)
        seconds = time.perf_counter() - t
        size = sum(p.stat().st_size for p in (Path(tmp) / "blobs").rglob("*") if p.is_file())
        db.dispose()
    return {"items": n, "release_items": made["item_count"],
            "release_1m_s": round(seconds * 1_000_000 / n, 2),
            "release_s": round(seconds, 2), "release_bytes": size, "fill_s": round(fill_s, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "load_average_before": [round(x, 2) for x in load],
            "load_average_after": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    args = parser.parse_args()
    out = measure(args.items)
    table = Table(title="Dataset release")
    for column in ("figure", "value", "target"):
        table.add_column(column)
    table.add_row("items", str(out["items"]), "")
    table.add_row("release (scaled to 1M items), s", str(out["release_1m_s"]), "< 60")
    table.add_row("release, s", str(out["release_s"]), "")
    table.add_row("release files, bytes", str(out["release_bytes"]), "")
    table.add_row("bulk fill (not timed), s", str(out["fill_s"]), "")
    table.add_row("peak RSS of the process, MB", str(out["peak_rss_mb"]), "")
    table.add_row("load average before / after",
                  f"{out['load_average_before']} / {out['load_average_after']}", "")
    Console(stderr=True).print(table)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
