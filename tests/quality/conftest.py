"""Shared helpers for the quality tests: the public crowd datasets and a simulated crowd."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# The datasets live next to the checkout (../shared/data/crowd); LABELLOOP_CROWD_DATA overrides.
CROWD = Path(
    os.environ.get("LABELLOOP_CROWD_DATA", Path(__file__).resolve().parents[3] / "shared" / "data" / "crowd")
)


@cache
def load_crowd(name: str) -> tuple[pd.DataFrame, pd.Series]:
    """labels.csv as strings, and the gold labels of the tasks that have at least one answer."""
    folder = CROWD / name
    if not folder.is_dir():
        # CI has shared/ beside the clone: there a missing data set is a failure, never a skip.
        if os.environ.get("CI"):
            pytest.fail(f"dataset {name} not found at {folder}")
        pytest.skip(f"dataset {name} not available at {folder}")
    answers = pd.read_csv(folder / "labels.csv", dtype=str, keep_default_na=False)
    gold = pd.read_csv(folder / "gold.csv", dtype=str, keep_default_na=False).set_index("task")["label"]
    return answers, gold[gold.index.isin(answers["task"])]


def crowd_meta(name: str) -> dict[str, object]:
    return dict(json.loads((CROWD / name / "meta.json").read_text()))


def accuracy(predicted: pd.Series, gold: pd.Series) -> float:
    return float((predicted.reindex(gold.index) == gold).mean())


def simulate(
    *,
    n_tasks: int,
    confusions: np.ndarray,
    per_task: int,
    prior: np.ndarray | None = None,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.Series]:
    """Answers from workers with known confusion matrices ``confusions[w, true, answered]``."""
    rng = np.random.default_rng(seed)
    n_workers, k, _ = confusions.shape
    prior = np.full(k, 1.0 / k) if prior is None else prior
    truth = rng.choice(k, size=n_tasks, p=prior)
    workers = np.argsort(rng.random((n_tasks, n_workers)), axis=1)[:, :per_task].ravel()
    tasks = np.repeat(np.arange(n_tasks), per_task)
    cum = confusions[workers, truth[tasks]].cumsum(axis=1)
    labels = (rng.random(tasks.shape[0])[:, None] > cum).sum(axis=1).clip(max=k - 1)
    answers = pd.DataFrame({"task": tasks, "worker": workers, "label": labels})
    return answers, pd.Series(truth, index=pd.RangeIndex(n_tasks, name="task"), name="label")


def random_confusions(
    n_workers: int, k: int, *, seed: int = 0, skill: tuple[float, float] = (0.55, 0.95)
) -> np.ndarray:
    """Per-worker confusion matrices with a diagonal drawn in *skill* and random off-diagonal mass."""
    rng = np.random.default_rng(seed)
    diag = rng.uniform(*skill, size=(n_workers, k))
    off = rng.dirichlet(np.ones(k - 1), size=(n_workers, k)) * (1 - diag)[..., None]
    conf = np.zeros((n_workers, k, k))
    for t in range(k):
        others = [j for j in range(k) if j != t]
        conf[:, t, others] = off[:, t]
        conf[:, t, t] = diag[:, t]
    return conf
