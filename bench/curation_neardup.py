"""Near-duplicate texts (labelloop.curation.text_near): recall and precision on the demo corpus
with planted edits, and the time to find the pairs in a million generated items.

Recall and precision: the demo corpus (Rotten Tomatoes snippets, services/demo.py), its exact
repeats dropped, gets one edited copy of every fifth snippet: a third of the copies with typos (one
character changed, dropped or doubled in one word of ten, at least one), a third with words
reordered (two adjacent words swapped, once per fifteen words, at least once), a third truncated
(the last 15% of the words dropped, at least one). A found pair is right when it is a planted
(original, copy) pair; recall is the share of planted pairs found.

Speed: one million generated items (10 to 40 words drawn with the demo corpus's word
frequencies), 5% of them edited copies of earlier items (the same three edits), timed from the
texts to the verified pairs in this process (the generation of the texts is not timed); wall and
CPU seconds both, since a shared machine's load inflates the wall time.

    .venv/bin/python bench/curation_neardup.py [--million 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from typing import Any

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from labelloop.curation.text_near import near_duplicate_texts

THRESHOLD, SHINGLE = 0.6, 1
EDITS = ("typo", "reorder", "truncate")


def typo(words: list[str], rng: random.Random) -> list[str]:
    out = list(words)
    for _ in range(max(1, len(out) // 10)):
        k = rng.randrange(len(out))
        w = out[k]
        p = rng.randrange(len(w))
        kind = rng.randrange(3)
        out[k] = (w[:p] + rng.choice("abcdefghijklmnopqrstuvwxyz") + w[p + 1:] if kind == 0
                  else w[:p] + w[p + 1:] if kind == 1 and len(w) > 1 else w[:p] + w[p] + w[p:])
    return out


def reorder(words: list[str], rng: random.Random) -> list[str]:
    out = list(words)
    for _ in range(max(1, len(out) // 15)):
        if len(out) < 2:
            break
        k = rng.randrange(len(out) - 1)
        out[k], out[k + 1] = out[k + 1], out[k]
    return out


def truncate(words: list[str], _rng: random.Random) -> list[str]:
    return words[:len(words) - max(1, round(len(words) * 0.15))] or words


def planted_corpus(seed: int = 3, every: int = 5) -> tuple[list[str], dict[tuple[int, int], str]]:
    """(texts, {(original, copy): edit}) from the demo corpus."""
    from labelloop.services.demo import demo_records

    base = list(dict.fromkeys(r["text"] for r in demo_records(20_000) if r["text"].split()))
    rng = random.Random(seed)
    texts = list(base)
    planted: dict[tuple[int, int], str] = {}
    for n, k in enumerate(range(0, len(base), every)):
        edit = EDITS[n % 3]
        words = base[k].split()
        texts.append(" ".join({"typo": typo, "reorder": reorder, "truncate": truncate}[edit](words, rng)))
        planted[(k, len(texts) - 1)] = edit
    return texts, planted


def quality() -> dict[str, Any]:
    texts, planted = planted_corpus()
    t = time.perf_counter()
    found = near_duplicate_texts(texts, threshold=THRESHOLD, shingle=SHINGLE)
    seconds = time.perf_counter() - t
    pairs = found.as_set()
    hit = pairs & set(planted)
    by_edit = {e: sum(1 for p in hit if planted[p] == e) / sum(1 for v in planted.values() if v == e)
               for e in EDITS}
    return {
        "neardup_recall": round(len(hit) / len(planted), 4),
        "neardup_precision": round(len(hit) / len(pairs), 4) if pairs else 0.0,
        "neardup_texts": len(texts), "neardup_planted": len(planted), "neardup_found": len(pairs),
        "neardup_unplanted_pairs": len(pairs - set(planted)),
        **{f"neardup_recall_{e}": round(v, 4) for e, v in by_edit.items()},
        "neardup_corpus_s": round(seconds, 2),
    }


def generated(n: int, seed: int = 11, share: float = 0.05) -> tuple[list[str], int]:
    """`n` texts of 10 to 40 words drawn with the demo corpus's word frequencies, `share` of them
    edited copies of earlier ones; (texts, copies planted)."""
    from collections import Counter

    from labelloop.services.demo import demo_records

    counts = Counter(w for r in demo_records(20_000) for w in r["text"].lower().split())
    vocab = np.array(list(counts))
    freq = np.array(list(counts.values()), dtype=np.float64)
    rng = np.random.default_rng(seed)
    lengths = rng.integers(10, 41, size=n)
    words = vocab[rng.choice(len(vocab), size=int(lengths.sum()), p=freq / freq.sum())]
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    texts = [" ".join(words[s:s + m]) for s, m in zip(starts.tolist(), lengths.tolist(), strict=True)]
    prng = random.Random(seed)
    copies = int(n * share)
    for c in range(copies):
        target = n - 1 - c
        source = prng.randrange(0, n - copies)
        edit = (typo, reorder, truncate)[c % 3]
        texts[target] = " ".join(edit(texts[source].split(), prng))
    return texts, copies


def measure(n_million: int | float = 1_000_000) -> dict[str, Any]:
    """The figures: `n_million` is the number of generated items (a million by default)."""
    out = quality()
    n = int(n_million)
    texts, copies = generated(n)
    load = os.getloadavg()[0]
    t, cpu = time.perf_counter(), time.process_time()
    found = near_duplicate_texts(texts, threshold=THRESHOLD, shingle=SHINGLE)
    key = "neardup_1m" if n == 1_000_000 else f"neardup_{n}"
    out[f"{key}_s"] = round(time.perf_counter() - t, 1)
    out[f"{key}_cpu_s"] = round(time.process_time() - cpu, 1)  # not inflated by a shared machine's load
    planted = set(range(n - copies, n))
    out[f"{key}_pairs"] = len(found)
    out[f"{key}_planted"] = copies
    out[f"{key}_planted_found"] = len({int(j) for j in found.j} & planted)
    out["load_average_1m_before"] = round(load, 2)
    out["neardup_threshold"], out["neardup_shingle_words"] = THRESHOLD, SHINGLE
    out["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    return out


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="generated items for the speed figure")
    args = parser.parse_args()
    result = measure(args.items)
    table = Table(title="near-duplicate texts (MinHash LSH, verified Jaccard)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for k, v in result.items():
        table.add_row(k, str(v))
    Console(stderr=True).print(table)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
