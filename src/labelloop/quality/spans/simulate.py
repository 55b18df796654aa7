"""A simulated crowd marking entity spans in texts, with known ground truth: for tests, benchmarks and
checking that the aggregators' defaults hold beyond the one real set.

Each task is a text of ``words`` words (uniform in the range; sentences of about 15 words end with a
newline). A word starts an entity with probability ``entity_rate``; entities are 1 + Geometric(0.5)
words long (at most 5, never running into the next entity or off the text), with labels drawn from
``label_shares``. Each annotator draws, once, their habits:

- ``recall`` U(0.6, 0.97): the chance of marking a true entity at all;
- ``boundary`` U(0, 0.3): the chance that a marked entity loses its first or last word or takes one
  more word on either side;
- ``type accuracy`` U(0.7, 0.98): otherwise they give the entity their own usual wrong label for that
  type (a fixed confusion, like a worker who calls every organisation a place);
- ``false spans`` Gamma(1, 0.4) per text: spans of one or two words where there is no entity.

A share ``spammers`` of the annotators ignore the text: they mark as many spans as there are true
entities, at random places with random labels. Each task is answered by ``per_task`` annotators drawn
at random; an annotator who marks nothing gives the answer ``[]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import pandas as pd

from labelloop.quality.spans._input import Codes
from labelloop.quality.spans.tags import span_lists


def _geometric_lengths(rng: np.random.Generator, n: int) -> Codes:
    return np.minimum(rng.geometric(0.5, n), 5).astype(np.intp)


def _within(counts: Codes) -> Codes:
    """``0..counts[0]-1, 0..counts[1]-1, ...``: each item's position within its group."""
    counts = np.asarray(counts, dtype=np.intp)
    return np.arange(int(counts.sum()), dtype=np.intp) - np.repeat(np.cumsum(counts) - counts, counts)


def simulate_span_crowd(
    *,
    n_tasks: int,
    n_workers: int = 30,
    per_task: int = 5,
    words: tuple[int, int] = (20, 60),
    entity_rate: float = 0.08,
    labels: Sequence[str] = ("PER", "LOC", "ORG", "MISC"),
    label_shares: Sequence[float] = (0.3, 0.3, 0.25, 0.15),
    spammers: float = 0.1,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.Series]:
    """Answers (``task, worker, spans, text``) and the true spans (Series task -> span list)."""
    if per_task > n_workers:
        raise ValueError("per_task cannot exceed n_workers")
    if len(labels) != len(label_shares) or len(labels) < 1:
        raise ValueError("labels and label_shares must have the same, non-zero length")
    if not 0 < words[0] <= words[1]:
        raise ValueError("words must be (min, max) with 0 < min <= max")
    rng = np.random.default_rng(seed)
    n_lab = len(labels)
    shares = np.asarray(label_shares, dtype=np.float64) / np.sum(label_shares)
    # Words and their character offsets; a task's text is its words joined by spaces or newlines.
    n_words = rng.integers(words[0], words[1] + 1, n_tasks)
    first_word = np.concatenate([[0], np.cumsum(n_words)])
    word_task = np.repeat(np.arange(n_tasks), n_words)
    pos = np.arange(len(word_task)) - first_word[word_task]
    starts_entity = rng.random(len(word_task)) < entity_rate
    # Entity length: its draw, cut at the next entity's start and at the end of the text.
    idx = np.arange(len(word_task))
    next_start = np.minimum.accumulate(np.where(starts_entity, idx, len(idx))[::-1])[::-1]
    following = np.append(next_start[1:], len(idx))
    e_first = np.flatnonzero(starts_entity)
    end_of_text = first_word[word_task[e_first] + 1]
    e_len = np.minimum(
        _geometric_lengths(rng, len(e_first)), np.minimum(following[e_first], end_of_text) - e_first
    )
    e_label = rng.choice(n_lab, len(e_first), p=shares)
    in_entity = np.zeros(len(idx), dtype=bool)
    in_entity[np.repeat(e_first, e_len) + _within(e_len)] = True
    vocab = rng.integers(0, 5000, len(idx))
    text_words = np.where(in_entity, np.char.add("E", vocab.astype(str)), np.char.add("w", vocab.astype(str)))
    sep = np.where((pos + 1) % 15 == 0, "\n", " ")
    lens = np.char.str_len(text_words)
    offset = np.cumsum(lens + 1) - (lens + 1)
    w_start = offset - offset[first_word[word_task]]
    w_end = w_start + lens
    texts = ["".join(np.char.add(text_words[a:b], sep[a:b]).tolist())[:-1] for a, b in pairwise(first_word)]
    # Annotators' habits.
    recall = rng.uniform(0.6, 0.97, n_workers)
    boundary = rng.uniform(0.0, 0.3, n_workers)
    accuracy = rng.uniform(0.7, 0.98, n_workers)
    false_rate = rng.gamma(1.0, 0.4, n_workers)
    wrong = (np.arange(n_lab)[None, :] + rng.integers(1, max(n_lab, 2), (n_workers, n_lab))) % n_lab
    spammer = rng.random(n_workers) < spammers
    assign = np.argsort(rng.random((n_tasks, n_workers)), axis=1)[:, :per_task]
    a_task = np.repeat(np.arange(n_tasks), per_task)
    a_worker = assign.ravel()
    # Marked true entities: pairs (answer, entity of its task).
    e_task = word_task[e_first]
    per_task_entities = np.bincount(e_task, minlength=n_tasks)
    pair_answer = np.repeat(np.arange(len(a_task)), per_task_entities[a_task])
    e_offset = np.concatenate([[0], np.cumsum(per_task_entities)])
    pair_entity = e_offset[a_task[pair_answer]] + _within(per_task_entities[a_task])
    pw = a_worker[pair_answer]
    keep = (rng.random(len(pw)) < recall[pw]) & ~spammer[pw]
    pair_answer, pair_entity, pw = pair_answer[keep], pair_entity[keep], pw[keep]
    lo = e_first[pair_entity]
    hi = lo + e_len[pair_entity] - 1
    shift = rng.random(len(pw)) < boundary[pw]
    move = rng.integers(0, 4, len(pw))  # drop first, drop last, add before, add after
    lo = np.where(shift & (move == 0) & (hi > lo), lo + 1, lo)
    hi = np.where(shift & (move == 1) & (hi > lo), hi - 1, hi)
    text_first, text_last = first_word[a_task[pair_answer]], first_word[a_task[pair_answer] + 1] - 1
    lo = np.where(shift & (move == 2), np.maximum(lo - 1, text_first), lo)
    hi = np.where(shift & (move == 3), np.minimum(hi + 1, text_last), hi)
    true_label = e_label[pair_entity]
    label = np.where(rng.random(len(pw)) < accuracy[pw], true_label, wrong[pw, true_label])
    # Spans where there is nothing (careful annotators) or anywhere (spammers).
    n_extra = np.where(spammer[a_worker], per_task_entities[a_task], rng.poisson(false_rate[a_worker]))
    x_answer = np.repeat(np.arange(len(a_task)), n_extra)
    x_task = a_task[x_answer]
    x_lo = first_word[x_task] + (rng.random(len(x_answer)) * n_words[x_task]).astype(np.intp)
    x_hi = np.minimum(x_lo + rng.integers(0, 2, len(x_answer)), first_word[x_task + 1] - 1)
    x_label = rng.integers(0, n_lab, len(x_answer))
    s_answer = np.concatenate([pair_answer, x_answer])
    s_lo, s_hi = np.concatenate([lo, x_lo]), np.concatenate([hi, x_hi])
    s_label = np.concatenate([label, x_label])
    names = pd.Index(list(labels))
    answer_spans = span_lists(
        pd.RangeIndex(len(a_task)), s_answer, w_start[s_lo], w_end[s_hi], names.take(s_label)
    )
    answers = pd.DataFrame(
        {
            "task": a_task,
            "worker": [f"w{i}" for i in a_worker],
            "spans": answer_spans.to_numpy(),
            "text": [texts[t] for t in a_task],
        }
    )
    truth = span_lists(
        pd.RangeIndex(n_tasks), e_task, w_start[e_first], w_end[e_first + e_len - 1], names.take(e_label)
    )
    return answers, truth
