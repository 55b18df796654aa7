"""Baseline for transcript aggregation: one annotator's transcript per clip, drawn at random.

What a single annotator gives; the aggregators must beat it (the CrowdSpeech paper's "random worker").
"""

from __future__ import annotations

from typing import Self

import numpy as np
import pandas as pd

from labelloop.quality.texts._input import TextAnswers, encode_texts, to_text_frame


class RandomWorker:
    """Each task's text is one of its answers, drawn at random (``seed``), as typed.

    Learned: ``texts_``, ``workers_`` (the worker drawn per task).
    """

    texts_: pd.Series
    workers_: pd.Series

    def __init__(self, *, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, answers: TextAnswers) -> Self:
        data = encode_texts(answers)  # validation and the rules on missing and duplicate rows
        frame = to_text_frame(answers)
        frame = frame[frame["text"].notna()]
        frame = frame.drop_duplicates(["task", "worker"], keep="last")
        rng = np.random.default_rng(self.seed)
        order = np.lexsort((rng.random(len(frame)), pd.Index(data.tasks).get_indexer(frame["task"])))
        first = frame.iloc[order].drop_duplicates("task")
        picked = first.set_index("task").reindex(data.tasks)
        self.texts_ = pd.Series(picked["text"].to_numpy(), index=data.tasks.copy(), name="text", dtype=object)
        self.workers_ = pd.Series(picked["worker"].to_numpy(), index=data.tasks.copy(), name="worker")
        return self

    def fit_predict(self, answers: TextAnswers) -> pd.Series:
        return self.fit(answers).texts_
