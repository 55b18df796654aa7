"""The latest loop round's embeddings of given items, read from the loop's embedding cache.

A round (services/loop/rounds.py) embeds every item with its encoder into
`EmbeddingCache(data_dir / "embeddings")`, keyed by (encoder name, content hash): the hash of the
text the round embedded, or of the image variant it read. Reading them back here embeds nothing;
an item whose vector is not in the cache gets a row of zeros (no embedding). Used by the semantic
duplicates and by search.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from labelloop.errors import Invalid
from labelloop.services.compute.round_tasks import item_text
from labelloop.services.targets import blob_hash
from labelloop.store.db import Database
from labelloop.store.models import model_versions


@dataclass(frozen=True)
class RoundEncoder:
    """The encoder of the project's latest round (the model version it made)."""

    model_version_id: int
    created_at: datetime
    name: str
    encoder: Any  # learn.encoders.Encoder
    is_text: bool


def latest_round_encoder(db: Database, project_id: int) -> tuple[RoundEncoder | None, str | None]:
    """The latest round's encoder, or None and why there is none here."""
    from labelloop.services.loop.settings import TEXT_ENCODERS

    with db.read() as conn:
        row = conn.execute(select(model_versions.c.id, model_versions.c.encoder, model_versions.c.created_at)
                           .where(model_versions.c.project_id == project_id)
                           .order_by(model_versions.c.id.desc()).limit(1)).first()
    if row is None or row.encoder is None:
        return None, "no loop round has embedded this project's items yet"
    try:
        if row.encoder in TEXT_ENCODERS:
            from labelloop.services.compute.round_steps import text_encoder

            encoder: Any = text_encoder(row.encoder)
        else:
            from labelloop.services.loop.images import image_encoder

            encoder, _variant = image_encoder(row.encoder)
    except (ImportError, Invalid, ValueError) as e:
        return None, f"the round's encoder {row.encoder!r} is not available here: {e}"
    return RoundEncoder(int(row.id), row.created_at, str(row.encoder), encoder,
                        row.encoder in TEXT_ENCODERS), None


def round_embeddings(db: Database, project_id: int, rows: Sequence[Any], text_fields: list[str],
                     image_field: str | None, data_dir: Path,
                     ) -> tuple[RoundEncoder | None, np.ndarray | None, str | None]:
    """The latest round's encoder and vectors of `rows` (each with `.data`), zeros where missing;
    or None and why they cannot be read here."""
    from labelloop.learn.cache import FILENAME, EmbeddingCache

    found_encoder, why_not = latest_round_encoder(db, project_id)
    if found_encoder is None:
        return None, None, why_not
    cache_dir = data_dir / "embeddings"
    if not (cache_dir / FILENAME).is_file():
        return found_encoder, None, "the loop's embedding cache is not on this worker"
    encoder = found_encoder.encoder
    if found_encoder.is_text:
        keys: list[bytes | None] = [None if (t := round_text(text_fields, r.data)) is None
                                    else encoder.key(t) for r in rows]
    else:
        from labelloop.services.loop.images import image_encoder, variant_hashes

        _encoder, variant = image_encoder(found_encoder.name)
        originals = [blob_hash(r.data.get(image_field)) if image_field and isinstance(r.data, dict)
                     else None for r in rows]
        with db.read() as conn:
            files = variant_hashes(conn, originals, variant)
        keys = [None if h is None else bytes.fromhex(h) for h in files]
    with EmbeddingCache(cache_dir) as cache:
        found = cache.get_many(encoder.name, sorted({k for k in keys if k is not None}), dim=encoder.dim)
    x = np.zeros((len(rows), encoder.dim), dtype=np.float32)
    for i, key in enumerate(keys):
        if key is not None and key in found:
            x[i] = found[key]
    return found_encoder, x, None


def round_text(text_fields: list[str], data: Any) -> str | None:
    """The text a round embedded for the item (services/compute/round_tasks.py)."""
    return item_text(text_fields, data) if isinstance(data, dict) and text_fields else None
