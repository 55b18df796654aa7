"""Word error rates: of a transcript against a reference, of a corpus, between annotators, per annotator.

WER (word error rate) is the word-level Levenshtein distance (substitutions + deletions + insertions)
divided by the number of reference words, after the normalisation of :mod:`._input` (lower case,
punctuation removed, hyphens split). A corpus WER pools errors and reference words over all clips
(the standard NIST definition), so long clips weigh more. Between two annotators, who is the reference
is arbitrary: :func:`pairwise_wer` divides by the mean length of the two transcripts (symmetric).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labelloop.quality.texts._input import Codes, EncodedTexts, TextAnswers, encode_texts, tokenize
from labelloop.quality.texts.alignment import edit_distances
from labelloop.quality.texts.rover import task_pairs


def encode_like(texts: pd.Series, vocabulary: pd.Index) -> tuple[NDArray[np.int64], Codes]:
    """Texts as padded word codes of *vocabulary* (unknown words get fresh codes past its end)."""
    if not texts.map(lambda v: isinstance(v, str)).all():
        bad = texts[~texts.map(lambda v: isinstance(v, str))]
        raise ValueError(f"texts must be strings; {bad.index[0]!r} is {bad.iloc[0]!r}")
    tokens = tokenize(texts.astype(object))
    code = vocabulary.get_indexer(pd.Index(tokens["word"])).astype(np.int64)
    unknown = code < 0
    if unknown.any():
        fresh, _ = pd.factorize(tokens["word"].to_numpy()[unknown])
        code[unknown] = len(vocabulary) + fresh
    row = tokens["row"].to_numpy(dtype=np.intp)
    length = np.bincount(row, minlength=len(texts)).astype(np.intp)
    starts = np.concatenate([[0], np.cumsum(length)[:-1]]).astype(np.intp)
    words = np.full((len(texts), max(int(length.max(initial=0)), 1)), -1, dtype=np.int64)
    words[row, np.arange(len(row)) - starts[row]] = code
    return words, length


def _as_series(values: pd.Series | Mapping[object, str], name: str) -> pd.Series:
    if isinstance(values, pd.Series):
        return values
    if isinstance(values, Mapping):
        return pd.Series(dict(values), dtype=object)
    raise TypeError(f"{name} must be a pandas Series or a mapping task -> text, got {type(values).__name__}")


def wer(hypothesis: str, reference: str) -> float:
    """Word error rate of one transcript against one reference (``inf`` if the reference is empty and the
    hypothesis is not; 0 when both are empty)."""
    errors, words = _errors(pd.Series([hypothesis], dtype=object), pd.Series([reference], dtype=object))
    if words[0] == 0:
        return 0.0 if errors[0] == 0 else float("inf")
    return float(errors[0] / words[0])


def _errors(hyp: pd.Series, ref: pd.Series) -> tuple[Codes, Codes]:
    joint = pd.concat([hyp.reset_index(drop=True), ref.reset_index(drop=True)], ignore_index=True)
    words, length = encode_like(joint, pd.Index([], dtype=object))
    n = len(hyp)
    return edit_distances(words[:n], length[:n], words[n:], length[n:]), length[n:]


def corpus_wer(
    predicted: pd.Series | Mapping[object, str], reference: pd.Series | Mapping[object, str]
) -> float:
    """Pooled WER over the reference's tasks: a task without a prediction counts as an empty one."""
    ref = _as_series(reference, "reference").dropna()
    pred = _as_series(predicted, "predicted").reindex(ref.index).fillna("")
    errors, words = _errors(pred, ref)
    return float(errors.sum() / max(int(words.sum()), 1))


def _scores(data: EncodedTexts, reference: pd.Series) -> pd.DataFrame:
    ref = reference.dropna()
    ref = ref[ref.index.isin(data.tasks)]
    rows = data.tasks.get_indexer(ref.index)
    words, length = encode_like(ref, data.vocabulary)
    ref_row = np.full(data.n_tasks, -1, dtype=np.intp)
    ref_row[rows] = np.arange(len(rows))
    sel = np.flatnonzero(ref_row[data.task] >= 0)
    r = ref_row[data.task[sel]]
    dist = edit_distances(data.words[sel], data.length[sel], words[r], length[r])
    frame = pd.DataFrame({"worker": data.worker[sel], "errors": dist, "words": length[r]})
    out = frame.groupby("worker").agg(
        n_tasks=("errors", "size"), errors=("errors", "sum"), words=("words", "sum")
    )
    out.index = data.workers[out.index]
    out.index.name = "worker"
    out["wer"] = out["errors"] / out["words"].clip(lower=1)
    return out.sort_values(["wer", "n_tasks"], ascending=[True, False])


def annotator_wer(answers: TextAnswers, reference: pd.Series | Mapping[object, str]) -> pd.DataFrame:
    """Each annotator's pooled WER against *reference* (a consensus, or gold) on the tasks it covers.

    Returns a DataFrame indexed by worker: ``n_tasks``, ``errors``, ``words`` (reference words), ``wer``;
    best first. Use the aggregate (``fit_predict``'s output) to score annotators without gold, and gold
    transcripts to score them on gold clips (:func:`transcript_gold_scores`).
    """
    return _scores(encode_texts(answers), _as_series(reference, "reference"))


def transcript_gold_scores(answers: TextAnswers, gold: pd.Series | Mapping[object, str]) -> pd.DataFrame:
    """Each annotator's WER on the gold clips (the same table as :func:`annotator_wer`)."""
    return annotator_wer(answers, gold)


def pairwise_wer(answers: TextAnswers) -> pd.DataFrame:
    """Agreement between annotators: for each pair who share clips, their symmetric WER.

    Returns a DataFrame with columns ``worker_a``, ``worker_b``, ``n_tasks``, ``errors`` (word edit
    distance summed over shared clips), ``words`` (mean length of the two, summed), ``wer``. The mean
    pairwise WER of a crowd is ``errors.sum() / words.sum()`` (see :func:`mean_pairwise_wer`).
    """
    data = encode_texts(answers)
    i, j = task_pairs(data.task)
    dist = edit_distances(data.words[i], data.length[i], data.words[j], data.length[j])
    wa, wb = data.worker[i], data.worker[j]
    swap = data.workers[wa].astype(str) > data.workers[wb].astype(str)
    lo, hi = np.where(swap, wb, wa), np.where(swap, wa, wb)
    frame = pd.DataFrame({"a": lo, "b": hi, "errors": dist, "words": (data.length[i] + data.length[j]) / 2.0})
    out = frame.groupby(["a", "b"], sort=False).agg(
        n_tasks=("errors", "size"), errors=("errors", "sum"), words=("words", "sum")
    )
    out = out.reset_index()
    out.insert(0, "worker_a", data.workers[out.pop("a").to_numpy()])
    out.insert(1, "worker_b", data.workers[out.pop("b").to_numpy()])
    out["wer"] = out["errors"] / out["words"].clip(lower=1.0)
    return out.sort_values(["worker_a", "worker_b"]).reset_index(drop=True)


def mean_pairwise_wer(answers: TextAnswers) -> float:
    """The crowd's pooled WER between annotators of the same clip (0: they all wrote the same words)."""
    table = pairwise_wer(answers)
    return float(table["errors"].sum() / max(float(table["words"].sum()), 1.0))


def best_single_wer(answers: TextAnswers, gold: pd.Series | Mapping[object, str]) -> float:
    """The oracle in hindsight: corpus WER when each clip keeps its answer closest to gold."""
    data = encode_texts(answers)
    ref = _as_series(gold, "gold").dropna()
    ref = ref[ref.index.isin(data.tasks)]
    words, length = encode_like(ref, data.vocabulary)
    ref_row = np.full(data.n_tasks, -1, dtype=np.intp)
    ref_row[data.tasks.get_indexer(ref.index)] = np.arange(len(ref))
    sel = np.flatnonzero(ref_row[data.task] >= 0)
    r = ref_row[data.task[sel]]
    dist = edit_distances(data.words[sel], data.length[sel], words[r], length[r]).astype(np.float64)
    best = np.full(len(ref), np.inf)
    np.minimum.at(best, r, dist)
    best[np.isinf(best)] = length[np.isinf(best)]
    return float(best.sum() / max(int(length.sum()), 1))
