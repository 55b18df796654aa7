"""Blobs in S3 (store/s3_blobs.py) against a real S3 server the tests start (moto's, on the
loopback): the store itself (content-addressed keys, multipart upload, server-side encryption
passed through, ranged reads, listing, deletion, local copies), imports of images and audio into
it, serving with ETag, 304 and 206 and the same role checks, labelloop's own encryption at rest
over S3, presigned redirects, and a wrong bucket or endpoint refused at start."""

from __future__ import annotations

import base64
import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from labelloop.api.app import create_app
from labelloop.config import Settings
from labelloop.services.policy import Actor
from labelloop.services.protection import encryption
from labelloop.services.runtime import Runtime
from labelloop.store.blobs import TooLarge
from labelloop.store.crypto import MAGIC, Keyring, key_id_of
from tests.platform.conftest import make_settings
from tests.platform.pictures import SCHEMA, jpeg, png, sha, zipped
from tests.platform.s3 import free_port
from tests.platform.s3 import s3_server as start_s3
from tests.platform.world import User, World

s3_blobs = pytest.importorskip("labelloop.store.s3_blobs")
pytest.importorskip("boto3", reason="S3 blobs need the s3 extra")
S3BlobStore, BlobStoreError = s3_blobs.S3BlobStore, s3_blobs.BlobStoreError
KEY = bytes(range(32))
OTHER = bytes(range(1, 33))
OPERATOR = Actor.operator()


def s3_settings(tmp_path: Path, database_url: str, server: Any, **overrides: Any) -> Settings:
    options: dict[str, Any] = {"blob_store": "s3", "s3_bucket": server.new_bucket(),
                               "s3_endpoint_url": server.endpoint, "s3_sse": "AES256"}
    return make_settings(tmp_path, database_url, **(options | overrides))


@pytest.fixture
def s3_world(tmp_path: Path, database_url: str, s3_server: Any, request: pytest.FixtureRequest
             ) -> Iterator[World]:
    """A server whose blobs are in a fresh bucket; `@pytest.mark.parametrize("s3_world", [{...}],
    indirect=True)` adds settings."""
    extra = getattr(request, "param", {})
    rt = Runtime(s3_settings(tmp_path, database_url, s3_server, **extra))
    with TestClient(create_app(rt)) as client:
        yield World(rt, client)
    rt.close()


def store_on(server: Any, tmp_path: Path, **options: Any) -> Any:
    return S3BlobStore.connect(bucket=server.new_bucket(), endpoint_url=server.endpoint, tmp_dir=tmp_path,
                               **options)


def url(pid: int, digest: str, variant: str | None = None) -> str:
    return f"/api/projects/{pid}/blobs/{digest}" + (f"?variant={variant}" if variant else "")


def setup_project(world: World, files: dict[str, bytes], schema: dict[str, Any] = SCHEMA
                  ) -> tuple[User, int, dict[str, User]]:
    owner = world.user()
    people = {role: world.user() for role in ("annotator", "reviewer", "manager")}
    pid = world.project(owner, schema=schema, members={r: (u,) for r, u in people.items()})
    r = world.upload(owner, pid, zipped(files), "files.zip")
    assert r.status_code == 201, r.text
    return owner, pid, people


# The store -----------------------------------------------------------------------------------


def test_a_file_goes_to_its_hash_key_by_multipart_upload_with_server_side_encryption(
        s3_server: Any, tmp_path: Path) -> None:
    store = store_on(s3_server, tmp_path, prefix="/team/blobs/", sse="AES256")
    data = os.urandom(20 * 1024 * 1024 + 5)  # three 8 MiB parts
    digest = hashlib.sha256(data).hexdigest()
    with store.stage(io.BytesIO(data), limit=len(data)) as staged:
        assert staged.path.read_bytes() == data  # a local file for Pillow or PyAV meanwhile
        staged.commit()
    key = f"team/blobs/{digest[:2]}/{digest[2:4]}/{digest}"
    assert store.key_of(digest) == key and s3_server.keys(store.bucket) == [key]
    head = s3_server.client().head_object(Bucket=store.bucket, Key=key)
    assert head["ETag"].strip('"').endswith("-3")  # S3's ETag of a three-part upload
    assert head["ServerSideEncryption"] == "AES256" and head["ContentLength"] == len(data)
    with store.open(digest) as f:
        assert f.read() == data
    ranged = store.open_range(digest)
    assert ranged.size == len(data)
    assert b"".join(ranged.range(8 * 1024 * 1024 - 3, 8 * 1024 * 1024 + 10)) == data[8 * 1024 * 1024 - 3:][:13]
    assert list((tmp_path / "tmp").iterdir()) == []  # the staged file went with the upload

    small = png()
    assert store.put(small) == sha(small) and store.put(small) == sha(small)
    assert sorted(store.hashes()) == sorted([digest, sha(small)])
    with store.local_copy(sha(small)) as path:
        assert path.read_bytes() == small
    assert not path.exists()
    assert store.delete(sha(small)) and not store.exists(sha(small)) and not store.delete(sha(small))
    assert store.local_path(digest) is None
    with pytest.raises(TooLarge):
        store.stage(io.BytesIO(b"x" * 101), limit=100)
    with store.stage(io.BytesIO(b"y" * 10), limit=10) as discarded:
        pass
    assert not store.exists(discarded.sha256) and list((tmp_path / "tmp").iterdir()) == []
    with pytest.raises(FileNotFoundError):
        store.open("0" * 64)
    empty = store.put(b"")
    with store.open(empty) as f, store.open_range(empty) as ranged:
        assert f.read() == b"" and ranged.size == 0
    store.keyring = Keyring(KEY)
    with store.stage(io.BytesIO(b""), limit=0) as staged:
        staged.commit()  # already there as plaintext: kept (equal names, equal bytes)
    sealed = store_on(s3_server, tmp_path)
    sealed.keyring = Keyring(KEY)
    assert sealed.put(b"") == empty and sealed.key_id_of(empty) == Keyring(KEY).key_id
    with sealed.open(empty) as f, sealed.open_range(empty) as ranged:
        assert f.read() == b"" and ranged.size == 0


@pytest.fixture(scope="module")
def ranged_store(tmp_path_factory: pytest.TempPathFactory, s3_server: Any) -> Iterator[tuple[Any, bytes, Any]]:
    """One plaintext and one encrypted copy of the same 300 KiB file (five 64 KiB chunks), read
    ahead by 100,003 bytes, so that reads cross the ends of ranged GETs and of chunks."""
    data = os.urandom(300 * 1024 + 17)
    plain = store_on(s3_server, tmp_path_factory.mktemp("plain"))
    sealed = store_on(s3_server, tmp_path_factory.mktemp("sealed"))
    sealed.keyring = Keyring(KEY)
    for store in (plain, sealed):  # reads that cross the end of what a ranged GET fetched
        store.read_ahead = 100_003
    for store in (plain, sealed):
        with store.stage(io.BytesIO(data), limit=len(data)) as staged:
            staged.commit()
    yield plain, data, sealed


@settings(max_examples=25, deadline=None)
@given(start=st.integers(0, 300 * 1024 + 16), length=st.integers(1, 200_000))
def test_any_byte_range_reads_back_from_s3_plain_or_encrypted(ranged_store: tuple[Any, bytes, Any],
                                                             start: int, length: int) -> None:
    plain, data, sealed = ranged_store
    end = min(len(data), start + length)
    digest = hashlib.sha256(data).hexdigest()
    for store in (plain, sealed):
        with store.open_range(digest) as reader:
            assert reader.size == len(data)
            assert b"".join(reader.range(start, end)) == data[start:end]
    with sealed.open(digest) as f:  # a seekable decrypting view over ranged GetObjects
        f.seek(start)
        assert f.read(end - start) == data[start:end]


# Import and serving ----------------------------------------------------------------------------


def test_images_import_into_the_bucket_and_are_served_with_etag_304_and_206(s3_world: World,
                                                                           s3_server: Any) -> None:
    photo = jpeg(3000, 1200)
    owner, pid, people = setup_project(s3_world, {"big.jpg": photo, "small.png": png()})
    digest = sha(photo)
    store = s3_world.runtime.blobs
    assert isinstance(store, S3BlobStore)
    info = s3_world.client.get(url(pid, digest) + "/info", headers=owner.headers).json()
    held = {info["sha256"], info["preview"]["sha256"], info["thumb"]["sha256"], sha(png())}
    assert len(held) == 4 and held <= set(store.hashes())
    assert s3_server.keys(store.bucket) == sorted(store.key_of(h) for h in held)
    assert sorted(p.name for p in (s3_world.runtime.settings.blob_dir / "tmp").iterdir()) == []

    headers = people["annotator"].headers
    r = s3_world.client.get(url(pid, digest), headers=headers)
    assert r.status_code == 200 and r.content == photo and r.headers["content-type"] == "image/jpeg"
    assert r.headers["etag"] == f'"{digest}"' and r.headers["accept-ranges"] == "bytes"
    assert r.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert "sandbox" in r.headers["content-security-policy"]
    assert s3_world.client.get(url(pid, digest), headers={**headers, "If-None-Match": f'"{digest}"'}
                               ).status_code == 304
    part = s3_world.client.get(url(pid, digest), headers={**headers, "Range": "bytes=10-109"})
    assert part.status_code == 206 and part.content == photo[10:110]
    assert part.headers["content-range"] == f"bytes 10-109/{len(photo)}"
    tail = s3_world.client.get(url(pid, digest), headers={**headers, "Range": "bytes=-16"})
    assert tail.status_code == 206 and tail.content == photo[-16:]
    assert s3_world.client.get(url(pid, digest), headers={**headers, "Range": f"bytes={len(photo)}-"}
                               ).status_code == 416
    thumb = s3_world.client.get(url(pid, digest, "thumb"), headers=headers)
    assert thumb.status_code == 200 and thumb.headers["etag"] == f'"{sha(thumb.content)}"'

    # The same role checks: outsiders and other projects get 404, no token 401.
    outsider = s3_world.user()
    assert s3_world.client.get(url(pid, digest), headers=outsider.headers).status_code == 404
    other = s3_world.project(outsider, schema=SCHEMA)
    assert s3_world.client.get(url(other, digest), headers=outsider.headers).status_code == 404
    assert s3_world.client.get(url(pid, digest)).status_code == 401

    # An object gone from the bucket (deleted behind labelloop's back) is a 404, not a crash.
    s3_server.client().delete_object(Bucket=store.bucket, Key=store.key_of(sha(png())))
    gone = s3_world.client.get(url(pid, sha(png())), headers=headers)
    assert gone.status_code == 404 and "missing from the store" in gone.json()["error"]["message"]


@pytest.mark.parametrize("s3_world", [{"s3_presign": True}], indirect=True)
def test_audio_imports_into_the_bucket_with_its_probe_and_peaks(s3_world: World) -> None:
    sounds = pytest.importorskip("tests.platform.sounds")
    clip = sounds.sound("flac", 2.0)
    schema = {"fields": [{"name": "clip", "type": "audio"}],
              "questions": [{"name": "turns", "type": "audio_segments", "target": "clip",
                             "labels": ["speech"]}]}
    owner, pid, people = setup_project(s3_world, {"a.flac": clip}, schema)
    info = s3_world.client.get(url(pid, sha(clip)) + "/info", headers=owner.headers).json()
    assert info["audio"]["channels"] == 1 and abs(info["audio"]["duration"] - 2.0) < 0.05
    # The app fetches peaks itself (connect-src 'self'): served here, never presigned.
    peaks = s3_world.client.get(url(pid, sha(clip), "peaks"), headers=people["annotator"].headers,
                                follow_redirects=False)
    assert peaks.status_code == 200 and peaks.headers["etag"] == f'"{info["peaks"]["sha256"]}"'
    assert s3_world.runtime.blobs.exists(info["peaks"]["sha256"])
    whole = s3_world.client.get(url(pid, sha(clip)), headers=people["annotator"].headers, follow_redirects=False)
    assert whole.status_code == 307 and httpx.get(whole.headers["location"]).content == clip
    with s3_world.runtime.blobs.local_copy(sha(clip)) as path:  # what PyAV and models read
        assert path.read_bytes() == clip


@pytest.mark.parametrize("s3_world", [{"encryption_key": SecretStr(base64.b64encode(KEY).decode()),
                                       "s3_presign": True}], indirect=True)
def test_files_encrypted_by_labelloop_are_ciphertext_in_the_bucket_and_served_decrypted(
        s3_world: World, s3_server: Any) -> None:
    photo = jpeg(400, 300, seed=3)
    _, pid, people = setup_project(s3_world, {"a.jpg": photo})
    store = s3_world.runtime.blobs
    raw = s3_server.client().get_object(Bucket=store.bucket, Key=store.key_of(sha(photo)))["Body"].read()
    assert raw.startswith(MAGIC) and photo[100:164] not in raw
    headers = people["annotator"].headers
    r = s3_world.client.get(url(pid, sha(photo)), headers=headers, follow_redirects=False)
    assert r.status_code == 200 and r.content == photo  # never presigned: the browser gets plaintext
    mid = len(photo) // 2
    part = s3_world.client.get(url(pid, sha(photo)), headers={**headers, "Range": f"bytes={mid}-{mid + 99}"})
    assert part.status_code == 206 and part.content == photo[mid:mid + 100]


def tiny_video(frames: int = 20) -> bytes:
    av = pytest.importorskip("av", reason="video needs PyAV (the audio extra)")
    import numpy as np

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for f in range(frames):
            img = np.full((48, 64, 3), 40, np.uint8)
            img[10:30, 2 * f:2 * f + 16] = 220
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode())
    return buf.getvalue()


def test_video_imports_into_the_bucket_with_its_frame_table_and_poster(s3_world: World) -> None:
    clip = tiny_video()
    schema = {"fields": [{"name": "clip", "type": "video"}],
              "questions": [{"name": "objects", "type": "video_tracks", "target": "clip", "labels": ["car"]}]}
    owner, pid, people = setup_project(s3_world, {"v.mp4": clip}, schema)
    info = s3_world.client.get(url(pid, sha(clip)) + "/info", headers=owner.headers).json()
    assert info["video"]["frame_count"] == 20 and (info["video"]["width"], info["video"]["height"]) == (64, 48)
    headers = people["annotator"].headers
    for variant in ("frames", "poster"):
        got = s3_world.client.get(url(pid, sha(clip), variant), headers=headers)
        assert got.status_code == 200 and got.headers["etag"] == f'"{info[variant]["sha256"]}"'
        assert s3_world.runtime.blobs.exists(info[variant]["sha256"])
    part = s3_world.client.get(url(pid, sha(clip)), headers={**headers, "Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == clip[:100]  # how a <video> element seeks

    # The tracker decodes the video from a local copy of the object (store.local_copy).
    pytest.importorskip("cv2", reason="the built-in tracker needs OpenCV (the images-models extra)")
    item = s3_world.client.get(f"/api/projects/{pid}/items", headers=owner.headers).json()[0]["id"]
    r = s3_world.client.post(f"/api/projects/{pid}/items/{item}/track", headers=owner.headers,
                             json={"frame": 2, "box": [4.0, 10.0, 20.0, 30.0], "frames": 5})
    assert r.status_code == 200, r.text
    got = r.json()  # how well it tracks is test_video_tracker.py's; here, that it decoded the copy
    assert got["stopped"] in ("limit", "lost") and {b["frame"] for b in got["boxes"]} <= {3, 4, 5, 6, 7}
    assert list((s3_world.runtime.settings.blob_dir / "tmp").glob("*.copy")) == []  # the copy is gone


def test_encryption_enable_and_rotate_rewrite_every_object(s3_world: World, s3_server: Any) -> None:
    photo = jpeg(500, 400, seed=7)
    owner, pid, _ = setup_project(s3_world, {"a.jpg": photo, "b.png": png()})
    rt, store = s3_world.runtime, s3_world.runtime.blobs
    names = sorted(store.hashes())

    def raw(h: str) -> bytes:
        return bytes(s3_server.client().get_object(Bucket=store.bucket, Key=store.key_of(h))["Body"].read())

    assert raw(sha(photo)) == photo
    assert encryption.enable(rt.db, store, KEY, OPERATOR).blobs == len(names)
    assert all(raw(h).startswith(MAGIC) for h in names) and photo[100:164] not in raw(sha(photo))
    assert encryption.enable(rt.db, store, KEY, OPERATOR).blobs == 0  # resumable: nothing left
    assert encryption.rotate(rt.db, store, KEY, OTHER, OPERATOR).blobs == len(names)
    assert {store.key_id_of(h) for h in names} == {key_id_of(OTHER)}
    r = s3_world.client.get(url(pid, sha(photo)), headers=owner.headers)
    assert r.status_code == 200 and r.content == photo


@pytest.mark.parametrize("s3_world", [{"s3_presign": True, "s3_presign_seconds": 60}], indirect=True)
def test_presigned_urls_send_members_to_the_object_after_the_same_checks(s3_world: World) -> None:
    photo = jpeg(300, 200, seed=5)
    _, pid, people = setup_project(s3_world, {"a.jpg": photo})
    headers = people["annotator"].headers
    r = s3_world.client.get(url(pid, sha(photo)), headers=headers, follow_redirects=False)
    assert r.status_code == 307 and r.headers["cache-control"] == "private, no-store"
    location = r.headers["location"]
    assert location.startswith(s3_world.runtime.settings.s3_endpoint_url or "") and "Expires=" in location
    got = httpx.get(location)  # the browser's own request, to the S3 server
    assert got.status_code == 200 and got.content == photo and got.headers["content-type"] == "image/jpeg"
    assert got.headers["content-disposition"].startswith("inline;")
    assert s3_world.client.get(url(pid, sha(photo)), headers={**headers, "If-None-Match": f'"{sha(photo)}"'},
                               follow_redirects=False).status_code == 304
    outsider = s3_world.user()
    denied = s3_world.client.get(url(pid, sha(photo)), headers=outsider.headers, follow_redirects=False)
    assert denied.status_code == 404 and "location" not in denied.headers


def test_a_wrong_bucket_credentials_or_endpoint_stops_the_start(tmp_path: Path, database_url: str,
                                                                s3_server: Any) -> None:
    options = {"blob_store": "s3", "s3_endpoint_url": s3_server.endpoint}
    with pytest.raises(BlobStoreError, match=r"'labelloop-missing' at .* does not exist"):
        Runtime(make_settings(tmp_path, database_url, **options, s3_bucket="labelloop-missing"))
    with pytest.raises(BlobStoreError, match="needs LABELLOOP_S3_BUCKET"):
        Runtime(make_settings(tmp_path, database_url, **options))
    with start_s3(check_credentials=True) as strict, pytest.raises(BlobStoreError, match="refuses these credentials"):
        Runtime(make_settings(tmp_path, database_url, blob_store="s3", s3_bucket="labelloop-any",
                              s3_endpoint_url=strict.endpoint))
    nowhere = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(BlobStoreError, match="cannot be reached"):
        Runtime(make_settings(tmp_path, database_url, blob_store="s3", s3_bucket="b", s3_endpoint_url=nowhere))
