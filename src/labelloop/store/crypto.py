"""Encryption at rest: the key, sealed JSON values, and the chunked format of encrypted blobs.

All encryption is AES-256-GCM (NIST SP 800-38D) through `cryptography`. One master key, 32 bytes
from `LABELLOOP_ENCRYPTION_KEY` (base64) or `LABELLOOP_ENCRYPTION_KEY_FILE`, is never used
directly: HKDF-SHA256 (RFC 5869) derives a key for item values and one key per blob file (salted
with the file's random 16-byte id), so the 2^32-messages-per-key bound of random 96-bit nonces
is about one file or the values, never the whole store.

Key id: the first 16 hex digits of SHA-256("labelloop key id" || key), stored with every sealed
value and blob so a reader knows which key a piece needs (rotation leaves both kinds for a while).
Key check value: HMAC-SHA256(key, "labelloop key check"), kept in the database
(`encryption_state`), so a wrong key is refused at start instead of failing on the first read.

Sealed JSON value (an item's `data`): ``{"$sealed": "<key id>.<base64url(nonce || ciphertext)>"}``
with associated data ``b"labelloop:" + purpose`` (the column), so a value cannot be moved to
another column undetected.

Blob file (store/blobs.py), for a plaintext of `size` bytes cut in chunks of `chunk` bytes:

    header   magic "LLBLOB1\\n" (8) | key id (8) | file id (16) | sha256 (32) | size (8) | chunk (4)
             | nonce (12) | GCM tag over the 76 bytes before the nonce (16)        = 104 bytes
    chunk i  nonce (12) | ciphertext (len_i) | tag (16),
             associated data = magic | key id | file id | i (8 bytes) | last (1 byte)

Chunk i starts at 104 + i * (chunk + 28), so a byte range is read by decrypting only the chunks
it covers. The index in the associated data makes reordered chunks fail, the `last` flag and
the authenticated size make a truncated file fail, and the header's tag binds the file to the
SHA-256 of its plaintext (its address), so a file copied over another address fails too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from labelloop.errors import DomainError

KEY_BYTES = 32
NONCE = 12
TAG = 16
CHUNK = 64 * 1024
MAGIC = b"LLBLOB1\n"
_HEADER_FIELDS = struct.Struct(">8s8s16s32sQI")  # magic, key id, file id, sha256, size, chunk
HEADER = _HEADER_FIELDS.size + NONCE + TAG
SEALED = "$sealed"


class EncryptionError(DomainError):
    """A missing, malformed or wrong key, or data that does not decrypt: never read as plaintext."""


def key_id_of(key: bytes) -> str:
    return hashlib.sha256(b"labelloop key id" + key).hexdigest()[:16]


def key_check_of(key: bytes) -> str:
    return hmac.new(key, b"labelloop key check", hashlib.sha256).hexdigest()


def parse_key(text: str, *, where: str) -> bytes:
    """A key written as base64 of 32 bytes (`head -c 32 /dev/urandom | base64`)."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise EncryptionError(f"{where}: not base64 (write 32 random bytes as base64)") from None
    if len(key) != KEY_BYTES:
        raise EncryptionError(f"{where}: {len(key)} bytes after base64 decoding; a key is 32 bytes")
    return key


def read_key_file(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as e:
        raise EncryptionError(f"key file {path}: cannot be read ({e})") from None
    return parse_key(text, where=f"key file {path}")


def new_key_text() -> str:
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def _derive(key: bytes, *, salt: bytes | None, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=info).derive(key)


@dataclass
class Keyring:
    """The key new data is encrypted with (`current`), and others that may still be read
    (the old key while a rotation is under way)."""

    current: bytes
    others: list[bytes] = field(default_factory=list)
    _values: dict[str, AESGCM] = field(default_factory=dict, repr=False)
    _raw: dict[str, bytes] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for key in (self.current, *self.others):
            kid = key_id_of(key)
            self._raw[kid] = key
            self._values[kid] = AESGCM(_derive(key, salt=None, info=b"labelloop values v1"))

    @property
    def key_id(self) -> str:
        return key_id_of(self.current)

    def raw(self, kid: str) -> bytes:
        try:
            return self._raw[kid]
        except KeyError:
            raise EncryptionError(f"data was encrypted with key {kid}, which is not the key "
                                  f"configured ({self.key_id})") from None

    # Sealed JSON values -------------------------------------------------------------------
    def seal_json(self, value: Any, *, purpose: str) -> dict[str, str]:
        nonce = os.urandom(NONCE)
        body = self._values[self.key_id].encrypt(nonce, orjson.dumps(value), _aad(purpose))
        return {SEALED: f"{self.key_id}.{base64.urlsafe_b64encode(nonce + body).decode()}"}

    def open_json(self, value: Any, *, purpose: str) -> Any:
        return orjson.loads(self.open_bytes(value, purpose=purpose))

    def open_bytes(self, value: Any, *, purpose: str) -> bytes:
        kid, _, b64 = str(value[SEALED]).partition(".")
        cipher = self._values.get(kid)
        if cipher is None:
            self.raw(kid)  # raises the clear message
        assert cipher is not None
        try:
            raw = base64.urlsafe_b64decode(b64)
            return cipher.decrypt(raw[:NONCE], raw[NONCE:], _aad(purpose))
        except (InvalidTag, ValueError, binascii.Error):
            raise EncryptionError(f"a sealed {purpose} value does not decrypt: changed, or "
                                  "written under another key") from None

    def key_of_sealed(self, value: Any) -> str | None:
        return str(value[SEALED]).partition(".")[0] if is_sealed(value) else None


def _aad(purpose: str) -> bytes:
    return b"labelloop:" + purpose.encode()


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and SEALED in value


def sealed_key_id(value: Any) -> str | None:
    return str(value[SEALED]).partition(".")[0] if is_sealed(value) else None


def open_text(keyring: Keyring | None, text: str | None, *, purpose: str) -> str | None:
    """JSON text as stored (a `CAST(... AS TEXT)`) made plaintext JSON text again."""
    if text is None or SEALED not in text[:12]:
        return text
    value = orjson.loads(text)
    if not is_sealed(value):
        return text
    if keyring is None:
        raise EncryptionError("the data is encrypted and no key is configured")
    return keyring.open_bytes(value, purpose=purpose).decode()


# Blob files ---------------------------------------------------------------------------------
def _blob_key(key: bytes, file_id: bytes) -> AESGCM:
    return AESGCM(_derive(key, salt=file_id, info=b"labelloop blob v1"))


def _chunk_aad(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">QB", index, 1 if last else 0)


def chunk_count(size: int, chunk: int) -> int:
    return max(1, -(-size // chunk))


def encrypted_size(size: int, chunk: int = CHUNK) -> int:
    return HEADER + size + chunk_count(size, chunk) * (NONCE + TAG)


def _read_full(source: IO[bytes], n: int) -> bytes:
    parts: list[bytes] = []
    left = n
    while left > 0:
        piece = source.read(left)
        if not piece:
            break
        parts.append(piece)
        left -= len(piece)
    return b"".join(parts)


class BlobWriter:
    """Encrypts a stream chunk by chunk into `out` (seekable): `write` plaintext pieces, then
    `finish(sha256)` writes the last chunk and the header (its place kept at the start)."""

    def __init__(self, keyring: Keyring, out: IO[bytes], chunk: int = CHUNK) -> None:
        self.key_id = keyring.key_id
        self.file_id = os.urandom(16)
        self.cipher = _blob_key(keyring.current, self.file_id)
        self.prefix = MAGIC + bytes.fromhex(self.key_id) + self.file_id
        self.out = out
        self.chunk = chunk
        self.index = 0
        self.size = 0
        self._buf = bytearray()
        out.write(b"\0" * HEADER)

    def write(self, data: bytes) -> None:
        self._buf += data
        self.size += len(data)
        # Keep at least one byte back: only `finish` knows which chunk is the last.
        while len(self._buf) > self.chunk:
            self._emit(bytes(self._buf[: self.chunk]), last=False)
            del self._buf[: self.chunk]

    def _emit(self, plain: bytes, *, last: bool) -> None:
        nonce = os.urandom(NONCE)
        self.out.write(nonce + self.cipher.encrypt(nonce, plain, _chunk_aad(self.prefix, self.index, last)))
        self.index += 1

    def finish(self, sha256: str) -> None:
        self._emit(bytes(self._buf), last=True)
        self._buf.clear()
        fields = _HEADER_FIELDS.pack(MAGIC, bytes.fromhex(self.key_id), self.file_id,
                                     bytes.fromhex(sha256), self.size, self.chunk)
        nonce = os.urandom(NONCE)
        tag = self.cipher.encrypt(nonce, b"", fields)
        self.out.seek(0)
        self.out.write(fields + nonce + tag)


def encrypt_stream(keyring: Keyring, source: IO[bytes], out: IO[bytes], *, chunk: int = CHUNK
                   ) -> tuple[str, int]:
    """Encrypt all of `source` into `out`; returns (SHA-256 of the plaintext, size)."""
    writer = BlobWriter(keyring, out, chunk)
    digest = hashlib.sha256()
    while piece := _read_full(source, chunk):
        digest.update(piece)
        writer.write(piece)
    writer.finish(digest.hexdigest())
    return digest.hexdigest(), writer.size


def is_encrypted_file(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(len(MAGIC)) == MAGIC


def file_key_id(path: Path) -> str | None:
    with path.open("rb") as f:
        head = f.read(len(MAGIC) + 8)
    return head[len(MAGIC):].hex() if head[: len(MAGIC)] == MAGIC else None


class DecryptingReader(io.RawIOBase):
    """A seekable plaintext view of an encrypted blob file: reads decrypt only the chunks they
    cover (one chunk kept), and every chunk is authenticated before a byte of it is returned."""

    def __init__(self, keyring: Keyring, path: Path | io.RawIOBase, *, sha256: str | None = None) -> None:
        """`path`: the file, or an open seekable reader of it (an S3 object: store/s3_blobs.py)."""
        super().__init__()
        self._f: io.RawIOBase | IO[bytes] = path.open("rb") if isinstance(path, Path) else path
        name = path.name if isinstance(path, Path) else str(getattr(path, "name", "blob"))
        try:
            head = self._f.read(HEADER)
            if len(head) != HEADER or head[: len(MAGIC)] != MAGIC:
                raise EncryptionError(f"blob file {name} is not an encrypted blob")
            fields = head[: _HEADER_FIELDS.size]
            _, kid, file_id, digest, size, chunk = _HEADER_FIELDS.unpack(fields)
            self.cipher = _blob_key(keyring.raw(kid.hex()), file_id)
            nonce = head[_HEADER_FIELDS.size: _HEADER_FIELDS.size + NONCE]
            try:
                self.cipher.decrypt(nonce, head[_HEADER_FIELDS.size + NONCE:], fields)
            except InvalidTag:
                raise EncryptionError(f"blob file {name}: its header was changed") from None
            if sha256 is not None and digest.hex() != sha256:
                raise EncryptionError(f"blob file {name} holds another blob ({digest.hex()})")
        except BaseException:
            self._f.close()
            raise
        self.key_id = kid.hex()
        self.sha256 = digest.hex()
        self.size = size
        self.chunk = chunk
        self.prefix = MAGIC + kid + file_id
        self.name = name
        self._pos = 0
        self._cached: tuple[int, bytes] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def chunk_plain(self, index: int) -> bytes:
        """Chunk `index` decrypted and authenticated."""
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        count = chunk_count(self.size, self.chunk)
        length = min(self.chunk, self.size - index * self.chunk) if index < count - 1 else \
            self.size - (count - 1) * self.chunk
        self._f.seek(HEADER + index * (self.chunk + NONCE + TAG))
        raw = self._f.read(NONCE + length + TAG)
        try:
            plain = self.cipher.decrypt(raw[:NONCE], raw[NONCE:],
                                        _chunk_aad(self.prefix, index, index == count - 1))
        except (InvalidTag, ValueError):
            raise EncryptionError(f"blob file {self.name}: chunk {index} does not decrypt "
                                  "(changed, reordered or truncated)") from None
        self._cached = (index, plain)
        return plain

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._pos >= self.size or len(view) == 0:
            return 0
        index, within = divmod(self._pos, self.chunk)
        plain = self.chunk_plain(index)[within: within + len(view)]
        view[: len(plain)] = plain
        self._pos += len(plain)
        return len(plain)

    def range(self, start: int, end: int) -> Iterator[bytes]:
        """Plaintext bytes start..end-1, chunk by chunk (what a Range request is served from)."""
        pos = start
        while pos < end:
            index, within = divmod(pos, self.chunk)
            piece = self.chunk_plain(index)[within: within + (end - pos)]
            if not piece:
                break
            yield piece
            pos += len(piece)

    def close(self) -> None:
        self._f.close()
        super().close()
