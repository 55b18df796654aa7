"""ROVER with weights known in advance: the transcript of a few clips from the annotators' current weights.

:class:`~labelloop.quality.texts.rover.TextAggregator` learns each annotator's weight from all their
clips; between two such fits a platform still needs a consensus as each answer arrives, from the weights
it already has. :func:`weighted_rover` is that vote: one round of the aggregator with the weights
fixed,

1. consensus ``c`` = the weighted vote in the network built on the weighted medoid (the answer with the
   least weighted edit distance to the others);
2. every transcript realigned to ``c`` and the vote repeated (words the medoid lacked line up),

each slot deciding presence by the weight of all words against epsilon's (``presence="total"``, the
aggregator's default; see :mod:`.network`). ``support`` of a task is the mean over its output words of
the share of the task's weight that voted for each (the aggregator's ``support_``), NaN when the
consensus is empty.

:func:`log_odds_weights` turns accuracies (the probability that a word is right, ``1 - e``) into the
vote weights the aggregator uses, ``log((1 - e) / e)`` with ``e`` clipped to ``[0.01, 1/2]`` (Nitzan &
Paroush 1982): an annotator at chance or worse weighs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from labelloop.quality.texts._input import KEEP, SPLIT, EncodedTexts, Floats
from labelloop.quality.texts.network import Consensus, align_to_backbone, vote
from labelloop.quality.texts.rover import rover

ERROR_FLOOR = 0.01  # as TextAggregator's error_floor: nobody counts infinitely
_SPLIT, _KEEP = re.compile(SPLIT), re.compile(KEEP)


def log_odds_weights(accuracy: Sequence[float] | Floats, *, error_floor: float = ERROR_FLOOR) -> Floats:
    """Vote weights ``log(a / (1 - a))`` of word accuracies ``a``, clipped to ``[1/2, 1 - error_floor]``."""
    a = np.clip(np.asarray(accuracy, dtype=np.float64), 0.5, 1.0 - error_floor)
    return np.asarray(np.log(a / (1.0 - a)))


def weighted_rover(
    tasks: Sequence[Hashable], texts: Sequence[str | None], weights: Sequence[float] | Floats, *,
    presence: str = "total",
) -> pd.DataFrame:
    """The weighted vote of each task's transcripts (module docstring).

    ``tasks[i]``, ``texts[i]``, ``weights[i]`` describe answer ``i``; a ``None`` text is no answer; the
    weights are used as given (a task whose answers all weigh nothing votes with equal weights).
    Returns a DataFrame indexed by task (in order of first appearance, tasks without a text left out)
    with columns ``text`` (written forms joined by single spaces) and ``support``.
    """
    if not len(tasks) == len(texts) == len(weights):
        raise ValueError("tasks, texts and weights differ in length: "
                         f"{len(tasks)}, {len(texts)}, {len(weights)}")
    w = np.asarray(weights, dtype=np.float64)
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and non-negative")
    keep = [i for i, t in enumerate(texts) if t is not None]
    if not keep:
        return pd.DataFrame({"text": pd.Series(dtype=object), "support": pd.Series(dtype=float)})
    data = encode_few([tasks[i] for i in keep], [str(texts[i]) for i in keep])
    weight = w[keep]
    per_task = np.bincount(data.task, weight, minlength=data.n_tasks)
    weight = np.where(per_task[data.task] > 0, weight, 1.0)
    first = rover(data, weight, presence=presence, with_forms=False)
    alignment = align_to_backbone(data, first.words, first.length)
    final = vote(data, alignment, weight, first.length, presence=presence, with_forms=False)
    with np.errstate(invalid="ignore"):
        support = np.where(final.length > 0, final.support.sum(axis=1) / np.maximum(final.length, 1), np.nan)
    out = pd.DataFrame({"text": _written(data, final, weight), "support": support}, index=data.tasks.copy())
    out.index.name = "task"
    return out


def encode_few(tasks: Sequence[Hashable], texts: Sequence[str]) -> EncodedTexts:
    """`encode_texts` of a few answers, each its own worker (no row dropped), in plain Python: the
    same normalisation (`SPLIT`, lower case, `KEEP` removed) without the pandas machinery that pays
    off only on thousands of rows."""
    task, task_index = pd.factorize(pd.Index(list(tasks), dtype=object), sort=False)
    forms_of: list[list[str]] = []
    words_of: list[list[str]] = []
    for text in texts:
        pairs = [(tok, _KEEP.sub("", tok.lower())) for tok in _SPLIT.sub(" ", text).strip().split(" ")]
        pairs = [(f, w) for f, w in pairs if w]
        forms_of.append([f for f, _ in pairs])
        words_of.append([w for _, w in pairs])
    vocabulary = sorted({w for ws in words_of for w in ws})
    code = {w: k for k, w in enumerate(vocabulary)}
    n = len(texts)
    length = np.array([len(ws) for ws in words_of], dtype=np.intp)
    width = max(int(length.max(initial=0)), 1)
    words = np.full((n, width), -1, dtype=np.int64)
    forms = np.full((n, width), "", dtype=object)
    for i, (ws, fs) in enumerate(zip(words_of, forms_of, strict=True)):
        words[i, : len(ws)] = [code[w] for w in ws]
        forms[i, : len(fs)] = fs
    return EncodedTexts(task=task.astype(np.intp), worker=np.arange(n, dtype=np.intp), words=words,
                        length=length, forms=forms, tasks=pd.Index(task_index),
                        workers=pd.Index(np.arange(n)), vocabulary=pd.Index(vocabulary, dtype=object))


def _written(data: EncodedTexts, final: Consensus, weight: Floats) -> list[str]:
    """Each task's consensus in written forms: per output word, the form with the most weight among
    the transcripts whose same word aligns to it (ties: the form that sorts first).

    The network's own choice of forms (`vote(with_forms=True)`) groups every vote of a batch in
    pandas, milliseconds per call; a platform votes a handful of transcripts per answer, for which
    aligning them once more to the consensus and counting in Python is a tenth of that."""
    back = align_to_backbone(data, final.words, final.length)
    ans, pos = np.nonzero(data.words >= 0)
    task = data.task[ans]
    to = back.a_to_b[ans, pos]
    hit = to >= 0
    hit[hit] = data.words[ans[hit], pos[hit]] == final.words[task[hit], to[hit]]
    weights: dict[tuple[int, int], dict[str, float]] = {}
    for a, p, t, k in zip(ans[hit].tolist(), pos[hit].tolist(), task[hit].tolist(), to[hit].tolist(),
                          strict=True):
        tally = weights.setdefault((t, k), {})
        form = str(data.forms[a, p])
        tally[form] = tally.get(form, 0.0) + float(weight[a])
    out = []
    for t in range(data.n_tasks):
        words = []
        for k in range(int(final.length[t])):
            forms = weights.get((t, k))
            words.append(min(forms.items(), key=lambda kv: (-kv[1], kv[0]))[0] if forms
                         else str(data.vocabulary[final.words[t, k]]))
        out.append(" ".join(words))
    return out


def rover_choice(texts: Sequence[str | None], weights: Sequence[float]) -> str | None:
    """One clip's transcript by :func:`weighted_rover` (``None`` when nobody wrote one; a lone
    transcript as written)."""
    given = [(t, wi) for t, wi in zip(texts, weights, strict=True) if t is not None]
    if not given:
        return None
    if len(given) == 1:
        return given[0][0]
    found = weighted_rover([0] * len(given), [t for t, _ in given], [max(float(wi), 0.0) for _, wi in given])
    return str(found["text"].iloc[0])
