"""Word transition networks: transcripts aligned to a backbone, and a weighted vote per slot.

ROVER (Fiscus 1997, "A post-processing system to yield reduced word error rates: Recognizer Output
Voting Error Reduction", IEEE ASRU) aligns several transcripts of one clip into a *word transition
network*, a sequence of slots each holding one word or nothing (epsilon) per transcript, and keeps in
each slot the word with the most votes. Here the network is built against a *backbone* (a pivot
sequence; Bangalore et al. 2001, Rosti et al. 2007 do the same for machine-translation combination):
every transcript is aligned to the backbone by word edit distance (:mod:`.alignment`), which puts each
of its words either on a backbone position (a match or substitution) or in the gap before one (an
insertion). Slots are then

- one per backbone position ``k``: the words aligned to ``k``; epsilon for transcripts that deleted it;
- ``r``-th insertion slot of gap ``g``: the ``r``-th word each transcript inserted before position ``g``
  (insertions in one gap are lined up from the left); epsilon for transcripts that inserted fewer.

With weights ``w_t`` per transcript (1 for plain ROVER), the score of word ``v`` in slot ``s`` is
``sum_{t votes v in s} w_t`` and epsilon's is the weight of the task's transcripts that put no word in
``s``. With ``presence="best"`` (ROVER) a slot outputs its best word unless epsilon scores strictly
more than that word; with ``presence="total"`` unless epsilon scores strictly more than all words
together (a tie keeps the word: crowd transcribers drop words more often than they invent them).
Ties between words go to the one with more votes, then the alphabetically first. The word is
written in the form (case, attached punctuation) that carries the most weight among its voters in
that slot: the output reads as the annotators typed it, not normalised.

Realigning every transcript to the consensus just voted and voting again is a fixed-point iteration:
words the first backbone lacked become backbone positions, so their insertions line up exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labelloop.quality.texts._input import Codes, EncodedTexts, Floats
from labelloop.quality.texts.alignment import Alignment, align


@dataclass(frozen=True, eq=False)
class Consensus:
    """One consensus per task: ``words[t, :length[t]]`` (padding -1) with their written ``forms``,
    and per output word the share of the task's weight that voted for it (``support``)."""

    words: NDArray[np.int64]
    length: Codes
    forms: NDArray[np.object_]
    support: Floats


def align_to_backbone(data: EncodedTexts, backbone: NDArray[np.int64], backbone_length: Codes) -> Alignment:
    """Align every answer to its task's backbone (``backbone[t]`` for task ``t``)."""
    return align(data.words, data.length, backbone[data.task], backbone_length[data.task])


def vote(
    data: EncodedTexts,
    alignment: Alignment,
    weight: Floats,
    backbone_length: Codes,
    *,
    presence: str = "best",
    presence_llr: tuple[Floats, Floats] | None = None,
    with_forms: bool = True,
) -> Consensus:
    """Weighted vote in every slot of the networks given by *alignment* (see the module docstring).

    With *presence_llr* = ``(said, silent)``, per answer the log-likelihood ratio (word there vs not)
    of putting a word in a slot and of putting none, a slot keeps a word when the sum over the task's
    answers is >= 0 (*weight* then only chooses which word).
    """
    ans, pos = np.nonzero(data.words >= 0)
    word = data.words[ans, pos]
    matched = alignment.a_to_b[ans, pos]
    gap = alignment.a_gap[ans, pos]
    inserted = matched < 0
    # rank of an inserted word among its answer's insertions in the same gap (they are consecutive)
    run_key = np.where(inserted, ans.astype(np.int64) * (1 << 20) + gap, -1)
    new_run = np.ones(len(ans), dtype=bool)
    new_run[1:] = run_key[1:] != run_key[:-1]
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(len(ans)), 0))
    rank = np.arange(len(ans)) - run_start
    major = np.where(inserted, 2 * gap, 2 * matched + 1).astype(np.int64)
    minor = np.where(inserted, rank, 0).astype(np.int64)
    task = data.task[ans].astype(np.int64)
    width = int(2 * backbone_length.max(initial=0) + 2)
    depth = int(minor.max(initial=0) + 1)
    slot_key = (task * width + major) * depth + minor
    slot, slot_keys = pd.factorize(slot_key, sort=True)
    n_slots = len(slot_keys)
    w = weight[ans]
    slot_task = (slot_keys // depth) // width
    task_weight = np.bincount(data.task, weight, minlength=data.n_tasks)
    n_vocab = len(data.vocabulary)
    pair_key = slot.astype(np.int64) * n_vocab + word
    pair, pair_keys = pd.factorize(pair_key, sort=True)
    score = np.bincount(pair, w)
    count = np.bincount(pair)
    pair_slot = pair_keys // n_vocab
    pair_word = pair_keys % n_vocab
    # best word per slot: highest score, then most votes, then smallest code (alphabetical)
    best = np.lexsort((pair_word, -count, -score, pair_slot))
    first = np.ones(len(best), dtype=bool)
    first[1:] = pair_slot[best[1:]] != pair_slot[best[:-1]]
    best = best[first]  # one pair per slot, in slot order
    voted = np.bincount(slot, w, minlength=n_slots)
    epsilon = task_weight[slot_task] - voted
    if presence_llr is not None:
        said, silent = presence_llr
        silent_total = np.bincount(data.task, silent, minlength=data.n_tasks)
        llr = (
            np.bincount(slot, said[ans], n_slots)
            + silent_total[slot_task]
            - np.bincount(slot, silent[ans], n_slots)
        )
        keep = llr[pair_slot[best]] >= 0
    else:
        present = score[best] if presence == "best" else voted
        keep = present >= epsilon - 1e-9 * np.maximum(task_weight[slot_task], 1.0)
    win_pair = best[keep]
    win_slot = pair_slot[win_pair]
    out_task = slot_task[win_slot]
    out_len = np.bincount(out_task, minlength=data.n_tasks).astype(np.intp)
    starts = np.concatenate([[0], np.cumsum(out_len)[:-1]])
    out_pos = np.arange(len(win_slot)) - starts[out_task]
    cols = max(int(out_len.max(initial=0)), 1)
    words = np.full((data.n_tasks, cols), -1, dtype=np.int64)
    words[out_task, out_pos] = pair_word[win_pair]
    out_forms = np.full((data.n_tasks, cols), "", dtype=object)
    if with_forms:
        out_forms[out_task, out_pos] = _written_forms(data, ans, pos, pair, w, win_pair)
    support = np.zeros((data.n_tasks, cols))
    support[out_task, out_pos] = score[win_pair] / np.maximum(task_weight[out_task], 1e-12)
    return Consensus(words, out_len, out_forms, support)


def _written_forms(
    data: EncodedTexts, ans: Codes, pos: Codes, pair: Codes, w: Floats, win_pair: Codes
) -> NDArray[np.object_]:
    """The heaviest written form among the voters of each winning (slot, word) pair."""
    forms = data.forms[ans, pos]
    is_win = np.zeros(int(pair.max(initial=-1)) + 1, dtype=bool)
    is_win[win_pair] = True
    sel = is_win[pair]
    form_frame = pd.DataFrame({"pair": pair[sel], "form": forms[sel], "w": w[sel]})
    form_w = form_frame.groupby(["pair", "form"], sort=False)["w"].sum().reset_index()
    form_w = form_w.sort_values(["pair", "w", "form"], ascending=[True, False, True], kind="stable")
    best_form = form_w.drop_duplicates("pair").set_index("pair")["form"]
    return np.asarray(best_form.reindex(win_pair).to_numpy(), dtype=object)


def consensus_texts(data: EncodedTexts, consensus: Consensus) -> pd.Series:
    """The consensus of each task as text: its words' written forms joined by single spaces."""
    texts = [
        " ".join(row[:n]) for row, n in zip(consensus.forms.tolist(), consensus.length.tolist(), strict=True)
    ]
    return pd.Series(texts, index=data.tasks.copy(), name="text", dtype=object)
