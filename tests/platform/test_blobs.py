"""Stored files: the content-addressed store itself, and serving them to a project's members
(variants, ETag and 304, ranges and 206, headers that keep a file from acting as a page, and
the same 404 for everyone else)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from labelloop.services import projects
from labelloop.services.policy import Actor
from labelloop.store.blobs import LocalBlobStore, TooLarge
from tests.platform.pictures import SCHEMA, jpeg, png, sha, zipped
from tests.platform.world import User, World

OPERATOR = Actor.operator()


# The store -----------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=5000), piece=st.integers(1, 700))
def test_a_stored_file_is_named_by_the_sha256_of_its_bytes(tmp_path_factory: Any, data: bytes, piece: int) -> None:
    store = LocalBlobStore(tmp_path_factory.mktemp("blobs"))

    class Trickle(io.BytesIO):  # a source that hands over a few bytes at a time
        def read(self, size: int | None = -1) -> bytes:
            return super().read(min(piece, size if size is not None and size >= 0 else piece))

    with store.stage(Trickle(data), limit=len(data)) as staged:
        staged.commit()
    digest = hashlib.sha256(data).hexdigest()
    assert staged.sha256 == digest and staged.size == len(data)
    path = store.path_of(digest)
    assert path.read_bytes() == data and path.parent.name == digest[2:4] and path.parent.parent.name == digest[:2]
    assert store.put(data) == digest and path.read_bytes() == data  # the same bytes, the same file
    assert list((store.root / "tmp").iterdir()) == []


def test_staging_past_the_limit_or_discarding_leaves_nothing(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    with pytest.raises(TooLarge):
        store.stage(io.BytesIO(b"x" * 101), limit=100)
    with store.stage(io.BytesIO(b"y" * 100), limit=100) as staged:
        assert staged.path.read_bytes() == b"y" * 100
    assert not store.exists(staged.sha256)  # never committed
    assert list((tmp_path / "tmp").iterdir()) == []
    (tmp_path / "tmp" / "stray.part").write_bytes(b"half")  # a process died while writing
    assert store.sweep_temporary() == 1
    with pytest.raises(ValueError):
        store.path_of("../../etc/passwd")


# Serving -------------------------------------------------------------------------------------


def setup_project(world: World, files: dict[str, bytes]) -> tuple[User, int, dict[str, User]]:
    owner = world.user()
    people = {role: world.user() for role in ("annotator", "reviewer", "manager")}
    pid = world.project(owner, schema=SCHEMA, members={r: (u,) for r, u in people.items()})
    r = world.upload(owner, pid, zipped(files), "photos.zip")
    assert r.status_code == 201, r.text
    return owner, pid, people


def url(pid: int, digest: str, variant: str | None = None) -> str:
    return f"/api/projects/{pid}/blobs/{digest}" + (f"?variant={variant}" if variant else "")


def test_every_member_gets_each_variant_with_its_headers(world: World) -> None:
    photo = jpeg(3000, 1200)
    owner, pid, people = setup_project(world, {"big.jpg": photo})
    digest = sha(photo)
    for user in (owner, *people.values()):
        r = world.client.get(url(pid, digest), headers=user.headers)
        assert r.status_code == 200 and r.content == photo
    r = world.client.get(url(pid, digest), headers=people["annotator"].headers)
    assert r.headers["content-type"] == "image/jpeg"
    assert r.headers["etag"] == f'"{digest}"'
    assert r.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert r.headers["vary"] == "Authorization, Cookie"  # a browser asks again for the next user
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-disposition"].startswith("inline;")
    assert "sandbox" in r.headers["content-security-policy"]

    sizes = {}
    for variant in ("preview", "thumb"):
        got = world.client.get(url(pid, digest, variant), headers=people["annotator"].headers)
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
        assert got.headers["etag"] == f'"{sha(got.content)}"'  # the variant's own bytes
        sizes[variant] = Image.open(io.BytesIO(got.content)).size
    assert sizes == {"preview": (2048, 819), "thumb": (256, 102)}

    info = world.client.get(url(pid, digest) + "/info", headers=people["annotator"].headers)
    assert info.status_code == 200
    body = info.json()
    assert (body["sha256"], body["width"], body["height"], body["size"]) == (digest, 3000, 1200, len(photo))
    assert (body["preview"]["width"], body["thumb"]["height"]) == (2048, 102)


def test_if_none_match_answers_304_and_range_answers_206(world: World) -> None:
    photo = jpeg(200, 100)
    _, pid, people = setup_project(world, {"a.jpg": photo})
    headers = people["annotator"].headers
    digest = sha(photo)
    etag = f'"{digest}"'
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        r = world.client.get(url(pid, digest), headers={**headers, "If-None-Match": sent})
        assert r.status_code == 304 and r.content == b"" and r.headers["etag"] == etag, sent
    assert world.client.get(url(pid, digest), headers={**headers, "If-None-Match": '"other"'}).status_code == 200

    r = world.client.get(url(pid, digest), headers={**headers, "Range": "bytes=10-109"})
    assert r.status_code == 206 and r.content == photo[10:110]
    assert r.headers["content-range"] == f"bytes 10-109/{len(photo)}"
    tail = world.client.get(url(pid, digest), headers={**headers, "Range": "bytes=-16"})
    assert tail.status_code == 206 and tail.content == photo[-16:]
    stale = world.client.get(url(pid, digest), headers={**headers, "Range": "bytes=0-9", "If-Range": '"old"'})
    assert stale.status_code == 200 and stale.content == photo  # changed since: the whole file
    beyond = world.client.get(url(pid, digest), headers={**headers, "Range": f"bytes={len(photo) + 5}-"})
    assert beyond.status_code == 416


def test_outsiders_and_other_projects_files_get_404(world: World) -> None:
    mine, theirs = jpeg(seed=1), png()
    owner, pid, people = setup_project(world, {"mine.jpg": mine})
    other_owner = world.user()
    other = world.project(other_owner, schema=SCHEMA)
    assert world.upload(other_owner, other, zipped({"theirs.png": theirs}), "t.zip").status_code == 201

    outsider = world.user()
    r = world.client.get(url(pid, sha(mine)), headers=outsider.headers)
    assert r.status_code == 404 and r.json()["error"]["message"] == f"project {pid} not found"
    # A member of this project asking for another project's file through it, or for no file at all.
    for digest in (sha(theirs), "0" * 64):
        for suffix in ("", "?variant=thumb", "/info"):
            got = world.client.get(url(pid, digest) + suffix, headers=people["annotator"].headers)
            assert got.status_code == 404 and got.json()["error"]["message"] == f"blob {digest} not found"
    # The admin sees any project, and so its files; with no token, nothing.
    admin = world.user(admin=True)
    assert world.client.get(url(other, sha(theirs)), headers=admin.headers).status_code == 200
    assert world.client.get(url(pid, sha(mine))).status_code == 401
    # A removed member loses the files with the project.
    world.runtime.db.run(lambda c: projects.remove_member(c, OPERATOR, pid, people["annotator"].id))
    assert world.client.get(url(pid, sha(mine)), headers=people["annotator"].headers).status_code == 404
    assert world.client.get(url(pid, sha(mine)), headers=owner.headers).status_code == 200


@pytest.mark.parametrize("digest", ["abc", "G" * 64, "A" * 64, "0" * 63, "0" * 65])
def test_a_malformed_hash_is_a_422(world: World, digest: str) -> None:
    _, pid, people = setup_project(world, {"a.png": png()})
    r = world.client.get(url(pid, digest), headers=people["annotator"].headers)
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "sha256"
    bad = world.client.get(url(pid, sha(png()), "huge"), headers=people["annotator"].headers)
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["field"] == "variant"


def test_a_file_missing_from_the_store_is_a_404_not_a_crash(world: World) -> None:
    photo = png()
    owner, pid, _ = setup_project(world, {"a.png": photo})
    LocalBlobStore(world.runtime.settings.blob_dir).path_of(sha(photo)).unlink()
    r = world.client.get(url(pid, sha(photo)), headers=owner.headers)
    assert r.status_code == 404 and "missing from the store" in r.json()["error"]["message"]
