r"""From character spans to token BIO tags and back.

**Tokens.** Each task's text is tokenised once by the regular expression ``\w+|[^\w\s]``: a token is a
run of letters, digits and underscores, or one punctuation character; whitespace separates tokens and
is never part of one (``"Iraqi-born"`` is ``Iraqi``, ``-``, ``born``). It needs no language model and
never crosses a space, so a span drawn on whole words always falls on token boundaries.

**Spans to tags.** A span covers every token it overlaps by at least one character, so a span that
stops inside a word (``Iraq`` of ``Iraqi``, as a crowd tokeniser that split the word would give)
takes the whole word: entities are made of words. A span that overlaps no token (whitespace only) is
dropped. Tags are coded ``0`` = ``O``, ``1 + 2l`` = ``B-l`` and ``2 + 2l`` = ``I-l`` for the label
of sorted position ``l``. When spans of one answer overlap (nested or crossing, where the schema
allows it), a token goes to the span that starts first (the longer one on a tie, then the smaller
label): BIO can hold one span per token, and the outer span is the one a flat annotation keeps. A
span whose first tokens were taken restarts with ``B`` on the tokens left to it.

**Tags to spans** follows the CoNLL scorer (``conlleval``): a span starts at ``B-x``, or at ``I-x``
whose previous token is not ``B-x``/``I-x``, and runs on over ``I-x`` tokens. This is also how an
invalid tag sequence (``O I-PER``) is repaired: the ``I`` begins a span. A span's offsets are the
first character of its first token and the end of its last token.

Reference: E. F. Tjong Kim Sang & F. De Meulder, "Introduction to the CoNLL-2003 Shared Task:
Language-Independent Named Entity Recognition", CoNLL 2003 (the BIO scheme and the scorer's rule).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
import pandas as pd

from labelloop.quality.spans._input import Codes, EncodedAnswers

TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True, eq=False)
class EncodedTags:
    """Answers as BIO tags: one *cell* per (answer, token of the answer's task)."""

    answers: EncodedAnswers
    tok_start: Codes  # per token (all tasks, in task order), character offsets in the task's text
    tok_end: Codes
    tok_task: Codes
    task_tok: Codes  # tokens of task t are task_tok[t]:task_tok[t + 1]
    cell_token: Codes
    cell_worker: Codes
    cell_tag: Codes

    @property
    def n_tokens(self) -> int:
        return int(self.tok_start.shape[0])

    @property
    def n_tags(self) -> int:
        return 1 + 2 * len(self.answers.labels)

    @property
    def tag_names(self) -> list[str]:
        return tag_names(self.answers.labels)


def tag_names(labels: pd.Index) -> list[str]:
    """``["O", "B-<label 0>", "I-<label 0>", ...]``: the names of the tag codes."""
    return ["O"] + [f"{p}-{name}" for name in labels for p in ("B", "I")]


def tokenize(text: str) -> tuple[Codes, Codes]:
    """Start and end offsets of the tokens of *text* (see the module docstring)."""
    bounds = np.fromiter(chain.from_iterable(m.span() for m in TOKEN.finditer(text)), dtype=np.intp)
    return bounds[0::2].copy(), bounds[1::2].copy()


def _tokenize_all(texts: list[str]) -> tuple[Codes, Codes, Codes]:
    """Tokens of every text at once: start and end in their own text, and the text's index. The texts
    are joined by newlines, which no token crosses, so one pass of the expression serves them all."""
    starts, ends = tokenize("\n".join(texts))
    base = np.concatenate([[0], np.cumsum([len(t) + 1 for t in texts])]).astype(np.intp)
    text_of = (np.searchsorted(base, starts, side="right") - 1).astype(np.intp)
    return starts - base[text_of], ends - base[text_of], text_of


def encode_tags(data: EncodedAnswers) -> EncodedTags:
    """Tokenise every task's text and turn every answer into one tag per token of its task."""
    if data.texts is None:
        raise ValueError("span aggregation needs the task's text (column 'text')")
    tok_start, tok_end, tok_task = _tokenize_all(data.texts)
    n_tok = np.bincount(tok_task, minlength=data.n_tasks).astype(np.intp)
    task_tok = np.concatenate([[0], np.cumsum(n_tok)]).astype(np.intp)
    # Cells: answer a covers the tokens of its task, at cells cell_first[a]:cell_first[a] + n_tok[task].
    per_answer = n_tok[data.task]
    cell_first = np.concatenate([[0], np.cumsum(per_answer)]).astype(np.intp)
    cell_answer = np.repeat(np.arange(data.n_answers, dtype=np.intp), per_answer)
    n_cells = int(cell_first[-1])
    cell_token = (
        task_tok[data.task[cell_answer]] + np.arange(n_cells, dtype=np.intp) - cell_first[cell_answer]
    )
    cell_tag = _answer_tags(data, tok_start, tok_end, task_tok, cell_first, n_cells)
    return EncodedTags(
        data, tok_start, tok_end, tok_task, task_tok, cell_token, data.worker[cell_answer], cell_tag
    )


def _answer_tags(
    data: EncodedAnswers, tok_start: Codes, tok_end: Codes, task_tok: Codes, cell_first: Codes, n_cells: int
) -> Codes:
    spans = data.spans
    tags = np.zeros(n_cells, dtype=np.intp)
    if spans.n_spans == 0 or len(tok_start) == 0:
        return tags
    # Offsets made global (each task's text after the previous ones) so one searchsorted serves all.
    lens = np.array([len(t) for t in data.texts or []], dtype=np.intp)
    base = np.concatenate([[0], np.cumsum(lens + 1)])[:-1].astype(np.intp)
    tok_base = np.repeat(base, np.diff(task_tok))
    span_task = data.task[spans.owner]
    first = np.searchsorted(tok_end + tok_base, spans.start + base[span_task], side="right")
    last = np.searchsorted(tok_start + tok_base, spans.end + base[span_task], side="left") - 1
    keep = first <= last
    # Priority within an answer: earlier start, then longer, then smaller label.
    order = np.lexsort((spans.label, -spans.end, spans.start, spans.owner))
    order = order[keep[order]]
    first, last, owner, label = first[order], last[order], spans.owner[order], spans.label[order]
    length = last - first + 1
    span_id = np.repeat(np.arange(len(order), dtype=np.intp), length)
    offset = np.arange(int(length.sum()), dtype=np.intp) - np.repeat(np.cumsum(length) - length, length)
    task_of = data.task[owner]
    cells = cell_first[owner][span_id] + (first - task_tok[task_of])[span_id] + offset
    won_cells, won = np.unique(cells, return_index=True)  # first in priority order wins the cell
    winner = span_id[won]
    starts_here = np.ones(len(won_cells), dtype=bool)
    starts_here[1:] = (won_cells[1:] != won_cells[:-1] + 1) | (winner[1:] != winner[:-1])
    tags[won_cells] = 1 + 2 * label[winner] + (~starts_here)
    return tags


def decode_tags(tags: Codes, tok_task: Codes) -> tuple[Codes, Codes, Codes]:
    """Spans of a tag sequence over tokens (CoNLL's rule): first token, last token, label code each."""
    inside = tags > 0
    label = np.where(inside, (tags - 1) // 2, -1)
    is_i = inside & (tags % 2 == 0)
    cont = np.zeros(len(tags), dtype=bool)
    cont[1:] = is_i[1:] & inside[:-1] & (label[1:] == label[:-1]) & (tok_task[1:] == tok_task[:-1])
    start = inside & ~cont
    first = np.flatnonzero(start)
    member = np.flatnonzero(inside)  # spans are contiguous runs of start-then-continuations
    span_of = np.cumsum(start)[member] - 1
    last = member[np.searchsorted(span_of, np.arange(len(first)), side="right") - 1]
    return first.astype(np.intp), last.astype(np.intp), label[first].astype(np.intp)


def spans_series(enc: EncodedTags, tags: Codes) -> pd.Series:
    """Series indexed by every task: its spans ``[start, end, label]``, sorted, from one tag per token."""
    first, last, label = decode_tags(tags, enc.tok_task)
    return span_lists(
        enc.answers.tasks,
        enc.tok_task[first],
        enc.tok_start[first],
        enc.tok_end[last],
        enc.answers.labels.take(label),
    )


def span_lists(tasks: pd.Index, task: Codes, start: Codes, end: Codes, label: pd.Index) -> pd.Series:
    """Span lists per task (sorted by start, end, label) from parallel arrays; ``[]`` for none."""
    frame = pd.DataFrame({"t": task, "s": start, "e": end, "l": np.asarray(label, dtype=object)})
    frame = frame.sort_values(["t", "s", "e", "l"], kind="stable")
    rows = [[int(s), int(e), str(lab)] for s, e, lab in zip(frame["s"], frame["e"], frame["l"], strict=True)]
    bounds = np.searchsorted(frame["t"].to_numpy(), np.arange(len(tasks) + 1))
    values = [rows[bounds[t] : bounds[t + 1]] for t in range(len(tasks))]
    return pd.Series(values, index=tasks.rename("task"), name="spans", dtype=object)


def bio_to_spans(tags: Sequence[str], starts: Sequence[int], ends: Sequence[int]) -> list[list[int | str]]:
    """Character spans ``[start, end, label]`` of one token sequence tagged ``O``/``B-x``/``I-x``.

    ``starts[i]``/``ends[i]`` are token i's character offsets. CoNLL's rule (module docstring); a tag
    other than ``O`` must have a ``B-``/``I-`` prefix (IOB1 and BIO both read correctly).
    """
    if not len(tags) == len(starts) == len(ends):
        raise ValueError("tags, starts and ends must have the same length")
    names: list[str] = []
    codes = np.zeros(len(tags), dtype=np.intp)
    seen: dict[str, int] = {}
    for i, tag in enumerate(tags):
        if tag == "O":
            continue
        prefix, _, name = tag.partition("-")
        if prefix not in ("B", "I") or not name:
            raise ValueError(f"tag {i} must be O, B-<label> or I-<label>, got {tag!r}")
        code = seen.setdefault(name, len(names))
        if code == len(names):
            names.append(name)
        codes[i] = 1 + 2 * code + (prefix == "I")
    first, last, label = decode_tags(codes, np.zeros(len(tags), dtype=np.intp))
    s, e = np.asarray(starts, dtype=np.intp), np.asarray(ends, dtype=np.intp)
    return [[int(s[a]), int(e[b]), names[c]] for a, b, c in zip(first, last, label, strict=True)]
