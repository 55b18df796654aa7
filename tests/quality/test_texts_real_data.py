"""Transcript aggregation on real crowd transcripts: CrowdSpeech dev-clean and dev-other (LibriSpeech
audio, 7 transcripts per clip; Pavlichenko et al., NeurIPS 2021 Datasets), scored against the LibriSpeech
text. The data is read at run time from ../shared/data/media, never copied; in CI a missing set fails."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from labelloop.quality import ROVER, RandomWorker, annotator_wer, corpus_wer, default_text_aggregator

MEDIA = Path(
    os.environ.get("LABELLOOP_MEDIA_DATA", Path(__file__).resolve().parents[3] / "shared" / "data" / "media")
)
# crowd-kit 1.4.2's ROVER on the same normalised text (bench/audio.py measures it in its own venv):
# 5.82% and 11.81%. Asserted: what the default reaches (5.22%, 10.52%) with a little room, and at least
# 8% relative below crowd-kit's figures (the bench checks the 10% against a fresh crowd-kit run).
CROWDKIT_ROVER = {"clean": 0.0582, "other": 0.1181}
OURS_AT_MOST = {"clean": 0.0530, "other": 0.1065}


@cache
def crowdspeech(split: str) -> tuple[pd.DataFrame, pd.Series]:
    folder = MEDIA / "transcripts" / f"crowdspeech_dev_{split}"
    if not folder.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"dataset crowdspeech_dev_{split} not found at {folder}")
        pytest.skip(f"dataset crowdspeech_dev_{split} not available at {folder}")
    answers = pd.read_csv(folder / "answers.csv", dtype=str, keep_default_na=False)
    gold = pd.read_csv(folder / "gold.csv", dtype=str, keep_default_na=False).set_index("task")["text"]
    return answers, gold


@pytest.mark.parametrize("split", ["clean", "other"])
def test_default_beats_rover_and_one_worker_on_crowdspeech(split: str) -> None:
    answers, gold = crowdspeech(split)
    model = default_text_aggregator()
    texts = model.fit_predict(answers)
    assert set(texts.index) == set(answers["task"])
    ours = corpus_wer(texts, gold)
    plain = corpus_wer(ROVER().fit_predict(answers), gold)
    one = corpus_wer(RandomWorker(seed=0).fit_predict(answers), gold)
    assert ours <= OURS_AT_MOST[split]
    assert ours <= 0.92 * CROWDKIT_ROVER[split]
    assert ours < plain < 0.5 * one
    # learned skills rank annotators as gold does: the 20 most-active workers' skills against their
    # gold WER (Spearman) are strongly anti-correlated
    gold_wer = annotator_wer(answers, gold)
    busy = gold_wer[gold_wer["n_tasks"] >= 20].index
    rho = model.skills_[busy].rank().corr(gold_wer.loc[busy, "wer"].rank())
    assert rho < -0.7
    # the output is what annotators typed: cased and punctuated where most of them did so
    assert texts.str.contains(r"[A-Z]").mean() > 0.5
