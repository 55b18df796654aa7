"""Span aggregation on real crowd NER answers against the CoNLL-2003 gold: 200 Reuters documents with
1-8 MTurk annotators each (../shared/data/media/spans/conll_mturk_val; Rodrigues et al. 2014, released
with Nguyen et al. 2017). Read at run time through bench/spans.py's loader, never copied into the
repository; in CI a missing set fails."""

from __future__ import annotations

import importlib.util
import os
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from seqeval.metrics import f1_score

from labelloop.quality import (
    TokenDawidSkene,
    TokenMajorityVote,
    annotator_span_scores,
    default_span_aggregator,
    pairwise_span_agreement,
    span_f1,
)

ROOT = Path(__file__).resolve().parents[2]
# What the aggregators reached when they were written (docs/quality.md, "Spans"), less a margin for
# floating-point differences between machines; the issue asks for 3 points over the vote.
DEFAULT_F1, VOTE_F1 = 0.745, 0.644


@cache
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_spans", ROOT / "bench" / "spans.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_spans"] = module
    spec.loader.exec_module(module)
    return module


@cache
def conll() -> tuple[pd.DataFrame, pd.Series]:
    folder = bench().CONLL
    if not folder.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"dataset conll_mturk_val not found at {folder}")
        pytest.skip(f"dataset conll_mturk_val not available at {folder}")
    answers, gold = bench().load_conll_mturk()
    return answers, gold


def test_loader_rebuilds_the_documents_and_aligns_the_workers() -> None:
    answers, gold = conll()
    # 200 gold documents, one of which (341 entities) nobody answered: it is left out.
    assert len(gold) == 199 and answers["task"].nunique() == 199 and answers["worker"].nunique() == 46
    assert len(answers) == 983
    assert int(gold.map(len).sum()) == 5276 - 341  # B- tags in the gold files
    texts = answers.drop_duplicates("task").set_index("task")["text"]
    for task, spans in gold.items():
        for start, end, _ in spans:
            assert texts[task][start:end] == texts[task][start:end].strip() != ""
    # Where a worker's tokens are the gold's, their character spans score exactly as their tags do.
    folder = bench().CONLL
    checked = 0
    for worker_dir in sorted((folder / "mturk_train_data").iterdir())[:10]:
        for path in sorted(worker_dir.glob("*.txt")):
            ours, tags = bench().read_conll(path)
            ref, ref_tags = bench().read_conll(folder / "ground_truth" / path.name)
            if [t for s in ours for t in s] != [t for s in ref for t in s] or not any(
                t != "O" for s in tags for t in s
            ):
                continue
            row = answers[(answers["task"] == path.stem) & (answers["worker"] == worker_dir.name)]
            ours_f1 = span_f1({path.stem: row["spans"].iat[0]}, gold[[path.stem]])
            assert ours_f1 == pytest.approx(
                f1_score([[t for s in ref_tags for t in s]], [[t for s in tags for t in s]])
            )
            checked += 1
    assert checked > 20


def test_default_aggregator_beats_the_token_vote_by_three_points() -> None:
    answers, gold = conll()
    spans = default_span_aggregator().fit_predict(answers)
    assert set(spans.index) == set(gold.index)
    ours = span_f1(spans, gold)
    vote = span_f1(TokenMajorityVote().fit_predict(answers), gold)
    assert vote == pytest.approx(VOTE_F1, abs=0.002)
    assert ours >= DEFAULT_F1
    assert ours >= vote + 0.03
    assert span_f1(TokenDawidSkene().fit_predict(answers), gold) >= vote + 0.03


def test_with_fewer_annotators_per_document_the_default_still_wins() -> None:
    """Three annotators per document at most (a random subset): sparser than the set, as most projects."""
    answers, gold = conll()
    rng = np.random.default_rng(0)
    few = answers.assign(r=rng.random(len(answers))).sort_values("r").groupby("task").head(3)
    ours = span_f1(default_span_aggregator().fit_predict(few), gold)
    assert ours >= span_f1(TokenMajorityVote().fit_predict(few), gold) + 0.03


def test_agreement_and_annotator_scores_on_the_real_set() -> None:
    answers, gold = conll()
    exact, overlap = pairwise_span_agreement(answers), pairwise_span_agreement(answers, match="overlap")
    assert 0.3 < exact < overlap < 0.8
    table = annotator_span_scores(answers, gold)
    assert len(table) == 46 and table["n_tasks"].sum() == len(answers)
    assert table["f1"].between(0, 1).all()
    # Against the aggregate instead of the gold, annotators rank much as they do against the gold.
    versus_aggregate = annotator_span_scores(answers, default_span_aggregator().fit_predict(answers))
    busy = table["n_tasks"] >= 10
    corr = np.corrcoef(table.loc[busy, "f1"], versus_aggregate.loc[busy[busy].index, "f1"])[0, 1]
    assert corr > 0.8
