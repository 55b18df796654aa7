"""How long the learning steps of one loop round take on 10,000 texts (bench/loop.py, "round time").

    .venv/bin/python bench/loop_round.py [--items 10000] [--labels 2000] [--cold] [--finetune SECONDS]

The steps services/loop/rounds.py runs between reading the items and writing the results, on the
first --items Rotten Tomatoes texts (shuffled, seed 0), with one BLAS thread as a round has:

1. embed every text with MiniLM (cached by content hash: a round after the first reads its vectors;
   --cold embeds them afresh into an empty cache, as the first round of a project does);
2. train the built-in text model on --labels labelled items (their true labels; half of them a
   random validation sample): embeddings + n-gram TF-IDF, C chosen on 5 folds, calibrated, out-of-fold
   probabilities; with --finetune S, MiniLM fine-tuned for S seconds on a part of the labels first
   (labelloop.learn.text.tuned), which then embeds every text itself;
3. predict every item; 4. rank the queue (hybrid); 5. auto-label (95%, alpha 0.05) certified on the
   validation sample; 6. confident learning and crowd-versus-model disagreements.

Not timed: the database reads and writes (predictions, priorities, flags), which the platform's own
benchmarks measure. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from labelloop.learn import (
    EmbeddingCache,
    autolabel,
    consensus_disagreements,
    embed,
    find_label_issues,
    get_encoder,
    rank_items,
)
from labelloop.learn.data import rotten_tomatoes
from labelloop.learn.text.classifier import TextClassifier
from labelloop.learn.text.tuned import TunedTextClassifier

RESULTS = Path(__file__).resolve().parent / "results"


def time_round(items: int = 10_000, *, labels: int = 2_000, cache: Path = RESULTS / "cache",
               cold: bool = False, finetune: float | None = None, progress: Any = None) -> dict[str, Any]:
    """Seconds per step of one round's learning on *items* texts (see the module docstring)."""
    texts_all, names = rotten_tomatoes()
    order = np.random.default_rng(0).permutation(len(texts_all))[:items]
    texts = [texts_all[i] for i in order]
    classes = sorted(set(names.tolist()))
    y_all = np.searchsorted(classes, names[order])
    rng = np.random.default_rng(1)
    lab = np.sort(rng.choice(items, size=labels, replace=False))
    validation = np.zeros(labels, dtype=bool)
    validation[rng.choice(labels, size=labels // 2, replace=False)] = True
    task = progress.add_task(f"round on {items:,} texts", total=6) if progress is not None else None
    seconds: dict[str, float] = {}
    load = os.getloadavg()

    def lap(name: str, start: float) -> float:
        seconds[name] = round(time.perf_counter() - start, 1)
        if progress is not None:
            progress.advance(task)
        return time.perf_counter()

    with threadpool_limits(1), tempfile.TemporaryDirectory() as fresh:
        t = time.perf_counter()
        with EmbeddingCache(Path(fresh) if cold else cache) as store:
            x = embed(get_encoder("minilm"), texts, cache=store, batch_size=32)
        t = lap("embed", t)
        y = y_all[lab]
        lab_texts = [texts[i] for i in lab]
        model: Any
        if finetune is None:
            model = TextClassifier(seed=0).fit(lab_texts, x[lab], y, classes=np.arange(len(classes)),
                                               corpus=texts)
        else:
            model = TunedTextClassifier(min_labels=200, seconds=finetune, seed=0,
                                        finetune_options={"threads": 1}).fit(
                lab_texts, x[lab], y, classes=np.arange(len(classes)), keep_out=validation, corpus=texts)
        t = lap("train", t)
        proba = model.predict_proba(texts, x)
        t = lap("predict", t)
        is_lab = np.zeros(items, dtype=bool)
        is_lab[lab] = True
        rank_items("hybrid", proba=proba, embeddings=x, labelled=is_lab, seed=0)
        t = lap("rank", t)
        oof = model.oof_proba_
        assert oof is not None
        pool = np.flatnonzero(~is_lab)
        auto = autolabel(proba[pool], oof[validation], y[validation], target=0.95, alpha=0.05,
                         train_counts=model.class_counts_)
        t = lap("autolabel", t)
        find_label_issues(y, oof)
        consensus_disagreements(y, oof, min_model_confidence=0.9)
        lap("label_errors", t)
    pool_acc = float((proba[pool].argmax(axis=1) == y_all[pool]).mean())
    auto_acc = float((auto.labels == y_all[pool[auto.indices]]).mean()) if auto.indices.size else None
    out: dict[str, Any] = {
        "items": items, "labels": labels, "cold_embedding": cold, "finetune_seconds": finetune,
        "seconds": round(sum(seconds.values()), 1), "steps": seconds,
        "load_average_at_start": [round(v, 2) for v in load],
        "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
        "pool_accuracy": round(pool_acc, 4), "autolabel_coverage": round(auto.coverage, 4),
        "autolabel_accuracy": None if auto_acc is None else round(auto_acc, 4),
    }
    if finetune is not None:
        out["finetune"] = {"used": model.tuned, "fallback": model.fallback_,
                           "tuned_on": int(model.tuned_mask_.sum()),
                           "report": None if model.report_ is None else model.report_.__dict__}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--labels", type=int, default=2_000)
    parser.add_argument("--cold", action="store_true", help="embed into an empty cache (a first round)")
    parser.add_argument("--finetune", type=float, default=None, metavar="SECONDS",
                        help="fine-tune MiniLM for this long first (the finetune extra)")
    parser.add_argument("--cache", type=Path, default=RESULTS / "cache")
    args = parser.parse_args()
    result = time_round(args.items, labels=args.labels, cache=args.cache, cold=args.cold,
                        finetune=args.finetune)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
