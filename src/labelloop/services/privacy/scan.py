"""The scan: personal data detected in a project's items, as a job with progress.

Runs at import (when the project's policy is on and `scan_on_import`) and on demand
(`POST /api/projects/{id}/privacy/scan`, `labelloop privacy scan`). Items are read a batch at a
time by id; each batch is detected outside any transaction (NER takes a while) and written in
one short transaction, so annotators are never held up and a stopped scan keeps what it did.
By default only items not yet scanned under the current settings are read; `rescan` reads all.

With transcripts in the schema (audio segments' texts and words), a scan also reads each item's
prediction by the project's latest model version, and the key items are marked with names that
version (findings.item_key): a new version makes every item stale, so the job that writes it
scans again (`after_new_version`), and until then items are read on the fly when served.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, exists, func, select

from labelloop.errors import DomainError, Invalid, Problem
from labelloop.services import audit
from labelloop.services.policy import Action, Actor, access
from labelloop.services.privacy.findings import (
    detect_items,
    item_key,
    latest_predictions,
    latest_version,
    store_findings,
)
from labelloop.services.privacy.settings import privacy_settings
from labelloop.services.privacy.transcripts import has_transcripts
from labelloop.services.projects import schema_of
from labelloop.store.db import Database
from labelloop.store.models import item_pii, item_pii_scans, items, projects, published_in

KIND = "privacy_scan"
BATCH = 200
ProgressFn = Callable[..., None]


def _todo(project_id: int, key: str, rescan: bool) -> Any:
    where = published_in(project_id)
    if not rescan:
        where = where & ~exists().where(item_pii_scans.c.item_id == items.c.id,
                                        item_pii_scans.c.scan_key == key)
    return where


def check_scan(conn: Connection, actor: Actor, project_id: int) -> Any:
    """The project row, or Invalid unless its policy is on (a scan of a project that hides
    nothing would only give a false sense of it)."""
    acc = access(conn, actor, project_id, Action.edit_project)
    if not privacy_settings(acc.project.privacy_settings).enabled:
        raise Invalid("the privacy policy is off", [Problem(
            "turn it on first (PATCH /api/projects/{id}/privacy with enabled: true)",
            field="privacy.enabled")])
    return acc.project


def run_scan(
    db: Database, actor: Actor, project_id: int, *, rescan: bool = False, job_id: int | None = None,
    progress: ProgressFn | None = None, batch: int = BATCH,
) -> dict[str, Any]:
    """The job (module docstring); returns {items, findings, by_kind, scan_key}."""
    with db.read() as conn:
        project = check_scan(conn, actor, project_id)
        settings = privacy_settings(project.privacy_settings)
        schema = schema_of(project.label_schema)
        version = latest_version(conn, project_id)
        key = item_key(settings, schema, version)
        total = conn.execute(select(func.count()).select_from(items)
                             .where(_todo(project_id, key, rescan))).scalar_one()
    by_kind: Counter[str] = Counter()
    done = written = 0
    last = 0
    if progress is not None:
        progress(0, total, "scanning for personal data", force=True)
    while True:
        with db.read() as conn:
            rows = conn.execute(
                select(items.c.id, items.c.data, items.c.meta)
                .where(_todo(project_id, key, rescan), items.c.id > last)
                .order_by(items.c.id).limit(batch)
            ).all()
            predicted = latest_predictions(conn, version if has_transcripts(schema) else None,
                                           [r.id for r in rows])
        if not rows:
            break
        last = rows[-1].id
        found = detect_items(settings, schema, [r.data for r in rows], [r.meta for r in rows],
                             [predicted.get(r.id) for r in rows])
        for by_path in found:
            for fs in by_path.values():
                by_kind.update(f.kind for f in fs)
        with db.write() as conn:
            written += store_findings(conn, project_id, {r.id: f for r, f in zip(rows, found, strict=True)},
                                      key)
        done += len(rows)
        if progress is not None:
            progress(done, max(total, done), f"{done} of {max(total, done)} items scanned")
    if progress is not None:
        progress(done, done, f"{done} items scanned, {written} findings", force=True)
    with db.write() as conn:
        audit.record(conn, actor, "privacy.scan", project_id=project_id, object_type="project",
                     object_id=project_id, details={"items": done, "findings": written, "rescan": rescan,
                                                    "job": job_id})
    return {"items": done, "findings": written, "by_kind": dict(sorted(by_kind.items())), "scan_key": key}


def after_new_version(db: Database, actor: Actor, project_id: int, result: dict[str, Any],
                      progress: ProgressFn | None = None) -> dict[str, Any]:
    """Called by a job that has just written a model version (its `result`): when the policy is on
    and the schema has transcripts, scan the items again (their key named the previous version), so
    the new version's transcripts are stored and served from the scan; the result, with the scan's
    as `privacy_scan` when one ran."""
    with db.read() as conn:
        row = conn.execute(select(projects.c.privacy_settings, projects.c.label_schema)
                           .where(projects.c.id == project_id)).first()
    if row is None or not privacy_settings(row.privacy_settings).enabled \
            or not has_transcripts(schema_of(row.label_schema)):
        return result
    try:
        return {**result, "privacy_scan": run_scan(db, actor, project_id, progress=progress)}
    except DomainError as e:  # the policy turned off meanwhile: the version stands, served items are read
        return {**result, "privacy_scan_error": e.message}


def counts(conn: Connection, project_id: int, key: str) -> dict[str, Any]:
    """Findings per kind, items with any, items scanned under `key`, and items in all."""
    per_kind: dict[str, int] = dict(conn.execute(
        select(item_pii.c.kind, func.count()).where(item_pii.c.project_id == project_id)
        .group_by(item_pii.c.kind)).all())
    with_any = conn.execute(select(func.count(func.distinct(item_pii.c.item_id)))
                            .where(item_pii.c.project_id == project_id)).scalar_one()
    scanned = conn.execute(select(func.count()).select_from(item_pii_scans)
                           .where(item_pii_scans.c.project_id == project_id,
                                  item_pii_scans.c.scan_key == key)).scalar_one()
    total = conn.execute(select(func.count()).select_from(items).where(published_in(project_id))).scalar_one()
    return {"by_kind": dict(sorted(per_kind.items())), "items_with_findings": with_any,
            "items_scanned": scanned, "items": total}


def wants_scan_after_import(db: Database, project_id: int) -> bool:
    """Whether the project's policy asks for a scan when an import finishes."""
    with db.read() as conn:
        raw = conn.execute(select(projects.c.privacy_settings).where(projects.c.id == project_id)).scalar()
    settings = privacy_settings(raw)
    return settings.enabled and settings.scan_on_import
