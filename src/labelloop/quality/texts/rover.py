"""Transcript aggregation: plain ROVER and ROVER weighted by each annotator's learned word error rate.

:class:`ROVER` is Fiscus' (1997) vote in a word transition network (:mod:`.network`) with one vote per
transcript; the backbone is the task's *medoid*, the transcript with the least total word edit
distance to the others (ties: the worker id that sorts first), so the network does not depend on the
order of rows.

:class:`TextAggregator` (the default) learns how reliable each annotator is without gold, by a
fixed-point iteration in the spirit of Dawid & Skene (1979) and of the iterative weighting of
Wawa/ZBS (crowd-kit) and of weighted ROVER (Fiscus 1997, section 3, weights from confidence):

1. consensus ``c`` = ROVER with equal weights (medoid backbone);
2. realign every transcript to ``c`` (``c`` becomes the backbone); annotator ``w``'s word error rate
   against the consensus, over all their clips, shrunk towards the crowd's pooled rate ``e_0`` with
   ``m`` pseudo-words (a Beta prior of mean ``e_0`` and strength ``m``):
   ``e_w = (E_w + m e_0) / (N_w + m)`` with ``E_w`` the sum of edit distances to ``c`` and ``N_w`` the
   consensus words of their clips. ``m`` (``prior_words``) is by default estimated from the crowd by
   empirical Bayes (the beta-binomial method of moments; Kleinman 1973): the spread of the true rates
   is the spread of the observed ones less the binomial noise, ``tau^2 = sum_w (N_w/N) (r_w - e_0)^2 -
   sum_w (N_w/N) e_0 (1 - e_0) / N_w``, and ``m = e_0 (1 - e_0) / tau^2 - 1`` (clipped to [1, 1000]): a
   crowd of alike annotators (small ``tau``) is shrunk hard to equal weights, a varied one is not.
   CrowdSpeech gives ``m`` of about 10 (dev-clean) and 7 (dev-other) words, half a clip;
3. the weight of a vote is the log-odds of being right, ``log((1 - e_w) / e_w)`` (the optimal weights of
   a weighted majority for independent voters, Nitzan & Paroush 1982), with ``e_w`` clipped to
   ``[error_floor, 1/2]``: no annotator counts against the vote, none counts infinitely;
4. vote again on the network aligned to ``c``; repeat 2-4 until the consensus stops changing or
   ``n_iter`` rounds. The vote is two decisions per slot (``presence="total"``): is a word said here
   (the weight of all word votes against epsilon's: two annotators who spelt one word differently
   still agree that a word is there), then which word (the heaviest). ``presence="best"`` is ROVER's
   one decision (the heaviest word against epsilon); ``presence="model"`` decides presence by a
   two-coin model (per annotator a deletion and an insertion rate, shrunk likewise, summed as
   log-likelihood ratios), which measured slightly worse on CrowdSpeech (bench/audio.py).

A model's transcripts (``fit(df, hypotheses=series)``) vote as one more annotator, ``MODEL``, weighted
by its own learned error rate like everyone: a good speech recogniser becomes a heavy voter, a poor
one is outvoted.

Learned: ``texts_`` (a Series task -> consensus text), ``skills_`` (a Series worker -> weight),
``errors_`` (worker -> shrunk error rate), ``prior_words_`` (the ``m`` used), ``support_`` (task -> mean
share of weight behind the output words, a confidence), ``n_iter_``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Self

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labelloop.quality._input import wsum
from labelloop.quality.texts._input import (
    Codes,
    EncodedTexts,
    Floats,
    TextAnswers,
    encode_texts,
    to_text_frame,
)
from labelloop.quality.texts.alignment import Alignment, align, edit_distances
from labelloop.quality.texts.network import (
    Consensus,
    align_to_backbone,
    consensus_texts,
    vote,
)

MODEL = "__model__"  # the worker id under which a model's hypotheses vote


def task_pairs(task: Codes) -> tuple[Codes, Codes]:
    """All pairs ``(i, j)``, ``i < j``, of answers of the same task."""
    order = np.argsort(task, kind="stable")
    sizes = np.bincount(task)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    per = sizes[task[order]]
    # each sorted answer at offset r in its task pairs with the later ones of that task
    offset = np.arange(len(order)) - starts[task[order]]
    n_after = per - offset - 1
    left = np.repeat(np.arange(len(order)), n_after)
    run = np.arange(len(left)) - np.repeat(np.cumsum(n_after) - n_after, n_after)
    right = left + 1 + run
    return order[left].astype(np.intp), order[right].astype(np.intp)


def medoid_backbone(data: EncodedTexts, weight: Floats) -> tuple[np.ndarray, Codes]:
    """Per task, the answer with the least weighted sum of edit distances to the task's other answers."""
    i, j = task_pairs(data.task)
    dist = edit_distances(data.words[i], data.length[i], data.words[j], data.length[j]).astype(np.float64)
    total = np.bincount(i, dist * weight[j], data.n_answers) + np.bincount(
        j, dist * weight[i], data.n_answers
    )
    # ties go to the worker whose id sorts first, so that the order of rows never matters
    worker_rank = np.argsort(np.argsort(data.workers.astype(str).to_numpy(), kind="stable"))
    order = np.lexsort((worker_rank[data.worker], total, data.task))
    first = np.ones(len(order), dtype=bool)
    first[1:] = data.task[order[1:]] != data.task[order[:-1]]
    pick = np.empty(data.n_tasks, dtype=np.intp)
    pick[data.task[order[first]]] = order[first]
    return data.words[pick], data.length[pick]


def changed_tasks(old: Consensus, new: Consensus) -> NDArray[np.bool_]:
    """Tasks whose consensus words differ between two rounds."""
    width = max(old.words.shape[1], new.words.shape[1])
    a = np.pad(old.words, ((0, 0), (0, width - old.words.shape[1])), constant_values=-1)
    b = np.pad(new.words, ((0, 0), (0, width - new.words.shape[1])), constant_values=-1)
    return np.asarray((a != b).any(axis=1))


def realign(
    data: EncodedTexts,
    old: Alignment | None,
    backbone: NDArray[np.int64],
    backbone_length: Codes,
    changed: NDArray[np.bool_],
) -> Alignment:
    """Alignment of every answer to its task's backbone, recomputed only for the *changed* tasks."""
    if old is None or changed.all():
        return align_to_backbone(data, backbone, backbone_length)
    rows = np.flatnonzero(changed[data.task])
    width = max(backbone.shape[1], old.b_deleted.shape[1])
    b_deleted = np.zeros((data.n_answers, width), dtype=bool)
    b_deleted[:, : old.b_deleted.shape[1]] = old.b_deleted
    out = Alignment(old.a_to_b.copy(), old.a_gap.copy(), b_deleted, old.distance.copy())
    if rows.size:
        t = data.task[rows]
        part = align(data.words[rows], data.length[rows], backbone[t], backbone_length[t])
        out.a_to_b[rows] = part.a_to_b
        out.a_gap[rows] = part.a_gap
        out.b_deleted[rows] = False
        out.b_deleted[rows, : part.b_deleted.shape[1]] = part.b_deleted
        out.distance[rows] = part.distance
    return out


def rover(
    data: EncodedTexts, weight: Floats, *, presence: str = "best", with_forms: bool = True
) -> Consensus:
    """One ROVER pass: medoid backbone under *weight*, network, weighted vote."""
    backbone, blen = medoid_backbone(data, weight)
    alignment = align_to_backbone(data, backbone, blen)
    return vote(data, alignment, weight, blen, presence=presence, with_forms=with_forms)


def prior_strength(errors: Floats, words: Floats, *, lo: float = 1.0, hi: float = 1000.0) -> float:
    """Strength ``m`` of the Beta prior on workers' error rates, by the beta-binomial method of moments."""
    total = float(words.sum())
    if total <= 0:
        return hi
    share = words / total
    e0 = float(errors.sum()) / total
    rate = errors / np.maximum(words, 1.0)
    spread = float(np.sum(share * (rate - e0) ** 2)) - float(
        np.sum(share * e0 * (1 - e0) / np.maximum(words, 1.0))
    )
    if spread <= 0 or e0 <= 0:
        return hi
    return float(np.clip(e0 * (1 - e0) / spread - 1.0, lo, hi))


class ROVER:
    """Plain ROVER: one vote per transcript, medoid backbone. Learned: ``texts_``."""

    texts_: pd.Series

    def fit(self, answers: TextAnswers) -> Self:
        data = encode_texts(answers)
        self.texts_ = consensus_texts(data, rover(data, np.ones(data.n_answers)))
        return self

    def fit_predict(self, answers: TextAnswers) -> pd.Series:
        return self.fit(answers).texts_


class TextAggregator:
    """ROVER weighted by each annotator's word error rate against the consensus (module docstring)."""

    texts_: pd.Series
    skills_: pd.Series
    errors_: pd.Series
    support_: pd.Series
    n_iter_: int
    prior_words_: float

    def __init__(
        self,
        *,
        n_iter: int = 5,
        prior_words: float | None = None,
        error_floor: float = 0.01,
        realign: bool = True,
        presence: str = "total",
    ) -> None:
        if n_iter < 0:
            raise ValueError("n_iter must be >= 0")
        if prior_words is not None and prior_words < 0:
            raise ValueError("prior_words must be >= 0")
        if not 0 < error_floor < 0.5:
            raise ValueError("error_floor must be in (0, 0.5)")
        if presence not in ("total", "best", "model"):
            raise ValueError("presence must be 'total', 'best' or 'model'")
        self.n_iter = n_iter
        self.prior_words = prior_words
        self.error_floor = error_floor
        self.realign = realign
        self.presence = presence

    def _worker_errors(self, data: EncodedTexts, distance: Codes, ref_length: Codes) -> Floats:
        errors = wsum(data.worker, distance.astype(np.float64), data.n_workers)
        words = wsum(data.worker, ref_length[data.task].astype(np.float64), data.n_workers)
        # at least one word per answer: an answer to an empty consensus is still a chance to err
        words = np.maximum(words, wsum(data.worker, np.ones(data.n_answers), data.n_workers))
        pooled = errors.sum() / max(words.sum(), 1.0)
        m = self.prior_words if self.prior_words is not None else prior_strength(errors, words)
        self.prior_words_ = float(m)
        return np.asarray((errors + m * pooled) / (words + m))

    def _presence_llr(self, data: EncodedTexts, alignment: Alignment, blen: Codes) -> tuple[Floats, Floats]:
        """Two-coin model of "a word is said here": per worker a deletion rate (said, not written) and
        an insertion rate (written, not said), shrunk to the crowd's; the log-likelihood ratios."""
        ref = blen[data.task].astype(np.float64)
        deleted = alignment.b_deleted.sum(axis=1).astype(np.float64)
        inserted = (alignment.a_to_b < 0).sum(axis=1) - (data.words < 0).sum(axis=1)
        inserted = inserted.astype(np.float64)
        k, m = data.n_workers, self.prior_words_

        def rate(events: Floats, chances: Floats) -> Floats:
            e, c = np.bincount(data.worker, events, k), np.bincount(data.worker, chances, k)
            pooled = e.sum() / max(c.sum(), 1.0)
            r = (e + m * pooled) / (c + m)
            return np.asarray(np.clip(r, self.error_floor, 0.5))

        d = rate(deleted, ref)[data.worker]
        i = rate(inserted, ref + 1.0)[data.worker]
        return np.log((1 - d) / i), np.log(d / (1 - i))

    def _round(
        self, data: EncodedTexts, alignment: Alignment, weight: Floats, blen: Codes
    ) -> Callable[[bool], Consensus]:
        """The vote of one round, as a function of whether to pick written forms."""
        if not self.realign:  # ablation: keep the medoid network, only reweight
            return lambda forms: rover(data, weight, presence=self.presence, with_forms=forms)
        if self.presence == "model":
            llr = self._presence_llr(data, alignment, blen)
            return lambda forms: vote(data, alignment, weight, blen, presence_llr=llr, with_forms=forms)
        return lambda forms: vote(data, alignment, weight, blen, presence=self.presence, with_forms=forms)

    def fit(self, answers: TextAnswers, *, hypotheses: pd.Series | Mapping[Any, str] | None = None) -> Self:
        """Learn the consensus; *hypotheses* (task -> a model's transcript) vote as one more annotator,
        ``MODEL``, whose weight is learned like anyone's (``skills_[MODEL]``)."""
        data = encode_texts(with_hypotheses(answers, hypotheses))
        weight = np.ones(data.n_answers)
        first = "best" if self.presence == "best" else "total"
        consensus = rover(data, weight, presence=first, with_forms=self.n_iter == 0)
        worker_error = np.full(data.n_workers, np.nan)
        alignment: Alignment | None = None
        changed = np.ones(data.n_tasks, dtype=bool)
        done = 0
        last: Callable[[bool], Consensus] | None = None
        for step in range(1, self.n_iter + 1):
            done = step
            blen = consensus.length
            # only the tasks whose consensus moved need realigning: after a round or two, few do
            alignment = realign(data, alignment, consensus.words, blen, changed)
            worker_error = self._worker_errors(data, alignment.distance, blen)
            e = np.clip(worker_error, self.error_floor, 0.5)
            weight = np.log((1.0 - e) / e)[data.worker]
            last = self._round(data, alignment, weight, blen)
            new = last(False)
            changed = changed_tasks(consensus, new)
            consensus = new
            if not changed.any():
                break
        if last is not None:  # the rounds skip the written forms; the last vote again, with them
            consensus = last(True)
        self.n_iter_ = done
        self.texts_ = consensus_texts(data, consensus)
        with np.errstate(invalid="ignore"):
            support = np.where(
                consensus.length > 0,
                consensus.support.sum(axis=1) / np.maximum(consensus.length, 1),
                np.nan,
            )
        self.support_ = pd.Series(support, index=data.tasks.copy(), name="support")
        e = np.clip(worker_error, self.error_floor, 0.5)
        self.errors_ = pd.Series(worker_error, index=data.workers.copy(), name="error")
        self.skills_ = pd.Series(np.log((1.0 - e) / e), index=data.workers.copy(), name="skill")
        return self

    def fit_predict(
        self, answers: TextAnswers, *, hypotheses: pd.Series | Mapping[Any, str] | None = None
    ) -> pd.Series:
        return self.fit(answers, hypotheses=hypotheses).texts_


def with_hypotheses(answers: TextAnswers, hypotheses: pd.Series | Mapping[Any, str] | None) -> TextAnswers:
    """*answers* plus one row per task that has a hypothesis, from the worker ``MODEL``."""
    if hypotheses is None:
        return answers
    frame = to_text_frame(answers)
    hyp = hypotheses if isinstance(hypotheses, pd.Series) else pd.Series(dict(hypotheses), dtype=object)
    if (frame["worker"] == MODEL).any():
        raise ValueError(f"worker id {MODEL!r} is reserved for the model's hypotheses")
    hyp = hyp.dropna()
    hyp = hyp[hyp.index.isin(frame["task"])]
    extra = pd.DataFrame({"task": hyp.index, "worker": MODEL, "text": hyp.to_numpy()})
    return pd.concat([frame.loc[:, ["task", "worker", "text"]], extra], ignore_index=True)


def default_text_aggregator() -> TextAggregator:
    """The transcript aggregator labelloop uses: :class:`TextAggregator` with its default settings."""
    return TextAggregator()
