"""Agreement between annotators per clip: the word error rate of every pair of transcripts of a task.

For two transcripts ``a`` and ``b`` of one clip the symmetric WER is ``d(a, b) / ((|a| + |b|) / 2)``,
``d`` the word edit distance after normalisation and ``|.|`` the number of words (who is the reference
is arbitrary between annotators, so the denominator is the mean length, as :func:`.pairwise_wer` does).
A task's WER pools its pairs, ``sum d / sum (|a| + |b|) / 2``; summing ``errors`` and ``words`` over
tasks gives :func:`.mean_pairwise_wer` of the whole crowd.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from labelloop.quality.texts._input import TextAnswers, encode_texts
from labelloop.quality.texts.alignment import edit_distances
from labelloop.quality.texts.rover import task_pairs


def task_pairwise_wer(answers: TextAnswers) -> pd.DataFrame:
    """Per task with two transcripts or more: ``answers`` (its transcripts), ``pairs``, ``errors``
    (edit distances summed over its pairs), ``words`` (the pairs' mean lengths, summed) and ``wer``
    (``errors / words``; 0 when every transcript is empty). Indexed by task, in order of first
    appearance."""
    data = encode_texts(answers)
    i, j = task_pairs(data.task)
    dist = edit_distances(data.words[i], data.length[i], data.words[j], data.length[j]).astype(np.float64)
    mean_length = (data.length[i] + data.length[j]) / 2.0
    task = data.task[i]
    pairs = np.bincount(task, minlength=data.n_tasks)
    errors = np.bincount(task, dist, minlength=data.n_tasks)
    words = np.bincount(task, mean_length, minlength=data.n_tasks)
    counts = np.bincount(data.task, minlength=data.n_tasks)
    out = pd.DataFrame({"answers": counts, "pairs": pairs, "errors": errors, "words": words},
                       index=data.tasks.copy())
    out = out[out.pairs > 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["wer"] = np.where(out.words > 0, out.errors / out.words.clip(lower=1e-12), 0.0)
    out.index.name = "task"
    return out
