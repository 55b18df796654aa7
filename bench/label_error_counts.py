"""How many items to flag as label errors: confident learning's count against three other estimates.

    .venv/bin/python bench/label_error_counts.py [--datasets rotten_tomatoes rt_subjectivity digits]

The datasets and frozen models of bench/loop.py (MiniLM + n-grams for the texts, image features for
digits; embeddings cached in bench/results/cache). Per dataset, noise is planted in the true labels
five ways: uniform at 5%, 20% and 40% (to any other class), pair flips at 20% (class k to k + 1),
and "confusion" noise at 20% on average: an item is flipped with a probability that grows with how
unsure the clean-label model is of it, to the class that model finds likeliest after the true
one (mistakes where real annotators make them). A calibrated model is trained on the noisy labels
(5 folds, out-of-fold probabilities), and each method flags items:

- ``confident_learning``: labelloop.learn.find_label_issues (cleanlab's default, prune by noise rate);
- ``self_confidence_mixture``: find_label_issues with ``filter_by="mixture"``, what a loop round uses:
  two equal-variance Gaussians over the logit of each item's self-confidence, items more likely in
  the low one whose prediction is not the given label;
- ``loss_mixture``: a two-component Gaussian mixture of the out-of-fold losses -log p(given label),
  items more likely in the high-loss component whose prediction is not the given label (the way
  DivideMix separates clean from noisy items, Li, Socher & Hoi, ICLR 2020);
- ``anchor_posterior``: the noise transition matrix from anchor points (per class, the item at the
  97th percentile of its probability; Patrini et al., CVPR 2017), the clean posterior
  p(y | x) = p(noisy | x) T^-1, items whose given label has posterior below 0.5;
- ``oracle_count``: the right number of items (known only here), lowest self-confidence first:
  how good the ranking is, whatever the count.

Prints a table of F1 against the planted flips (items flagged in brackets) and one JSON line;
writes bench/results/label_error_counts.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sklearn.mixture import GaussianMixture  # type: ignore[import-untyped, unused-ignore]
from threadpoolctl import threadpool_limits

from labelloop.learn import EmbeddingClassifier, find_label_issues
from loop import LOADERS, RESULTS, flag_scores, plant_uniform  # bench/loop.py

NOISE = [("uniform", 0.05), ("uniform", 0.2), ("uniform", 0.4), ("pair", 0.2), ("confusion", 0.2)]
METHODS = ["confident_learning", "self_confidence_mixture", "loss_mixture", "anchor_posterior",
           "oracle_count"]


def plant(y: np.ndarray, k: int, kind: str, rate: float, clean_oof: np.ndarray,
          rng: np.random.Generator) -> np.ndarray:
    """The labels with noise of *kind* planted at *rate* (see the module docstring)."""
    n = y.size
    noisy = y.copy()
    if kind == "confusion":
        unsure = 1.0 - clean_oof[np.arange(n), y]
        flip = rng.random(n) < np.clip(unsure / unsure.mean() * rate, 0.0, 0.9)
        other = clean_oof.copy()
        other[np.arange(n), y] = -1.0
        noisy[flip] = other[flip].argmax(axis=1)
        return noisy
    if kind == "uniform":
        return plant_uniform(y, k, rate, rng)
    flip = rng.random(n) < rate
    noisy[flip] = (noisy[flip] + 1) % k
    return noisy


def loss_mixture(noisy: np.ndarray, p: np.ndarray) -> np.ndarray:
    loss = -np.log(np.clip(p[np.arange(noisy.size), noisy], 1e-6, 1.0))[:, None]
    mixture = GaussianMixture(2, random_state=0).fit(loss)
    high = int(np.argmax(mixture.means_.ravel()))
    return np.asarray((mixture.predict_proba(loss)[:, high] > 0.5) & (p.argmax(axis=1) != noisy))


def anchor_posterior(noisy: np.ndarray, p: np.ndarray, percentile: float = 97.0) -> np.ndarray:
    n, k = p.shape
    transition = np.zeros((k, k))
    for c in range(k):
        col = p[:, c]
        above = np.flatnonzero(col >= np.percentile(col, percentile))
        transition[c] = p[above[np.argmin(col[above])]]
    clean = np.clip(p @ np.linalg.pinv(transition), 0.0, None)
    clean /= np.clip(clean.sum(axis=1, keepdims=True), 1e-12, None)
    given = clean[np.arange(n), noisy] * transition[noisy, noisy]
    total = (clean * transition[:, noisy].T).sum(axis=1)
    return np.asarray((given / np.clip(total, 1e-12, None) < 0.5) & (p.argmax(axis=1) != noisy))


def flags(method: str, noisy: np.ndarray, p: np.ndarray, planted: int) -> np.ndarray:
    if method == "loss_mixture":
        return loss_mixture(noisy, p)
    if method == "anchor_posterior":
        return anchor_posterior(noisy, p)
    found = np.zeros(noisy.size, dtype=bool)
    if method == "confident_learning":
        found[find_label_issues(noisy, p)] = True
    elif method == "self_confidence_mixture":
        found[find_label_issues(noisy, p, filter_by="mixture")] = True
    else:  # oracle_count
        found[np.argsort(p[np.arange(noisy.size), noisy], kind="stable")[:planted]] = True
    return found


def run(names: list[str], cache: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with threadpool_limits(1), Progress(console=Console(stderr=True)) as progress:
        for name in names:
            data = LOADERS[name](cache, progress)
            k = len(data.classes)
            task = progress.add_task(f"{name}: noise kinds", total=len(NOISE))
            clean = EmbeddingClassifier(seed=0).fit(data.x, data.y, classes=np.arange(k)).oof_proba_
            assert clean is not None
            for kind, rate in NOISE:
                noisy = plant(data.y, k, kind, rate, clean, np.random.default_rng(7))
                flipped = noisy != data.y
                p = EmbeddingClassifier(seed=0).fit(data.x, noisy, classes=np.arange(k)).oof_proba_
                assert p is not None
                row: dict[str, Any] = {"dataset": name, "noise": kind, "rate": rate,
                                       "planted": int(flipped.sum())}
                for method in METHODS:
                    found = flags(method, noisy, p, int(flipped.sum()))
                    score = flag_scores(found, flipped)["f1"]
                    row[method] = {"f1": round(score, 3), "flagged": int(found.sum())}
                rows.append(row)
                progress.advance(task)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", choices=list(LOADERS), default=list(LOADERS))
    parser.add_argument("--cache", type=Path, default=RESULTS / "cache", help="embedding cache folder")
    args = parser.parse_args()
    start = time.perf_counter()
    rows = run(args.datasets, args.cache)
    table = Table(title="label errors: F1 against the planted flips (items flagged)")
    for column in ["dataset", "noise", "planted", *METHODS]:
        table.add_column(column, justify="left" if column in ("dataset", "noise") else "right")
    for r in rows:
        table.add_row(r["dataset"], f"{r['noise']} {r['rate']:.0%}", f"{r['planted']:,}",
                      *(f"{r[m]['f1']:.3f} ({r[m]['flagged']:,})" for m in METHODS))
    Console(width=160).print(table)
    summary = {"rows": rows, "seconds": round(time.perf_counter() - start, 1)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "label_error_counts.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({"mean_f1": {m: round(float(np.mean([r[m]["f1"] for r in rows])), 3) for m in METHODS},
                      "seconds": summary["seconds"]}))


if __name__ == "__main__":
    main()
