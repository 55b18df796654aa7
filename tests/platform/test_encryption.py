"""Encryption at rest: the chunked blob format, sealed item content, the key check at start,
`encryption enable` on existing data and key rotation (docs/data-protection.md)."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import JSON, select, type_coerce

from labelloop.api.app import create_app
from labelloop.services.policy import Actor
from labelloop.services.protection import encryption
from labelloop.services.runtime import Runtime
from labelloop.store.blobs import LocalBlobStore
from labelloop.store.crypto import HEADER, NONCE, TAG, EncryptionError, Keyring, is_sealed
from labelloop.store.models import audit_log, items
from tests.platform.conftest import make_settings
from tests.platform.pictures import SCHEMA as IMAGE_SCHEMA
from tests.platform.pictures import jpeg, sha, zipped
from tests.platform.world import World

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))
SECRET = "Zorblax-Quintessa-7731"
OPERATOR = Actor.operator()


def b64(key: bytes) -> SecretStr:
    return SecretStr(base64.b64encode(key).decode())


# The format ----------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(data=st.binary(max_size=300_000), start=st.integers(0, 300_000), length=st.integers(0, 200_000))
def test_an_encrypted_file_reads_back_whole_and_by_range(
    tmp_path_factory: Any, data: bytes, start: int, length: int
) -> None:
    store = LocalBlobStore(tmp_path_factory.mktemp("blobs"), keyring=Keyring(KEY))
    with store.stage(io.BytesIO(data), limit=len(data)) as staged:
        staged.commit()
    digest = hashlib.sha256(data).hexdigest()
    assert staged.sha256 == digest and store.local_path(digest) is None
    on_disk = store.path_of(digest).read_bytes()
    if len(data) >= 16:
        assert data[:16] not in on_disk and data[-16:] not in on_disk
    with store.open(digest) as f:
        assert f.read() == data
        f.seek(start)
        assert f.read(length) == data[start:start + length]
    with store.open_range(digest) as r:
        end = min(len(data), start + length)
        assert b"".join(r.range(start, end)) == data[start:end]
    assert list((store.root / "tmp").iterdir()) == []  # the plaintext stage is gone


def _tampered(path: Path, change: Any) -> None:
    raw = bytearray(path.read_bytes())
    path.write_bytes(bytes(change(raw)))


@pytest.mark.parametrize("how", ["flip", "swap", "truncate", "drop_last", "header", "moved"])
def test_a_changed_reordered_truncated_or_moved_file_does_not_decrypt(tmp_path: Path, how: str) -> None:
    store = LocalBlobStore(tmp_path, keyring=Keyring(KEY))
    data = bytes(range(256)) * 1024  # 256 KiB: four chunks of 64 KiB
    digest = store.put(data)
    path = store.path_of(digest)
    step = 64 * 1024 + NONCE + TAG
    if how == "flip":
        _tampered(path, lambda b: b[:HEADER + 100] + bytes([b[HEADER + 100] ^ 1]) + b[HEADER + 101:])
    elif how == "swap":
        _tampered(path, lambda b: b[:HEADER] + b[HEADER + step:HEADER + 2 * step] + b[HEADER:HEADER + step]
                  + b[HEADER + 2 * step:])
    elif how == "truncate":
        _tampered(path, lambda b: b[:-10])
    elif how == "drop_last":
        _tampered(path, lambda b: b[:HEADER + 3 * step])
    elif how == "header":
        _tampered(path, lambda b: b[:60] + bytes([b[60] ^ 1]) + b[61:])
    else:  # another blob's file copied over this address
        other = store.put(b"other bytes")
        path.write_bytes(store.path_of(other).read_bytes())
    with pytest.raises(EncryptionError), store.open(digest) as f:
        f.read()
    other_key = LocalBlobStore(tmp_path, keyring=Keyring(OTHER))
    with pytest.raises(EncryptionError, match="not the key configured"):
        other_key.open(store.put(b"fresh"))


# The instance --------------------------------------------------------------------------------


@pytest.fixture
def encrypted(tmp_path: Path, database_url: str) -> Iterator[tuple[Runtime, World]]:
    rt = Runtime(make_settings(tmp_path, database_url, encryption_key=b64(KEY)))
    with TestClient(create_app(rt)) as client:
        yield rt, World(rt, client)
    rt.close()


def test_item_content_and_files_are_encrypted_and_served_plaintext(encrypted: tuple[Runtime, World],
                                                                     tmp_path: Path) -> None:
    rt, world = encrypted
    owner = world.user()
    text_pid = world.project(owner)
    world.import_records(owner, text_pid, [{"id": "a", "text": f"mail {SECRET} now"}])
    photo = jpeg(300, 200, seed=3)
    pid = world.project(owner, schema=IMAGE_SCHEMA)
    assert world.upload(owner, pid, zipped({"p.jpg": photo}), "p.zip").status_code == 201

    with rt.db.read() as conn:
        raw = conn.execute(select(type_coerce(items.c.data, JSON)).where(items.c.project_id == text_pid)).scalar()
        item_id = conn.execute(select(items.c.id).where(items.c.project_id == text_pid)).scalar()
    assert is_sealed(raw) and SECRET not in str(raw)
    got = world.client.get(f"/api/projects/{text_pid}/items/{item_id}", headers=owner.headers)
    assert got.status_code == 200 and got.json()["item"]["data"]["text"] == f"mail {SECRET} now"
    export = world.client.get(f"/api/projects/{text_pid}/export", params={"format": "jsonl"},
                              headers=owner.headers)
    assert export.status_code == 200 and SECRET in export.text

    url = f"/api/projects/{pid}/blobs/{sha(photo)}"
    whole = world.client.get(url, headers=owner.headers)
    assert whole.status_code == 200 and whole.content == photo
    assert whole.headers["accept-ranges"] == "bytes" and whole.headers["etag"] == f'"{sha(photo)}"'
    for asked, (lo, hi) in {"bytes=0-9": (0, 10), "bytes=100-": (100, len(photo)),
                            "bytes=-50": (len(photo) - 50, len(photo)),
                            f"bytes=10-{len(photo) + 99}": (10, len(photo))}.items():
        part = world.client.get(url, headers={**owner.headers, "Range": asked})
        assert part.status_code == 206 and part.content == photo[lo:hi], asked
        assert part.headers["content-range"] == f"bytes {lo}-{hi - 1}/{len(photo)}"
    beyond = world.client.get(url, headers={**owner.headers, "Range": f"bytes={len(photo)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(photo)}"

    window = photo[len(photo) // 2: len(photo) // 2 + 32]
    for f in (tmp_path / "blobs").rglob("*"):
        if f.is_file():
            assert window not in f.read_bytes(), f


def test_a_wrong_or_missing_key_is_an_error_at_start(encrypted: tuple[Runtime, World], tmp_path: Path,
                                                      database_url: str) -> None:
    _, world = encrypted
    owner = world.user()
    world.import_records(owner, world.project(owner), [{"id": "a", "text": SECRET}])
    with pytest.raises(EncryptionError, match="wrong encryption key"):
        Runtime(make_settings(tmp_path, database_url, encryption_key=b64(OTHER)))
    with pytest.raises(EncryptionError, match="no key is configured"):
        Runtime(make_settings(tmp_path, database_url))
    with pytest.raises(EncryptionError, match="32 bytes"):
        Runtime(make_settings(tmp_path, database_url, encryption_key=SecretStr("c2hvcnQ=")))


def test_a_key_on_plaintext_data_asks_for_enable_which_encrypts_it_then_rotate(
    world: World, runtime: Runtime, tmp_path: Path, database_url: str
) -> None:
    owner = world.user()
    pid = world.project(owner)
    world.import_records(owner, pid, [{"id": f"r{i}", "text": f"{SECRET} {i}"} for i in range(3)])
    photo = jpeg(120, 80, seed=5)
    ipid = world.project(owner, schema=IMAGE_SCHEMA)
    assert world.upload(owner, ipid, zipped({"q.jpg": photo}), "q.zip").status_code == 201
    blob_files = [f for f in (tmp_path / "blobs").rglob("*") if f.is_file()]
    assert any(photo == f.read_bytes() for f in blob_files)  # plaintext before

    with pytest.raises(EncryptionError, match="encryption enable"):
        Runtime(make_settings(tmp_path, database_url, encryption_key=b64(KEY)))

    done = encryption.enable(runtime.db, LocalBlobStore(tmp_path / "blobs"), KEY, OPERATOR)
    assert done.items == 4 and done.blobs == len(blob_files)
    assert not any(photo[100:132] in f.read_bytes() for f in blob_files)
    again = encryption.enable(runtime.db, LocalBlobStore(tmp_path / "blobs"), KEY, OPERATOR)
    assert (again.items, again.blobs) == (0, 0)  # resumable: nothing left to do

    def texts(rt: Runtime) -> list[str]:
        with rt.db.read() as conn:
            return sorted(d["text"] for d in conn.execute(select(items.c.data).where(items.c.project_id == pid)).scalars())

    keyed = Runtime(make_settings(tmp_path, database_url, encryption_key=b64(KEY)))
    try:
        assert texts(keyed) == [f"{SECRET} {i}" for i in range(3)]
        with keyed.blobs.open(sha(photo)) as f:
            assert f.read() == photo
        new_file = tmp_path / "new.key"
        new_file.write_text(base64.b64encode(OTHER).decode() + "\n")
        rotated = encryption.rotate(keyed.db, keyed.blobs, KEY, OTHER, OPERATOR)
        assert rotated.items == 4 and rotated.blobs == len(blob_files)
    finally:
        keyed.close()
    with pytest.raises(EncryptionError, match="wrong encryption key"):
        Runtime(make_settings(tmp_path, database_url, encryption_key=b64(KEY)))
    after = Runtime(make_settings(tmp_path, database_url, encryption_key_file=tmp_path / "new.key"))
    try:
        assert texts(after) == [f"{SECRET} {i}" for i in range(3)]
        with after.blobs.open(sha(photo)) as f:
            assert f.read() == photo
        with after.db.read() as conn:
            logged = conn.execute(select(audit_log.c.action, audit_log.c.details)
                                  .where(audit_log.c.action.like("encryption.%")).order_by(audit_log.c.seq)).all()
    finally:
        after.close()
    assert [(a, d["items"], d["files"]) for a, d in logged] == [
        ("encryption.enable", 4, len(blob_files)), ("encryption.enable", 0, 0),
        ("encryption.rotate", 4, len(blob_files))]


def test_the_cli_enables_and_rotates(world: World, runtime: Runtime, tmp_path: Path, database_url: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from labelloop.cli.main import app
    from labelloop.config import get_settings

    owner = world.user()
    pid = world.project(owner)
    world.import_records(owner, pid, [{"id": "a", "text": SECRET}])
    old, new = tmp_path / "old.key", tmp_path / "new.key"
    old.write_text(base64.b64encode(KEY).decode())
    new.write_text(base64.b64encode(OTHER).decode())
    monkeypatch.setenv("LABELLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LABELLOOP_DATABASE_URL", database_url)
    cli = CliRunner()
    get_settings.cache_clear()
    try:
        assert cli.invoke(app, ["encryption", "enable"]).exit_code == 1  # no key: says so
        monkeypatch.setenv("LABELLOOP_ENCRYPTION_KEY_FILE", str(old))
        get_settings.cache_clear()
        refused = cli.invoke(app, ["status"])
        assert refused.exit_code == 1 and "labelloop encryption enable" in refused.output, refused.output
        enabled = cli.invoke(app, ["encryption", "enable"])
        assert enabled.exit_code == 0 and "1 items encrypted" in enabled.output, enabled.output
        rotated = cli.invoke(app, ["encryption", "rotate", "--new-key-file", str(new)])
        assert rotated.exit_code == 0 and "1 items re-encrypted" in rotated.output, rotated.output
        monkeypatch.setenv("LABELLOOP_ENCRYPTION_KEY_FILE", str(new))
        get_settings.cache_clear()
        exported = cli.invoke(app, ["export", str(pid), "-o", str(tmp_path / "out.jsonl")])
        assert exported.exit_code == 0, exported.output
        assert SECRET in (tmp_path / "out.jsonl").read_text()
    finally:
        get_settings.cache_clear()


def test_a_rotation_cut_off_refuses_to_start_and_finishes_when_run_again(
    encrypted: tuple[Runtime, World], tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt, world = encrypted
    owner = world.user()
    pid = world.project(owner)
    world.import_records(owner, pid, [{"id": f"r{i}", "text": f"{SECRET} {i}"} for i in range(5)])
    real = encryption._reseal

    def cut_off(*_args: Any, **_kwargs: Any) -> int:
        raise KeyboardInterrupt  # the operator's Ctrl-C, after the files and before the items

    monkeypatch.setattr(encryption, "_reseal", cut_off)
    with pytest.raises(KeyboardInterrupt):
        encryption.rotate(rt.db, rt.blobs, KEY, OTHER, OPERATOR)
    monkeypatch.setattr(encryption, "_reseal", real)
    for key in (KEY, OTHER):
        with pytest.raises(EncryptionError, match="did not finish"):
            Runtime(make_settings(tmp_path, database_url, encryption_key=b64(key)))
    with pytest.raises(EncryptionError, match="unfinished rotation"):
        encryption.rotate(rt.db, rt.blobs, KEY, bytes(32), OPERATOR)
    done = encryption.rotate(rt.db, rt.blobs, KEY, OTHER, OPERATOR)
    assert done.items == 5
    after = Runtime(make_settings(tmp_path, database_url, encryption_key=b64(OTHER)))
    try:
        with after.db.read() as conn:
            got = sorted(conn.execute(select(items.c.data).where(items.c.project_id == pid)).scalars(),
                         key=lambda d: d["text"])
    finally:
        after.close()
    assert [d["text"] for d in got] == [f"{SECRET} {i}" for i in range(5)]
