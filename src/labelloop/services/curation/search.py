"""Search a project's items by meaning: "items like this one" and free text.

The vectors are the latest loop round's embeddings (`round_vectors`: read from the loop's
embedding cache, nothing is embedded but a text query). Each (project, model version) gets one
`VectorIndex`, built on first use and kept in a small least-recently-used cache of this process;
a new round is a new model version, so its index is built afresh. An HNSW index (from
`EXACT_BELOW` items: minutes to build at a million) is also saved under the data folder, so the
other workers of the same data folder and a restarted server load it in seconds instead of
building it again; only the latest round's file of a project is kept, and erasure, retention and
the project's deletion delete them (the vectors come from item content). Items imported after
the round have no vector and are not found. On PostgreSQL with pgvector the index is a table of
the database instead (`pg_vectors`), built once for every worker. The caller must be allowed to
view the project's items (reviewers and up, as the item list), and sees each preview as the item
views show it (personal data redacted).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select

from labelloop.curation.vector_index import EXACT_BELOW, VectorIndex
from labelloop.errors import Conflict, NotFound
from labelloop.services.curation import pg_vectors
from labelloop.services.curation.duplicates import _preview
from labelloop.services.curation.round_vectors import RoundEncoder, latest_round_encoder, round_embeddings
from labelloop.services.policy import Action, Actor, ProjectAccess, access
from labelloop.services.privacy import view as privacy
from labelloop.services.projects import schema_of
from labelloop.store.db import Database
from labelloop.store.models import items, published_in

log = logging.getLogger(__name__)
MAX_K = 100
CACHED_INDEXES = 4
_BATCH = 5000
SAVED = "search"  # the data folder's saved HNSW indexes: p<project>-v<model version>-<time>.usearch

_lock = threading.Lock()
Searchable = VectorIndex | pg_vectors.VectorTable
_indexes: OrderedDict[tuple[Any, ...], tuple[RoundEncoder, Searchable]] = OrderedDict()


def like(db: Database, actor: Actor, project_id: int, item_id: int, k: int = 10, *,
         data_dir: Path) -> list[dict[str, Any]]:
    """The `k` items most similar to `item_id` (the item itself first), best first."""
    acc = _access(db, actor, project_id)
    with db.read() as conn:
        row = conn.execute(select(items.c.id, items.c.data).where(
            items.c.id == item_id, published_in(project_id))).first()
    if row is None:
        raise NotFound(f"item {item_id} not found in project {project_id}")
    encoder, index = _index(db, acc, data_dir)
    _found, vectors, why_not = round_embeddings(db, project_id, [row], *_fields(acc), data_dir)
    if vectors is None or not np.abs(vectors[0]).sum() > 0:
        raise Conflict(why_not or f"item {item_id} has no embedding in the latest loop round "
                       f"(model version {encoder.model_version_id}): run a round to embed it")
    return _results(db, actor, acc, *index.search(vectors[0], _k(k)))


def text(db: Database, actor: Actor, project_id: int, query: str, k: int = 10, *,
         data_dir: Path) -> list[dict[str, Any]]:
    """The `k` items most similar to `query`, embedded with the latest round's text encoder."""
    acc = _access(db, actor, project_id)
    encoder, index = _index(db, acc, data_dir)
    if not encoder.is_text:
        raise Conflict(f"the latest round's encoder {encoder.name!r} embeds images: "
                       "a text query needs a text encoder; search with like=<item id>")
    vector = np.asarray(encoder.encoder.encode_batch([query]), dtype=np.float32)[0]
    return _results(db, actor, acc, *index.search(vector, _k(k)))


def prepare(db: Database, actor: Actor, project_id: int, *, data_dir: Path) -> bool:
    """After a loop round: build the round's index now (an HNSW file, or the pgvector table), so
    that the first search does not wait minutes for it; whether one was built. Small projects are
    searched exactly and need none; a project that cannot be searched is no failure of the round."""
    acc = _access(db, actor, project_id)
    with db.read() as conn:
        n = conn.execute(select(func.count()).select_from(items).where(published_in(project_id))).scalar_one()
    if n < EXACT_BELOW:
        return False
    try:
        _index(db, acc, data_dir)
    except Conflict:
        return False
    except (OSError, RuntimeError, ValueError) as e:  # the round stands; the first search builds it
        log.warning("project %s: the search index was not built after the round: %s", project_id, e)
        return False
    return True


def forget_indexes() -> None:
    """Drop this process's indexes (tests, and after the embedding cache was rebuilt)."""
    with _lock:
        _indexes.clear()
    pg_vectors.forget()


def _access(db: Database, actor: Actor, project_id: int) -> ProjectAccess:
    with db.read() as conn:
        return access(conn, actor, project_id, Action.view_items)


def _k(k: int) -> int:
    return max(1, min(int(k), MAX_K))


def _fields(acc: ProjectAccess) -> tuple[list[str], str | None]:
    schema = schema_of(acc.project.label_schema)
    return ([f.name for f in schema.fields if f.type == "text"],
            next((f.name for f in schema.fields if f.type == "image"), None))


def _index(db: Database, acc: ProjectAccess, data_dir: Path,
           ) -> tuple[RoundEncoder, Searchable]:
    """The project's index for its latest round: from this process's cache, else built now."""
    project_id = acc.project.id
    encoder, why_not = latest_round_encoder(db, project_id)
    if encoder is None:
        raise Conflict(f"project {project_id} cannot be searched: {why_not}")
    key = (db.url, str(data_dir), project_id, encoder.model_version_id, encoder.created_at)
    with _lock:
        if key in _indexes:
            _indexes.move_to_end(key)
            return _indexes[key]
    table = None
    if pg_vectors.available(db):  # a table of the database, built once for every worker
        table = pg_vectors.vector_table(
            db, project_id, encoder.model_version_id, f"{encoder.name} {encoder.created_at.isoformat()}",
            int(encoder.encoder.dim), lambda: _batches(db, acc, data_dir))
    built = (encoder, table if table is not None else _saved_or_built(db, acc, data_dir, encoder))
    with _lock:
        _indexes[key] = built
        _indexes.move_to_end(key)
        while len(_indexes) > CACHED_INDEXES:
            _indexes.popitem(last=False)
    return built


def _batches(db: Database, acc: ProjectAccess, data_dir: Path,
             ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The published items' round vectors, a batch at a time: (ids, vectors)."""
    project_id = acc.project.id
    with db.read() as conn:
        rows = conn.execute(select(items.c.id, items.c.data).where(
            published_in(project_id)).order_by(items.c.id)).all()
    text_fields, image_field = _fields(acc)
    for start in range(0, max(len(rows), 1), _BATCH):  # bounded reads of the embedding cache
        batch = rows[start:start + _BATCH]
        encoder, vectors, why_not = round_embeddings(
            db, project_id, batch, text_fields, image_field, data_dir)
        if encoder is None or vectors is None:
            raise Conflict(f"project {project_id} cannot be searched: {why_not}")
        yield np.array([r.id for r in batch], dtype=np.int64), vectors


def _saved_path(data_dir: Path, project_id: int, encoder: RoundEncoder) -> Path:
    stamp = encoder.created_at.strftime("%Y%m%dT%H%M%S%f")  # a recreated database reuses version ids
    return data_dir / SAVED / f"p{project_id}-v{encoder.model_version_id}-{stamp}.usearch"


def _saved_or_built(db: Database, acc: ProjectAccess, data_dir: Path, encoder: RoundEncoder) -> VectorIndex:
    """The round's index from its saved file, else built now (and saved when it is an HNSW graph,
    written whole to a temporary name first: a reader never sees half a file)."""
    path = _saved_path(data_dir, acc.project.id, encoder)
    if path.is_file():
        try:
            return VectorIndex.load(path)
        except (OSError, ValueError, RuntimeError):  # unreadable: built again below
            path.unlink(missing_ok=True)
    index = _build(db, acc, data_dir)
    if not index.exact:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        index.save(part)
        os.replace(part, path)
        for old in path.parent.glob(f"p{acc.project.id}-v*.usearch"):  # earlier rounds' files
            if old != path:
                old.unlink(missing_ok=True)
    return index


def drop_saved_indexes(data_dir: Path, project_id: int | None = None) -> int:
    """Delete the saved indexes of one project (or all), and this process's copies; the number of
    files deleted. Other processes keep theirs in memory until restarted, and never return an item
    that is gone (results are read from the items table)."""
    forget_indexes()
    pattern = f"p{project_id}-v*.usearch" if project_id is not None else "*.usearch"
    files = list((data_dir / SAVED).glob(pattern)) if (data_dir / SAVED).is_dir() else []
    for f in files:
        f.unlink(missing_ok=True)
    return len(files)


def _build(db: Database, acc: ProjectAccess, data_dir: Path) -> VectorIndex:
    ids, parts = [], []
    for batch_ids, vectors in _batches(db, acc, data_dir):
        ids.append(batch_ids)
        parts.append(vectors)
    try:
        return VectorIndex.build(np.concatenate(ids), np.concatenate(parts))
    except ImportError as e:  # usearch, for more items than the exact search takes
        raise Conflict(f"project {acc.project.id} has {sum(map(len, ids))} items: searching them "
                       f"needs {e.name or e}: install labelloop[curation]") from None


def _results(db: Database, actor: Actor, acc: ProjectAccess, ids: np.ndarray, sims: np.ndarray,
             ) -> list[dict[str, Any]]:
    """The found items still in the project, in the order found, previews as the item views show them."""
    wanted = [int(i) for i in ids]
    with db.read() as conn:
        rows = conn.execute(select(items.c.id, items.c.external_id, items.c.data).where(
            items.c.id.in_(wanted), published_in(acc.project.id))).all()
        shown = privacy.viewer_redactions(conn, acc, actor, list(rows))
    by_id = {r.id: r for r in rows}
    fields = [f.name for f in schema_of(acc.project.label_schema).fields]
    out = []
    for item_id, sim in zip(wanted, sims, strict=True):
        r = by_id.get(item_id)
        if r is None:  # deleted or moved since the round
            continue
        data = r.data if shown is None else shown[r.id].data
        out.append({"item_id": item_id, "external_id": r.external_id,
                    "similarity": round(float(sim), 4), "preview": _preview(fields, data)})
    return out
