"""Curation benchmark (`make bench-curation`): near-duplicate texts and a dataset release.

    .venv/bin/python bench/curation.py [--items N]

Runs bench/curation_neardup.py (recall and precision on the demo corpus with planted edits;
near-duplicate pairs in N generated texts), bench/curation_release.py (a release of N labelled
items with its card) and bench/curation_search.py (an HNSW index over N clustered vectors: build
time, memory, query p95 and recall@10) one after the other; prints one table and, as the last
line, one JSON object (also bench/results/curation.json). The targets are printed beside the figures.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import curation_neardup
import curation_release
import curation_search
from common import report_targets

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {"neardup_recall": (">=", 0.95), "neardup_precision": (">=", 0.95),
           "neardup_1m_s": ("<=", 120), "search_p95_ms_1m": ("<=", 100), "release_1m_s": ("<=", 60)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=1_000_000)
    args = ap.parse_args()
    out: dict[str, Any] = {"items": args.items, "load_before": [round(x, 2) for x in os.getloadavg()]}
    out |= curation_neardup.measure(args.items)
    out |= curation_release.measure(args.items)
    out |= curation_search.measure(args.items)
    out["load_after"] = [round(x, 2) for x in os.getloadavg()]
    report_targets(f"labelloop curation: {args.items:,} items", out, TARGETS, RESULTS / "curation.json")


if __name__ == "__main__":
    main()
