"""The embedding map: the latest loop round's item embeddings projected onto a plane, with what
each point can be coloured by.

The projection is PCA onto the first two principal components (the eigenvectors of the d x d
covariance, `numpy.linalg.eigh`: one product over the points, no iterative solver), each axis
signed so that its largest loading is positive, so the same vectors always give the same picture.
A project with more than `MAX_POINTS` embedded items is drawn from a sample of that many, drawn
with the round's model version as seed (the same sample for every request of a round). The
vectors are read from the round's embedding cache (`round_vectors`, nothing is embedded); items
without one (imported after the round) are left out and counted. Each (project, round) gets one
projection, kept in a small least-recently-used cache of this process; the colours (label,
consensus confidence, whether the round's model disagrees with it, annotators) are read fresh on
every request, so a new answer shows without a new round.

Annotators must never see one another's labels: the map is for managers (the quality reports'
role), like the annotator reports it is coloured by.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from labelloop.errors import Conflict, Invalid, Problem
from labelloop.services.curation.round_vectors import latest_round_encoder, round_embeddings
from labelloop.services.policy import Action, Actor, ProjectAccess, access
from labelloop.services.projects import schema_of
from labelloop.store.db import Database
from labelloop.store.models import answers, consensus, items, model_versions, predictions, published_in, users

MAX_POINTS = 20_000
CACHED_MAPS = 4
_BATCH = 5000
_lock = threading.Lock()
_maps: OrderedDict[tuple[Any, ...], Projection] = OrderedDict()


@dataclass(frozen=True)
class Projection:
    """A round's map: the sampled items that have an embedding and their plane coordinates."""

    model_version_id: int
    encoder: str
    question: str
    ids: np.ndarray  # int64, ascending
    xy: np.ndarray  # float32 (n, 2)
    items: int  # published items when it was made
    sampled: int  # items drawn (all of them up to the limit)
    explained: tuple[float, float]  # share of the variance along each axis


def pca_2d(x: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """Rows of `x` on its first two principal components, and the share of variance of each."""
    if x.shape[0] == 0:
        return np.zeros((0, 2), dtype=np.float32), (0.0, 0.0)
    # float32 for the n x d work (half the time of float64 at 20,000 x 384), float64 for the d x d
    # eigenproblem: a picture, not a fit, and the tests hold it to scikit-learn's PCA within 2e-4.
    centered = x.astype(np.float32) - x.mean(axis=0, dtype=np.float64).astype(np.float32)
    values, vectors = np.linalg.eigh((centered.T @ centered).astype(np.float64))
    order = np.argsort(values)[::-1][:2]
    axes = vectors[:, order]
    if axes.shape[1] < 2:  # one-dimensional vectors: a flat second axis
        axes = np.hstack([axes, np.zeros((axes.shape[0], 2 - axes.shape[1]))])
    signs = np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(2)])
    axes = axes * np.where(signs == 0, 1.0, signs)
    total = float(values.clip(min=0).sum())
    top = [float(max(values[i], 0.0)) / total if total > 0 else 0.0 for i in order] + [0.0, 0.0]
    return centered @ axes.astype(np.float32), (round(top[0], 4), round(top[1], 4))


def embedding_map(db: Database, actor: Actor, project_id: int, *, data_dir: Path,
                  limit: int = MAX_POINTS) -> dict[str, Any]:
    """The map of the project's latest round: columns of ids, x, y and the colours (managers)."""
    if not 1 <= limit <= MAX_POINTS:
        raise Invalid("too many points", [Problem(f"1 to {MAX_POINTS}, not {limit}", field="limit")])
    with db.read() as conn:
        acc = access(conn, actor, project_id, Action.view_quality)
    proj = _projection(db, acc, data_dir, limit)
    ids = [int(i) for i in proj.ids]
    colours = _colours(db, project_id, proj, ids)
    return {
        "model_version": proj.model_version_id, "encoder": proj.encoder, "question": proj.question,
        "items": proj.items, "sampled": proj.sampled, "shown": len(ids), "missing": proj.sampled - len(ids),
        "limit": limit, "explained_variance": list(proj.explained),
        "ids": ids, "x": [round(float(v), 5) for v in proj.xy[:, 0]],
        "y": [round(float(v), 5) for v in proj.xy[:, 1]], **colours,
    }


def forget_maps() -> None:
    """Drop this process's projections (tests)."""
    with _lock:
        _maps.clear()


def _projection(db: Database, acc: ProjectAccess, data_dir: Path, limit: int) -> Projection:
    project_id = acc.project.id
    encoder, why_not = latest_round_encoder(db, project_id)
    if encoder is None:
        raise Conflict(f"project {project_id} has no map yet: {why_not}")
    key = (db.url, str(data_dir), project_id, encoder.model_version_id, encoder.created_at, limit)
    with _lock:
        if key in _maps:
            _maps.move_to_end(key)
            return _maps[key]
    made = _project(db, acc, data_dir, limit, encoder.model_version_id, encoder.name)
    with _lock:
        _maps[key] = made
        while len(_maps) > CACHED_MAPS:
            _maps.popitem(last=False)
    return made


def _project(db: Database, acc: ProjectAccess, data_dir: Path, limit: int, version: int,
             encoder_name: str) -> Projection:
    project_id = acc.project.id
    with db.read() as conn:
        rows = conn.execute(select(items.c.id, items.c.data).where(
            published_in(project_id)).order_by(items.c.id)).all()
        question = conn.execute(select(model_versions.c.question).where(
            model_versions.c.id == version)).scalar_one()
    chosen = rows
    if len(rows) > limit:  # the round's own sample: the same points on every request
        picked = np.sort(np.random.default_rng(version).choice(len(rows), size=limit, replace=False))
        chosen = [rows[int(k)] for k in picked]
    schema = schema_of(acc.project.label_schema)
    text_fields = [f.name for f in schema.fields if f.type == "text"]
    image_field = next((f.name for f in schema.fields if f.type == "image"), None)
    ids, parts = [], []
    for start in range(0, len(chosen), _BATCH):  # bounded reads of the embedding cache
        batch = chosen[start:start + _BATCH]
        _enc, vectors, why_not = round_embeddings(db, project_id, batch, text_fields, image_field, data_dir)
        if vectors is None:
            raise Conflict(f"project {project_id} has no map yet: {why_not}")
        present = np.abs(vectors).sum(axis=1) > 0  # zeros: no embedding in the round's cache
        ids.append(np.array([r.id for r in batch], dtype=np.int64)[present])
        parts.append(vectors[present])
    found = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
    x = np.concatenate(parts) if parts else np.zeros((0, 2), dtype=np.float32)
    xy, explained = pca_2d(x)
    return Projection(version, encoder_name, str(question), found, xy, len(rows), len(chosen), explained)


def _label_text(value: Any) -> str | None:
    """A label as the legend names it: scalars as text, a list of them joined; other shapes none."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list) and value and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in sorted(value, key=str))
    return None


def _colours(db: Database, project_id: int, proj: Projection, ids: list[int]) -> dict[str, Any]:
    """Per point: the consensus label of the round's question, its confidence, whether the round's
    model disagrees with it, and the first annotator who answered (with every annotator's name)."""
    q = proj.question
    settled: dict[int, tuple[Any, float | None]] = {}
    predicted: dict[int, Any] = {}
    first: dict[int, int] = {}
    with db.read() as conn:
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start:start + _BATCH]
            for r in conn.execute(select(consensus.c.item_id, consensus.c.value, consensus.c.confidence)
                                  .where(consensus.c.item_id.in_(chunk))):
                value = r.value.get(q) if isinstance(r.value, dict) else None
                settled[int(r.item_id)] = (value, r.confidence)
            for p in conn.execute(select(predictions.c.item_id, predictions.c.value).where(
                    predictions.c.model_version_id == proj.model_version_id,
                    predictions.c.item_id.in_(chunk))):
                predicted[int(p.item_id)] = p.value.get(q) if isinstance(p.value, dict) else None
            for a in conn.execute(select(answers.c.item_id, answers.c.user_id).where(
                    answers.c.item_id.in_(chunk), answers.c.project_id == project_id,
                    answers.c.source == "human").order_by(answers.c.item_id, answers.c.id)):
                first.setdefault(int(a.item_id), int(a.user_id))
        names = {int(r.id): r.username for r in conn.execute(
            select(users.c.id, users.c.username).where(users.c.id.in_(sorted(set(first.values())))))}
    label, confidence, disagreement = [], [], []
    for i in ids:
        value, conf = settled.get(i, (None, None))
        label.append(_label_text(value))
        confidence.append(None if conf is None else round(float(conf), 4))
        model = predicted.get(i)
        disagreement.append(None if value is None or model is None
                            else "disagrees" if model != value else "agrees")
    return {"label": label, "confidence": confidence, "disagreement": disagreement,
            "annotator": [first.get(i) for i in ids],
            "annotators": {str(k): v for k, v in sorted(names.items())}}
