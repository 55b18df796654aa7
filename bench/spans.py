"""Benchmark of span aggregation: entity-level F1 on real crowd NER answers, sensitivity, and speed.

Run with ``python bench/spans.py`` (``bench/feedback.py`` calls :func:`span_quality` too). Prints tables
and, as its last line, one JSON object (also written to bench/results/spans.json):

1. entity-level F1 (exact span and type, the CoNLL scorer's rule) against the CoNLL-2003 gold on
   ../shared/data/media/spans/conll_mturk_val (200 Reuters documents, 1-8 MTurk workers each; Rodrigues
   et al. 2014, as released by Nguyen et al. 2017) of every span aggregator, of one random worker, and
   the annotators' agreement;
2. the same with at most 2 or 3 annotators per document (random subsets);
3. how each setting of the default moves F1, on that set and on a simulated crowd (3 seeds);
4. the seconds to aggregate 5,000 simulated documents of 5 answers each.

The loader for the source's layout (``ground_truth/<doc>.txt``, ``mturk_train_data/<worker>/<doc>.txt``,
one ``token TAG`` a line) is here, not in the library: each document's text is its gold tokens joined
by spaces, one sentence a line, and each worker's tokens are aligned to that text on their non-space
characters (the workers' tokenisation differs from the reference's in most documents, ``Iraqi`` vs
``Iraq i``, and in a few the characters differ too: difflib then aligns them).
"""

from __future__ import annotations

import difflib
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("LABELLOOP_MEDIA_DATA", ROOT.parent / "shared" / "data" / "media"))
CONLL = MEDIA / "spans" / "conll_mturk_val"
RESULTS = ROOT / "bench" / "results" / "spans.json"
SIM_SEEDS = (0, 1, 2)
SIM = {"n_tasks": 1000, "n_workers": 30, "per_task": 5}
SENSITIVITY: dict[str, list[Any]] = {
    "smoothing": [0.0, 0.1, 0.3, 1.0],
    "shrinkage": [0.0, 2.0, 8.0],
    "transition_smoothing": [0.1, 1.0, 10.0],
    "constrained": [True, False],
    "init": ["majority", "dawid_skene"],
    "decode": ["viterbi", "posterior"],
    "worker_model": ["sequential", "confusion"],
}

sys.path.insert(0, str(ROOT / "src"))
from labelloop.quality import (  # noqa: E402
    HMMCrowd,
    TokenDawidSkene,
    TokenMajorityVote,
    bio_to_spans,
    default_span_aggregator,
    pairwise_span_agreement,
    simulate_span_crowd,
    span_f1,
)


def read_conll(path: Path) -> tuple[list[list[str]], list[list[str]]]:
    """Sentences of tokens and of tags from a ``token TAG`` file (blank lines between sentences)."""
    tokens: list[list[str]] = [[]]
    tags: list[list[str]] = [[]]
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if tokens[-1]:
                tokens.append([])
                tags.append([])
            continue
        token, _, tag = line.rpartition(" ")
        tokens[-1].append(token.strip())
        tags[-1].append(tag.strip())
    if not tokens[-1]:
        tokens.pop()
        tags.pop()
    return tokens, tags


def gold_document(path: Path) -> tuple[str, list[list[int | str]]]:
    """The document's text (gold tokens joined by spaces, one sentence a line) and its gold spans."""
    sentences, tags = read_conll(path)
    starts: list[int] = []
    ends: list[int] = []
    at = 0
    for sentence in sentences:
        for token in sentence:
            starts.append(at)
            ends.append(at + len(token))
            at += len(token) + 1
    text = "\n".join(" ".join(sentence) for sentence in sentences)
    return text, bio_to_spans([t for s in tags for t in s], starts, ends)


def _char_map(tokens: list[str], text: str) -> tuple[list[int], np.ndarray]:
    """Start of each token in the worker's non-space characters, and where each of those characters
    lies in *text* (-1 where the alignment found no counterpart)."""
    ours = "".join(tokens)
    starts = list(np.cumsum([0] + [len(t) for t in tokens])[:-1])
    positions = np.array([i for i, ch in enumerate(text) if not ch.isspace()], dtype=np.intp)
    theirs = "".join(text[i] for i in positions)
    where = np.full(len(ours), -1, dtype=np.intp)
    if ours == theirs:
        where[:] = positions
        return starts, where
    matcher = difflib.SequenceMatcher(None, ours, theirs, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            where[i1:i2] = positions[j1:j2]
    return starts, where


def worker_spans(path: Path, text: str) -> list[list[int | str]]:
    """A worker's answer as character spans of *text*, aligned on non-space characters."""
    sentences, tags = read_conll(path)
    pairs = [
        (tok.replace(" ", ""), tag)
        for s, g in zip(sentences, tags, strict=True)
        for tok, tag in zip(s, g, strict=True)
    ]
    pairs = [(tok, tag) for tok, tag in pairs if tok]  # a tag on an empty token marks nothing
    tokens = [tok for tok, _ in pairs]
    starts, where = _char_map(tokens, text)
    lo = [int(s) for s in starts]
    hi = [s + len(t) for s, t in zip(lo, tokens, strict=True)]
    spans = []
    for start, end, label in bio_to_spans([tag for _, tag in pairs], lo, hi):
        mapped = where[int(start) : int(end)]
        mapped = mapped[mapped >= 0]
        if len(mapped):
            spans.append([int(mapped.min()), int(mapped.max()) + 1, label])
    return spans


@cache
def load_conll_mturk(folder: Path = CONLL) -> tuple[pd.DataFrame, pd.Series]:
    """Answers (``task, worker, spans, text``) and the gold spans (Series doc -> span list) of the
    documents someone answered: one of the 200 gold documents (341 entities) has no answer at all, and
    no aggregate can find what nobody was shown."""
    texts: dict[str, str] = {}
    gold: dict[str, list[list[int | str]]] = {}
    for path in sorted((folder / "ground_truth").glob("*.txt")):
        texts[path.stem], gold[path.stem] = gold_document(path)
    rows = []
    for worker_dir in sorted((folder / "mturk_train_data").iterdir()):
        for path in sorted(worker_dir.glob("*.txt")):
            text = texts[path.stem]
            rows.append((path.stem, worker_dir.name, worker_spans(path, text), text))
    answers = pd.DataFrame(rows, columns=["task", "worker", "spans", "text"])
    reference = pd.Series(gold, name="spans", dtype=object).rename_axis("task")
    return answers, reference[reference.index.isin(answers["task"])]


def random_worker(answers: pd.DataFrame, seed: int) -> pd.Series:
    """One answer per task drawn at random."""
    rng = np.random.default_rng(seed)
    picked = answers.assign(r=rng.random(len(answers))).sort_values("r").drop_duplicates("task")
    return picked.set_index("task")["spans"]


def span_quality() -> dict[str, Any]:
    """Entity F1 on conll_mturk_val of the default aggregator, token majority vote and the others."""
    answers, gold = load_conll_mturk()
    start = time.perf_counter()
    default = default_span_aggregator().fit_predict(answers)
    fit_s = time.perf_counter() - start
    methods = {
        "span_f1_conll_val": ("default (HMMCrowd)", default),
        "span_f1_conll_val_mv": ("TokenMajorityVote", TokenMajorityVote().fit_predict(answers)),
        "span_f1_conll_val_ds": ("TokenDawidSkene", TokenDawidSkene().fit_predict(answers)),
        "span_f1_conll_val_hmm_posterior": (
            "HMMCrowd(decode=posterior)",
            HMMCrowd(decode="posterior").fit_predict(answers),
        ),
    }
    out: dict[str, Any] = {}
    print(
        f"\nSpans on conll_mturk_val ({len(gold)} answered documents, {len(answers)} answers, "
        f"{answers['worker'].nunique()} workers): entity F1 against the CoNLL gold"
    )
    print(f"{'method':<30}{'exact F1':>10}{'overlap F1':>12}")
    for key, (name, pred) in methods.items():
        out[key] = span_f1(pred, gold)
        overlap = span_f1(pred, gold, match="overlap")
        print(f"{name:<30}{out[key]:>10.4f}{overlap:>12.4f}")
    draws = [span_f1(random_worker(answers, s), gold) for s in range(10)]
    out["span_f1_conll_val_random_worker"] = float(np.mean(draws))
    print(f"{'one random worker (10 draws)':<30}{out['span_f1_conll_val_random_worker']:>10.4f}")
    out["span_agreement_conll_val_exact"] = pairwise_span_agreement(answers)
    out["span_agreement_conll_val_overlap"] = pairwise_span_agreement(answers, match="overlap")
    print(
        f"annotators' pairwise F1: exact {out['span_agreement_conll_val_exact']:.4f}, "
        f"overlap {out['span_agreement_conll_val_overlap']:.4f}"
    )
    out["span_conll_fit_s"] = fit_s
    return out


def sparse() -> dict[str, Any]:
    """Entity F1 on conll_mturk_val keeping at most k annotators per document (a random subset, mean of
    three draws): most projects ask two or three people, not five."""
    answers, gold = load_conll_mturk()
    methods = {"mv": TokenMajorityVote, "ds": TokenDawidSkene, "default": default_span_aggregator}
    out: dict[str, Any] = {}
    print("\nFewer annotators per document (conll_mturk_val, random subsets, mean of 3 draws)")
    print(f"{'annotators':<12}" + "".join(f"{name:>10}" for name in methods))
    for k in (2, 3):
        scores = {name: [] for name in methods}
        for seed in range(3):
            rng = np.random.default_rng(seed)
            few = answers.assign(r=rng.random(len(answers))).sort_values("r").groupby("task").head(k)
            for name, make in methods.items():
                scores[name].append(span_f1(make().fit_predict(few.drop(columns="r")), gold))
        for name in methods:
            out[f"span_f1_conll_val_{k}_annotators_{name}"] = float(np.mean(scores[name]))
        print(f"{k:<12}" + "".join(f"{np.mean(scores[name]):>10.4f}" for name in methods))
    # The same on the simulated crowd, 3 answers per text instead of 5.
    sims = [simulate_span_crowd(**{**SIM, "per_task": 3}, seed=s) for s in SIM_SEEDS]  # type: ignore[arg-type]
    sim_scores = {
        name: float(np.mean([span_f1(make().fit_predict(a), t) for a, t in sims]))
        for name, make in methods.items()
    }
    for name, value in sim_scores.items():
        out[f"span_f1_simulated_3_annotators_{name}"] = value
    print(f"{'3 (sim.)':<12}" + "".join(f"{sim_scores[name]:>10.4f}" for name in methods))
    return out


def sensitivity() -> dict[str, Any]:
    """Entity F1 when one setting of the default moves, on the real set and on simulated crowds."""
    answers, gold = load_conll_mturk()
    sims = [simulate_span_crowd(**SIM, seed=s) for s in SIM_SEEDS]  # type: ignore[arg-type]
    rows: dict[str, Any] = {}
    print(
        f"\nSensitivity of HMMCrowd, one setting at a time (conll_mturk_val | simulated, "
        f"{SIM['n_tasks']} texts x {SIM['per_task']} of {SIM['n_workers']} workers, "
        f"mean of {len(SIM_SEEDS)} seeds)"
    )
    print(f"{'setting':<32}{'CoNLL F1':>10}{'sim F1':>9}")
    for label, make in [("TokenMajorityVote", TokenMajorityVote), ("TokenDawidSkene", TokenDawidSkene)]:
        sim = float(np.mean([span_f1(make().fit_predict(a), t) for a, t in sims]))
        rows[label] = {"conll": span_f1(make().fit_predict(answers), gold), "simulated": sim}
        print(f"{label:<32}{rows[label]['conll']:>10.4f}{sim:>9.4f}")
    for name, values in SENSITIVITY.items():
        for value in values:
            real = span_f1(HMMCrowd(**{name: value}).fit_predict(answers), gold)
            sim = float(np.mean([span_f1(HMMCrowd(**{name: value}).fit_predict(a), t) for a, t in sims]))
            label = f"{name}={value}"
            rows[label] = {"conll": real, "simulated": sim}
            print(f"{label:<32}{real:>10.4f}{sim:>9.4f}")
    return {"span_sensitivity": rows}


def speed() -> dict[str, Any]:
    """Seconds to aggregate 5,000 simulated documents x 5 answers (best of two, input checks included):
    wall clock, and the process's CPU time, which a busy machine inflates far less."""
    answers, _ = simulate_span_crowd(n_tasks=5000, n_workers=200, per_task=5, words=(100, 400), seed=3)
    n_tokens = int(answers.drop_duplicates("task")["text"].str.split().map(len).sum())
    out: dict[str, Any] = {}
    for name, make in (("default", default_span_aggregator), ("mv", TokenMajorityVote)):
        wall = cpu = float("inf")
        for _ in range(2):
            start, start_cpu = time.perf_counter(), time.process_time()
            make().fit_predict(answers)
            wall = min(wall, time.perf_counter() - start)
            cpu = min(cpu, time.process_time() - start_cpu)
        suffix = "" if name == "default" else "_mv"
        out[f"span_5000_docs{suffix}_s"], out[f"span_5000_docs{suffix}_cpu_s"] = wall, cpu
    print(
        f"\nSpeed: 5,000 documents ({n_tokens:,} words), {len(answers):,} answers: "
        f"default {out['span_5000_docs_s']:.2f} s ({out['span_5000_docs_cpu_s']:.2f} s CPU), "
        f"token majority vote {out['span_5000_docs_mv_s']:.2f} s ({out['span_5000_docs_mv_cpu_s']:.2f} s CPU)"
    )
    return out


MEASUREMENTS: list[Callable[[], dict[str, Any]]] = [span_quality, sparse, sensitivity, speed]


def main() -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    results: dict[str, Any] = {"machine": platform.machine(), "cpus": os.cpu_count(), "load_avg_1m": load}
    for measure in MEASUREMENTS:
        results.update(measure())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
