"""`labelloop blobs migrate`: a project's (or every) file copied from the local folder into S3 and
back, each verified by the SHA-256 of what the target gives back; resumed after a stop without
copying twice; a wrong copy in the target found by `--verify` and replaced by the next run."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from labelloop.cli.main import app
from labelloop.config import get_settings
from labelloop.services import blob_migration
from labelloop.services.runtime import Runtime
from labelloop.store.blobs import LocalBlobStore
from tests.platform.conftest import make_settings
from tests.platform.pictures import SCHEMA, jpeg, png, sha, zipped
from tests.platform.world import World

s3_blobs = pytest.importorskip("labelloop.store.s3_blobs")
pytest.importorskip("boto3", reason="S3 blobs need the s3 extra")


@pytest.fixture
def bucket(s3_server: Any) -> str:
    name: str = s3_server.new_bucket()
    return name


@pytest.fixture
def cli(tmp_path: Path, database_url: str, s3_server: Any, bucket: str,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    for name, value in (("DATA_DIR", str(tmp_path)), ("DATABASE_URL", database_url), ("S3_BUCKET", bucket),
                        ("S3_ENDPOINT_URL", s3_server.endpoint), ("BLOB_STORE", "local")):
        monkeypatch.setenv(f"LABELLOOP_{name}", value)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, ["blobs", "migrate", *args])
    assert result.exit_code == code, result.output
    return result.output


def two_projects(world: World) -> tuple[int, set[str], set[str]]:
    """Two projects of images; the hashes of each one's files (originals and variants)."""
    owner = world.user()
    held = []
    for n in range(2):
        pid = world.project(owner, schema=SCHEMA, name=f"photos {n}")
        files = {f"{k}.jpg": jpeg(300 + 700 * (k == 0), 200, seed=10 * n + k) for k in range(3)}
        assert world.upload(owner, pid, zipped(files), "p.zip").status_code == 201
        found = set()
        for data in files.values():
            info = world.client.get(f"/api/projects/{pid}/blobs/{sha(data)}/info", headers=owner.headers).json()
            found |= {info["sha256"], info["preview"]["sha256"], info["thumb"]["sha256"]}
        held.append((pid, found))
    return held[0][0], held[0][1], held[1][1]


def local_files(root: Path) -> dict[str, bytes]:
    store = LocalBlobStore(root)
    return {h: store.path_of(h).read_bytes() for h in store.hashes()}


def test_local_to_s3_and_back_for_a_project_then_all_verified(
        world: World, cli: CliRunner, s3_server: Any, bucket: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    first, first_files, second_files = two_projects(world)
    blob_dir = world.runtime.settings.blob_dir
    before = local_files(blob_dir)
    assert set(before) == first_files | second_files

    out = run(cli, "--to", "s3", "--project", str(first), "--verify")
    assert f"{len(first_files)} files: {len(first_files)} copied" in out and "0 missing, 0 wrong" in out
    in_s3 = {k.rsplit("/", 1)[-1] for k in s3_server.keys(bucket)}
    assert in_s3 == first_files  # another project's files stay where they are
    out = run(cli, "--to", "s3", "--verify")
    total = len(first_files | second_files)
    assert f"{total} files: {len(second_files - first_files)} copied" in out
    assert f"{len(first_files)} already there" in out
    assert all(k.startswith("blobs/") for k in s3_server.keys(bucket))

    # Served from S3 once the setting says so, byte for byte.
    settings = make_settings(tmp_path / "s3-side", world.runtime.settings.resolved_database_url, blob_store="s3",
                             s3_bucket=bucket, s3_endpoint_url=s3_server.endpoint)
    rt = Runtime(settings)
    try:
        for h, data in before.items():
            with rt.blobs.open(h) as f:
                assert f.read() == data
    finally:
        rt.close()

    # And back into an empty local folder, from S3 as the configured store.
    shutil.rmtree(blob_dir)
    monkeypatch.setenv("LABELLOOP_BLOB_STORE", "s3")
    get_settings.cache_clear()
    assert f"{total} files: {total} copied" in run(cli, "--to", "local", "--verify")
    assert local_files(blob_dir) == before
    assert "already in the s3 store" in run(cli, "--to", "s3", code=1)


def test_a_stopped_migration_resumes_without_copying_twice_and_a_wrong_copy_is_replaced(
        world: World, cli: CliRunner, s3_server: Any, bucket: str, tmp_path: Path) -> None:
    _, first_files, second_files = two_projects(world)
    every = sorted(first_files | second_files)
    source = world.runtime.blobs
    target = s3_blobs.S3BlobStore.connect(bucket=bucket, prefix="blobs", endpoint_url=s3_server.endpoint,
                                          tmp_dir=tmp_path / "target")
    uploads: list[Path] = []
    real_upload = target._upload

    def dies_on_the_fourth(path: Path, sha256: str) -> None:
        if len(uploads) == 3:
            raise KeyboardInterrupt  # the operator's Ctrl-C, or the process killed mid-upload
        uploads.append(path)
        real_upload(path, sha256)

    target._upload = dies_on_the_fourth
    with pytest.raises(KeyboardInterrupt):
        blob_migration.migrate(source, target, every, workers=1)
    assert len(s3_server.keys(bucket)) == 3  # whole objects only: S3 shows an upload once complete

    out = run(cli, "--to", "s3")
    assert f"{len(every)} files: {len(every) - 3} copied" in out and "3 already there" in out

    # An object changed behind labelloop's back, another gone: the verification pass names them,
    # and the next run replaces them (read back, hashed, found wrong or missing, copied again).
    victim, lost = every[0], every[1]
    s3_server.client().put_object(Bucket=bucket, Key=target.key_of(victim), Body=b"not the file")
    s3_server.client().delete_object(Bucket=bucket, Key=target.key_of(lost))
    found = blob_migration.verify(target, every)
    assert (found.wrong, found.missing, found.ok) == ([victim], [lost], False)
    out = run(cli, "--to", "s3", "--verify")
    assert f"{len(every)} files: 2 copied" in out and "0 missing, 0 wrong" in out
    out = run(cli, "--to", "s3", "--verify")
    assert f"{len(every)} files: 0 copied" in out and f"{len(every)} already there" in out
    with target.open(victim) as f:
        assert hashlib.sha256(f.read()).hexdigest() == victim
    assert not any((tmp_path / "target" / "tmp").iterdir())  # nothing staged is left behind


def test_a_file_missing_from_the_source_is_reported_and_fails_the_command(
        world: World, cli: CliRunner, tmp_path: Path) -> None:
    owner = world.user()
    pid = world.project(owner, schema=SCHEMA)
    assert world.upload(owner, pid, zipped({"a.png": png()}), "a.zip").status_code == 201
    LocalBlobStore(world.runtime.settings.blob_dir).path_of(sha(png())).unlink()
    out = run(cli, "--to", "s3", "--project", str(pid), code=1)
    assert f"not copied: {sha(png())}" in out
    assert "project 999 not found" in run(cli, "--to", "s3", "--project", "999", code=1)
