"""A loop round's per-item steps over batches, from the round's side: split the items into
batches, run the tasks (round_tasks.py) with a runner (batches.py), and put the results together
in the items' order. The same batches whichever the runner, so the same arrays (`BATCH_ITEMS`
items each, unless a call says otherwise)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from labelloop.errors import Conflict
from labelloop.learn.encoder_base import Encoder, Vectors
from labelloop.services.compute.batches import BATCH_ITEMS, BatchMap, spans
from labelloop.services.compute.round_tasks import (
    ItemSource,
    disagreement_rows,
    embed_span,
    predict_rows,
)
from labelloop.store.db import Database


@lru_cache(maxsize=4)
def text_encoder(name: str) -> Encoder[str]:
    """The text encoder a setting names, built once per process (a task's too)."""
    from labelloop.learn.encoders import get_encoder

    return get_encoder(name)


def _embed_named(
    source: ItemSource, project_id: int, first_id: int, last_id: int, *, text_fields: Sequence[str],
    encoder: str, cache_dir: Path | None,
) -> tuple[np.ndarray, Vectors]:
    return embed_span(source, project_id, first_id, last_id, text_fields=text_fields,
                      encoder=text_encoder(encoder), cache_dir=cache_dir)


def embed_items(runner: BatchMap, db: Database, project_id: int, ids: np.ndarray, *,
                text_fields: Sequence[str], encoder: str, cache_dir: Path | None,
                batch_items: int | None = None) -> Vectors:
    """The vectors of the project's items `ids` (ascending), each batch read and embedded by a
    task. The encoder travels by name, so no model is pickled (MiniLM's ONNX session cannot be).
    The embedding cache in `cache_dir` serves tasks that see this process's files only."""
    dim = text_encoder(encoder).dim
    out = np.zeros((len(ids), dim), dtype=np.float32)
    source = ItemSource(db)
    parts = spans(len(ids), batch_items or BATCH_ITEMS)
    batches = [(source, project_id, int(ids[a]), int(ids[b - 1])) for a, b in parts]
    for k, (got, vectors) in runner.imap(_embed_named, batches, text_fields=tuple(text_fields),
                                         encoder=encoder,
                                         cache_dir=cache_dir if runner.local_files else None):
        a, b = parts[k]
        want = ids[a:b]
        at = np.minimum(np.searchsorted(got, want), max(len(got) - 1, 0))
        missing = want[got[at] != want] if len(got) else want
        if len(missing):
            raise Conflict(f"item {int(missing[0])} left the project while the round ran; run it again")
        out[a:b] = vectors[at]
    return out


def predict(runner: BatchMap, model: Any, x: np.ndarray, *, classes: list[str], question: str,
            score: str | None, batch_items: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The built-in model's probabilities for every row of `x` and, with `score` (an uncertainty
    strategy), every row's score under it: one task per batch of rows."""
    parts = spans(len(x), batch_items or BATCH_ITEMS)
    found = runner.map(predict_rows, [(x[a:b],) for a, b in parts], model=model, classes=classes,
                       question=question, score=score)
    proba = np.concatenate([p for p, _ in found]) if found else np.zeros((0, len(classes)))
    if score is None:
        return proba, None
    return proba, np.concatenate([s for _, s in found if s is not None]) if found else np.zeros(0)


def disagreements(runner: BatchMap, y: np.ndarray, oof: np.ndarray, confidence: np.ndarray, *,
                  min_model_confidence: float, batch_items: int | None = None) -> np.ndarray:
    """`labelloop.learn.consensus_disagreements` of the labelled rows, searched batch by batch and
    ranked together."""
    from labelloop.learn.label_errors import order_disagreements

    parts = spans(len(y), batch_items or BATCH_ITEMS)
    found = runner.map(disagreement_rows, [(a, y[a:b], oof[a:b], confidence[a:b]) for a, b in parts],
                       min_model_confidence=min_model_confidence)
    flagged = np.concatenate(found) if found else np.zeros(0, dtype=np.intp)
    return order_disagreements(flagged, oof, consensus_confidence=confidence)
