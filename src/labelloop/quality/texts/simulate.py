"""A simulated transcription crowd with known truth: workers of differing word error rates, and spammers.

Each clip's truth is a sentence of ``n_words`` (Poisson) words drawn from a Zipf-like vocabulary. Each
worker has a word error rate drawn from ``Beta`` around ``mean_error``; a word is deleted, substituted
(by a frequent word, as ears confuse short words) or followed by an inserted word with that rate split
``deletion : substitution : insertion = 2 : 2 : 1`` (crowd transcribers drop words more often than they
add them). Spammers (``spammer_share`` of workers) type unrelated sentences. Workers write with random
case and punctuation, so aggregators must normalise. Returns ``(answers, truth)``: a long frame
``task, worker, text`` and a Series task -> true text (lower case).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def simulate_text_crowd(
    *,
    n_tasks: int = 1000,
    n_workers: int = 100,
    per_task: int = 7,
    n_words: float = 15.0,
    vocabulary: int = 5000,
    mean_error: float = 0.15,
    spammer_share: float = 0.05,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.Series]:
    """Simulate a crowd (see the module docstring); ids are strings ``t00001``, ``w0001``."""
    if per_task > n_workers:
        raise ValueError("per_task must be <= n_workers")
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{k}" for k in range(vocabulary)], dtype=object)
    zipf = 1.0 / np.arange(1, vocabulary + 1)
    zipf /= zipf.sum()
    conc = 20.0
    error = rng.beta(mean_error * conc, (1 - mean_error) * conc, size=n_workers)
    spammer = rng.random(n_workers) < spammer_share
    # workers' activity is skewed, as on real platforms: a few do many clips, many do few
    activity = rng.pareto(1.5, size=n_workers) + 0.1
    truths, rows = [], []
    for t in range(n_tasks):
        length = max(1, int(rng.poisson(n_words)))
        truth = vocab[rng.choice(vocabulary, size=length, p=zipf)]
        truths.append(" ".join(truth))
        p = activity / activity.sum()
        workers = rng.choice(n_workers, size=per_task, replace=False, p=p)
        for w in workers:
            if spammer[w]:
                words = list(vocab[rng.choice(vocabulary, size=length, p=zipf)])
            else:
                words = []
                for word in truth:
                    u = rng.random()
                    e = error[w]
                    if u < 0.4 * e:
                        continue
                    words.append(vocab[rng.choice(50)] if u < 0.8 * e else word)
                    if u > 1 - 0.2 * e:
                        words.append(vocab[rng.choice(vocabulary, p=zipf)])
            text = " ".join(words)
            if rng.random() < 0.5:
                text = text.capitalize() + "."
            rows.append((f"t{t:05d}", f"w{w:04d}", text))
    answers = pd.DataFrame(rows, columns=["task", "worker", "text"])
    return answers, pd.Series(truths, index=[f"t{t:05d}" for t in range(n_tasks)], name="text", dtype=object)
