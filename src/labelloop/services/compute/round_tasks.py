"""The per-item steps of a loop round as tasks over batches (run by batches.py or ray_batches.py).

- `embed_span`: the texts of the project's items with ids in `[first_id, last_id]`, read from the
  database by the task itself (a Ray worker opens its own connection), embedded, and returned as
  `(item ids, vectors)`. The default text encoder, hashed TF-IDF, keeps no vocabulary (an item's
  vector depends on that item alone), so batches embed apart and give the vectors one call would.
- `predict_rows`: the trained built-in model's probabilities for a slice of the embeddings, and
  the item scores an uncertainty strategy ranks by (`labelloop.learn.strategies.item_scores`).
- `disagreement_rows`: the labelled items of a slice whose consensus the model confidently
  contradicts (`labelloop.learn.consensus_disagreements`), as indices into the whole set.

Each is a per-item map; what needs the whole set (training, k-center and k-means selection,
the label-error mixture over every label, ranking) stays with the round.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import make_url, select

from labelloop.errors import Invalid, Problem
from labelloop.learn.encoder_base import Encoder, Vectors
from labelloop.store.db import Database
from labelloop.store.models import items, published_in

_opened: dict[str, Database] = {}
_opening = threading.Lock()


def absolute_url(url: str) -> str:
    """`url` with a SQLite file's path made absolute (a task's process may start elsewhere)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return url
    if not parsed.database or parsed.database == ":memory:":
        raise Invalid("a Ray round cannot read an in-memory SQLite database", [Problem(
            "use a SQLite file or PostgreSQL, or unset LABELLOOP_RAY_ADDRESS", field="database_url")])
    return parsed.set(database=str(Path(parsed.database).resolve())).render_as_string(hide_password=False)


class ItemSource:
    """Where a task reads a project's items: this process's database, or, once sent to another
    process, a connection that process opens from the URL (one per process, kept)."""

    def __init__(self, db: Database) -> None:
        self.url = absolute_url(db.url)
        self._db: Database | None = db

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.url, self._db = state["url"], None

    def database(self) -> Database:
        if self._db is None:
            with _opening:
                if self.url not in _opened:
                    _opened[self.url] = Database(self.url, pool_size=1)
                self._db = _opened[self.url]
        return self._db


def item_text(text_fields: Sequence[str], data: dict[str, Any]) -> str:
    """What a round embeds of a text item: its text fields, one a line."""
    return "\n".join(str(data.get(name, "")) for name in text_fields)


def embed_span(
    source: ItemSource, project_id: int, first_id: int, last_id: int, *, text_fields: Sequence[str],
    encoder: Encoder[str], cache_dir: Path | None,
) -> tuple[np.ndarray, Vectors]:
    """`(ids, vectors)` of the project's published items with ids in `[first_id, last_id]`."""
    from labelloop.learn.cache import EmbeddingCache
    from labelloop.learn.encoders import embed

    with source.database().read() as conn:
        rows = conn.execute(select(items.c.id, items.c.data).where(
            published_in(project_id), items.c.id.between(first_id, last_id)).order_by(items.c.id)).all()
    ids = np.array([r.id for r in rows], dtype=np.int64)
    texts = [item_text(text_fields, r.data) for r in rows]
    if cache_dir is None:
        return ids, embed(encoder, texts)
    with EmbeddingCache(cache_dir) as cache:
        return ids, embed(encoder, texts, cache=cache)


def predict_rows(x: np.ndarray, *, model: Any, classes: list[str], question: str,
                 score: str | None) -> tuple[np.ndarray, np.ndarray | None]:
    """The built-in model's probabilities for `x`, and with `score` (an uncertainty strategy)
    each row's score under it."""
    from threadpoolctl import threadpool_limits

    from labelloop.learn.strategies import item_scores

    with threadpool_limits(1):  # as the round's own process: one BLAS thread, the same sums
        proba = np.asarray(model.predict_proba([], x, classes, question), dtype=np.float64)
    return proba, None if score is None else item_scores(proba, score)


def disagreement_rows(start: int, y: np.ndarray, oof: np.ndarray, confidence: np.ndarray, *,
                      min_model_confidence: float) -> np.ndarray:
    """Indices (from `start`, into the whole set) of the rows the model confidently contradicts."""
    from labelloop.learn import consensus_disagreements

    found = consensus_disagreements(y, oof, consensus_confidence=confidence,
                                    min_model_confidence=min_model_confidence)
    return np.asarray(found, dtype=np.intp) + start
