"""Findings of personal data, as stored per item (`item_pii`) and as detected on the fly.

What is stored for each finding: the item, where (the text's path), the character offsets, the
kind, the detector's score and `value_hash`, SHA-256 of "kind:value" with case and spacing
folded. Not the value: the item already holds it, and a second plain copy would be one more
place to erase. The hash lets the items a data subject appears in be found from the e-mail or
IBAN they give (an erasure request) without keeping a readable index of everyone's data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, exists, insert, select

from labelloop.privacy import Finding, detect_many
from labelloop.schema import LabelSchema
from labelloop.services.privacy.settings import PrivacySettings
from labelloop.services.privacy.texts import scanned_texts
from labelloop.services.privacy.transcripts import Detect, has_transcripts
from labelloop.store.models import item_pii, item_pii_scans, items, model_versions, predictions

ByPath = dict[str, list[Finding]]


def value_hash(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{' '.join(value.split()).casefold()}".encode()).hexdigest()


def detect_items(
    settings: PrivacySettings, schema: LabelSchema, datas: Sequence[Mapping[str, Any]],
    metas: Sequence[Mapping[str, Any] | None] | None = None, predictions: Sequence[Any] | None = None,
) -> list[ByPath]:
    """Per item (its data, metadata and latest prediction), its findings by path: all texts of all
    items in one `detect_many` call (NER batches through spaCy's pipe)."""
    where: list[tuple[int, str]] = []
    texts: list[str] = []
    for i, data in enumerate(datas):
        for path, text in scanned_texts(schema, data, metas[i] if metas else None,
                                        predictions[i] if predictions else None):
            where.append((i, path))
            texts.append(text)
    out: list[ByPath] = [{} for _ in datas]
    if not texts:
        return out
    for (i, path), fs in zip(where, detector(settings)(texts), strict=True):
        if fs:
            out[i][path] = fs
    return out


def detector(settings: PrivacySettings) -> Detect:
    """The policy's detection as one call over many texts (answers' transcripts at export)."""
    def detect(texts: list[str]) -> list[list[Finding]]:
        return detect_many(texts, kinds=settings.kinds, languages=settings.language_arg,
                           regions=settings.regions) if texts else []
    return detect


# The latest model version with predictions (the one whose suggestions annotators see:
# services/loop/suggestions.py), whose transcripts a scan reads.
_LATEST = (select(model_versions.c.id).where(
    model_versions.c.project_id == bindparam("pid"),
    exists().where(predictions.c.model_version_id == model_versions.c.id))
    .order_by(model_versions.c.id.desc()).limit(1))


def latest_version(conn: Connection, project_id: int) -> int | None:
    found = conn.execute(_LATEST, {"pid": project_id}).scalar()
    return None if found is None else int(found)


def item_key(settings: PrivacySettings, schema: LabelSchema, version: int | None) -> str:
    """The key an item scanned now is marked with: the settings' key, and, when the schema has
    transcripts, the model version whose prediction was read, so that a new version's transcripts
    make every item stale until it is scanned again (or read on the fly)."""
    if version is None or not has_transcripts(schema):
        return settings.scan_key
    return hashlib.sha256(f"{settings.scan_key}:{version}".encode()).hexdigest()[:16]


def current_key(conn: Connection, settings: PrivacySettings, schema: LabelSchema, project_id: int) -> str:
    if not has_transcripts(schema):
        return settings.scan_key
    return item_key(settings, schema, latest_version(conn, project_id))


def latest_predictions(conn: Connection, version: int | None, item_ids: Sequence[int]) -> dict[int, Any]:
    """That version's prediction of each item that has one."""
    if version is None or not item_ids:
        return {}
    return dict(conn.execute(select(predictions.c.item_id, predictions.c.value).where(
        predictions.c.model_version_id == version, predictions.c.item_id.in_(list(item_ids)))).all())


_DELETE = delete(item_pii).where(item_pii.c.item_id == bindparam("iid"))
_UNMARK = delete(item_pii_scans).where(item_pii_scans.c.item_id == bindparam("iid"))
# The scan key an item was scanned under, read with the item in one query (None: never scanned).
SCAN_KEY = (select(item_pii_scans.c.scan_key).where(item_pii_scans.c.item_id == items.c.id)
            .scalar_subquery().label("pii_scan"))


def store_findings(conn: Connection, project_id: int, found: Mapping[int, ByPath], key: str) -> int:
    """Replace the findings of each item in `found` (item id → by path) and mark it scanned with
    `key`; the number of findings written."""
    if not found:
        return 0
    conn.execute(_DELETE, [{"iid": i} for i in found])
    rows = [
        {"project_id": project_id, "item_id": item_id, "field": path, "start": f.start, "end": f.end,
         "kind": f.kind, "value_hash": value_hash(f.kind, f.text), "score": float(f.score)}
        for item_id, by_path in found.items() for path, fs in by_path.items() for f in fs
    ]
    if rows:
        conn.execute(insert(item_pii), rows)
    conn.execute(_UNMARK, [{"iid": i} for i in found])
    conn.execute(insert(item_pii_scans), [{"item_id": i, "project_id": project_id, "scan_key": key}
                                          for i in found])
    return len(rows)


def scan_keys(conn: Connection, item_ids: Iterable[int]) -> dict[int, str | None]:
    """The key each item was scanned under (None: never)."""
    ids = list(item_ids)
    found: dict[int, str | None] = dict.fromkeys(ids)
    if ids:
        found.update(conn.execute(select(item_pii_scans.c.item_id, item_pii_scans.c.scan_key)
                                  .where(item_pii_scans.c.item_id.in_(ids))).all())
    return found


_STORED = select(item_pii.c.field, item_pii.c.start, item_pii.c.end, item_pii.c.kind, item_pii.c.score,
                 item_pii.c.item_id).where(item_pii.c.item_id.in_(bindparam("ids", expanding=True)))


def stored_findings(conn: Connection, item_ids: Iterable[int]) -> dict[int, ByPath]:
    """The stored findings of these items, by item and path (the value left empty: the item holds it)."""
    ids = list(item_ids)
    out: dict[int, ByPath] = {i: {} for i in ids}
    if not ids:
        return out
    for r in conn.execute(_STORED, {"ids": ids}):
        out[r.item_id].setdefault(r.field, []).append(Finding(r.start, r.end, r.kind, "", r.score))
    return out


def findings_for(
    conn: Connection, settings: PrivacySettings, schema: LabelSchema, item_id: int,
    data: Mapping[str, Any], scanned_with: str | None, meta: Mapping[str, Any] | None = None,
    *, key: str | None = None, prediction: Any = None,
) -> ByPath:
    """The item's findings: stored when it was scanned under the current key (`key`, by default the
    settings'), else detected now (an item imported a moment ago, scanned under other settings or
    before the latest model version, is never shown unredacted while its scan is pending)."""
    if scanned_with == (key or settings.scan_key):
        return stored_findings(conn, [item_id])[item_id]
    return detect_items(settings, schema, [data], [meta], [prediction])[0]
