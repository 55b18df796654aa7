"""A round over images: embeddings from the stored files, and the near-duplicates they reveal.

The round embeds each item's image (its preview or thumbnail, read from the blob store, never
from the network) with EfficientNet-Lite3 when the `images-models` extra is installed, hand-made
image features otherwise (services/loop/images.py); the vectors then drive the classifier and
the queue strategies exactly as text embeddings do. Items whose image is a URL, or not stored,
get a zero vector (similar to nothing) and are counted.

Near-duplicates: pairs of items whose image vectors have cosine similarity >= 0.95
(`labelloop.learn.near_duplicate_pairs`, exact and blocked) are reported in the round's metrics
(how many pairs and groups, and the first 100 pairs by item id), so a manager can see repeated
photos before paying for them twice. The search is quadratic, so it runs on projects of up to
`NEAR_DUPLICATE_LIMIT` items.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from labelloop.learn.cache import EmbeddingCache
from labelloop.services.loop.images import embed_files, image_encoder, variant_hashes
from labelloop.services.targets import blob_hash
from labelloop.store.blobs import BlobStore
from labelloop.store.db import Database
from labelloop.store.models import project_blobs

NEAR_DUPLICATE_THRESHOLD = 0.95
NEAR_DUPLICATE_LIMIT = 20_000
SHOWN_PAIRS = 100


def embed_images(
    db: Database, store: BlobStore, project_id: int, data: list[dict[str, Any]], field: str,
    encoder_setting: str, cache_dir: Path, item_ids: list[int] | None = None,
) -> tuple[np.ndarray, str, dict[str, Any]]:
    """(vectors, the encoder's setting name, metrics) for the items' images in `field`."""
    encoder, variant = image_encoder(encoder_setting)
    originals = [blob_hash(d.get(field)) for d in data]
    wanted = sorted({h for h in originals if h is not None})
    with db.read() as conn:
        held: set[str] = set()
        for start in range(0, len(wanted), 1000):  # only files the project holds are read
            held.update(conn.execute(select(project_blobs.c.sha256).where(
                project_blobs.c.project_id == project_id,
                project_blobs.c.sha256.in_(wanted[start:start + 1000]))).scalars())
        stored = [h if h in held else None for h in originals]
        files = variant_hashes(conn, stored, variant)
    with EmbeddingCache(cache_dir) as cache:
        x = embed_files(encoder, store, files, cache=cache)
    name = "efficientnet-lite3" if variant == "preview" else "image-features"
    metrics: dict[str, Any] = {"images_not_stored": sum(f is None for f in files)}
    metrics["near_duplicates"] = near_duplicates(x, item_ids)
    return x, name, metrics


def near_duplicates(x: np.ndarray, item_ids: list[int] | None) -> dict[str, Any]:
    """Pairs of rows at cosine >= the threshold: counts, groups and the first pairs (item ids)."""
    n = len(x)
    if n > NEAR_DUPLICATE_LIMIT:
        return {"checked": False, "reason": f"more than {NEAR_DUPLICATE_LIMIT:,} items"}
    from labelloop.learn import duplicate_groups, near_duplicate_pairs

    found = near_duplicate_pairs(x, threshold=NEAR_DUPLICATE_THRESHOLD) if n > 1 else None
    if found is None or len(found) == 0:
        return {"checked": True, "threshold": NEAR_DUPLICATE_THRESHOLD, "pairs": 0, "groups": 0,
                "items": []}
    ids = item_ids if item_ids is not None else list(range(n))
    groups = duplicate_groups(n, found)
    shown = [[int(ids[i]), int(ids[j])] for i, j in zip(found.i[:SHOWN_PAIRS], found.j[:SHOWN_PAIRS],
                                                        strict=True)]
    return {"checked": True, "threshold": NEAR_DUPLICATE_THRESHOLD, "pairs": len(found),
            "groups": _group_count(groups), "items": shown}


def _group_count(groups: np.ndarray) -> int:
    """Groups of two or more items (`groups[i]`: the smallest index of item i's group)."""
    _, counts = np.unique(groups, return_counts=True)
    return int((counts > 1).sum())
