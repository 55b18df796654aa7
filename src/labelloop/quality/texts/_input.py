"""Input checking, normalisation and integer encoding of long transcript tables, done once at the boundary.

Text aggregators accept a :class:`pandas.DataFrame` (or a mapping of equally long columns) with columns
``task``, ``worker``, ``text``: each ``text`` is a transcript as typed (case and punctuation vary
between annotators). The rules follow :mod:`labelloop.quality._input`:

1. a row whose ``text`` is missing (``None``/``NaN``) is no answer and is dropped; an empty string is an
   answer ("nothing was said") and stays;
2. any other non-string ``text`` is an error naming the row, task and worker;
3. a missing ``task`` or ``worker`` id is an error;
4. duplicate ``(task, worker)`` rows: the last row wins;
5. nothing left is an error.

**Normalisation** (for alignment, voting and word error rates): a transcript is cut into written
tokens at white space and at dashes, hyphens and slashes (``air-tight`` is two words, as LibriSpeech
writes compounds); each token is lower-cased and loses every character that is neither a letter nor a
digit (``"Don't,`` -> ``dont``); tokens left empty (a lone ``-``) are dropped. Each remaining token keeps
its *written form* (``"Don't,``) so that aggregators can output what annotators typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import NDArray

Codes: TypeAlias = NDArray[np.intp]
Floats: TypeAlias = NDArray[np.float64]
TextAnswers: TypeAlias = "pd.DataFrame | Mapping[str, Any]"

COLUMNS = ("task", "worker", "text")
# where a written token ends: white space, hyphens and dashes (U+2010..U+2015), slashes
SPLIT = r"[\s\-\u2010-\u2015/\\]+"
# what normalisation deletes inside a token: anything that is not a letter or digit (\w minus "_")
KEEP = r"[^\w\s]|_"


@dataclass(frozen=True, eq=False)
class EncodedTexts:
    """Answers as codes: answer i is ``(task[i], worker[i])``; its words are ``words[i, :length[i]]``.

    ``words`` is padded with -1; word codes index ``vocabulary`` (normalised words, sorted);
    ``forms`` holds the written form of each word, same shape (``""`` in the padding).
    """

    task: Codes
    worker: Codes
    words: NDArray[np.int64]
    length: Codes
    forms: NDArray[np.object_]
    tasks: pd.Index
    workers: pd.Index
    vocabulary: pd.Index

    @property
    def n_answers(self) -> int:
        return int(self.task.shape[0])

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    @property
    def n_workers(self) -> int:
        return len(self.workers)


def to_text_frame(answers: TextAnswers) -> pd.DataFrame:
    """Check the shape of *answers* and return it as a DataFrame with the three columns."""
    if isinstance(answers, pd.DataFrame):
        frame = answers
    elif isinstance(answers, Mapping):
        frame = pd.DataFrame({key: answers[key] for key in answers})
    else:
        raise TypeError(
            "answers must be a DataFrame with columns task, worker, text or a mapping with those keys; "
            f"got {type(answers).__name__}"
        )
    missing = [col for col in COLUMNS if col not in frame.columns]
    if missing:
        raise ValueError(f"answers lack column(s) {missing}; they have {list(frame.columns)}")
    return frame


def tokenize(texts: pd.Series) -> pd.DataFrame:
    """Written tokens of each text: a frame ``row, form, word`` (``row`` is the position in *texts*)."""
    # split on the text, not per token: one regex call per text; lower() and deleting punctuation
    # create no separators, so the written and normalised token lists line up one to one
    spaced = texts.reset_index(drop=True).astype(object).str.replace(SPLIT, " ", regex=True).str.strip()
    forms = spaced.str.split(" ").explode()
    words = spaced.str.lower().str.replace(KEEP, "", regex=True).str.split(" ").explode()
    keep = (words.notna() & (words != "")).to_numpy()
    return pd.DataFrame(
        {
            "row": forms.index.to_numpy()[keep],
            "form": forms.to_numpy()[keep].astype(object),
            "word": words.to_numpy()[keep].astype(object),
        }
    )


def normalize(text: str) -> list[str]:
    """The normalised words of one text (lower case, no punctuation; see the module docstring)."""
    return list(tokenize(pd.Series([text], dtype=object))["word"])


def _check_texts(frame: pd.DataFrame, texts: pd.Series) -> None:
    bad = ~texts.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        label = frame.index[pos]
        value = texts.iloc[pos]
        raise ValueError(
            f"row {label!r} (task {frame['task'].iloc[pos]!r}, worker {frame['worker'].iloc[pos]!r}): "
            f"text must be a string, got {type(value).__name__} {value!r}"
        )


def encode_texts(answers: TextAnswers) -> EncodedTexts:
    """Validate, normalise and encode transcripts (see the module docstring for the rules)."""
    frame = to_text_frame(answers)
    present = frame["text"].notna().to_numpy(dtype=bool)
    frame = frame[present] if not present.all() else frame
    if len(frame) == 0:
        raise ValueError("answers are empty: no row with a text")
    texts = frame["text"]
    _check_texts(frame, texts)
    for name in ("task", "worker"):
        if frame[name].isna().any():
            pos = int(np.flatnonzero(frame[name].isna().to_numpy())[0])
            raise ValueError(f"row {frame.index[pos]!r}: column {name!r} has a missing id")
    task, tasks = pd.factorize(frame["task"], sort=False)
    worker, workers = pd.factorize(frame["worker"], sort=False)
    key = task.astype(np.int64) * max(len(workers), 1) + worker
    last = ~pd.Series(key).duplicated(keep="last").to_numpy()
    if not last.all():
        task, worker, texts = task[last], worker[last], texts[last]
    tokens = tokenize(texts)
    word, vocabulary = pd.factorize(tokens["word"], sort=True)
    n = len(task)
    row = tokens["row"].to_numpy(dtype=np.intp)
    length = np.bincount(row, minlength=n).astype(np.intp)
    # tokens come out in row order, so a token's position is its rank within its row
    starts = np.concatenate([[0], np.cumsum(length)[:-1]])
    pos = np.arange(len(row)) - starts[row]
    width = max(int(length.max(initial=0)), 1)
    words = np.full((n, width), -1, dtype=np.int64)
    words[row, pos] = word
    forms = np.full((n, width), "", dtype=object)
    forms[row, pos] = tokens["form"].to_numpy()
    return EncodedTexts(
        task=task.astype(np.intp),
        worker=worker.astype(np.intp),
        words=words,
        length=length,
        forms=forms,
        tasks=pd.Index(tasks),
        workers=pd.Index(workers),
        vocabulary=pd.Index(vocabulary),
    )
