"""Duplicate groups of a project's items (the `duplicates` job), and a manager's "keep one".

Methods: `exact` (the same content hash), `text` (near-duplicate texts: MinHash
LSH verified by Jaccard, `labelloop.curation.text_near`), `image` (perceptual hashes within a
Hamming distance, `curation.image_near`, read from the stored thumbnails) and `semantic` (cosine
over the embeddings of the loop's latest round, read from its embedding cache: nothing is
embedded here). A run replaces each method's rows of `item_groups` in one transaction; an item
the method cannot read (no text, an image that does not decode, no embedding) is skipped and
counted by reason, and a method that does not apply to the project is skipped with the reason:
never a failed job.

Keeping one item of a group takes the others out of the queue: each needs no more answers than
it has (`needed = answer_count`, closed), and what it needed before is kept in
`duplicate_set_asides`, so restoring the group gives it back. A rerun of the job changes the
groups, never what a manager decided.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, delete, func, insert, select, update

from labelloop.curation import (
    Pairs,
    equal_key_pairs,
    near_duplicate_images,
    near_duplicate_texts,
    perceptual_hashes,
    semantic_neighbours,
    union_groups,
)
from labelloop.curation.groups import best_scores
from labelloop.errors import Invalid, NotFound, Problem
from labelloop.services import audit
from labelloop.services.curation.round_vectors import round_embeddings
from labelloop.services.policy import Action, Actor, access
from labelloop.services.privacy import view as privacy
from labelloop.services.projects import schema_of
from labelloop.services.targets import blob_hash
from labelloop.store.blobs import BlobStore
from labelloop.store.db import Database
from labelloop.store.models import (
    duplicate_set_asides,
    item_groups,
    items,
    open_when,
    project_blobs,
    published_in,
    utcnow,
)

KIND = "duplicates"
METHODS = ("exact", "text", "image", "semantic")
Method = Literal["exact", "text", "image", "semantic"]
MAX_IMAGE_BYTES = 64 * 1024 * 1024  # an original read when no thumbnail exists; larger ones are skipped
PREVIEW_CHARS = 160
_WRITE_CHUNK = 5000
ProgressFn = Callable[..., None]


def _all_methods() -> list[Method]:
    return ["exact", "text", "image", "semantic"]


class DuplicateParams(BaseModel):
    """What a duplicates job looks for (its stored parameters)."""

    model_config = ConfigDict(extra="forbid")

    methods: list[Method] = Field(default_factory=lambda: _all_methods(), min_length=1)
    text_threshold: float = Field(0.6, gt=0, le=1, description="Least Jaccard similarity of word shingles.")
    text_shingle: int = Field(1, ge=1, le=5, description="Words per shingle.")
    image_distance: int = Field(6, ge=0, le=16, description="Most differing bits of two 64-bit pHashes.")
    semantic_threshold: float = Field(0.95, gt=0, le=1, description="Least cosine similarity of embeddings.")


def job_params(params: dict[str, Any]) -> DuplicateParams:
    """The job's parameters, checked (Invalid names each wrong field)."""
    try:
        return DuplicateParams.model_validate(params)
    except ValidationError as e:
        raise Invalid("invalid duplicates parameters", [
            Problem(err["msg"], field=".".join(str(p) for p in err["loc"]) or None) for err in e.errors()
        ]) from None


def run_duplicates(
    db: Database, actor: Actor, project_id: int, params: dict[str, Any], *, blobs: BlobStore | None,
    data_dir: Path, progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Find the groups of each asked method and store them; returns what each method found or why
    it was skipped."""
    p = job_params(params)
    with db.read() as conn:
        acc = access(conn, actor, project_id, Action.edit_project)
        rows = conn.execute(select(items.c.id, items.c.content_hash, items.c.data).where(
            published_in(project_id)).order_by(items.c.id)).all()
    schema = schema_of(acc.project.label_schema)
    text_fields = [f.name for f in schema.fields if f.type == "text"]
    image_field = next((f.name for f in schema.fields if f.type == "image"), None)
    ids = np.array([r.id for r in rows], dtype=np.int64)
    result: dict[str, Any] = {"items": len(rows)}
    for k, method in enumerate(p.methods):
        if progress is not None:
            progress(k, len(p.methods), f"{method} duplicates", force=True)
        try:
            found, why_not = _find(db, method, p, rows, project_id, text_fields, image_field, blobs, data_dir)
        except ImportError as e:  # datasketch or ImageHash missing
            found, why_not = None, f"{e.name or e}: install labelloop[curation]"
        if found is None:
            result[method] = {"skipped": why_not}
            continue
        result[method] = _stored(db, project_id, method, ids, found)
    return result


def _find(
    db: Database, method: str, p: DuplicateParams, rows: Sequence[Any], project_id: int,
    text_fields: list[str], image_field: str | None, blobs: BlobStore | None, data_dir: Path,
) -> tuple[Pairs | None, str | None]:
    """The method's pairs over row positions, or None and why the method does not apply."""
    if method == "exact":
        return equal_key_pairs([r.content_hash or None for r in rows]), None
    if method == "text":
        if not text_fields:
            return None, "the schema has no text field"
        texts = [_text_of(text_fields, r.data) for r in rows]
        return near_duplicate_texts(texts, threshold=p.text_threshold, shingle=p.text_shingle), None
    if method == "image":
        if image_field is None:
            return None, "the schema has no image field"
        if blobs is None:
            return None, "this worker has no blob store"
        hashes, valid, skipped = perceptual_hashes(_images(db, blobs, project_id, rows, image_field))
        found = near_duplicate_images(hashes, valid=valid, max_distance=p.image_distance, skipped=skipped)
        return found, None
    _encoder, vectors, why_not = round_embeddings(db, project_id, rows, text_fields, image_field, data_dir)
    if vectors is None:
        return None, why_not
    return semantic_neighbours(vectors, threshold=p.semantic_threshold), None


def _text_of(fields: list[str], data: Any) -> str | None:
    """The item's text fields, one a line; None when none holds a string."""
    if not isinstance(data, dict) or not any(isinstance(data.get(f), str) and data[f] for f in fields):
        return None
    return "\n".join(str(data[f]) for f in fields if isinstance(data.get(f), str))


def _images(db: Database, blobs: BlobStore, project_id: int, rows: Sequence[Any], field: str,
            ) -> Iterator[bytes | None]:
    """Each item's thumbnail (its original when it has none), read one at a time; None when the
    item's image is not a file the project holds, or too large to read."""
    from labelloop.services.loop.images import variant_hashes

    originals = [blob_hash(r.data.get(field)) if isinstance(r.data, dict) else None for r in rows]
    wanted = sorted({h for h in originals if h is not None})
    with db.read() as conn:
        held: set[str] = set()
        for start in range(0, len(wanted), 1000):
            held.update(conn.execute(select(project_blobs.c.sha256).where(
                project_blobs.c.project_id == project_id,
                project_blobs.c.sha256.in_(wanted[start:start + 1000]))).scalars())
        files = variant_hashes(conn, [h if h in held else None for h in originals], "thumb")
    for sha in files:
        if sha is None:
            yield None
            continue
        try:
            with blobs.open(sha) as f:
                data = f.read(MAX_IMAGE_BYTES + 1)
        except (OSError, KeyError):
            yield None
            continue
        yield None if len(data) > MAX_IMAGE_BYTES else data


def _stored(db: Database, project_id: int, method: str, ids: np.ndarray, found: Pairs) -> dict[str, Any]:
    """Replace the method's groups with those of the pairs (one transaction); what was found."""
    n = len(ids)
    group = union_groups(n, found.i, found.j)
    score = best_scores(n, found)
    size = np.bincount(group, minlength=n)
    member = np.flatnonzero(size[group] >= 2)
    values = [{"item_id": int(ids[k]), "method": method, "project_id": project_id,
               "group_id": int(ids[group[k]]), "score": float(score[k])} for k in member]
    with db.write() as conn:
        conn.execute(delete(item_groups).where(item_groups.c.project_id == project_id,
                                               item_groups.c.method == method))
        for start in range(0, len(values), _WRITE_CHUNK):
            conn.execute(insert(item_groups), values[start:start + _WRITE_CHUNK])
    reasons = Counter(found.skipped.values())
    return {
        "pairs": len(found), "groups": int((size >= 2).sum()), "grouped_items": len(values),
        "skipped": dict(sorted(reasons.items())),
        "skipped_examples": [{"item_id": int(ids[k]), "reason": why}
                             for k, why in sorted(found.skipped.items())[:10]],
    }


def groups_of(conn: Connection, project_id: int, method: str) -> dict[int, int]:
    """Item id -> group id (the group's smallest item id) for the items in a group of `method`."""
    return {int(r.item_id): int(r.group_id) for r in conn.execute(
        select(item_groups.c.item_id, item_groups.c.group_id).where(
            item_groups.c.project_id == project_id, item_groups.c.method == method))}


def list_groups(conn: Connection, actor: Actor, project_id: int, method: str, *, after_group: int = 0,
                limit: int = 50) -> list[dict[str, Any]]:
    """Groups of `method` in group-id order (keyset pagination with `after_group`), each with its
    items: id, external id, score, a short preview (as the item views show it) and whether it was
    set aside."""
    acc = access(conn, actor, project_id, Action.edit_items)
    _check_method(method)
    group_ids = list(conn.execute(
        select(item_groups.c.group_id).where(
            item_groups.c.project_id == project_id, item_groups.c.method == method,
            item_groups.c.group_id > after_group)
        .group_by(item_groups.c.group_id).order_by(item_groups.c.group_id)
        .limit(max(1, min(limit, 500)))).scalars())
    if not group_ids:
        return []
    rows = conn.execute(
        select(item_groups.c.group_id, item_groups.c.score, items.c.id, items.c.external_id, items.c.data,
               items.c.meta, duplicate_set_asides.c.kept_item_id)
        .join(items, items.c.id == item_groups.c.item_id)
        .outerjoin(duplicate_set_asides, duplicate_set_asides.c.item_id == items.c.id)
        .where(item_groups.c.project_id == project_id, item_groups.c.method == method,
               item_groups.c.group_id.in_(group_ids))
        .order_by(item_groups.c.group_id, items.c.id)).all()
    shown = privacy.viewer_redactions(conn, acc, actor, list(rows))
    fields = [f.name for f in schema_of(acc.project.label_schema).fields]
    out: dict[int, dict[str, Any]] = {}
    for r in rows:
        data = r.data if shown is None else shown[r.id].data
        g = out.setdefault(int(r.group_id), {"group_id": int(r.group_id), "method": method, "items": []})
        g["items"].append({"item_id": int(r.id), "external_id": r.external_id,
                           "score": round(float(r.score), 4), "preview": _preview(fields, data),
                           "set_aside": r.kept_item_id is not None})
    return list(out.values())


def _preview(fields: list[str], data: Any) -> str:
    """The first characters of the item's first non-empty string field (a blob reference for an image)."""
    if isinstance(data, dict):
        for name in fields:
            value = data.get(name)
            if isinstance(value, str) and value.strip():
                text = " ".join(value.split())
                return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1] + "…"
    return ""


def keep_one(conn: Connection, actor: Actor, project_id: int, group_id: int, item_id: int,
             method: str | None = None) -> dict[str, Any]:
    """Keep `item_id` of the group and take the group's other items out of the queue (reversible
    with `restore_group`)."""
    access(conn, actor, project_id, Action.edit_items)
    method = _group_method(conn, project_id, group_id, method)
    members = set(conn.execute(select(item_groups.c.item_id).where(
        item_groups.c.project_id == project_id, item_groups.c.method == method,
        item_groups.c.group_id == group_id)).scalars())
    if item_id not in members:
        raise Invalid("the item to keep is not in the group", [Problem(
            f"item {item_id} is not in {method} group {group_id} (items {sorted(members)})",
            field="item_id")])
    _give_back(conn, [item_id])  # kept now, whatever an earlier choice set it aside for
    already = set(conn.execute(select(duplicate_set_asides.c.item_id).where(
        duplicate_set_asides.c.item_id.in_(members))).scalars())
    aside = sorted(members - already - {item_id})
    now = utcnow()
    for other in aside:
        needed = conn.execute(select(items.c.needed).where(items.c.id == other)).scalar_one()
        conn.execute(insert(duplicate_set_asides).values(
            item_id=other, project_id=project_id, method=method, group_id=group_id, kept_item_id=item_id,
            needed=needed, created_by=actor.user_id, created_at=now))
        # No more answers than it has: expiring leases cannot reopen it (reserved >= answer_count).
        conn.execute(update(items).where(items.c.id == other).values(
            needed=items.c.answer_count, is_open=False))
    audit.record(conn, actor, "duplicates.keep", project_id=project_id, object_type="item_group",
                 object_id=group_id, details={"method": method, "kept": item_id, "set_aside": aside})
    return {"group_id": group_id, "method": method, "kept": item_id,
            "set_aside": sorted(set(aside) | (already - {item_id}))}


def restore_group(conn: Connection, actor: Actor, project_id: int, group_id: int,
                  method: str | None = None) -> dict[str, Any]:
    """Put back in the queue the items that keeping one of the group set aside."""
    access(conn, actor, project_id, Action.edit_items)
    where = [duplicate_set_asides.c.project_id == project_id, duplicate_set_asides.c.group_id == group_id]
    if method is not None:
        _check_method(method)
        where.append(duplicate_set_asides.c.method == method)
    aside = sorted(conn.execute(select(duplicate_set_asides.c.item_id).where(*where)).scalars())
    if not aside:
        raise NotFound(f"no item of group {group_id} is set aside in project {project_id}")
    _give_back(conn, aside)
    audit.record(conn, actor, "duplicates.restore", project_id=project_id, object_type="item_group",
                 object_id=group_id, details={"method": method, "restored": aside})
    return {"group_id": group_id, "restored": aside}


def _give_back(conn: Connection, item_ids: list[int]) -> None:
    """Items set aside return to the queue with what they needed before (or what they hold)."""
    for r in conn.execute(select(duplicate_set_asides.c.item_id, duplicate_set_asides.c.needed).where(
            duplicate_set_asides.c.item_id.in_(item_ids))).all():
        greatest = func.max if conn.dialect.name == "sqlite" else func.greatest
        conn.execute(update(items).where(items.c.id == r.item_id).values(
            needed=greatest(r.needed, items.c.reserved)))
        conn.execute(update(items).where(items.c.id == r.item_id).values(is_open=open_when(items.c.reserved)))
        conn.execute(delete(duplicate_set_asides).where(duplicate_set_asides.c.item_id == r.item_id))


def _group_method(conn: Connection, project_id: int, group_id: int, method: str | None) -> str:
    """The method of the group: the one given, else the only one with such a group."""
    if method is not None:
        _check_method(method)
    found = sorted(conn.execute(select(item_groups.c.method).where(
        item_groups.c.project_id == project_id, item_groups.c.group_id == group_id,
        *([item_groups.c.method == method] if method is not None else [])).distinct()).scalars())
    if not found:
        raise NotFound(f"no duplicate group {group_id} of items in project {project_id}"
                       + (f" for method {method!r}" if method else ""))
    if len(found) > 1:
        raise Invalid("the group exists for several methods", [Problem(
            f"group {group_id} is a group of {', '.join(found)}: say which", field="method")])
    return str(found[0])


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise Invalid("unknown duplicate method", [Problem(
            f"{method!r}: one of {', '.join(METHODS)}", field="method")])

