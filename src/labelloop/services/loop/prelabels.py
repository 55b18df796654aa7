"""Pre-labels from a detector: boxes for a `bbox` question, stored as a model version's
predictions, so the workbench shows them as editable shapes under the suggestion rules. On a project
with an `audio_segments` question the same job runs its speech model instead
(services/loop/transcripts.py: when `transcriber` is set, or there is no `bbox` question).

A job (`POST /api/projects/{id}/loop/prelabel`) runs the project's detector (loop setting
`detector`: the offline COCO detector, a team's over HTTP, or an entry point) over every item whose
image is a stored file, a batch at a time with progress, and writes one new model version:

- **what is detected**: items whose image has no boxes from this detector yet. The previous
  version's boxes are kept when they came from the same detector with the same settings (name,
  label map, threshold, question); after a change of settings every image is detected again.
- **boxes**: the detector's classes renamed by `detector_labels`, detections of classes that are
  not labels of the question dropped, coordinates in the original image's pixels (the built-in
  detector looks at the preview, 300 x 300 is all it sees, and its boxes are scaled up), rounded to
  hundredths of a pixel, each checked against the image like any `bbox` answer (a detector that
  answers a box outside the image fails the job, naming the item and the object). The item's
  confidence is the lowest score of its boxes (1 when nothing was found).
- **the version**: it carries the previous version's answers to the other questions
  (services/loop/versions.py), so a classifier's suggestions stay. Nothing is written until every
  image is done: a failed job leaves the suggestions as they were.
- **held-out F1** (`box_f1`, what the project's `suggest_min_accuracy` bar is compared with): F1 at
  IoU 0.5 of the boxes against gold items and against the human consensus of items whose answers
  never showed this question's suggestion (an answer given with the boxes on screen would flatter
  them), matching objects of the same class (services/quality/shape_gold.py). None when no such
  item exists: with a bar set, an unmeasured detector suggests nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from sqlalchemy import Connection, insert

from labelloop.errors import Invalid, Problem
from labelloop.learn.images.detector import CocoDetector, Detection
from labelloop.schema import ImageInfo, LabelSchema, Question, ValueProblem
from labelloop.services.loop import prelabelling, transcripts
from labelloop.services.loop.images import ImageFile, item_images, read_file
from labelloop.services.loop.models import HttpDetector, detector_for
from labelloop.services.loop.settings import LoopSettings
from labelloop.services.policy import Actor
from labelloop.services.privacy import scan as privacy_scan
from labelloop.services.quality.shape_gold import ShapeCounts, shape_counts
from labelloop.store.blobs import BlobStore
from labelloop.store.db import Database
from labelloop.store.models import (
    predictions,
)

BATCH = 8
KIND = "prelabel"
ProgressFn = Callable[..., None]


def bbox_question(schema: LabelSchema, settings: LoopSettings) -> Question:
    """The bbox question the detector pre-labels (`detector_question`, else the first)."""
    for q in schema.questions:
        if q.kind.name == "bbox" and settings.detector_question in (None, q.name):
            return q
    where = f"no bbox question named {settings.detector_question!r}" if settings.detector_question \
        else "the schema has no bbox question"
    raise Invalid("nothing to pre-label", [Problem(where, field="loop.detector_question")])


def detector_config(settings: LoopSettings, question: Question) -> dict[str, Any]:
    """What makes two detectors' boxes the same boxes (kept in the version's metrics)."""
    return {"name": settings.detector, "labels": settings.detector_labels,
            "threshold": settings.detector_threshold, "question": question.name}


def run_prelabels(
    db: Database, store: BlobStore, actor: Actor, project_id: int, *, job_id: int | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """The job (module docstring); returns its metrics with the new model version."""
    schema, settings = prelabelling.project_loop(db, actor, project_id)
    if transcripts.wants_transcriber(schema, settings):  # an audio_segments question: speech models
        done = transcripts.run_transcripts(db, store, actor, project_id, job_id=job_id, progress=progress)
        # the new version's transcripts are scanned for personal data (docs/privacy.md)
        return privacy_scan.after_new_version(db, actor, project_id, done, progress)
    if settings.detector is None:
        raise Invalid("no detector is set", [Problem("set loop.detector: coco, the URL of a detector, "
                                                     "or python:<entry point>", field="loop.detector")])
    question = bbox_question(schema, settings)
    field = question.spec.target
    assert field is not None  # shape questions target an image field
    config = detector_config(settings, question)

    with db.read(snapshot=True) as conn:
        rows = prelabelling.published_items(conn, project_id)
        images = item_images(conn, project_id, [r.data for r in rows], field)
        previous, before = prelabelling.previous_version(conn, project_id, rows)
        reference = _references(conn, project_id, question, rows)
    same = previous is not None and _detector_of(previous[1]) == config
    found: prelabelling.Found = prelabelling.reused(before, question.name) if same else {}
    todo = [(r, img) for r, img in zip(rows, images, strict=True) if img is not None and r.id not in found]
    dropped = _detect(settings, question, store, todo, found, progress)

    metrics = _metrics(question, config, reference, found, len(rows), len(todo), dropped,
                       sum(img is None for img in images))
    metrics["carried"] = prelabelling.carried(previous)
    version = _write(db, project_id, job_id, question, settings, metrics, rows, found, before)
    return privacy_scan.after_new_version(db, actor, project_id, {"model_version": version, **metrics},
                                          progress)


def _detector_of(metrics: dict[str, Any]) -> dict[str, Any] | None:
    own = metrics.get("detector")
    if own is not None:
        return dict(own)
    carried = (metrics.get("carried") or {}).get("detector")
    return None if carried is None else dict(carried)


def _detect(
    settings: LoopSettings, question: Question, store: BlobStore, todo: Sequence[tuple[Any, ImageFile]],
    found: prelabelling.Found, progress: ProgressFn | None,
) -> int:
    """Detect `todo` into `found`; the number of detections of classes the question lacks."""
    assert settings.detector is not None
    detector = detector_for(settings.detector, labels=list(question.spec.values),  # type: ignore[attr-defined]
                            label_map=settings.detector_labels, threshold=settings.detector_threshold)
    on_preview = isinstance(detector, CocoDetector)  # it sees 300 x 300: the preview is plenty
    dropped = 0
    for start in range(0, len(todo), BATCH):
        if progress is not None:
            progress(start, len(todo), f"detecting objects: {start:,} of {len(todo):,} images")
        batch = todo[start:start + BATCH]
        files = [img.preview if on_preview else img.original for _, img in batch]
        data = [read_file(store, f.sha256) for f in files]
        if isinstance(detector, HttpDetector):
            answered = detector.detect(data, items=[{"id": r.external_id, "data": r.data} for r, _ in batch])
        else:
            answered = detector.detect(data)
        if len(answered) != len(batch):
            raise Invalid("the detector answered badly", [Problem(
                f"{len(answered)} lists of detections for {len(batch)} images", field="loop.detector")])
        for (row, img), file, detections in zip(batch, files, answered, strict=True):
            objects, scores = _objects(question, settings, detections, img.scale_from(file))
            dropped += len(detections) - len(scores)
            try:
                clean = question.kind.validate(question.spec, objects,
                                               ImageInfo(img.original.width, img.original.height))
            except ValueProblem as e:
                raise Invalid("the detector answered badly", [Problem(
                    f"item {row.external_id!r}: {e.message}", field=f"{question.name}{e.path}")]) from None
            found[int(row.id)] = (clean, min(scores) if scores else 1.0)
    if progress is not None:
        progress(len(todo), len(todo), "detected", force=True)
    return dropped


def _labels(question: Question) -> tuple[str, ...]:
    return tuple(question.spec.values)  # type: ignore[attr-defined]


def _objects(
    question: Question, settings: LoopSettings, detections: Sequence[Detection], scale: tuple[float, float],
) -> tuple[list[dict[str, Any]], list[float]]:
    """Detections of the question's classes as bbox objects in the original's pixels, and their
    scores."""
    labels, renames = set(_labels(question)), settings.detector_labels or {}
    out: list[dict[str, Any]] = []
    scores: list[float] = []
    sx, sy = scale
    for d in detections:
        label = d.label if d.label in labels else renames.get(d.label, d.label)
        if label not in labels:
            continue
        x1, y1, x2, y2 = (round(v * s, 2) for v, s in zip(d.box, (sx, sy, sx, sy), strict=True))
        if x1 < x2 and y1 < y2:
            out.append({"label": label, "box": [x1, y1, x2, y2]})
            scores.append(float(d.score))
    return out, scores


def _references(conn: Connection, project_id: int, question: Question, rows: Sequence[Any]) -> dict[int, Any]:
    """Boxes to measure the detector against: gold, and human consensus of items whose answers
    never showed this question's suggestion (prelabelling.py)."""
    gold = {r.id: r.gold[question.name] for r in rows if r.gold is not None and question.name in r.gold}
    return prelabelling.with_human_consensus(conn, project_id, question, gold)


def _metrics(
    question: Question, config: dict[str, Any], reference: dict[int, Any],
    found: prelabelling.Found, n_items: int, detected: int, dropped: int,
    without_image: int,
) -> dict[str, Any]:
    measured = [i for i in reference if i in found]
    counts = sum((shape_counts(question, found[i][0], reference[i]) for i in measured), ShapeCounts())
    return {
        "kind": KIND, "question": question.name, "detector": config,
        "box_f1": counts.f1 if measured else None, "box_f1_items": len(measured),
        "box_precision": counts.precision, "box_recall": counts.recall,
        "items": n_items, "prelabelled": len(found), "detected": detected,
        "reused": len(found) - detected, "without_image": without_image,
        "boxes": sum(len(v) for v, _ in found.values()), "other_classes": dropped,
    }


def _write(
    db: Database, project_id: int, job_id: int | None, question: Question, settings: LoopSettings,
    metrics: dict[str, Any], rows: Sequence[Any], found: prelabelling.Found, before: prelabelling.Before,
) -> int:
    version = db.run(partial(prelabelling.new_version, project_id=project_id, job_id=job_id,
                             question=question.name, encoder=f"detector:{settings.detector}",
                             classes=list(_labels(question)), metrics=metrics))
    out = prelabelling.prediction_rows(version, rows, question.name, found, before)

    def write(conn: Connection, chunk: list[dict[str, Any]]) -> None:
        conn.execute(insert(predictions), chunk)

    for start in range(0, len(out), prelabelling.WRITE_CHUNK):
        db.run(partial(write, chunk=out[start:start + prelabelling.WRITE_CHUNK]))
    return version
