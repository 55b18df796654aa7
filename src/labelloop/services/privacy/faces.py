"""Faces blurred in the images annotators are served (the policy's `blur_faces`).

Detection: OpenCV's Viola-Jones cascades (Viola and Jones, "Rapid object detection using a boosted
cascade of simple features", CVPR 2001), frontal and profile (the profile cascade run on the
image and on its mirror, for faces turned either way), on a copy at most 1024 pixels on its long
side. Each face, grown by a fifth on every side, is pixelated to 6 x 6 blocks and then blurred:
pixelation throws the detail away (a Gaussian blur alone can be partly undone), the blur hides the
blocks' edges.

The blurred file is a blob of its own, made the first time someone who must not see faces asks
for an image or one of its variants, and remembered as a variant of the original (`blob_variants`:
`blur`, `blur_prev`, `blur_thumb`), so it is made once. Who is served it: anyone the project's
policy does not let reveal (services/policy.py, `may_reveal`): annotators always. Without OpenCV
(the `images-models` extra) the policy cannot be turned on, and an image is refused rather than
served with its faces.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from labelloop.errors import Conflict
from labelloop.services.policy import ProjectAccess, Role, may_reveal
from labelloop.services.privacy.settings import privacy_settings
from labelloop.store.blobs import BlobRow, BlobStore
from labelloop.store.models import blob_variants, blobs, utcnow

BLURRED = {"original": "blur", "preview": "blur_prev", "thumb": "blur_thumb"}
DETECT_SIDE = 1024
GROW = 0.2
BLOCKS = 6


def wants_blur(acc: ProjectAccess, actor: Any) -> bool:
    """Whether this caller is served images with faces blurred."""
    if not acc.project.privacy_settings:
        return False
    settings = privacy_settings(acc.project.privacy_settings)
    return settings.enabled and settings.blur_faces and not may_reveal(acc, actor, Role[settings.reveal])


def _cv2() -> Any:
    try:
        import cv2
    except ImportError:
        raise Conflict("this project blurs faces, and this server cannot (OpenCV is not installed: "
                       "pip install 'labelloop[images-models]'); the image is not served") from None
    return cv2


def face_boxes(image: Any) -> list[tuple[int, int, int, int]]:
    """(x, y, w, h) of each face found in a BGR image, in its pixels."""
    cv2 = _cv2()
    h, w = image.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(h, w))
    small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1 else image
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
    side = max(20, round(min(gray.shape[:2]) / 40))
    boxes: list[tuple[int, int, int, int]] = []
    for name, mirrored in (("haarcascade_frontalface_default.xml", False),
                           ("haarcascade_profileface.xml", False), ("haarcascade_profileface.xml", True)):
        cascade = cv2.CascadeClassifier(cv2.data.haarcascades + name)
        src = cv2.flip(gray, 1) if mirrored else gray
        found = cascade.detectMultiScale(src, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))
        for x, y, bw, bh in found:
            if mirrored:
                x = src.shape[1] - x - bw
            boxes.append((round(x / scale), round(y / scale), round(bw / scale), round(bh / scale)))
    return boxes


def blur_faces(data: bytes, media_type: str) -> tuple[bytes, str, int]:
    """The image with every face hidden, re-encoded (metadata such as EXIF is not kept): (bytes,
    media type, faces found). JPEG stays JPEG; anything else becomes PNG."""
    import numpy as np

    cv2 = _cv2()
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise Conflict("the image cannot be decoded to blur its faces; it is not served")
    boxes = face_boxes(image)
    h, w = image.shape[:2]
    for x, y, bw, bh in boxes:
        gx, gy = round(bw * GROW), round(bh * GROW)
        x0, y0, x1, y1 = max(0, x - gx), max(0, y - gy), min(w, x + bw + gx), min(h, y + bh + gy)
        if x1 <= x0 or y1 <= y0:
            continue
        region = image[y0:y1, x0:x1]
        tiny = cv2.resize(region, (BLOCKS, BLOCKS), interpolation=cv2.INTER_AREA)
        blocky = cv2.resize(tiny, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
        k = max(3, (min(x1 - x0, y1 - y0) // 4) | 1)
        image[y0:y1, x0:x1] = cv2.GaussianBlur(blocky, (k, k), 0)
    if media_type == "image/jpeg":
        ok, out = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        kind = "image/jpeg"
    else:
        ok, out = cv2.imencode(".png", image)
        kind = "image/png"
    if not ok:  # pragma: no cover - OpenCV encodes any image it decoded
        raise Conflict("the blurred image could not be encoded; it is not served")
    return out.tobytes(), kind, len(boxes)


def _resized(data: bytes, target: Any) -> tuple[bytes, str]:
    """A blurred original made the size of a variant (`target`: its BlobRow), JPEG or PNG as it is."""
    import numpy as np

    cv2 = _cv2()
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if target.width and target.height:
        image = cv2.resize(image, (target.width, target.height), interpolation=cv2.INTER_AREA)
    jpeg = target.media_type == "image/jpeg"
    ok, out = cv2.imencode(".jpg" if jpeg else ".png", image, [cv2.IMWRITE_JPEG_QUALITY, 85] if jpeg else [])
    if not ok:  # pragma: no cover
        raise Conflict("the blurred image could not be encoded; it is not served")
    return out.tobytes(), "image/jpeg" if jpeg else "image/png"


def blurred(conn: Connection, store: BlobStore, image: Any, variant: str) -> BlobRow:
    """The blurred twin of a stored image's `variant` (a BlobRow), made once. Faces are found in
    the original only; the preview and thumbnail are the blurred original made small, so a face
    too small to find in a thumbnail is hidden all the same."""
    name = BLURRED[variant]
    original_sha256 = image.original.sha256
    row = conn.execute(
        select(blobs).join(blob_variants, blob_variants.c.variant_sha256 == blobs.c.sha256)
        .where(blob_variants.c.sha256 == original_sha256, blob_variants.c.variant == name)
    ).first()
    if row is not None:
        return BlobRow(row.sha256, row.size, row.media_type, row.width, row.height)
    source = image.variant(variant)
    if variant == "original":
        with store.open(source.sha256) as f:
            data, media_type, _ = blur_faces(f.read(), source.media_type)
    else:
        base = blurred(conn, store, image, "original")
        with store.open(base.sha256) as f:
            data, media_type = _resized(f.read(), source)
    sha256 = store.put(data)
    made = BlobRow(sha256, len(data), media_type, source.width, source.height)
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(insert(blobs).on_conflict_do_nothing(), [made.as_row() | {"created_at": utcnow()}])
    conn.execute(insert(blob_variants).on_conflict_do_nothing(),
                 [{"sha256": original_sha256, "variant": name, "variant_sha256": sha256}])
    return made
