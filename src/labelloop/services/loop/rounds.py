"""A round of the learning loop: aggregate -> train -> evaluate -> predict -> rescore the queue ->
auto-label what passes the guarantee -> send suspected label errors to review.

The algorithms are `labelloop.learn`'s; this module feeds them the project's items and consensus
and writes the results back: a model version with its metrics (so a learning curve is one query),
one prediction per unlabelled item (the pre-label annotators see), new queue priorities, consensus
for auto-labelled items, and suspected label errors (flagged on their items, with why, and sent
to review, once the model has earned the right: services/loop/flags.py). Each round runs as a
background job.

Images: on a project whose items have no text field (or whose `encoder` names an image encoder)
the round embeds each item's stored image instead (services/loop/round_images.py: EfficientNet-
Lite3 with the images-models extra, hand features otherwise) and reports near-duplicate photos;
everything after the embedding is the same. A round's predictions carry the previous version's
answers to other questions, such as a detector's boxes (services/loop/versions.py).

Batch compute: the per-item steps (embedding a text project's items, the built-in model's
predictions with the selection scores of an uncertainty strategy, and the crowd-versus-model
disagreement search) run over batches of items (services/compute): in this process, or as Ray
tasks when `ray_address` (LABELLOOP_RAY_ADDRESS) is set, with the same results. The built-in model
of a text round with n-grams or fine-tuning (docs/learn.md, "Text model") reads the items' texts
and predicts in one call here, like a team's model. Training, the
other strategies (k-center and k-means look at the whole set; random is a permutation), confident
learning (its class thresholds are over every label), the ranking and the writes stay here; so
do images and a team's own model, which sees all items in one call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, bindparam, func, insert, select, update

from labelloop.errors import Invalid, Problem
from labelloop.schema import LabelSchema
from labelloop.services.compute import BatchMap, batch_map, round_steps
from labelloop.services.loop import flags as loop_flags
from labelloop.services.loop.images import image_field
from labelloop.services.loop.models import BuiltinModel, FinetunePlan, model_for
from labelloop.services.loop.round_images import embed_images
from labelloop.services.loop.settings import IMAGE_ENCODERS, TEXT_ENCODERS, LoopSettings, loop_settings
from labelloop.services.loop.versions import (
    DETECTOR,
    carried_metrics,
    latest_with_predictions,
    merged,
    predicted_values,
)
from labelloop.services.policy import Action, Actor, access
from labelloop.services.privacy import scan as privacy_scan
from labelloop.services.projects import schema_of
from labelloop.services.quality.consensus import (
    INCREMENTAL,
    PROJECT,
    REVIEW,
    Settled,
    recompute_project,
    store,
)
from labelloop.store.blobs import BlobStore
from labelloop.store.db import Database
from labelloop.store.models import (
    answers,
    consensus,
    items,
    model_versions,
    predictions,
    published_in,
    utcnow,
)

AUTO = "model (auto-label)"
PRELABEL = "prelabel"  # the `kind` of a pre-label job's version (services/loop/prelabels.py)
HUMAN_METHODS = (INCREMENTAL, PROJECT, REVIEW)
ProgressFn = Callable[..., None]


@dataclass(frozen=True)
class RoundInfo:
    model_version: int
    created_at: Any
    metrics: dict[str, Any]


def _target(schema: LabelSchema, settings: LoopSettings) -> tuple[str, list[str]]:
    """The single-choice question the model learns, and its options."""
    for q in schema.questions:
        if q.kind.name == "choice" and (settings.question in (None, q.name)):
            return q.name, [o.value for o in q.spec.options]  # type: ignore[attr-defined]
    raise Invalid("the loop needs a single-choice question", [
        Problem("name a single-choice question of the schema", field="loop.question")
    ])


def _image_target(schema: LabelSchema, settings: LoopSettings) -> str | None:
    """The image field a round embeds, or None for a text round: the first image field when the
    items have no text field, or when `encoder` names an image encoder."""
    has_text = any(f.type == "text" for f in schema.fields)
    if has_text and settings.encoder not in IMAGE_ENCODERS:
        return None
    return image_field(schema)


def list_rounds(conn: Connection, actor: Actor, project_id: int) -> list[RoundInfo]:
    """Every round's model version and metrics, oldest first: the learning curve (the versions of
    pre-label jobs, services/loop/prelabels.py, are not rounds)."""
    access(conn, actor, project_id, Action.view_quality)
    rows = conn.execute(
        select(model_versions).where(model_versions.c.project_id == project_id).order_by(model_versions.c.id)
    )
    return [RoundInfo(r.id, r.created_at, r.metrics) for r in rows
            if (r.metrics or {}).get("kind") != PRELABEL]


def run_round(
    db: Database, actor: Actor, project_id: int, *, data_dir: Path, job_id: int | None = None,
    progress: ProgressFn | None = None, store: BlobStore | None = None, ray_address: str | None = None,
) -> dict[str, Any]:
    """One round (see the module docstring); returns its metrics. `store` holds the images of an
    image project; `ray_address` (the setting) runs the per-item steps as Ray tasks."""
    from threadpoolctl import threadpool_limits

    runner = batch_map(ray_address)  # before any work: a missing extra or cluster fails at once
    # On a small shared machine BLAS threads fight each other and the server: one is faster.
    with threadpool_limits(1):
        done = _run_round(db, actor, project_id, data_dir=data_dir, job_id=job_id, progress=progress,
                          blob_store=store, runner=runner)
    # a version carries the transcripts of the one before: scanned again under its key (docs/privacy.md)
    return privacy_scan.after_new_version(db, actor, project_id, done, progress)


def _run_round(
    db: Database, actor: Actor, project_id: int, *, data_dir: Path, job_id: int | None,
    progress: ProgressFn | None, blob_store: BlobStore | None, runner: BatchMap,
) -> dict[str, Any]:
    from labelloop.learn import (  # heavy (scikit-learn): imported when a round runs
        autolabel,
        find_label_issues,
        rank_items,
    )
    from labelloop.learn.strategies import UNCERTAINTY_STRATEGIES, rank_by_score

    def step(done: int, message: str) -> None:
        if progress is not None:
            progress(done, 7, message, force=True)

    with db.read() as conn:
        acc = access(conn, actor, project_id, Action.edit_project)
    schema = schema_of(acc.project.label_schema)
    settings = loop_settings(acc.project.loop_settings)
    question, classes = _target(schema, settings)
    image = _image_target(schema, settings)
    if image is None and not any(f.type == "text" for f in schema.fields):
        raise Invalid("the loop needs a text or an image field",
                      [Problem("the schema has no text or image field", field="fields")])
    if image is None and settings.encoder not in TEXT_ENCODERS:
        raise Invalid("invalid loop settings", [Problem(
            f"{settings.encoder} embeds images; this project's items are text ({', '.join(TEXT_ENCODERS)})",
            field="loop.encoder")])

    step(0, "aggregating answers")
    recompute_project(db, actor, project_id)

    with db.read(snapshot=True) as conn:
        rows = conn.execute(
            select(items.c.id, items.c.external_id, items.c.data, items.c.gold, items.c.answer_count,
                   items.c.reserved, items.c.needed, items.c.validation)
            .where(published_in(project_id)).order_by(items.c.id)
        ).all()
        settled = {
            r.item_id: r for r in conn.execute(
                select(consensus.c.item_id, consensus.c.value, consensus.c.confidence, consensus.c.method)
                .where(consensus.c.project_id == project_id))
        }
        human_answers = int(conn.execute(select(func.count()).where(
            answers.c.project_id == project_id, answers.c.source == "human")).scalar_one())
    ids = np.array([r.id for r in rows], dtype=np.int64)
    gold = np.array([r.gold is not None for r in rows])
    index = {c: k for k, c in enumerate(classes)}
    y = np.full(len(rows), -1, dtype=np.int64)
    weight = np.zeros(len(rows))
    for i, r in enumerate(rows):
        c = settled.get(r.id)
        label = None if c is None else c.value.get(question)
        if c is not None and c.method in HUMAN_METHODS and label in index:
            y[i], weight[i] = index[label], max(float(c.confidence or 0.0), 0.05)
    labelled = (y >= 0) & ~gold
    validation = np.array([bool(r.validation) for r in rows])

    step(1, f"embedding {len(rows):,} items")
    extra: dict[str, Any] = {}
    if image is None:
        encoder_name = settings.encoder
        x = round_steps.embed_items(runner, db, project_id, ids, encoder=settings.encoder,
                                    text_fields=[f.name for f in schema.fields if f.type == "text"],
                                    cache_dir=data_dir / "embeddings")
    else:
        if blob_store is None:
            raise Invalid("this round cannot read images", [Problem("no blob store", field="store")])
        x, encoder_name, extra = embed_images(db, blob_store, project_id, [r.data for r in rows], image,
                                              settings.encoder, data_dir / "embeddings",
                                              [int(r.id) for r in rows])

    metrics: dict[str, Any] = {
        "human_answers": human_answers, "labelled": int(labelled.sum()), "items": len(rows),
        "strategy": settings.strategy, "encoder": encoder_name, "question": question, **extra,
        "compute": runner.name,
    }
    classes_seen = int(np.unique(y[labelled]).size)
    if labelled.sum() < settings.min_labels or classes_seen < 2:
        step(2, "too few labels to train: ordering the queue for a cold start")
        order = rank_items("cold_start", embeddings=x, labelled=labelled | gold, seed=0)
        _set_priorities(db, ids[_with_validation(order, rows, validation, settings, job_id, db)])
        metrics.update(trained=False, reason=f"needs {settings.min_labels} labelled items of 2+ classes")
        cold = _new_version(db, project_id, job_id, question, encoder_name, classes, metrics)
        loop_flags.record(db, project_id, cold, {})  # this round suspects nothing: old flags go
        return metrics

    step(2, f"training on {int(labelled.sum()):,} labelled items")
    model = model_for(settings.model)
    content = [{"id": r.external_id, "data": r.data} for r in rows]
    lab_idx = np.flatnonzero(labelled)
    if isinstance(model, BuiltinModel) and image is None:
        model = _text_model(schema, settings, rows, lab_idx[validation[lab_idx]], progress)
    oof = model.fit([content[i] for i in lab_idx], x[labelled], y[labelled], weight[labelled],
                    classes, question)
    if isinstance(model, BuiltinModel) and model.text_info:
        metrics["text_model"] = model.text_info
    scores = None
    if isinstance(model, BuiltinModel) and not model.needs_texts:
        score = settings.strategy if settings.strategy in UNCERTAINTY_STRATEGIES else None
        proba, scores = round_steps.predict(runner, model, x, classes=classes, question=question,
                                            score=score)
    else:  # a team's model, or the text model (it reads the texts), sees every item in one call
        proba = model.predict_proba(content, x, classes, question)
    metrics["model"] = settings.model

    step(3, "evaluating")
    if oof is not None:
        metrics["oof_accuracy"] = float((oof.argmax(axis=1) == y[labelled]).mean())
    gold_rows = [i for i, r in enumerate(rows) if r.gold is not None and r.gold.get(question) in index]
    if gold_rows:
        truth = np.array([index[rows[i].gold[question]] for i in gold_rows])
        metrics["gold_accuracy"] = float((proba[gold_rows].argmax(axis=1) == truth).mean())
        metrics["gold_items"] = len(gold_rows)

    step(4, "predicting")
    open_rows = np.flatnonzero(~labelled & ~gold)
    with db.read(snapshot=True) as conn:
        previous = latest_with_predictions(conn, project_id)
        before = predicted_values(conn, previous[0], [int(i) for i in ids]) if previous else {}
    metrics["carried"] = carried_metrics(previous[1] if previous else None,
                                         previous[0] if previous else None, DETECTOR)
    version = _new_version(db, project_id, job_id, question, encoder_name, classes, metrics)
    # Every item gets the model's answer, the pre-label of whoever labels it next: gold items
    # too, or the one task without a suggestion would give the gold away. The model never saw
    # a gold answer (it trains on consensus of the rest), so its guess reveals none. Answers of
    # other questions (a detector's boxes) come along from the previous version (versions.py).
    _store_predictions(db, version, ids, proba, question, classes, before)

    step(5, "rescoring the queue")
    if scores is not None:  # an uncertainty strategy, its scores computed with the predictions
        order = rank_by_score(scores, labelled | gold)
    else:
        order = rank_items(settings.strategy, proba=proba, embeddings=x, labelled=labelled | gold, seed=0)
    _set_priorities(db, ids[_with_validation(order, rows, validation, settings, job_id, db)])

    step(6, "auto-labelling and looking for label errors")
    if settings.autolabel_target is not None and oof is not None:
        untouched = np.array(
            [i for i in open_rows if rows[int(i)].answer_count == 0 and rows[int(i)].reserved == 0],
            dtype=np.int64,
        )
        done, policy = 0, None
        # Only the random validation sample certifies: out-of-fold answers on items a strategy
        # chose are harder than the pool, so they would not say how the pool will fare.
        certify = validation[lab_idx]
        metrics["validation_labelled"] = int(certify.sum())
        if untouched.size and certify.any():
            chosen = autolabel(proba[untouched], oof[certify], y[labelled][certify],
                               target=settings.autolabel_target, alpha=settings.autolabel_alpha,
                               train_counts=model.class_counts)
            policy = chosen.policy
            done = _autolabel(db, project_id, ids[untouched[chosen.indices]], chosen.labels,
                              chosen.confidence, question, classes)
        metrics.update(
            autolabel_target=settings.autolabel_target, autolabel_alpha=settings.autolabel_alpha,
            autolabel_threshold=policy.threshold if policy else None,
            autolabel_lower_bound=policy.lower_bound if policy else None,
            autolabelled=done, autolabel_coverage=(done / len(untouched)) if len(untouched) else 0.0,
        )
    suspects: dict[int, loop_flags.Suspect] = {}
    may = loop_flags.gate(y[labelled], oof, n_classes=len(classes),
                          min_per_class=settings.label_error_min_per_class)
    metrics["flagging"] = may.metrics(settings.label_error_min_per_class)
    if may.allowed and oof is not None:
        issues = find_label_issues(y[labelled], oof, filter_by="mixture")
        disagree = round_steps.disagreements(runner, y[labelled], oof, weight[labelled],
                                             min_model_confidence=settings.label_error_confidence)
        suspects = loop_flags.suspects(
            ids[labelled], y[labelled], oof, issues, disagree, known=may.known_classes,
            min_confidence=settings.label_error_confidence, question=question, classes=classes)
    flagged = loop_flags.record(db, project_id, version, suspects)
    metrics["label_issues"] = len(flagged)
    metrics["label_issue_items"] = flagged[:1000]
    _set_metrics(db, version, metrics)
    step(7, "done")
    return {"model_version": version, **metrics}


def _text_model(schema: LabelSchema, settings: LoopSettings, rows: Any, validation_rows: np.ndarray,
                progress: ProgressFn | None) -> BuiltinModel:
    """The built-in model of a text round: n-grams and fine-tuning as the settings say. The n-grams
    go beside a sentence encoder's vectors; hashed-tfidf is word n-grams already (and stacking more
    on it made short texts' label-error flags less sure). Fine-tuning needs the minilm encoder (the
    only one whose full-precision weights ship); with another the plan still runs its checks and
    falls back, so the round's metrics say why."""
    plan = None
    if settings.finetune:
        plan = FinetunePlan(min_labels=settings.finetune_min_labels, seconds=settings.finetune_seconds,
                            encoder_ok=settings.encoder == "minilm")

    def tell(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(2, 7, f"{stage}: {done:,} / {total:,}")

    return BuiltinModel(text_fields=[f.name for f in schema.fields if f.type == "text"],
                        ngrams=settings.ngrams and settings.encoder != "hashed-tfidf", finetune=plan,
                        keep_out=frozenset(rows[int(i)].external_id for i in validation_rows),
                        progress=tell)


def _new_version(db: Database, project_id: int, job_id: int | None, question: str, encoder: str,
                 classes: list[str], metrics: dict[str, Any]) -> int:
    def go(conn: Connection) -> int:
        return int(conn.execute(insert(model_versions).values(
            project_id=project_id, job_id=job_id, question=question, encoder=encoder, classes=classes,
            metrics=metrics, created_at=utcnow()).returning(model_versions.c.id)).scalar_one())
    return db.run(go)


def _set_metrics(db: Database, version: int, metrics: dict[str, Any]) -> None:
    db.run(lambda c: c.execute(update(model_versions).where(model_versions.c.id == version)
                               .values(metrics=metrics)))


def _store_predictions(db: Database, version: int, item_ids: np.ndarray, proba: np.ndarray,
                       question: str, classes: list[str],
                       before: dict[int, tuple[dict[str, Any], float]]) -> None:
    rows = [{"model_version_id": version, "item_id": int(i),
             "value": merged({question: classes[int(p.argmax())]}, before.get(int(i), ({}, 0.0))[0],
                             [question]),
             "confidence": float(p.max())} for i, p in zip(item_ids, proba, strict=True)]
    def write(conn: Connection, chunk: list[dict[str, Any]]) -> None:
        conn.execute(insert(predictions), chunk)

    for start in range(0, len(rows), 5000):
        db.run(partial(write, chunk=rows[start:start + 5000]))


def _with_validation(
    order: np.ndarray, rows: Any, validation: np.ndarray, settings: LoopSettings, job_id: int | None,
    db: Database,
) -> np.ndarray:
    """The strategy's order with a random validation sample woven in, one task in two.

    Tops the sample up to `validation_items` from untouched items (a fresh random draw each
    round, so it stays a random sample of what is left), marks them, and returns row indices.
    """
    have = int(validation.sum())
    need = max(0, settings.validation_items - have)
    ranked = [int(i) for i in order]
    pending = [i for i in ranked if validation[i]]
    if need:
        fresh = [i for i in ranked if not validation[i] and rows[i].answer_count == 0
                 and rows[i].reserved == 0]
        rng = np.random.default_rng(job_id or 0)
        drawn = [int(i) for i in rng.permutation(np.array(fresh, dtype=np.int64))[:need]] if fresh else []
        if drawn:
            chosen = [int(rows[i].id) for i in drawn]
            db.run(lambda c: c.execute(update(items).where(items.c.id.in_(chosen)).values(validation=True)))
            validation[drawn] = True
        pending += drawn
    rest = [i for i in ranked if not validation[i]]
    woven: list[int] = []
    for k in range(max(len(pending), len(rest))):
        if k < len(pending):
            woven.append(pending[k])
        if k < len(rest):
            woven.append(rest[k])
    return np.array(woven, dtype=np.int64)


_PRIORITY = update(items).where(items.c.id == bindparam("iid")).values(priority=bindparam("p"))


def _set_priorities(db: Database, ordered_ids: np.ndarray) -> None:
    """Queue order = the strategy's ranking: the first item gets the highest priority."""
    n = len(ordered_ids)
    params = [{"iid": int(i), "p": float(n - rank)} for rank, i in enumerate(ordered_ids)]
    def write(conn: Connection, chunk: list[dict[str, Any]]) -> None:
        conn.execute(_PRIORITY, chunk)

    for start in range(0, n, 5000):
        db.run(partial(write, chunk=params[start:start + 5000]))


def _autolabel(db: Database, project_id: int, item_ids: np.ndarray, labels: np.ndarray,
               confidence: np.ndarray, question: str, classes: list[str]) -> int:
    """Settle items by the model and take them out of the queue (only items nobody has touched)."""

    def chunk(conn: Connection, part: list[tuple[int, int, float]]) -> int:
        taken = 0
        for iid, label, conf in part:
            res = conn.execute(update(items).where(
                items.c.id == iid, items.c.answer_count == 0, items.c.reserved == 0,
            ).values(needed=0, is_open=False))
            if res.rowcount == 1:
                store(conn, project_id, [(iid, Settled({question: classes[label]}, {question: conf}))], AUTO)
                taken += 1
        return taken

    triples = [(int(i), int(lab), float(c)) for i, lab, c in zip(item_ids, labels, confidence, strict=True)]
    return sum(
        db.run(partial(chunk, part=triples[s:s + 2000])) for s in range(0, len(triples), 2000)
    )
