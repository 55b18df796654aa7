"""Benchmark of video labelling (docs/video.md; issue "Video", Proof).

Run with ``make bench-video`` (or ``python bench/video.py [--quick] [--only import effort ...]``).
Each part is its own module with ``run(quick) -> dict`` that prints its table:

- ``import`` (bench/video_import.py): probe, poster and frame table, scaled to one hour of video;
- ``effort`` (bench/video_effort.py): a simulated annotator on synthetic videos with exact tracks:
  keyframes per frame and the interpolated boxes' IoU, and the tracker's saving of keyframes;
- ``quality`` (bench/video_quality.py): fused tracks of simulated annotators against the truth,
  MOTA / IDF1 / HOTA, and the aggregation time;
- ``formats`` (bench/video_formats.py): every keyframe kept through MOT and CVAT, keyframes found
  again from a MOT file alone, and the formats' read and write speeds;
- ``browser`` (bench/video_browser.py): Chromium showing exactly the requested frame over random
  seeks in a variable-frame-rate video, and the seek time in a 10-minute 1080p file.

Every figure goes to bench/results/video.json; the last line printed is one JSON object of the
headline figures and whether each target of the issue is met.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import run_measurements

PARTS = ("import", "effort", "quality", "formats", "browser")
RESULTS = Path(__file__).resolve().parent / "results" / "video.json"

# (figure, is it met) for each target of the issue.
TARGETS = {
    "frame_accuracy_is_1": ("frame_accuracy", lambda v: v == 1.0),
    "seek_ms_p95_under_150": ("seek_ms_p95", lambda v: v < 150),
    "mean_iou_interpolated_at_least_0_85": ("mean_iou_interpolated", lambda v: v >= 0.85),
    "keyframes_per_frame_at_most_0_1": ("keyframes_per_frame", lambda v: v <= 0.1),
    "tracker_saving_at_least_1_5": ("tracker_saving", lambda v: v >= 1.5),
}


def part(name: str, quick: bool) -> Any:
    def measure() -> dict[str, Any]:
        print(f"\n== {name} ==", flush=True)
        return dict(importlib.import_module(f"video_{name}").run(quick))

    measure.__name__ = name
    return measure


def targets(result: dict[str, Any]) -> dict[str, Any]:
    met = {key: check(result[figure]) for key, (figure, check) in TARGETS.items() if figure in result}
    every = all(met.values()) and len(met) == len(TARGETS)
    return {"targets_met": every, **{f"target_{k}": v for k, v in met.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    parser.add_argument("--only", nargs="*", choices=PARTS, help="run only these parts")
    args = parser.parse_args()
    chosen = [p for p in PARTS if not args.only or p in args.only]
    measurements = [part(p, args.quick) for p in chosen]
    collected: dict[str, Any] = {}

    def checked() -> dict[str, Any]:
        return targets(collected)

    def collect(measure: Any) -> Any:
        def wrapped() -> dict[str, Any]:
            out = measure()
            collected.update(out)
            return out

        wrapped.__name__ = measure.__name__
        return wrapped

    run_measurements([*map(collect, measurements), checked], RESULTS)


if __name__ == "__main__":
    main()
