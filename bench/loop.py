"""The loop benchmark: active learning, auto-labelling and label-error detection on real data.

    .venv/bin/python bench/loop.py [--seeds 5] [--quick] [--cache DIR] [--finetune SECONDS]

Three datasets that ship offline: Rotten Tomatoes snippets (fresh / rotten / plot), the same file as
a subjectivity task (plot summaries vs as many review snippets, like Pang & Lee's SUBJ), both with
all-MiniLM-L6-v2 int8 ONNX embeddings cached by content hash, and scikit-learn's 8x8 digits
(hand-made image features). A simulated crowd labels what a strategy asks for: each simulated annotator is
one real worker of D_PosSent (../shared/data/crowd/zheng_d_possent), whose accuracy on each gold
class was measured there (smoothed, (right + 1) / (n + 2)); on a K-class item of true class k the
annotator is right with their accuracy on binary class k mod 2 and otherwise picks one of the K - 1
wrong classes at random. Three annotators per item; Dawid-Skene (labelloop.quality) turns the
answers so far into consensus labels, and its posterior is the training weight.

Per dataset and seed (a fresh 70/30 pool/test split each):
1. Full-data accuracy: the model trained on the whole pool as the crowd labels it.
2. Learning curves: random, least confidence, margin, entropy, diversity and hybrid, retraining after
   each batch. Random starts from a random first batch, the others from the cold-start batch.
   "Labels to 95%" is where the mean curve over seeds first reaches 95% of the mean full-data
   accuracy (linear interpolation between budgets).
3. Auto-labelling at a 95% target (alpha 0.05): at the budget where the best strategy reaches 95% of
   full-data accuracy and at the last budget, with that strategy's labelled items as training data
   and a random sample of other pool items with expert (gold) labels as validation; realised accuracy
   (against the true labels) and coverage of the remaining pool.
4. Label errors: 20% of the true labels of the whole dataset flipped to another class at random;
   out-of-fold probabilities (5 folds, calibrated); the items a round flags (find_label_issues with
   filter_by="mixture"); precision, recall, F1 against the planted flips. Beside them confident
   learning's F1 (cleanlab's default) and its Jaccard overlap with cleanlab's find_label_issues on
   the same inputs.

The text datasets' model is the loop's text model: MiniLM embeddings with n-gram TF-IDF stacked
beside them (labelloop.learn.text.ngrams; --features embeddings for the embeddings alone); with
--finetune SECONDS the full-data, auto-label and label-error models are a round's with finetune on
(labelloop.learn.text.tuned), and the learning curves keep the frozen model. The
headline keys take the worst dataset, every dataset included; each dataset's figures are in the
table and the *_by_dataset keys. 5. Round time (bench/loop_round.py, --round-items): the learning
steps of one round on 10,000 Rotten Tomatoes texts.

Prints a table, writes docs/bench/loop_*.png and bench/results/loop.json, and prints one JSON object
as the last line. Nothing is asserted on time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from threadpoolctl import threadpool_limits

from labelloop.learn import (
    EmbeddingCache,
    EmbeddingClassifier,
    autolabel,
    choose_threshold,
    embed,
    find_label_issues,
    get_encoder,
    rank_items,
)
from labelloop.learn.data import digits, rotten_tomatoes, rotten_tomatoes_subjectivity
from labelloop.learn.text.ngrams import NgramFeatures, stack_features
from labelloop.quality import DawidSkene

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
FIGURES = ROOT / "docs" / "bench"
CROWD = Path(os.environ.get("LABELLOOP_CROWD_DATA", ROOT.parent / "shared" / "data" / "crowd"))
STRATEGIES = ["random", "least_confidence", "margin", "entropy", "diversity", "hybrid"]
ANNOTATORS_PER_ITEM = 3
RESPLITS = 100  # random validation samples per auto-label run, to estimate how often the bound fails
TARGET_ACC = 0.95
console = Console(stderr=True)  # progress bars
report_console = Console(width=max(Console().width, 120))  # the table, on stdout before the JSON line


# --- data and the simulated crowd -------------------------------------------------------------------


@dataclass
class Dataset:
    name: str
    x: Any  # (n, d) what the model sees: embeddings, or (text, --features stacked) CSR embeddings + n-grams
    emb: np.ndarray  # (n, d) float32 embeddings, what the strategies' k-means / k-center look at
    y: np.ndarray  # (n,) int class indices
    classes: list[str]
    budgets: list[int]  # learning-curve points (labels bought), for every strategy
    random_extra: list[int]  # further points for random sampling only (it may need many more labels)
    n_validation: int  # gold items for the auto-label threshold
    texts: list[str] | None = None  # a text dataset's texts (what a fine-tuned encoder reads)


FEATURES = "stacked"  # --features: "stacked" (embeddings + n-gram TF-IDF, the round's model) or "embeddings"
# --finetune SECONDS: the text datasets' full-data, auto-label and label-error models are the round's
# model with fine-tuning on (labelloop.learn.text.tuned); the learning curves keep the frozen model.
FINETUNE: float | None = None


def _text_dataset(
    name: str, title: str, texts: list[str], labels: np.ndarray, cache_dir: Path, progress: Progress,
    budgets: list[int], random_extra: list[int], n_validation: int,
) -> Dataset:
    """MiniLM embeddings of *texts* (cached by content hash), with n-grams stacked beside them as the
    loop's text model does (vocabulary and idf from all the texts, as a round learns them from all
    of a project's items: no label involved), and their class indices."""
    classes = sorted(set(labels.tolist()))
    task = progress.add_task(f"embed {title} (MiniLM)", total=len(texts))
    with EmbeddingCache(cache_dir) as cache:
        emb = embed(get_encoder("minilm"), texts, cache=cache, batch_size=32,
                    progress=lambda done, total: progress.update(task, completed=done, total=total))
    x: Any = emb
    if FEATURES == "stacked":
        x = stack_features(emb, NgramFeatures().fit(texts).transform(texts))
    return Dataset(name, x, emb, np.searchsorted(classes, labels), classes, budgets, random_extra,
                   n_validation, texts)


def load_text(cache_dir: Path, progress: Progress) -> Dataset:
    budgets = [30, 60, 100, 150, 200, 300, 400, 500, 650, 800, 1000, 1250, 1500, 2000, 2500, 3000]
    return _text_dataset("rotten_tomatoes", "Rotten Tomatoes", *rotten_tomatoes(), cache_dir, progress,
                         budgets, [4000, 5000, 6500, 8000], 1000)


def load_subjectivity(cache_dir: Path, progress: Progress) -> Dataset:
    budgets = [10, 20, 30, 40, 50, 60, 80, 100, 150, 200, 300, 400, 600]
    return _text_dataset("rt_subjectivity", "Rotten Tomatoes subjectivity", *rotten_tomatoes_subjectivity(),
                         cache_dir, progress, budgets, [800, 1000, 1200], 300)


def load_images(cache_dir: Path, progress: Progress) -> Dataset:
    images, target = digits()
    task = progress.add_task("image features (digits)", total=len(images))
    with EmbeddingCache(cache_dir) as cache:
        x = embed(get_encoder("image-features"), list(images), cache=cache, batch_size=256,
                  progress=lambda done, total: progress.update(task, completed=done, total=total))
    budgets = [20, 30, 40, 50, 60, 70, 80, 100, 120, 150, 200, 250, 300, 400]
    classes = [str(d) for d in range(10)]
    return Dataset("digits", x, x, target.astype(int), classes, budgets, [600, 800, 1000], 300)


LOADERS: dict[str, Callable[[Path, Progress], Dataset]] = {
    "rotten_tomatoes": load_text, "rt_subjectivity": load_subjectivity, "digits": load_images,
}


def worker_accuracies(folder: Path) -> np.ndarray:
    """Per real worker, smoothed accuracy on gold class 0 and on gold class 1: shape (workers, 2)."""
    answers = pd.read_csv(folder / "labels.csv")
    gold = pd.read_csv(folder / "gold.csv").set_index("task")["label"]
    answers["truth"] = answers["task"].map(gold)
    answers = answers.dropna(subset=["truth"])
    answers["right"] = (answers["label"] == answers["truth"]).astype(int)
    n = answers.pivot_table(index="worker", columns="truth", values="right", aggfunc="count", fill_value=0)
    right = answers.pivot_table(index="worker", columns="truth", values="right", aggfunc="sum", fill_value=0)
    return np.asarray((right + 1) / (n + 2), dtype=np.float64)


@dataclass
class Crowd:
    """Simulated annotators with real workers' per-class accuracies; answers accumulate across rounds."""

    accuracy: np.ndarray  # (workers, 2)
    n_classes: int
    rng: np.random.Generator
    tasks: list[int] = field(default_factory=list)
    workers: list[int] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    def ask(self, items: np.ndarray, truth: np.ndarray) -> None:
        k = self.n_classes
        for item in items.tolist():
            who = self.rng.choice(len(self.accuracy), size=ANNOTATORS_PER_ITEM, replace=False)
            true = int(truth[item])
            for w in who.tolist():
                if self.rng.random() < self.accuracy[w, true % 2]:
                    answer = true
                else:
                    answer = (true + int(self.rng.integers(1, k))) % k
                self.tasks.append(item)
                self.workers.append(w)
                self.answers.append(answer)

    def consensus(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Items answered so far, their Dawid-Skene label and its posterior probability."""
        frame = pd.DataFrame({"task": self.tasks, "worker": self.workers, "label": self.answers})
        model = DawidSkene().fit(frame)
        items = model.labels_.index.to_numpy(dtype=int)
        return items, model.labels_.to_numpy(dtype=int), model.probas_.max(axis=1).to_numpy()


# --- one dataset, one seed -----------------------------------------------------------------------------


def train(x: Any, items: np.ndarray, labels: np.ndarray, weights: np.ndarray, k: int,
          *, calibrate: bool = False, seed: int = 0) -> EmbeddingClassifier:
    return EmbeddingClassifier(calibrate=calibrate, seed=seed).fit(
        x[items], labels, sample_weight=weights, classes=np.arange(k)
    )


class RoundModel:
    """The model a round would train on these labels: the frozen classifier on ``data.x``, or with
    --finetune (and a text dataset) MiniLM fine-tuned on half the labels and the classifier on the
    rest (TunedTextClassifier, as a round with ``finetune`` on trains it). ``proba(rows)`` predicts
    dataset rows; ``oof`` is the labelled items' out-of-fold probabilities; ``tuned_steps`` the
    fine-tuning steps (0 when a round would fall back to the frozen model, None without --finetune)."""

    def __init__(self, data: Dataset, items: np.ndarray, labels: np.ndarray, weights: np.ndarray | None,
                 *, seed: int) -> None:
        self.data = data
        k = len(data.classes)
        self.tuned_steps: int | None = None
        if FINETUNE is None or data.texts is None:
            w = np.ones(items.size) if weights is None else weights
            self.model: Any = train(data.x, items, labels, w, k, calibrate=True, seed=seed)
        else:
            from labelloop.learn.text.tuned import TunedTextClassifier

            tuned = TunedTextClassifier(seconds=FINETUNE, seed=seed, finetune_options={"threads": 1})
            self.model = tuned.fit([data.texts[i] for i in items], data.emb[items], labels,
                                   sample_weight=weights, classes=np.arange(k), corpus=data.texts)
            self.tuned_steps = 0 if tuned.report_ is None else tuned.report_.steps
        self.oof: np.ndarray | None = self.model.oof_proba_

    def proba(self, rows: np.ndarray) -> np.ndarray:
        if self.tuned_steps is None:
            return np.asarray(self.model.predict_proba(self.data.x[rows]))
        assert self.data.texts is not None
        return np.asarray(self.model.predict_proba([self.data.texts[i] for i in rows], self.data.emb[rows]))


def learning_curve(data: Dataset, pool: np.ndarray, test: np.ndarray, strategy: str, accuracy: np.ndarray,
                   seed: int, budgets: Sequence[int], keep_at: Callable[[int], bool] | None = None
                   ) -> tuple[list[float], dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """Test accuracy after each budget; and, where keep_at(budget), the labelled items and their consensus."""
    k = len(data.classes)
    crowd = Crowd(accuracy, k, np.random.default_rng(10_000 + seed))
    x_pool, emb_pool = data.x[pool], data.emb[pool]
    labelled = np.zeros(pool.size, dtype=bool)
    curve: list[float] = []
    kept: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    model: EmbeddingClassifier | None = None
    for budget in budgets:
        need = budget - int(labelled.sum())
        if need > 0:
            if model is None:
                first = "random" if strategy == "random" else "cold_start"
                order = rank_items(first, embeddings=emb_pool, labelled=labelled, batch_size=need, seed=seed)
            else:
                proba = model.predict_proba(x_pool)
                order = rank_items(strategy, proba=proba, embeddings=emb_pool, labelled=labelled,
                                   batch_size=need, seed=seed + budget)
            picked = order[:need]
            labelled[picked] = True
            crowd.ask(pool[picked], data.y)
        items, labels, weights = crowd.consensus()
        rows = np.searchsorted(pool, items)  # pool is sorted
        if np.unique(labels).size < 2:
            curve.append(float("nan"))
            continue
        model = train(data.x, pool[rows], labels, weights, k, seed=seed)
        curve.append(float((model.predict_proba(data.x[test]).argmax(axis=1) == data.y[test]).mean()))
        if keep_at is not None and keep_at(budget):
            kept[budget] = (pool[rows], labels, weights)
    return curve, kept


def full_data_accuracy(data: Dataset, pool: np.ndarray, test: np.ndarray, accuracy: np.ndarray,
                       seed: int) -> tuple[float, float]:
    """Test accuracy of the model trained on the whole pool as the crowd labels it (C chosen on the
    folds and calibrated, as a round trains it); the crowd's accuracy."""
    crowd = Crowd(accuracy, len(data.classes), np.random.default_rng(20_000 + seed))
    crowd.ask(pool, data.y)
    items, labels, weights = crowd.consensus()
    model = RoundModel(data, items, labels, weights, seed=seed)
    acc = float((model.proba(test).argmax(axis=1) == data.y[test]).mean())
    return acc, float((labels == data.y[items]).mean())


def autolabel_run(data: Dataset, pool: np.ndarray, labelled: tuple[np.ndarray, np.ndarray, np.ndarray],
                  seed: int) -> dict[str, float]:
    """Train on the labelled items, choose the threshold on gold validation items, auto-label the rest."""
    items, labels, weights = labelled
    rng = np.random.default_rng(30_000 + seed)
    rest = np.setdiff1d(pool, items)
    validation = rng.choice(rest, size=min(data.n_validation, rest.size // 2), replace=False)
    remaining = np.setdiff1d(rest, validation)
    model = RoundModel(data, items, labels, weights, seed=seed)
    rest_proba = model.proba(rest)  # validation + remaining, predicted once
    pool_proba = rest_proba[np.searchsorted(rest, remaining)]
    out = autolabel(
        pool_proba, rest_proba[np.searchsorted(rest, validation)], data.y[validation],
        target=TARGET_ACC, alpha=0.05, train_counts=model.model.class_counts_,
    )
    right = out.labels == data.y[remaining[out.indices]]
    realised = float(right.mean()) if right.size else float("nan")
    # The most an oracle could cover: the largest top-confidence share of the pool that is 95% right.
    order = np.argsort(-pool_proba.max(axis=1), kind="stable")
    hits = (pool_proba.argmax(axis=1) == data.y[remaining])[order]
    running = np.cumsum(hits) / np.arange(1, hits.size + 1)
    good = np.flatnonzero(running >= TARGET_ACC)
    oracle = float(good.max() + 1) / hits.size if good.size else 0.0
    # The same model with RESPLITS other random validation samples: how often is the realised accuracy
    # of what gets auto-labelled below the target? (The guarantee says: at most alpha = 5% of the time.)
    misses = runs = 0
    for r in range(RESPLITS):
        pick = np.zeros(rest.size, dtype=bool)
        draw = np.random.default_rng(50_000 + 1000 * seed + r)
        pick[draw.choice(rest.size, validation.size, replace=False)] = True
        again = autolabel(rest_proba[~pick], rest_proba[pick], data.y[rest[pick]],
                          target=TARGET_ACC, alpha=0.05, train_counts=model.model.class_counts_)
        if again.indices.size:
            runs += 1
            misses += float((again.labels == data.y[rest[~pick][again.indices]]).mean()) < TARGET_ACC
    return {"coverage": out.coverage, "accuracy": realised, "bound": out.policy.lower_bound,
            "threshold": out.policy.threshold or float("nan"), "labels": float(items.size),
            "validation": float(validation.size), "oracle_coverage": oracle,
            "resplit_violations": float(misses), "resplit_runs": float(runs),
            "tuned_steps": float("nan") if model.tuned_steps is None else float(model.tuned_steps)}


def plant_uniform(y: np.ndarray, k: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    """*y* with a share *rate* of the labels flipped at random to one of the other k - 1 classes."""
    noisy = y.copy()
    flip = rng.random(y.size) < rate
    noisy[flip] = (noisy[flip] + rng.integers(1, k, size=int(flip.sum()))) % k
    return noisy


def flag_scores(found: np.ndarray, flipped: np.ndarray) -> dict[str, float]:
    """Precision, recall and F1 of the flagged items (mask *found*) against the planted flips."""
    hits = int((found & flipped).sum())
    precision, recall = hits / max(int(found.sum()), 1), hits / max(int(flipped.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def label_error_run(data: Dataset, seed: int) -> dict[str, float]:
    """Plant 20% uniform label noise in the whole dataset; out-of-fold probabilities; the items a round
    flags (the mixture of self-confidences) and, beside them, confident learning's."""
    noisy = plant_uniform(data.y, len(data.classes), 0.2, np.random.default_rng(40_000 + seed))
    flipped = noisy != data.y
    model = RoundModel(data, np.arange(noisy.size), noisy, None, seed=seed)
    assert model.oof is not None
    result: dict[str, float] = {"planted": float(flipped.sum())}
    for prefix, filter_by in (("", "mixture"), ("cl_", "prune_by_noise_rate")):
        found = np.zeros(noisy.size, dtype=bool)
        found[find_label_issues(noisy, model.oof, filter_by=filter_by)] = True
        result.update({prefix + k: v for k, v in flag_scores(found, flipped).items()})
        result[prefix + "flagged"] = float(found.sum())
    try:
        from cleanlab.filter import find_label_issues as cleanlab_issues  # a test-only dependency
    except ImportError:
        return result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = set(np.asarray(cleanlab_issues(noisy, model.oof, n_jobs=1)).nonzero()[0].tolist())
    ours = set(find_label_issues(noisy, model.oof).tolist())
    result["jaccard_cleanlab"] = len(ours & theirs) / max(len(ours | theirs), 1)
    return result


# --- summaries -----------------------------------------------------------------------------------


def labels_to_reach(budgets: Sequence[int], curve: np.ndarray, target: float) -> float:
    """First budget where the curve reaches target, linearly interpolated; inf if never."""
    for i, (b, acc) in enumerate(zip(budgets, curve, strict=True)):
        if acc >= target:
            if i == 0:
                return float(b)
            b0, a0 = budgets[i - 1], curve[i - 1]
            return float(b0 + (b - b0) * (target - a0) / (acc - a0))
    return float("inf")


def plot(data: Dataset, budgets: dict[str, list[int]], curves: dict[str, np.ndarray], full: float,
         path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.6), dpi=110)
    for name, runs in curves.items():
        mean, std = np.nanmean(runs, axis=0), np.nanstd(runs, axis=0)
        b = budgets[name]
        style = {"color": "black", "linewidth": 2.2} if name == "random" else {"linewidth": 1.4}
        ax.plot(b, mean, label=name.replace("_", " "), **style)
        ax.fill_between(b, mean - std, mean + std, alpha=0.12, color=ax.lines[-1].get_color())
    ax.axhline(full, color="grey", linestyle=":", label=f"full data ({full:.3f})")
    ax.axhline(0.95 * full, color="grey", linestyle="--", label="95% of full data")
    ax.set_xscale("log")
    ax.set_xlabel("labels bought (3 crowd answers each, Dawid-Skene consensus)")
    ax.set_ylabel("test accuracy (true labels)")
    ax.set_title(f"{data.name}: learning curves, mean ± sd over {next(iter(curves.values())).shape[0]} seeds")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def run_dataset(data: Dataset, accuracy: np.ndarray, seeds: int, progress: Progress) -> dict[str, Any]:
    n = data.y.size
    curves: dict[str, list[list[float]]] = {s: [] for s in STRATEGIES}
    fulls, crowd_acc, splits = [], [], []
    budgets = {s: list(data.budgets) + (data.random_extra if s == "random" else []) for s in STRATEGIES}
    task = progress.add_task(f"{data.name}: curves", total=seeds * len(STRATEGIES))
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        perm = rng.permutation(n)
        test, pool = np.sort(perm[: int(0.3 * n)]), np.sort(perm[int(0.3 * n):])
        splits.append((pool, test))
        full, cacc = full_data_accuracy(data, pool, test, accuracy, seed)
        fulls.append(full)
        crowd_acc.append(cacc)
        for strategy in STRATEGIES:
            curve, _ = learning_curve(data, pool, test, strategy, accuracy, seed, budgets[strategy])
            curves[strategy].append(curve)
            progress.advance(task)
    arrays = {s: np.array(c) for s, c in curves.items()}
    full = float(np.mean(fulls))
    target = 0.95 * full
    reach = {s: labels_to_reach(budgets[s], np.nanmean(arrays[s], axis=0), target) for s in STRATEGIES}
    best = min((s for s in STRATEGIES if s != "random"), key=lambda s: reach[s])
    plot(data, budgets, arrays, full, FIGURES / f"loop_{data.name}.png")

    # Auto-labelling with the best strategy's labels: where it reaches the target, and at the last budget.
    reached_budget = next((b for b, a in zip(data.budgets, np.nanmean(arrays[best], axis=0), strict=True)
                           if a >= target), data.budgets[-1])
    checkpoints = sorted({reached_budget, data.budgets[-1]})
    auto: dict[int, list[dict[str, float]]] = {b: [] for b in checkpoints}
    task = progress.add_task(f"{data.name}: auto-label, label errors", total=seeds)
    errors = []
    for seed in range(seeds):
        pool, test = splits[seed]
        _, kept = learning_curve(data, pool, test, best, accuracy, seed, data.budgets,
                                 keep_at=lambda b: b in auto)
        for b in checkpoints:
            auto[b].append(autolabel_run(data, pool, kept[b], seed))
        errors.append(label_error_run(data, seed))
        progress.advance(task)
    first_batch = {s: float(np.nanmean(arrays[s][:, 0])) for s in ("random", "least_confidence")}
    return {
        "name": data.name, "n": n, "classes": len(data.classes), "full_accuracy": full,
        "full_accuracy_sd": float(np.std(fulls)), "crowd_accuracy": float(np.mean(crowd_acc)),
        "target_accuracy": target, "labels_to_95": reach, "best": best,
        "efficiency": reach["random"] / reach[best] if np.isfinite(reach[best]) else float("nan"),
        "first_batch": {"size": data.budgets[0], "random": first_batch["random"],
                        "cold_start": first_batch["least_confidence"]},
        "curves": {s: {"budgets": budgets[s], "mean": np.nanmean(arrays[s], axis=0).round(4).tolist()}
                   for s in STRATEGIES},
        "autolabel": {b: {key: [r[key] for r in runs] for key in runs[0]} for b, runs in auto.items()},
        "label_errors": {key: [e.get(key, float("nan")) for e in errors] for key in errors[0]},
    }


def _just_below_target(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Binary predictions whose accuracy is 0.945 at every confidence: any threshold picked violates 0.95."""
    c = 0.5 + 0.5 * rng.beta(6, 1, size=n)
    pred = rng.integers(0, 2, n)
    right = rng.random(n) < 0.945
    proba = np.where(pred[:, None] == np.arange(2), c[:, None], 1 - c[:, None])
    return proba, np.where(right, pred, 1 - pred)


def simulated_violation_rate(seeds: int = 2000) -> float:
    """Share of seeds where a threshold is picked although no threshold reaches 0.95 (the worst case)."""
    violations = 0
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        proba, labels = _just_below_target(rng, 600)
        pool, _ = _just_below_target(rng, 2000)
        violations += choose_threshold(proba, labels, pool_proba=pool, min_per_class=0).threshold is not None
    return violations / seeds


# --- report --------------------------------------------------------------------------------------


def fmt_labels(v: float) -> str:
    return "not reached" if not np.isfinite(v) else f"{v:,.0f}"


def nan_stat(fn: Callable[..., Any], values: Sequence[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(fn(finite)) if finite else float("nan")


def finite_or_none(value: float) -> float | None:
    return round(value, 4) if np.isfinite(value) else None


def report(results: list[dict[str, Any]], violation: float, seeds: int, seconds: float,
           round_time: dict[str, Any] | None) -> dict[str, Any]:
    table = Table(title=f"labelloop.learn loop benchmark ({seeds} seeds)")
    table.add_column("measure")
    for r in results:
        table.add_column(r["name"], justify="right")
    table.add_column("target", justify="right")

    def row(label: str, values: list[str], target: str = "") -> None:
        table.add_row(label, *values, target)

    def each(fn: Callable[[dict[str, Any]], str]) -> list[str]:
        return [fn(r) for r in results]

    def f1(r: dict[str, Any], key: str) -> str:  # a label-error measure's mean over seeds; counts whole
        v = nan_stat(np.mean, r["label_errors"].get(key, []))
        return f"{v:,.0f}" if key in ("flagged", "cl_flagged", "planted") else f"{v:.3f}"

    row("items / classes", each(lambda r: f"{r['n']:,} / {r['classes']}"))
    row("crowd consensus accuracy (3 answers, Dawid-Skene)", each(lambda r: f"{r['crowd_accuracy']:.3f}"))
    row("full-data test accuracy", each(lambda r: f"{r['full_accuracy']:.3f} ± {r['full_accuracy_sd']:.3f}"))
    row("95% of it", each(lambda r: f"{r['target_accuracy']:.3f}"))
    for s in STRATEGIES:
        row(f"labels to 95%: {s}", each(lambda r, s=s: fmt_labels(r["labels_to_95"][s])))
    row("label efficiency vs random (best strategy)",
        each(lambda r: f"{r['efficiency']:.2f}x ({r['best']})"), ">= 2x")
    row("first batch accuracy: random / cold start",
        each(lambda r: "{random:.3f} / {cold_start:.3f} (n={size})".format(**r["first_batch"])))
    for r in results:
        for b, a in r["autolabel"].items():
            acc = f"{nan_stat(np.min, a['accuracy']):.3f} / {nan_stat(np.mean, a['accuracy']):.3f}"
            cov = (f"{min(a['coverage']):.2f} / {np.mean(a['coverage']):.2f} "
                   f"(oracle {np.mean(a['oracle_coverage']):.2f})")
            blank = [""] * len(results)
            here = results.index(r)
            row(f"{r['name']}, auto-label at {b} labels: realised accuracy min / mean",
                [acc if i == here else x for i, x in enumerate(blank)], ">= 0.95")
            row(f"{r['name']}, auto-label at {b} labels: coverage min / mean",
                [cov if i == here else x for i, x in enumerate(blank)], ">= 0.50")
            miss = f"{sum(a['resplit_violations']):.0f} of {RESPLITS * len(a['resplit_runs'])}"
            row(f"{r['name']}, auto-label at {b} labels: below target over {RESPLITS} validation resamples",
                [miss if i == here else x for i, x in enumerate(blank)], "<= 5%")
    row("label errors (20% planted): precision", each(lambda r: f1(r, "precision")))
    row("label errors: recall", each(lambda r: f1(r, "recall")))
    row("label errors: F1", each(lambda r: f1(r, "f1")), ">= 0.75")
    row("label errors: flagged / planted", each(lambda r: f"{f1(r, 'flagged')} / {f1(r, 'planted')}"))
    row("label errors, confident learning: F1 (flagged)",
        each(lambda r: f"{f1(r, 'cl_f1')} ({f1(r, 'cl_flagged')})"))
    row("confident learning: Jaccard with cleanlab", each(lambda r: f1(r, "jaccard_cleanlab")), "1.000")
    row("simulated threshold violations (accuracy 0.945 everywhere, 2,000 seeds)",
        [f"{violation:.3f}"] + [""] * (len(results) - 1), "<= 0.05")
    report_console.print(table)

    # The headline keys are the worst dataset's, every dataset judged; each one's in *_by_dataset.
    judged = results
    efficiency = {r["name"]: round(r["efficiency"], 3) for r in results}
    last = {r["name"]: r["autolabel"][max(r["autolabel"])] for r in results}
    first = {r["name"]: r["autolabel"][min(r["autolabel"])] for r in results}
    # None where nothing was auto-labelled (the last line must stay strict JSON: no NaN).
    realised = {r["name"]: [v for a in r["autolabel"].values() for v in a["accuracy"]] for r in results}
    min_accuracy = {k: finite_or_none(nan_stat(np.min, v)) for k, v in realised.items()}
    f1s = {r["name"]: round(float(np.mean(r["label_errors"]["f1"])), 3) for r in results}
    names = [r["name"] for r in judged]
    return {
        "label_efficiency_vs_random": min(efficiency.values()),
        "label_efficiency_by_dataset": efficiency,
        "autolabel_min_accuracy": min((v for n in names if (v := min_accuracy[n]) is not None), default=None),
        "autolabel_min_accuracy_by_dataset": min_accuracy,
        "autolabel_coverage": round(float(min(np.mean(last[n]["coverage"]) for n in names)), 3),
        "autolabel_coverage_by_dataset": {k: round(float(np.mean(a["coverage"])), 3)
                                          for k, a in last.items()},
        "autolabel_coverage_at_95pct_budget": {k: round(float(np.mean(a["coverage"])), 3)
                                               for k, a in first.items()},
        "label_error_f1": min(f1s[n] for n in names),
        "label_error_f1_by_dataset": f1s,
        "judged_on": names,
        "features": FEATURES,
        "finetune_seconds": FINETUNE,
        "full_data_accuracy": round(min(r["full_accuracy"] for r in results), 3),
        "full_data_accuracy_by_dataset": {r["name"]: round(r["full_accuracy"], 3) for r in results},
        **({} if round_time is None else {
            "round_seconds": round_time["seconds"], "round_items": round_time["items"],
            "round_detail": round_time}),
        "autolabel_simulated_violation_rate": round(violation, 4),
        "autolabel_resample_violation_rate": round(max(
            sum(a["resplit_violations"]) / (RESPLITS * len(a["resplit_violations"]))
            for r in results for a in r["autolabel"].values()), 4),
        "seeds": seeds,
        "seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 seeds, digits only")
    parser.add_argument("--datasets", nargs="+", choices=list(LOADERS), default=list(LOADERS))
    parser.add_argument("--cache", type=Path, default=RESULTS / "cache", help="embedding cache folder")
    parser.add_argument("--features", choices=["stacked", "embeddings"], default="stacked",
                        help="the text model: embeddings + n-grams (the loop's), or embeddings alone")
    parser.add_argument("--finetune", type=float, default=None, metavar="SECONDS",
                        help="text datasets: full-data, auto-label and label-error models fine-tune MiniLM "
                        "for up to this long, as a round with finetune on (the finetune extra); the "
                        "learning curves keep the frozen model")
    parser.add_argument("--round-items", type=int, default=10_000,
                        help="texts in the timed round (0: skip; it embeds them afresh, minutes)")
    args = parser.parse_args()
    global FEATURES, FINETUNE
    FEATURES = args.features
    FINETUNE = args.finetune
    seeds = 2 if args.quick else args.seeds
    start = time.perf_counter()
    accuracy = worker_accuracies(CROWD / "zheng_d_possent")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    # One BLAS/OpenMP thread: on a small shared machine, more threads mostly wait for each other.
    with threadpool_limits(1), Progress(*columns, console=console) as progress:
        names = ["digits"] if args.quick else args.datasets
        datasets = [LOADERS[name](args.cache, progress) for name in names]
        results = [run_dataset(d, accuracy, seeds, progress) for d in datasets]
        violation = simulated_violation_rate()
        round_time = None
        if args.round_items and not args.quick:
            from loop_round import time_round  # bench/loop_round.py

            round_time = time_round(args.round_items, cache=args.cache, progress=progress)
    summary = report(results, violation, seeds, time.perf_counter() - start, round_time)
    RESULTS.mkdir(parents=True, exist_ok=True)
    detail = {"summary": summary, "datasets": results}
    (RESULTS / "loop.json").write_text(json.dumps(detail, indent=1, default=float))
    report_console.file.flush()
    sys.stdout.write(json.dumps(summary) + "\n")


if __name__ == "__main__":
    main()
