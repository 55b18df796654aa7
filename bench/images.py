"""Benchmark of image labelling: quality control for boxes, the drawing canvas and the first image.

Run with ``make bench-images`` (or ``python bench/images.py``). Prints tables and, as its last line,
one JSON object (also written to bench/results/images.json):

1. box aggregation on real crowd answers with expert boxes (Branson, Van Horn & Perona's pedestrians,
   ../shared/data/media/boxes/branson_pedestrians_dev, 7 workers per image, gold on 467 images):
   micro F1 at IoU 0.5 and 0.75 of the default aggregator, of the naive consensus and of one random
   worker (the mean over 10 draws);
2. where the default's errors come from (missed and wrongly kept boxes by cause) and what the
   F1-optimal decision rules and a fusion with pixel margins change, on that set and on simulated
   crowds (bench/box_errors.py);
   how sensitive the default is to each of its settings, on that set and on a simulated crowd;
3. the time to aggregate one million boxes (100,000 simulated images x 7 workers), input checks and
   output included.
4. in Debian's Chromium (bench/canvas.py): the 95th percentile frame time while dragging one box
   among 500 on a 6000 x 4000 photo, and the time from a cold page to the first frame showing a
   12-megapixel upload (median of 20 runs). These need the web app built (`make web`).

Each measurement is one function returning a dict of figures; ``MEASUREMENTS`` lists them.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("LABELLOOP_MEDIA_DATA", ROOT.parent / "shared" / "data" / "media"))
RESULTS = ROOT / "bench" / "results" / "images.json"
MILLION = {"n_tasks": 100_000, "n_workers": 200, "per_task": 7, "objects": 1.8, "seed": 0}
SENSITIVITY: dict[str, list[Any]] = {
    "match_iou": [0.2, 0.3, 0.4, 0.5],
    "difficulty_levels": [1, 2, 3],
    "threshold": [0.3, 0.5, 0.7],
    "shrinkage": [0.5, 2.0, 8.0],
    "fusion": ["robust", "mean", "median"],
    "dof": [4.0, 10.0, 30.0, float("inf")],
    "n_passes": [1, 2],
    "size_prior": [False, True],
}

sys.path.insert(0, str(ROOT / "src"))
from common import run_measurements  # noqa: E402
from labelloop.quality import (  # noqa: E402
    BoxAggregator,
    NaiveBoxConsensus,
    RandomWorkerBoxes,
    box_f1,
    default_box_aggregator,
)
from labelloop.quality.shapes.simulate import simulate_box_crowd  # noqa: E402


def load_branson() -> tuple[pd.DataFrame, pd.Series]:
    folder = MEDIA / "boxes" / "branson_pedestrians_dev"
    answers = pd.read_json(folder / "answers.jsonl", lines=True, dtype={"image": str, "worker": str})
    gold = pd.read_json(folder / "gold.jsonl", lines=True, dtype={"image": str})
    return answers.rename(columns={"image": "task"}), gold.set_index("image")["boxes"]


def f1_pair(pred: pd.Series, gold: pd.Series) -> tuple[float, float]:
    return box_f1(pred, gold), box_f1(pred, gold, iou_threshold=0.75)


def box_quality() -> dict[str, Any]:
    """F1 of ours, naive consensus and one random worker on the real pedestrians."""
    answers, gold = load_branson()
    start = time.perf_counter()
    ours = default_box_aggregator().fit_predict(answers)
    fit_s = time.perf_counter() - start
    naive = NaiveBoxConsensus().fit_predict(answers)
    draws = [f1_pair(RandomWorkerBoxes(seed=s).fit_predict(answers), gold) for s in range(10)]
    out = {
        "box_f1_050": f1_pair(ours, gold)[0],
        "box_f1_075": f1_pair(ours, gold)[1],
        "naive_f1_050": f1_pair(naive, gold)[0],
        "naive_f1_075": f1_pair(naive, gold)[1],
        "random_worker_f1_050": float(np.mean([d[0] for d in draws])),
        "random_worker_f1_075": float(np.mean([d[1] for d in draws])),
        "branson_fit_s": fit_s,
    }
    print("\nBoxes on branson_pedestrians_dev (micro F1 over the 467 gold images)")
    print(f"{'method':<28}{'F1@0.5':>8}{'F1@0.75':>9}")
    for name, key in (
        ("default aggregator", "box"),
        ("naive consensus", "naive"),
        ("one random worker", "random_worker"),
    ):
        print(f"{name:<28}{out[key + '_f1_050']:>8.3f}{out[key + '_f1_075']:>9.3f}")
    return out


def sensitivity() -> dict[str, Any]:
    """F1 when one setting moves away from its default, on the real set and on a simulated crowd."""
    answers, gold = load_branson()
    sim, truth = simulate_box_crowd(n_tasks=3000, n_workers=40, seed=7)
    rows = {}
    print("\nSensitivity: one setting changed at a time (branson | simulated 3,000 images)")
    print(f"{'setting':<26}{'F1@0.5':>8}{'F1@0.75':>9}{'sim@0.5':>9}{'sim@0.75':>10}")
    for name, values in SENSITIVITY.items():
        for value in values:
            model = BoxAggregator(**{name: value})
            real = f1_pair(model.fit_predict(answers), gold)
            simulated = f1_pair(BoxAggregator(**{name: value}).fit_predict(sim), truth)
            label = f"{name}={value}"
            rows[label] = {"branson": real, "simulated": simulated}
            print(f"{label:<26}{real[0]:>8.3f}{real[1]:>9.3f}{simulated[0]:>9.3f}{simulated[1]:>10.3f}")
    return {"sensitivity": rows}


def box_errors() -> dict[str, Any]:
    """Where the default's errors at IoU 0.5 come from; F1-optimal decision rules (bench/box_errors.py)."""
    from box_errors import error_classes, margin_rules, oracle_f1, rule_f1, simulated_rules

    answers, gold = load_branson()
    model = default_box_aggregator().fit(answers)
    errors = error_classes(model, answers, gold)
    rules = rule_f1(model, answers, gold)
    margin = margin_rules(answers, gold)
    simulated = simulated_rules()
    oracle = oracle_f1(model, gold)
    print(f"\nErrors at IoU 0.5 on branson ({errors['expert_boxes']} expert boxes, "
          f"{errors['true_positives']} found)")
    print(f"missed: {errors['missed']}")
    print(f"wrongly kept: {errors['wrongly_kept']}; by cluster size {errors['wrongly_kept_by_cluster_size']}")
    print("fused box over the expert's, by the expert box's height:")
    for height, row in errors["fused_over_expert_by_height"].items():
        print(f"  {height:<10} {row}")
    print(f"\nDecision rules, F1@0.5 (simulated: mean of 3 seeds; branson keep/drop oracle {oracle:.4f})")
    print(f"{'':<26}" + "".join(f"{rule:>18}" for rule in rules))
    print(f"{'branson':<26}" + "".join(f"{f[0]:>18.4f}" for f in rules.values()))
    for regime, row in simulated.items():
        print(f"{'sim ' + regime:<26}" + "".join(f"{row[rule]:>18.4f}" for rule in rules))
    print("\nWith the pixel-margin fusion (F1@0.5 / @0.75): threshold | plug-in with localisation")
    print(f"{'branson':<26}{margin['threshold'][0]:.4f} / {margin['threshold'][1]:.4f} | "
          f"{margin['plugin_loc'][0]:.4f} / {margin['plugin_loc'][1]:.4f} "
          f"(default {rules['threshold'][0]:.4f} / {rules['threshold'][1]:.4f})")
    for regime, row in simulated.items():
        print(f"{'sim ' + regime:<26}{row['margin_threshold']:.4f} / {row['margin_threshold_075']:.4f} | "
              f"{row['margin_plugin_loc']:.4f} / {row['margin_plugin_loc_075']:.4f} "
              f"(default {row['threshold']:.4f} / {row['threshold_075']:.4f})")
    return {
        "box_errors": errors,
        "box_decision_rules": {
            "branson": rules, "branson_pixel_margins": margin, "simulated_mean_of_3_seeds": simulated,
            "oracle_f1_050": oracle,
        },
    }


def million_boxes() -> dict[str, Any]:
    """Seconds to aggregate about a million boxes (best of two runs, input checks included)."""
    answers, truth = simulate_box_crowd(**MILLION)  # type: ignore[arg-type]
    n_boxes = int(answers["boxes"].map(len).sum())
    times = []
    for _ in range(2):
        start = time.perf_counter()
        out = default_box_aggregator().fit_predict(answers)
        times.append(time.perf_counter() - start)
    sample = truth.index[:5000]
    f1 = box_f1(out.reindex(sample), truth.reindex(sample))
    print(
        f"\n{n_boxes:,} boxes on {MILLION['n_tasks']:,} simulated images: {min(times):.2f} s "
        f"(runs {', '.join(f'{t:.2f}' for t in times)}); F1@0.5 on 5,000 of them {f1:.3f}"
    )
    return {"aggregate_1m_boxes_s": min(times), "aggregate_1m_boxes_n": n_boxes, "aggregate_1m_f1_050": f1}


def canvas_frame() -> dict[str, Any]:
    """p95 frame time dragging one box among 500 on a 6000 x 4000 photo, in Chromium (bench/canvas.py)."""
    from canvas import TARGET_MS, canvas_frame_time

    out = canvas_frame_time()
    print(f"\nCanvas: dragging one box among {out['canvas_objects']} on a 6000 x 4000 photo, "
          f"p95 {out['canvas_frame_ms_500']:.2f} ms per frame "
          f"(median {out['canvas_frame_median_ms_500']:.2f}; "
          f"target < {TARGET_MS:.0f}; load average {os.getloadavg()[0]:.1f})")
    return out


def first_image() -> dict[str, Any]:
    """Cold page to the first frame showing a 12-megapixel upload, in Chromium (bench/canvas.py)."""
    from canvas import FIRST_IMAGE_TARGET_MS, first_image_time

    out = first_image_time()
    print(f"\nFirst image: a 12 MP JPEG upload on a cold page, median {out['first_image_ms']:.0f} ms "
          f"(p90 {out['first_image_p90_ms']:.0f}, max {out['first_image_max_ms']:.0f}; "
          f"{out['first_image_runs']} runs; "
          f"target < {FIRST_IMAGE_TARGET_MS:.0f}; load average {os.getloadavg()[0]:.1f})")
    return out


MEASUREMENTS: list[Callable[[], dict[str, Any]]] = [
    box_quality, box_errors, sensitivity, million_boxes, canvas_frame, first_image,
]


def main() -> None:
    run_measurements(MEASUREMENTS, RESULTS)


if __name__ == "__main__":
    main()
