"""Versioned dataset releases: immutable, content-addressed, with a manifest and a card.

`create_release` reads the project's labelled items in one snapshot (manifest.py), splits them
(splits.py), writes the manifest table (`items.parquet`: every item, its final label, how and by
whom it was decided, its split), one Parquet file per split (the items' fields and labels), and
the card (`card.json`, `card.md`) into the blob store, then the manifest of files
(`release.json`, each file's SHA-256), with the modality manifests where the schema has them
(release_media.py: COCO and YOLO for image shapes, NeMo for audio segments), and finally the
`dataset_releases` row naming it. A row is never updated; a second release of the same name is a
Conflict. Reading a release back verifies every file it touches (release_files.py). Releases run
inline in the caller (the API's request, the CLI); a million items take well under a minute
(bench/curation_release.py).
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from labelloop.errors import Conflict, Invalid, NotFound, Problem
from labelloop.services.audit import chain as audit
from labelloop.services.curation import card as cards
from labelloop.services.curation import hf_folder, release_media, withdrawal
from labelloop.services.curation import release_files as files
from labelloop.services.curation.agreement import release_agreement
from labelloop.services.curation.manifest import Collected, collect, release_key
from labelloop.services.curation.splits import SPLITS, assign_splits
from labelloop.services.items import ItemFilter
from labelloop.services.policy import Action, Actor, access
from labelloop.services.projects import schema_of
from labelloop.store.blobs import BlobStore
from labelloop.store.db import Database
from labelloop.store.models import dataset_releases, utcnow

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
ITEMS = "items.parquet"
FORMAT = "labelloop.release/1"


def _check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise Invalid("bad release name", [Problem(
            f"{name!r}: 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit",
            field="name")])
    return name


def _row(conn: Connection, project_id: int, name: str) -> Any:
    row = conn.execute(select(dataset_releases).where(
        dataset_releases.c.project_id == project_id, dataset_releases.c.name == name)).first()
    if row is None:
        raise NotFound(f"release {name!r} not found")
    withdrawal.check_not_withdrawn(row)
    return row


def _taken(conn: Connection, project_id: int, name: str) -> None:
    if conn.execute(select(dataset_releases.c.id).where(
            dataset_releases.c.project_id == project_id, dataset_releases.c.name == name)).first():
        raise Conflict(f"project {project_id} already has a release {name!r}: releases never change, "
                       "choose a new name")


def _groups(conn: Connection, project_id: int, got: Collected, group_by: str | None,
            groups: Mapping[int, int] | None) -> dict[int, int] | None:
    """Item position -> group: `exact` (same content hash), `near-duplicates[:method]`, or `groups`
    given by item id."""
    by_id: Mapping[int, int] | None = groups
    if group_by == "exact":
        seen: dict[str, int] = {}
        return {i: seen.setdefault(h, len(seen)) for i, h in enumerate(got.content_hash)}
    if group_by is not None and group_by.split(":")[0] == "near-duplicates":
        from labelloop.services.curation import duplicates  # its detectors' libraries load on use

        method = group_by.partition(":")[2] or "text"
        by_id = duplicates.groups_of(conn, project_id, method)
    elif group_by is not None:
        raise Invalid("unknown grouping", [Problem(
            f"{group_by!r}: one of exact, near-duplicates, near-duplicates:<method>", field="group_by")])
    if not by_id:
        return None
    position = {item_id: i for i, item_id in enumerate(got.item_ids)}
    return {position[i]: g for i, g in by_id.items() if i in position}


def _strata(schema: Any, got: Collected, stratify: str | None) -> list[str | None] | None:
    if stratify is None:
        return None
    question = schema.questions[0].name if stratify == "label" else stratify
    if question not in {q.name for q in schema.questions}:
        raise Invalid("unknown question to stratify by", [Problem(
            f"{stratify!r}: 'label' (the first question) or one of "
            f"{', '.join(q.name for q in schema.questions)}", field="stratify")])
    return [None if v.get(question) is None else orjson.dumps(v.get(question)).decode() for v in got.values]


def _column(values: list[Any]) -> pa.Array:
    """Text stays text, numbers numbers; anything else (lists, objects, mixed) JSON text."""
    present = [v for v in values if v is not None]
    if all(isinstance(v, str) for v in present):
        return pa.array(values, type=pa.string())
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.int64())
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.float64())
    return pa.array([None if v is None else orjson.dumps(v).decode() for v in values], type=pa.string())


def _split_table(schema: Any, got: Collected, rows: np.ndarray) -> pa.Table:
    """A split's training table: external id, each field, the label (JSON) and each question."""
    data = [orjson.loads(got.data[i]) for i in rows]
    values = [got.values[i] for i in rows]
    out: dict[str, pa.Array] = {"external_id": pa.array([got.external_id[i] for i in rows], type=pa.string())}
    for f in schema.fields:  # a field may not take the name of a column the release adds
        out[f.name if f.name not in ("external_id", "label") else f"field_{f.name}"] = _column(
            [d.get(f.name) for d in data])
    out["label"] = pa.array([got.label[i] for i in rows], type=pa.string())
    for q in schema.questions:
        out[q.name if q.name not in out else f"label_{q.name}"] = _column([v.get(q.name) for v in values])
    return pa.table(out)


def _write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd")


def create_release(
    db: Database, blobs: BlobStore, actor: Actor, project_id: int, name: str, *,
    slice: ItemFilter | None = None, split: tuple[int, int, int] | None = (80, 10, 10),
    stratify: str | None = None, group_by: str | None = None, groups: Mapping[int, int] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Write release `name` of the project's labelled items (of `slice`); its summary and card."""
    _check_name(name)

    def prepare(conn: Connection) -> bytes:
        access(conn, actor, project_id, Action.edit_project)
        _taken(conn, project_id, name)
        return release_key(conn, project_id)

    key = db.run(prepare)
    with db.read(snapshot=True) as conn:
        acc = access(conn, actor, project_id, Action.edit_project)
        schema = schema_of(acc.project.label_schema)
        got = collect(conn, project_id, key, slice)
        split_of = (np.zeros(len(got.item_ids), dtype=np.int8) if split is None else assign_splits(
            got.external_id, ratios=split, seed=seed, strata=_strata(schema, got, stratify),
            groups=_groups(conn, project_id, got, group_by, groups)))
        agreement = {"questions": release_agreement(conn, project_id, schema, got.item_ids),
                     "scope": "human answers of the released items that are not gold"}
    options = {"split": list(split) if split else None, "stratify": stratify, "group_by": group_by,
               "seed": seed, "slice": None if slice is None else {k: v for k, v in vars(slice).items()
                                                                  if v is not None}}
    names = [SPLITS[s] for s in split_of]
    with tempfile.TemporaryDirectory(prefix="labelloop-release-") as tmp:
        folder = Path(tmp)
        with db.read() as conn:  # blob facts (sizes, durations) never change once stored
            media = release_media.media_files(conn, schema, got, split_of,
                                              release_media.split_names(split), folder)
        card = cards.build_card(project=acc.project.name, release=name, schema=schema,
                                document=acc.project.label_schema, got=got, split_of=split_of,
                                options=options, agreement=agreement,
                                media={"described": media.described, "left_out": media.left_out}
                                if media.files else None)
        manifest = pa.table(got.columns(names), schema=pa.schema([
            ("external_id", pa.string()), ("content_hash", pa.string()), ("split", pa.string()),
            ("label", pa.string()), ("decided_by", pa.string()), ("method", pa.string()),
            ("confidence", pa.float64()), ("autolabel_bound", pa.float64()), ("model_version", pa.int64()),
            ("annotators", pa.list_(pa.string())), ("reviewer", pa.string())]))
        _write_parquet(manifest, folder / ITEMS)
        written = [files.store_file(blobs, folder / ITEMS)]
        for index, split_name in enumerate(release_media.split_names(split)):
            path = folder / f"{split_name}.parquet"
            _write_parquet(_split_table(schema, got, np.flatnonzero(split_of == index)), path)
            written.append(files.store_file(blobs, path))
        (folder / "card.json").write_bytes(
            orjson.dumps(card, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2))
        (folder / "card.md").write_text(cards.card_markdown(card), encoding="utf-8")
        written += [files.store_file(blobs, path) for path in media.files]
        written += [files.store_file(blobs, folder / n) for n in ("card.json", "card.md")]
    document = {"format": FORMAT, "project": acc.project.name, "release": name, "items": len(got.item_ids),
                "options": options, "files": written}
    manifest_sha = blobs.put(orjson.dumps(document, option=orjson.OPT_SORT_KEYS))

    def record(conn: Connection) -> dict[str, Any]:
        access(conn, actor, project_id, Action.edit_project)
        _taken(conn, project_id, name)
        try:
            with conn.begin_nested():
                conn.execute(insert(dataset_releases).values(
                    project_id=project_id, name=name, manifest_sha256=manifest_sha, created_at=utcnow(),
                    created_by=actor.user_id, item_count=len(got.item_ids), card=card))
        except IntegrityError:
            raise Conflict(f"project {project_id} already has a release {name!r}") from None
        audit.record(conn, actor, "release.create", project_id=project_id, object_type="release",
                     object_id=name, details={"manifest_sha256": manifest_sha, "items": len(got.item_ids)})
        return _summary(_row(conn, project_id, name))

    return db.run(record)


def _summary(row: Any) -> dict[str, Any]:
    return {"name": row.name, "manifest_sha256": row.manifest_sha256, "created_at": row.created_at,
            "created_by": row.created_by, "item_count": row.item_count,
            "withdrawn_at": row.withdrawn_at, "withdrawn_reason": row.withdrawn_reason}


def list_releases(conn: Connection, actor: Actor, project_id: int) -> list[dict[str, Any]]:
    access(conn, actor, project_id, Action.export)
    rows = conn.execute(select(dataset_releases).where(dataset_releases.c.project_id == project_id)
                        .order_by(dataset_releases.c.id)).all()
    return [_summary(r) for r in rows]


def get_release(conn: Connection, actor: Actor, project_id: int, name: str, blobs: BlobStore
                ) -> dict[str, Any]:
    """A release's summary, its card and its files (the manifest verified against the row)."""
    access(conn, actor, project_id, Action.export)
    row = _row(conn, project_id, name)
    manifest = files.read_manifest(blobs, name, row.manifest_sha256)
    return _summary(row) | {"card": row.card, "files": manifest["files"]}


def release_file(conn: Connection, actor: Actor, project_id: int, name: str, file: str,
                 blobs: BlobStore) -> tuple[dict[str, Any], Iterator[bytes]]:
    """A file of a release: its manifest entry and its bytes, verified before they are streamed."""
    access(conn, actor, project_id, Action.export)
    row = _row(conn, project_id, name)
    entry = files.entry_of(files.read_manifest(blobs, name, row.manifest_sha256), name, file)
    return entry, files.stream_verified(blobs, name, entry)


def read_table(conn: Connection, actor: Actor, project_id: int, name: str, file: str,
               blobs: BlobStore) -> pa.Table:
    """A Parquet file of a release, verified."""
    access(conn, actor, project_id, Action.export)
    row = _row(conn, project_id, name)
    entry = files.entry_of(files.read_manifest(blobs, name, row.manifest_sha256), name, file)
    return pq.read_table(io.BytesIO(files.read_verified(blobs, name, entry)))


def diff_releases(conn: Connection, actor: Actor, project_id: int, a: str, b: str, blobs: BlobStore,
                  *, limit: int = 1000) -> dict[str, Any]:
    """Items added, removed and relabelled from release `a` to `b`, by external id (counts whole,
    lists sorted and cut at `limit`)."""
    def labels(name: str) -> dict[str, str]:
        t = read_table(conn, actor, project_id, name, ITEMS, blobs).select(["external_id", "label"])
        return dict(zip(t.column(0).to_pylist(), t.column(1).to_pylist(), strict=True))

    old, new = labels(a), labels(b)
    added = sorted(new.keys() - old.keys())
    removed = sorted(old.keys() - new.keys())
    relabelled = sorted(k for k in old.keys() & new.keys() if old[k] != new[k])
    return {
        "from": a, "to": b,
        "counts": {"added": len(added), "removed": len(removed), "relabelled": len(relabelled)},
        "added": added[:limit], "removed": removed[:limit],
        "relabelled": [{"external_id": k, "from": orjson.loads(old[k]), "to": orjson.loads(new[k])}
                       for k in relabelled[:limit]],
    }


def export_hf(conn: Connection, actor: Actor, project_id: int, name: str, blobs: BlobStore,
              target: Path) -> list[str]:
    """Write the release's splits as a Hugging Face DatasetDict folder at `target`; the splits."""
    access(conn, actor, project_id, Action.export)
    row = _row(conn, project_id, name)
    manifest = files.read_manifest(blobs, name, row.manifest_sha256)
    present = {e["name"] for e in manifest["files"]}
    tables = {s: read_table(conn, actor, project_id, name, f"{s}.parquet", blobs)
              for s in SPLITS if f"{s}.parquet" in present}
    hf_folder.write_dataset_dict(target, tables)
    return list(tables)
