"""Stored files (images, audio, video) of a project, streamed: ETag, conditional and range requests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse

from labelloop.api.deps import Ctx, CtxDep
from labelloop.api.errors import documented
from labelloop.api.json_body import JSONRoute
from labelloop.api.models import AudioProbeOut, BlobFileOut, BlobInfoOut, VideoProbeOut
from labelloop.api.params import Id
from labelloop.errors import NotFound
from labelloop.services import blobs

router = APIRouter(
    prefix="/api/projects/{project_id:id}/blobs", tags=["blobs"], route_class=JSONRoute,
    responses=documented(401, 404, 422),
)

Sha256 = Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="The file's SHA-256, in lowercase hex.")]
# Content-addressed: the bytes behind a URL never change, so browsers may keep them; `private`
# keeps them out of shared caches, since reading them takes a project role.
CACHE = "private, max-age=31536000, immutable"
# Raster images a browser shows, audio and video it plays, none of which can run anything (an
# import probed each: docs/images.md, docs/audio.md, docs/video.md); any other type is sent as a
# download.
INLINE = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff",
          "audio/wav", "audio/flac", "audio/mpeg", "audio/ogg", "audio/mp4",
          "video/mp4", "video/webm", "video/quicktime", "video/x-matroska")
SUFFIX = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
          "image/bmp": ".bmp", "image/tiff": ".tif", "audio/wav": ".wav", "audio/flac": ".flac",
          "audio/mpeg": ".mp3", "audio/ogg": ".ogg", "audio/mp4": ".m4a",
          "application/vnd.labelloop.peaks": ".dat", "video/mp4": ".mp4", "video/webm": ".webm",
          "video/quicktime": ".mov", "video/x-matroska": ".mkv",
          "application/vnd.labelloop.frames+json": ".json"}
FILE_CONTENT: dict[str, Any] = {"content": {t: {} for t in (*INLINE, "application/octet-stream")}}


def _etag_matches(header: str | None, etag: str) -> bool:
    """RFC 9110's If-None-Match: weak comparison against any listed tag, or `*`."""
    if header is None:
        return False
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


@router.get(
    "/{sha256}",
    response_class=Response,
    responses={
        200: {**FILE_CONTENT, "description": "The file (the whole of it)."},
        206: {**FILE_CONTENT, "description": "The byte range the Range header asked for."},
        304: {"description": "Not modified: the If-None-Match header names this file's ETag."},
        307: {"description": "With blobs in S3 and LABELLOOP_S3_PRESIGN: the file's short-lived "
              "presigned URL (docs/scaling.md)."},
    },
)
def get_blob(
    project_id: Id,
    sha256: Sha256,
    request: Request,
    variant: Literal["original", "preview", "thumb", "peaks", "frames", "poster", "proxy"] = Query(
        "original", description="original; preview: at most 2048 px on the long side; thumb: 256 px "
        "(an audio file is its own, a video's poster is both); peaks: an audio file's waveform "
        "(docs/audio.md); frames, poster, proxy: a video's frame table (JSON), frame 0 (JPEG) and "
        "H.264 copy for the browser (docs/video.md)."),
    ctx: Ctx = CtxDep,
) -> Response:
    """A file the project's items reference as `blob:<sha256>`, for any member of the project.

    `ETag` is the SHA-256 of the bytes sent (the variant's own), so `If-None-Match` answers 304;
    `Range: bytes=...` answers 206 with that part. Non-members, and hashes the project does not
    hold, get 404 alike.
    """
    # A write: the audit log keeps the read (and a blurred variant may be made: docs/privacy.md).
    found = ctx.write(blobs.served_blob, project_id, sha256, variant, ctx.runtime.blobs)
    etag = f'"{found.sha256}"'
    # Kept per credential: after a sign-out, the next person on the browser is asked again.
    headers = {"ETag": etag, "Cache-Control": CACHE, "Vary": "Authorization, Cookie"}
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    inline = found.media_type in INLINE
    name = f"{sha256[:16]}-{variant}{SUFFIX.get(found.media_type, '')}"
    headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{name}"'
    # Opened on its own, the file is a document with no rights to run or load anything.
    # (It may still show itself: an image or audio file opened in a tab is its own subresource.)
    headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"
    media_type = found.media_type if inline else "application/octet-stream"
    # An S3 store may send the browser to the object itself, after the same checks (docs/scaling.md):
    # only media an <img>, <audio> or <video> loads; the app's own fetches (peaks, frame tables)
    # stay on this origin, as its Content-Security-Policy's connect-src requires.
    url = ctx.runtime.blobs.presigned_url(found.sha256, media_type=media_type,
                                          disposition=headers["Content-Disposition"]) if inline else None
    if url is not None:
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "private, no-store",
                                                               "Vary": "Authorization, Cookie"})
    path = ctx.runtime.blobs.local_path(found.sha256)
    if path is None:  # encrypted at rest, or in S3: only the chunks, or the bytes, a range covers
        return _ranged(ctx, found.sha256, request.headers.get("range"), media_type, headers)
    if not path.is_file():
        raise NotFound(f"the file of blob {sha256} is missing from the store")
    return FileResponse(path, media_type=media_type, headers=headers)


def _byte_range(header: str | None, size: int) -> tuple[int, int] | Literal[False] | None:
    """One `bytes=` range of RFC 9110 as [start, end), None for the whole file (no header, or one
    this server may ignore: several ranges, another unit), False when it cannot be satisfied."""
    if header is None or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[len("bytes="):].strip().partition("-")
    try:
        if first == "":
            if not last:
                return None
            suffix = int(last)
            return (max(0, size - suffix), size) if suffix > 0 and size > 0 else False
        start = int(first)
        end = min(int(last) + 1, size) if last else size
    except ValueError:
        return None
    if start >= size or end <= start:
        return False
    return start, end


def _ranged(ctx: Ctx, sha256: str, range_header: str | None, media_type: str,
               headers: dict[str, str]) -> Response:
    try:
        reader = ctx.runtime.blobs.open_range(sha256)
    except FileNotFoundError:
        raise NotFound(f"the file of blob {sha256} is missing from the store") from None
    wanted = _byte_range(range_header, reader.size)
    headers = headers | {"Accept-Ranges": "bytes"}
    if wanted is False:
        reader.close()
        return Response(status_code=416, headers=headers | {"Content-Range": f"bytes */{reader.size}"})
    start, end = wanted if wanted is not None else (0, reader.size)
    headers["Content-Length"] = str(end - start)
    if wanted is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{reader.size}"

    def body() -> Iterator[bytes]:
        with reader:
            yield from reader.range(start, end)

    return StreamingResponse(body(), status_code=206 if wanted is not None else 200,
                             media_type=media_type, headers=headers)


@router.get("/{sha256}/info", response_model=BlobInfoOut)
def blob_info(project_id: Id, sha256: Sha256, ctx: Ctx = CtxDep) -> BlobInfoOut:
    """A stored file's size, media type and pixels (after EXIF orientation), and its variants';
    for audio, its peaks and duration, sample rate, channels and codec."""
    found = ctx.read(blobs.blob_info, project_id, sha256)
    files = {name: BlobFileOut.model_validate(row, from_attributes=True) for name, row in found.files.items()}
    audio = None if found.audio is None else AudioProbeOut.model_validate(found.audio, from_attributes=True)
    video = None if found.video is None else VideoProbeOut.model_validate(found.video, from_attributes=True)
    return BlobInfoOut(**files["original"].model_dump(), preview=files["preview"], thumb=files["thumb"],
                       peaks=files.get("peaks"), audio=audio, frames=files.get("frames"),
                       poster=files.get("poster"), proxy=files.get("proxy"), video=video)
