"""Encryption at rest: which key a runtime uses, the check at start, `enable` and `rotate`.

The key check value in `encryption_state` makes a start with a wrong or missing key an error
(`check_key`), never a server that writes plaintext beside ciphertext or fails on the first read.

`enable` and `rotate` are resumable, not all-or-nothing: each blob file is replaced atomically and
items are re-sealed in batches of `BATCH`, one transaction each; `encryption_state.pending` says a
pass is unfinished, and while it is set the server refuses to start. Rerunning the same command
picks up where it stopped (a piece already under the target key is skipped). Both passes are
recorded in the audit log with their counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Connection, func, inspect, select, type_coerce, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from labelloop.config import Settings
from labelloop.services import audit
from labelloop.services.policy import Actor
from labelloop.store.blobs import BlobStore
from labelloop.store.crypto import (
    EncryptionError,
    Keyring,
    key_check_of,
    key_id_of,
    parse_key,
    read_key_file,
    sealed_key_id,
)
from labelloop.store.db import Database
from labelloop.store.models import KEYRING_ATTR, blobs, encryption_state, items, utcnow

BATCH = 500
Progress = Callable[[int, int, str], None]


def load_key(settings: Settings) -> bytes | None:
    """The key the settings name (environment or file), or None; both at once is an error."""
    if settings.encryption_key is not None and settings.encryption_key_file is not None:
        raise EncryptionError("set LABELLOOP_ENCRYPTION_KEY or LABELLOOP_ENCRYPTION_KEY_FILE, not both")
    if settings.encryption_key is not None:
        return parse_key(settings.encryption_key.get_secret_value(), where="LABELLOOP_ENCRYPTION_KEY")
    if settings.encryption_key_file is not None:
        return read_key_file(settings.encryption_key_file)
    return None


def attach(db: Database, store: BlobStore, keyring: Keyring | None) -> None:
    """Make the engine seal item content and the store encrypt files with `keyring`."""
    setattr(db.engine.dialect, KEYRING_ATTR, keyring)
    store.keyring = keyring


def _state(conn: Connection) -> Any:
    return conn.execute(select(encryption_state).where(encryption_state.c.id == 1)).first()


def _holds_data(conn: Connection) -> bool:
    return (conn.execute(select(items.c.id).limit(1)).first() is not None
            or conn.execute(select(blobs.c.sha256).limit(1)).first() is not None)


def check_key(db: Database, keyring: Keyring | None) -> None:
    """At start: the configured key (or its absence) must match the database's. A key given to
    an instance with no data yet is adopted; one with plaintext data must run `enable`."""
    if not inspect(db.engine).has_table("encryption_state"):
        return  # not migrated yet: `migrate` checks again
    with db.read() as conn:
        row = _state(conn)
    if row is None and keyring is None:
        return  # plaintext, as it always was: no write at every start
    with db.write() as conn:
        row = _state(conn)
        if row is None:
            assert keyring is not None
            if _holds_data(conn):
                raise EncryptionError(
                    "an encryption key is configured but the data here is not encrypted: run "
                    "`labelloop encryption enable` to encrypt it, or unset the key")
            # Several workers may start at once: the first one's row wins, the others check it.
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            conn.execute(insert(encryption_state).values(
                id=1, key_id=keyring.key_id, key_check=key_check_of(keyring.current), updated_at=utcnow(),
            ).on_conflict_do_nothing(index_elements=["id"]))
            row = _state(conn)
        if row.pending is not None:
            raise EncryptionError(
                f"`labelloop encryption {row.pending}` did not finish: run it again to complete it "
                "before starting")
        if keyring is None:
            raise EncryptionError(
                f"the data is encrypted (key {row.key_id}) and no key is configured: set "
                "LABELLOOP_ENCRYPTION_KEY or LABELLOOP_ENCRYPTION_KEY_FILE")
        if keyring.key_id != row.key_id or key_check_of(keyring.current) != row.key_check:
            raise EncryptionError(
                f"wrong encryption key: the data is encrypted with key {row.key_id}, the key "
                f"configured is {keyring.key_id}")


@dataclass
class PassResult:
    blobs: int = 0
    items: int = 0


def _items_to_seal(conn: Connection, after: int, key_id: str) -> tuple[list[int], int]:
    raw = type_coerce(items.c.data, JSON)  # the stored value, sealed or not
    rows = conn.execute(select(items.c.id, raw.label("raw")).where(items.c.id > after)
                        .order_by(items.c.id).limit(BATCH)).all()
    todo = [r.id for r in rows if sealed_key_id(r.raw) != key_id]
    return todo, rows[-1].id if rows else -1


def _reseal(db: Database, keyring: Keyring, progress: Progress | None) -> int:
    """Seal every item's data under the keyring's current key, batch by batch."""
    with db.read() as conn:
        total = int(conn.execute(select(func.count()).select_from(items)).scalar_one())
    done = changed = 0
    last = 0
    while True:
        with db.write() as conn:
            todo, last_seen = _items_to_seal(conn, last, keyring.key_id)
            if last_seen < 0:
                break
            for item_id in todo:
                value = conn.execute(select(items.c.data).where(items.c.id == item_id)).scalar_one()
                conn.execute(update(items).where(items.c.id == item_id).values(data=value))
            changed += len(todo)
            done += BATCH
            last = last_seen
        if progress is not None:
            progress(min(done, total), total, "items")
    return changed


def _encrypt_blobs(store: BlobStore, progress: Progress | None) -> int:
    names = list(store.hashes())
    changed = 0
    for n, sha in enumerate(names, 1):
        changed += store.encrypt(sha)
        if progress is not None:
            progress(n, len(names), "files")
    return changed


def enable(db: Database, store: BlobStore, key: bytes, actor: Actor,
           progress: Progress | None = None) -> PassResult:
    """Encrypt the plaintext blobs and item content of this instance under `key` (resumable)."""
    keyring = Keyring(key)
    with db.write() as conn:
        row = _state(conn)
        if row is not None and row.key_id != keyring.key_id:
            raise EncryptionError(f"encryption is on already, with key {row.key_id}: use "
                                  "`labelloop encryption rotate` to change the key")
        if row is None:
            conn.execute(encryption_state.insert().values(
                id=1, key_id=keyring.key_id, key_check=key_check_of(key), pending="enable",
                updated_at=utcnow()))
    attach(db, store, keyring)
    store.allow_plaintext = True
    try:
        result = PassResult(_encrypt_blobs(store, progress), _reseal(db, keyring, progress))
    finally:
        store.allow_plaintext = False
    with db.write() as conn:
        conn.execute(update(encryption_state).where(encryption_state.c.id == 1)
                     .values(pending=None, updated_at=utcnow()))
        audit.record(conn, actor, "encryption.enable", object_type="key", object_id=keyring.key_id,
                     details={"files": result.blobs, "items": result.items})
    return result


def rotate(db: Database, store: BlobStore, old: bytes, new: bytes, actor: Actor,
           progress: Progress | None = None) -> PassResult:
    """Re-encrypt everything under `new` (resumable: rerun with the same two keys)."""
    old_id, new_id = key_id_of(old), key_id_of(new)
    if old_id == new_id:
        raise EncryptionError("the new key is the key in use")
    with db.write() as conn:
        row = _state(conn)
        if row is None:
            raise EncryptionError("encryption is not on: run `labelloop encryption enable` first")
        if row.key_id != old_id or key_check_of(old) != row.key_check:
            raise EncryptionError(f"wrong current key: the data is encrypted with key {row.key_id}, "
                                  f"the key configured is {old_id}")
        if row.pending == "rotate" and row.next_key_id != new_id:
            raise EncryptionError(f"an unfinished rotation to key {row.next_key_id} must be "
                                  "completed with that key first")
        if row.pending == "enable":
            raise EncryptionError("`labelloop encryption enable` did not finish: run it again first")
        conn.execute(update(encryption_state).where(encryption_state.c.id == 1).values(
            pending="rotate", next_key_id=new_id, next_key_check=key_check_of(new), updated_at=utcnow()))
    keyring = Keyring(new, others=[old])
    attach(db, store, keyring)
    result = PassResult(_encrypt_blobs(store, progress), _reseal(db, keyring, progress))
    with db.write() as conn:
        conn.execute(update(encryption_state).where(encryption_state.c.id == 1).values(
            key_id=new_id, key_check=key_check_of(new), pending=None, next_key_id=None,
            next_key_check=None, updated_at=utcnow()))
        audit.record(conn, actor, "encryption.rotate", object_type="key", object_id=new_id,
                     details={"from_key": old_id, "files": result.blobs, "items": result.items})
    attach(db, store, Keyring(new))
    return result
