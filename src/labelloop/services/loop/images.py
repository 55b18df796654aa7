"""The images of a project's items as the image models take them: which stored file (the
original or its web-sized preview), its size, its bytes from the blob store, and embeddings.

Models only ever read files the blob store holds and the project links (`project_blobs`); an
image given by URL is never fetched (nothing leaves the machine, and a URL may point anywhere):
such items get no pre-label and a zero embedding, and the job's result counts them.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, and_, select

from labelloop.errors import Invalid, Problem
from labelloop.learn.cache import EmbeddingCache
from labelloop.learn.encoder_base import Encoder, Vectors
from labelloop.schema import LabelSchema
from labelloop.services.loop.settings import IMAGE_ENCODERS
from labelloop.services.targets import blob_hash
from labelloop.store.blobs import BlobStore
from labelloop.store.models import blob_variants, blobs, project_blobs


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    width: int
    height: int


@dataclass(frozen=True)
class ImageFile:
    """An item's image: the original (whose pixels shapes are in) and its preview."""

    original: StoredFile
    preview: StoredFile

    def scale_from(self, variant: StoredFile) -> tuple[float, float]:
        """(x, y) factors from `variant`'s pixels to the original's."""
        return self.original.width / variant.width, self.original.height / variant.height


def image_field(schema: LabelSchema, target: str | None = None) -> str | None:
    """`target` if it is an image field, else the schema's first image field (None: none)."""
    kinds = {f.name: f.type for f in schema.fields}
    if target is not None and kinds.get(target) == "image":
        return target
    return next((f.name for f in schema.fields if f.type == "image"), None)


def stored_images(conn: Connection, project_id: int, hashes: Iterable[str]) -> dict[str, ImageFile]:
    """The images among `hashes` that the project holds, with their previews and sizes."""
    wanted = sorted(set(hashes))
    preview = blobs.alias("preview")
    out: dict[str, ImageFile] = {}
    for start in range(0, len(wanted), 1000):
        rows = conn.execute(
            select(blobs.c.sha256, blobs.c.width, blobs.c.height, preview.c.sha256.label("p_sha"),
                   preview.c.width.label("p_width"), preview.c.height.label("p_height"))
            .select_from(
                blobs.join(project_blobs, and_(project_blobs.c.sha256 == blobs.c.sha256,
                                               project_blobs.c.project_id == project_id))
                .outerjoin(blob_variants, and_(blob_variants.c.sha256 == blobs.c.sha256,
                                               blob_variants.c.variant == "preview"))
                .outerjoin(preview, preview.c.sha256 == blob_variants.c.variant_sha256)
            )
            .where(blobs.c.sha256.in_(wanted[start:start + 1000]))
        )
        for r in rows:
            if r.width is None or r.height is None:
                continue  # not an image
            original = StoredFile(r.sha256, int(r.width), int(r.height))
            small = (StoredFile(r.p_sha, int(r.p_width), int(r.p_height))
                     if r.p_sha is not None and r.p_width and r.p_height else original)
            out[r.sha256] = ImageFile(original, small)
    return out


def item_images(
    conn: Connection, project_id: int, data: Sequence[dict[str, Any]], field: str
) -> list[ImageFile | None]:
    """Each item's stored image in `field` (None for a URL, a missing value or a non-image)."""
    hashes = [blob_hash(d.get(field)) for d in data]
    found = stored_images(conn, project_id, [h for h in hashes if h is not None])
    return [None if h is None else found.get(h) for h in hashes]


def read_file(store: BlobStore, sha256: str) -> bytes:
    with store.open(sha256) as f:
        return f.read()


# -- embeddings ---------------------------------------------------------------------------------
class DecodedImages(Encoder[bytes]):
    """An encoder of decoded arrays (`image-features`) fed image files: decoded with Pillow,
    upright (the previews and thumbnails the store keeps are)."""

    def __init__(self, inner: Encoder[Any]) -> None:
        self.inner = inner
        self.name = f"{inner.name}-of-file"
        self.dim = inner.dim

    def content(self, item: bytes) -> bytes:
        return bytes(item)

    def encode_batch(self, items: Sequence[bytes]) -> Vectors:
        from PIL import Image

        arrays = []
        for data in items:
            with Image.open(io.BytesIO(data)) as im:
                arrays.append(np.asarray(im.convert("RGB")))
        return self.inner.encode_batch(arrays)


def image_encoder(name: str) -> tuple[Encoder[bytes], str]:
    """The encoder a round embeds images with, and the variant it reads: `name` if it is an image
    encoder, else (a text encoder's name, the default) efficientnet-lite3 when installed, else
    image-features. EfficientNet reads the preview (it looks at 280 x 280), image-features the
    thumbnail (it looks at 8 x 8)."""
    from labelloop.learn import get_encoder

    chosen = name if name in IMAGE_ENCODERS else None
    if chosen in (None, "efficientnet-lite3"):
        try:
            return get_encoder("efficientnet-lite3"), "preview"
        except ImportError as e:
            if chosen is not None:
                raise Invalid("the efficientnet-lite3 encoder is not installed",
                              [Problem(str(e), field="loop.encoder")]) from e
    return DecodedImages(get_encoder("image-features")), "thumb"


def variant_hashes(conn: Connection, originals: Sequence[str | None], variant: str) -> list[str | None]:
    """The `variant` (preview or thumb) of each original (an original without one is its own)."""
    wanted = sorted({h for h in originals if h is not None})
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 1000):
        found.update({r.sha256: r.variant_sha256 for r in conn.execute(
            select(blob_variants.c.sha256, blob_variants.c.variant_sha256).where(
                blob_variants.c.sha256.in_(wanted[start:start + 1000]), blob_variants.c.variant == variant))})
    return [None if h is None else found.get(h, h) for h in originals]


def embed_files(
    encoder: Encoder[bytes], store: BlobStore, hashes: Sequence[str | None], *,
    cache: EmbeddingCache | None = None, batch_size: int = 32,
    progress: Callable[[int, int], None] | None = None,
) -> Vectors:
    """`(len(hashes), dim)` vectors of the stored files named by `hashes` (zeros for None).

    A file's cache key is its SHA-256, known without reading it (the encoders key file bytes by
    their hash), so cached files are never read and the rest are read a batch at a time: memory
    stays flat in the number of images.
    """
    out = np.zeros((len(hashes), encoder.dim), dtype=np.float32)
    unique = sorted({h for h in hashes if h is not None})
    keys = {h: bytes.fromhex(h) for h in unique}
    vectors: dict[str, Vectors] = {}
    if cache is not None and unique:
        got = cache.get_many(encoder.name, list(keys.values()), dim=encoder.dim)
        vectors = {h: got[k] for h, k in keys.items() if k in got}
    todo = [h for h in unique if h not in vectors]
    done = len(unique) - len(todo)
    if progress is not None:
        progress(done, len(unique))
    for start in range(0, len(todo), batch_size):
        chunk = todo[start:start + batch_size]
        batch = np.ascontiguousarray(encoder.encode_batch([read_file(store, h) for h in chunk]),
                                     dtype=np.float32)
        if cache is not None:
            cache.put_many(encoder.name, [keys[h] for h in chunk], batch)
        vectors.update(zip(chunk, batch, strict=True))
        done += len(chunk)
        if progress is not None:
            progress(done, len(unique))
    for i, h in enumerate(hashes):
        if h is not None:
            out[i] = vectors[h]
    return out
